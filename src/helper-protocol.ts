/**
 * What crosses to and from the spawn helper (`workers/spawn-helper.ts`). Its replies are validated with zod,
 * since they cross a process boundary; `spawn.ts` declares the same shapes without zod, which the helper, importing
 * it, need not load.
 */
import { z } from 'zod';
import type { CommandRun } from './probes/spawn.js';

/** A run's outcome as the helper reports it. */
export const CommandRunSchema = z.strictObject({
  errorCode: z.string().max(64).nullable(),
  status: z.number().int().nullable(),
  signal: z.string().max(32).nullable(),
  stdoutNonEmpty: z.boolean(),
}) satisfies z.ZodType<CommandRun>;
