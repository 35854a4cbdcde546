/**
 * The parent's side of `bench:sqlite`'s writer: forks `sqlite-writer.js`
 * with the benchmark's own Node (`process.execPath`, so both speak the same
 * node:sqlite) and drives it over IPC, a phase at a time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { CheckpointResult } from './sqlite-db.js';
import type { WriterCommand, WriterFigures, WriterReply } from './sqlite-writer.js';

export type { WriterFigures } from './sqlite-writer.js';

export interface Writer {
  /** The writer's process id. */
  readonly pid: number;
  /** Starts measuring a phase: the seeded agents and events start over; `budget` commits count for the WAL growth. */
  startPhase(name: string, seed: number, budget: number): Promise<void>;
  /** The figures of the phase since `startPhase`; the writer goes on writing, unmeasured. */
  figures(): Promise<WriterFigures>;
  /** TRUNCATE checkpoints of the `agents` databases with the largest WALs and of the state database. */
  checkpoint(agents: number): Promise<readonly CheckpointResult[]>;
  /** Ends the process (SIGKILL after 2 s). Safe to call twice. */
  close(): Promise<void>;
  /** Ends the process now, synchronously (for a signal handler). */
  kill(): void;
}

const WRITER_FILE = fileURLToPath(new URL('./sqlite-writer.js', import.meta.url));

/** Forks the writer, opens every database in it, starts their WALs and resolves once it writes. */
export async function startWriter(agentDbs: readonly string[], stateDb: string, rate: number): Promise<Writer & { readonly openMs: number }> {
  const child: ChildProcess = fork(WRITER_FILE, [], {
    execPath: process.execPath,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  // A channel that closed under a send is reported by the request waiting on it, not as an unhandled 'error'.
  child.on('error', () => {});
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  const exitedWith = () => (ended() ? (child.signalCode ?? `code ${child.exitCode}`) : 'disconnected') as string;
  /** Sends `command` and waits for the reply of `type` (or the writer's failure, or its exit). */
  const request = <T extends WriterReply['type']>(command: WriterCommand, type: T) =>
    new Promise<Extract<WriterReply, { type: T }>>((resolve, reject) => {
      if (ended() || !child.connected) return reject(new Error(`writer gone (${exitedWith()}) before "${command.type}"`));
      const onMessage = (message: WriterReply) => {
        if (message.type !== type && message.type !== 'failed') return;
        cleanup();
        if (message.type === 'failed') reject(new Error(`writer: ${message.message}`));
        else resolve(message as Extract<WriterReply, { type: T }>);
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`writer exited (${exitedWith()}) while waiting for "${type}"`));
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send(command, (err) => {
        if (!err) return;
        cleanup();
        reject(new Error(`writer unreachable (${err.message}) for "${command.type}"`));
      });
    });
  let openMs: number;
  try {
    openMs = (await request({ type: 'init', agentDbs, stateDb, rate }, 'ready')).openMs;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    pid: child.pid ?? 0,
    openMs,
    async startPhase(name, seed, budget) {
      await request({ type: 'phase', name, seed, budget }, 'phase-started');
    },
    async figures() {
      return (await request({ type: 'figures' }, 'figures')).figures;
    },
    async checkpoint(agents) {
      return (await request({ type: 'checkpoint', agents }, 'checkpointed')).results;
    },
    async close() {
      if (ended()) return;
      const exited = once(child, 'exit');
      if (child.connected) child.send({ type: 'exit' } satisfies WriterCommand, () => {});
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      if (!ended()) child.kill('SIGKILL');
    },
  };
}
