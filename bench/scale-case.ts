/**
 * What every `bench:scale` case gets in the child process that measures it,
 * and the few steps they share: where the pool's environment comes from (its
 * `env` option, or `process.env` in an env variant), a quiet start, and
 * touching files so a cached parse does not hide a read.
 */
import { utimesSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectGarbage } from './proc.js';
import type { ScaleFlags } from './scale-flags.js';

export interface CaseContext {
  readonly flags: ScaleFlags;
  /**
   * The env variant: the pool is created without an `env` option, so it reads `process.env`, which holds the
   * parent's `--env-vars` variables; the case's own variables are put there too. The old ways are not run.
   */
  readonly envVariant: boolean;
  /** A temp dir of this process's own, removed when it ends. */
  readonly root: string;
  progress(line: string): void;
  /** Runs `cleanup` too if the process is ended by a signal before the returned function is called. */
  onAbort(cleanup: () => void): () => void;
}

/** The env part of the pool's options: `{ env: vars }`, or in an env variant nothing, with `vars` put in `process.env`. */
export function poolEnv(ctx: CaseContext, vars: Readonly<Record<string, string>>): { env?: Record<string, string> } {
  if (!ctx.envVariant) return { env: { ...vars } };
  Object.assign(process.env, vars);
  return {};
}

/** A full garbage collection, then `ms` of quiet: what a gateway's loop looks like between two requests. */
export async function settle(ms = 100): Promise<void> {
  collectGarbage();
  await sleep(ms);
}

let generation = 0;

/** Gives `files` a new mtime each call (in the past), so a parse cached by fingerprint misses: the next read is cold. */
export function touch(files: Iterable<string>): void {
  const at = new Date(Date.UTC(2020, 0, 1) + ++generation * 1000);
  for (const file of files) utimesSync(file, at, at);
}

/**
 * The run numbers of a case, 1 to `--runs`, but none after the runs so far have taken `--case-budget-s` (a
 * library that got much slower at some size would otherwise hold the whole benchmark): at least one.
 */
export function* runNumbers(ctx: CaseContext): Generator<number> {
  const t0 = performance.now();
  for (let run = 1; run <= ctx.flags.runs; run++) {
    if (run > 1 && since(t0) > ctx.flags.caseBudgetS * 1000) {
      ctx.progress(`no more runs: ${run - 1} took ${(since(t0) / 1000).toFixed(0)} s, over --case-budget-s ${ctx.flags.caseBudgetS}`);
      return;
    }
    yield run;
  }
}

/** Milliseconds since `t0` (a `performance.now()`). */
export const since = (t0: number) => performance.now() - t0;

/** Answers unlike `expected`, position by position (a missing or rejected answer counts). */
export function wrongAnswers(answers: readonly (boolean | null)[], expected: readonly boolean[]): number {
  let wrong = 0;
  for (let i = 0; i < expected.length; i++) if (answers[i] !== expected[i]) wrong++;
  return wrong + Math.max(0, answers.length - expected.length);
}
