/**
 * What crosses about a command run in the spawn helper: a worker's request and
 * the main thread's answer, on the task's port, and the JSON lines between the
 * main thread and the helper process (`workers/spawn-helper.ts`). What comes
 * from the helper, a process, is validated with zod, and so is a worker's
 * request before it is written to the helper; `spawn.ts` declares the same
 * shapes without zod, which the helper, importing it, need not load.
 */
import { z } from 'zod';
import type { CommandRun, CommandSpec } from '../probes/spawn.js';

/** A run's outcome as the helper reports it. */
export const CommandRunSchema = z.strictObject({
  errorCode: z.string().max(64).nullable(),
  status: z.number().int().nullable(),
  signal: z.string().max(32).nullable(),
  stdoutNonEmpty: z.boolean(),
}) satisfies z.ZodType<CommandRun>;

/** What to run, as a worker asks for it; the bounds are the command probe's own (see `CommandProbeSchema`). */
const CommandSpecSchema = z.strictObject({
  command: z.string().min(1).max(4096),
  args: z.array(z.string().max(4096)).max(64),
  env: z.record(z.string(), z.string()),
  timeoutMs: z.number().int().positive().max(600_000),
  requireStdout: z.boolean(),
  maxStdoutBytes: z.number().int().positive(),
}) satisfies z.ZodType<CommandSpec>;

/** A worker's request on its task's port: run `spec` in the pool's helper; `id` is the worker's, unique within the task. */
export const CommandRequestSchema = z.strictObject({
  command: z.strictObject({ id: z.number().int().nonnegative(), spec: CommandSpecSchema }),
});

export type CommandRequest = z.infer<typeof CommandRequestSchema>;

/** The main thread's answer to a request, on the task's port: how the command ran, or why it could not (`failed`). */
export interface CommandAnswer {
  readonly command: { readonly id: number; readonly run: CommandRun } | { readonly id: number; readonly failed: string };
}

/**
 * A line from the helper: `{ ready: true }` once started, then per request `{ id, pid }` when its command starts
 * (the pid is its process group's id) and `{ id, run }` when it has ended. A `run` is checked on its own
 * (`CommandRunSchema`), so that a malformed one still fails its request.
 */
export const HelperLineSchema = z.union([
  z.strictObject({ ready: z.literal(true) }),
  z.strictObject({ id: z.number().int().nonnegative(), pid: z.number().int().positive() }),
  z.strictObject({ id: z.number().int().nonnegative(), run: z.unknown() }),
]);
