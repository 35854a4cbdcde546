/**
 * Each `bench:scale` case is measured in a child process of its own
 * (`scale.js --child <case>`): no case inherits another's heap, threads or
 * parsed files, and an env variant differs from its counterpart only by its
 * environment, set before the process starts. Both variants start from the
 * same small environment (PATH, HOME, TMPDIR, locale), so no variable of the
 * host (an API key) reaches a probe. The child prints one JSON line, its
 * runs' figures; its progress lines go to the parent's stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentsCase } from './scale-agents.js';
import type { CaseContext } from './scale-case.js';
import { clisCase } from './scale-clis.js';
import { firstSweepCase } from './scale-first-sweep.js';
import type { ChildRole, ScaleFlags } from './scale-flags.js';
import { idsCase } from './scale-ids.js';
import { memoryCase } from './scale-memory.js';
import { warmCase } from './scale-warm.js';

const SCRIPT = fileURLToPath(new URL('./scale.js', import.meta.url));

/** The host's variables both variants keep: what a process needs to run, nothing a probe looks for. */
const BASE_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'USER', 'LOGNAME'] as const;

/** The environment of a child: the base, and for an env variant `vars` variables like a gateway's (`GATEWAY_VAR_00001`, 40-character values). */
export function childEnv(vars: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of BASE_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (let i = 1; i <= vars; i++) {
    const n = String(i).padStart(5, '0');
    env[`GATEWAY_VAR_${n}`] = `value-${n}-${'abcdefghijklmnopqrstuvwxyz0123456789'.slice(0, 28)}`;
  }
  return env;
}

const running = new Set<ChildProcess>();

/** Asks every child still running to end (SIGTERM: each closes its pools and removes its temp dirs): on the parent's way out after a signal. */
export function endChildren(): void {
  for (const child of running) child.kill('SIGTERM');
}

/**
 * Runs `scale.js` with `args` under `env` and returns the `runs` it printed. Rejects with the child's exit
 * status (its error is on stderr, which it shares with the parent).
 */
export function runChildProcess<F>(args: readonly string[], env: Record<string, string>): Promise<F[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    running.add(child);
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', (err) => {
      running.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`child ${args.slice(0, 2).join(' ')} exited with ${signal ?? `code ${code}`}`));
      try {
        resolve((JSON.parse(line) as { runs: F[] }).runs);
      } catch {
        reject(new Error(`child ${args.slice(0, 2).join(' ')} printed no result`));
      }
    });
  });
}

/** In the child: measures `role` `flags.runs` times, prints `{ runs }` on one line, removes its temp dir. */
export async function runChild(flags: ScaleFlags, role: ChildRole, envVariant: boolean): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'app-bench-scale-'));
  const aborts = new Set<() => void>();
  // On a signal the temp dirs go at once; exiting ends the pools' threads, and their spawn helpers follow.
  const onSignal = () => {
    for (const cleanup of aborts) cleanup();
    rmSync(root, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ctx: CaseContext = {
    flags,
    envVariant,
    root,
    progress: (line) => process.stderr.write(`[bench:scale ${role}${envVariant ? ' (env)' : ''}] ${line}\n`),
    onAbort: (cleanup) => {
      aborts.add(cleanup);
      return () => aborts.delete(cleanup);
    },
  };
  // The pool's timers never hold the process open (a gateway's server does): this one must, between runs.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    const runs = await measure(ctx, role);
    process.stdout.write(`${JSON.stringify({ runs })}\n`);
  } finally {
    clearInterval(keepAlive);
    rmSync(root, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function measure(ctx: CaseContext, role: ChildRole): Promise<object[]> {
  switch (role) {
    case 'warm-2k':
      return warmCase(ctx, ctx.flags.warmProviders[0]);
    case 'warm-10k':
      return warmCase(ctx, ctx.flags.warmProviders[1]);
    case 'agents-json':
      return agentsCase(ctx, 'json');
    case 'agents-sqlite':
      return agentsCase(ctx, 'sqlite');
    case 'clis':
      return clisCase(ctx);
    case 'ids-40k':
      return idsCase(ctx);
    case 'first-sweep':
      return firstSweepCase(ctx, false);
    case 'first-sweep-alone':
      return firstSweepCase(ctx, true);
    case 'memory':
      return memoryCase(ctx);
  }
}
