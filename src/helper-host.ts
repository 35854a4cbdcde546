/**
 * The spawn helper's owner (`workers/spawn-helper.ts`): started when its
 * configuration has a command probe (else on the first one), restarted if it
 * dies. Requests go out one JSON line each; the helper answers
 * `{ ready: true }` once started, then per request `{ id, pid }` when the
 * command starts and `{ id, run }`; replies are validated with zod, since
 * they cross a process boundary. While nothing is pending the helper's pipes
 * are unref'd, so it never holds the thread (or the process) open.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CommandRunSchema } from './helper-protocol.js';
import type { CommandRun, CommandSpec } from './probes/spawn.js';

/** The compiled helper, next to this file's compiled form: `dist/src/` → `dist/workers/`. */
const HELPER_FILE = fileURLToPath(new URL('../workers/spawn-helper.js', import.meta.url));

interface Pending {
  resolve(run: CommandRun): void;
  reject(err: Error): void;
  onStart: ((pid: number, helperPid: number) => void) | undefined;
}

export class SpawnHelper {
  #child: ChildProcess | undefined;
  /** Resolves when the current helper says it is ready, or has gone (then `run()` reports that). */
  #ready: Promise<void> = Promise.resolve();
  readonly #pending = new Map<number, Pending>();
  #next = 0;

  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  /** Starts the helper if none is running; resolves once it can take requests. */
  ready(): Promise<void> {
    if (!this.#child) this.#start();
    return this.#ready;
  }

  run(spec: CommandSpec, onStart?: (pid: number, helperPid: number) => void): Promise<CommandRun> {
    const child = this.#child ?? this.#start();
    const id = this.#next++;
    return new Promise<CommandRun>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onStart });
      if (this.#pending.size === 1) this.#ref(child, true);
      child.stdin?.write(`${JSON.stringify({ id, spec })}\n`);
    });
  }

  #start(): ChildProcess {
    // An empty environment: the gateway's (its DATABASE_URL, its payment keys) is none of the helper's business, and
    // a NODE_OPTIONS (an APM agent's --require, an --inspect) must not load into it. Each command gets exactly the
    // environment its request carries; no exec flag of the gateway's is passed either.
    const child = spawn(process.execPath, [HELPER_FILE], { stdio: ['pipe', 'pipe', 'ignore'], windowsHide: true, env: {} });
    this.#child = child;
    let signalReady = (): void => {};
    this.#ready = new Promise<void>((resolve) => (signalReady = resolve));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      let reply: { id?: unknown; run?: unknown; pid?: unknown; ready?: unknown };
      try {
        reply = JSON.parse(line) as { id?: unknown; run?: unknown; pid?: unknown; ready?: unknown };
      } catch {
        return;
      }
      if (reply.ready === true) return signalReady();
      const pending = typeof reply.id === 'number' ? this.#pending.get(reply.id) : undefined;
      if (!pending) return;
      // The command started: `{ id, pid }`, before its reply.
      if (reply.run === undefined) {
        if (typeof reply.pid === 'number' && Number.isInteger(reply.pid) && reply.pid > 0) pending.onStart?.(reply.pid, child.pid ?? 0);
        return;
      }
      this.#pending.delete(reply.id as number);
      const run = CommandRunSchema.safeParse(reply.run);
      if (run.success) pending.resolve(run.data);
      else pending.reject(new Error('malformed reply from the spawn helper'));
      if (this.#pending.size === 0) this.#ref(child, false);
    });
    const gone = () => {
      signalReady();
      if (this.#child !== child) return;
      this.#child = undefined;
      for (const p of this.#pending.values()) p.reject(new Error('the spawn helper exited'));
      this.#pending.clear();
    };
    child.on('exit', gone);
    child.on('error', gone);
    child.stdin?.on('error', gone);
    this.#ref(child, false);
    return child;
  }

  #ref(child: ChildProcess, on: boolean): void {
    const handles = [child, child.stdin, child.stdout] as unknown as { ref?(): void; unref?(): void }[];
    for (const h of handles) (on ? h?.ref : h?.unref)?.call(h);
  }
}
