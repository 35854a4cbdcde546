/**
 * The pool's spawn helper (`workers/spawn-helper.ts`), owned by the main
 * thread. A child process is reaped only by the event loop that spawned it
 * (nodejs/node#46569): a helper spawned from a worker thread stayed a zombie
 * once that thread ended (idle, terminated, crashed or closed). This one is
 * spawned here, where it outlives every thread; workers reach it through
 * their task's port (`probes/spawn-client.ts`), and the main thread writes
 * their requests to it and routes each reply back to the task that asked.
 *
 * It starts on the first request, or with the first worker when the
 * configuration has a command probe; it is started again on the next request
 * if it died; `stop()` ends it. The helper runs each command in a process
 * group of its own, kills the group at the command's timeout (SIGKILL) and
 * reports the end at once, whatever the worker's loop is busy with. The main
 * thread knows the pid of every command under way, as the helper reports it
 * (`{ id, pid }`, written in the turn that spawned the command): when the
 * helper dies, when a force-close stops it, or when the task that asked is
 * over (its thread ended), those groups are killed. A command the helper
 * started in the instant before something else killed it (SIGKILL, the OOM
 * killer), its pid not yet written, is out of reach.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CommandRequestSchema, CommandRunSchema, HelperLineSchema, type CommandAnswer } from './helper-protocol.js';
import type { AuthProbeLogger } from '../logger.js';
import { killGroup, type CommandRun, type CommandSpec } from '../probes/spawn.js';
import type { ProbeConfig } from '../config/schema.js';

/** The compiled helper, next to this file's compiled form: `dist/src/` → `dist/workers/`. */
const HELPER_FILE = fileURLToPath(new URL('../../workers/spawn-helper.js', import.meta.url));

/**
 * How long past a command's own timeout the helper may take to report it, in milliseconds, before it is presumed
 * stuck (stopped, wedged) and killed: it kills the command at that timeout itself and has nothing else to do, so
 * this only bounds a probe's wait on a helper that no longer works. Generous: it also covers the helper's start-up,
 * over a second on a loaded machine.
 */
const REPLY_GRACE_MS = 5000;

/** How long a stopped helper may take to kill what it runs and exit, in milliseconds, before it is killed. */
const EXIT_WAIT_MS = 2000;

/** How one request ended, for the task that made it. */
type Outcome = { readonly run: CommandRun } | { readonly failed: string };

interface Request {
  /** The command's pid, its process group's id, once the helper has said it (0 before). */
  pid: number;
  readonly timer: NodeJS.Timeout;
  /** Where its outcome goes; undefined once its task is over: then the group is killed as soon as its pid is known. */
  settle: ((outcome: Outcome) => void) | undefined;
}

/** One task's commands, as the dispatcher sees them. */
export interface CommandSession {
  /** Takes a message the task's worker posted: true when it was a command request (then run, or answered as failed). */
  accept(message: unknown): boolean;
  /** The task is over, its thread perhaps ended: its commands still running are killed, their replies dropped. Idempotent. */
  end(): void;
}

/** Whether the configuration has a command probe, so that the helper is worth starting before the first one runs. */
export function hasCommandProbe(config: ProbeConfig): boolean {
  return [...Object.values(config.providers).flat(), ...(config.defaults ?? [])].some((p) => p.kind === 'command');
}

export class HelperHost {
  #child: ChildProcess | undefined;
  #stopped = false;
  /** Requests written to the current helper and not yet answered, by the id the helper knows them by. */
  readonly #requests = new Map<number, Request>();
  #next = 0;
  readonly #niceIncrement: number;
  readonly #logger: AuthProbeLogger;

  /** `niceIncrement`: added to the helper's nice value, which the commands it forks inherit, as the worker threads' is. */
  constructor(options: { readonly niceIncrement: number; readonly logger: AuthProbeLogger }) {
    this.#niceIncrement = options.niceIncrement;
    this.#logger = options.logger;
  }

  /** Starts the helper now, if none runs: before the first command probe asks for it. */
  start(): void {
    if (!this.#child && !this.#stopped) this.#spawn();
  }

  /** The commands of one task: `reply` posts an answer on the task's port. */
  session(reply: (answer: CommandAnswer) => void): CommandSession {
    const mine = new Set<number>();
    let ended = false;
    return {
      accept: (message) => {
        if (typeof message !== 'object' || message === null || !('command' in message)) return false;
        // The task is over: nobody waits for the answer, and the command must not start.
        if (ended) return true;
        const request = CommandRequestSchema.safeParse(message);
        const id = request.success ? request.data.command.id : (message as { command?: { id?: unknown } }).command?.id;
        if (typeof id !== 'number') return true;
        const answer = (outcome: Outcome) => reply({ command: { id, ...outcome } });
        if (!request.success) answer({ failed: 'malformed command request' });
        else if (this.#stopped) answer({ failed: 'the pool is closing' });
        else {
          const key = this.#run(request.data.command.spec, (outcome) => {
            mine.delete(key);
            answer(outcome);
          });
          mine.add(key);
        }
        return true;
      },
      end: () => {
        ended = true;
        for (const key of mine) this.#drop(key);
        mine.clear();
      },
    };
  }

  /**
   * Stops the helper with SIGTERM: it kills whatever it still runs (a command whose pid has not reached us too)
   * and exits; killed if it has not within EXIT_WAIT_MS. With `force`, the groups of the commands under way are
   * killed first. Requests still pending fail; later ones are refused. Resolves once the helper has exited.
   */
  async stop(force: boolean): Promise<void> {
    this.#stopped = true;
    if (force) for (const request of this.#requests.values()) killGroup(request.pid);
    const child = this.#child;
    if (!child) return;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    // Held open until it has exited: close() resolves only then, in a process with nothing else to do too.
    setRef(child, true);
    child.kill('SIGTERM');
    const wait = (ms: number) => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([closed, new Promise<'late'>((resolve) => (timer = setTimeout(resolve, ms, 'late')))]).finally(() => clearTimeout(timer));
    };
    if ((await wait(EXIT_WAIT_MS)) === 'late') {
      child.kill('SIGKILL');
      await wait(EXIT_WAIT_MS);
    }
  }

  /** Writes the request to the helper, started if none runs; returns the id the helper knows it by. */
  #run(spec: CommandSpec, settle: (outcome: Outcome) => void): number {
    const id = this.#next++;
    const child = this.#child ?? this.#spawn();
    if (!child) {
      queueMicrotask(() => settle({ failed: 'the spawn helper could not start' }));
      return id;
    }
    const timer = setTimeout(() => this.#overdue(child, id), spec.timeoutMs + REPLY_GRACE_MS).unref();
    this.#requests.set(id, { pid: 0, timer, settle });
    if (this.#requests.size === 1) setRef(child, true);
    child.stdin?.write(`${JSON.stringify({ id, spec })}\n`);
    return id;
  }

  /** The task that made the request is over: its command's group is killed, now or when its pid arrives. */
  #drop(id: number): void {
    const request = this.#requests.get(id);
    if (!request) return;
    request.settle = undefined;
    if (request.pid !== 0) killGroup(request.pid);
  }

  /** Spawns the helper; undefined when the spawn throws (most failures are reported later, by its 'error' event). */
  #spawn(): ChildProcess | undefined {
    let child: ChildProcess;
    try {
      // An empty environment: the gateway's (its DATABASE_URL, its payment keys) is none of the helper's business, and
      // a NODE_OPTIONS (an APM agent's --require, an --inspect) must not load into it. Each command gets exactly the
      // environment its request carries; no exec flag of the gateway's is passed either.
      child = spawn(process.execPath, [HELPER_FILE], { stdio: ['pipe', 'pipe', 'ignore'], windowsHide: true, env: {} });
    } catch (err) {
      this.#logger.error({ err: (err as NodeJS.ErrnoException).code ?? 'error' }, 'spawn helper could not start');
      return undefined;
    }
    this.#child = child;
    if (this.#niceIncrement > 0 && child.pid !== undefined) {
      try {
        setPriority(child.pid, Math.min(19, getPriority(child.pid) + this.#niceIncrement));
      } catch {
        // Not permitted here: it runs unniced, as the worker threads do without @napi-rs/nice.
      }
    }
    createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Infinity }).on('line', (line) => this.#line(child, line));
    // 'close', not 'exit': every line it wrote has been read by then. A write to a helper that died fails with EPIPE,
    // and its requests fail at its 'close'.
    child.on('close', () => this.#gone(child));
    child.on('error', () => this.#gone(child));
    child.stdin?.on('error', () => {});
    setRef(child, false);
    return child;
  }

  #line(child: ChildProcess, text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    const line = HelperLineSchema.safeParse(parsed);
    if (!line.success || 'ready' in line.data) return;
    const request = this.#requests.get(line.data.id);
    if (!request) return;
    if ('pid' in line.data) {
      request.pid = line.data.pid;
      if (!request.settle) killGroup(request.pid);
      return;
    }
    this.#requests.delete(line.data.id);
    clearTimeout(request.timer);
    const run = CommandRunSchema.safeParse(line.data.run);
    request.settle?.(run.success ? { run: run.data } : { failed: 'malformed reply from the spawn helper' });
    if (this.#requests.size === 0 && this.#child === child) setRef(child, false);
  }

  /** A request the helper has not answered by its command's timeout plus REPLY_GRACE_MS: the helper is stuck. */
  #overdue(child: ChildProcess, id: number): void {
    if (!this.#requests.has(id) || this.#child !== child) return;
    this.#logger.error({ pid: child.pid }, 'spawn helper did not report a command past its timeout; killed');
    child.kill('SIGKILL');
  }

  /** The helper exited (or could not start): the commands it was running are killed, their requests fail. */
  #gone(child: ChildProcess): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    // An 'error' while it runs (a kill that failed): end it, so that it is not left behind.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const lost = [...this.#requests.values()];
    this.#requests.clear();
    for (const request of lost) {
      clearTimeout(request.timer);
      killGroup(request.pid);
      request.settle?.({ failed: 'the spawn helper exited' });
    }
    if (lost.length > 0 && !this.#stopped) this.#logger.warn({ commands: lost.length }, 'spawn helper exited; its commands were killed and their probes failed');
  }
}

/** Refs or unrefs the helper and its pipes: it holds the process open only while a command is under way. */
function setRef(child: ChildProcess, on: boolean): void {
  const handles = [child, child.stdin, child.stdout] as unknown as { ref?(): void; unref?(): void }[];
  for (const h of handles) (on ? h?.ref : h?.unref)?.call(h);
}
