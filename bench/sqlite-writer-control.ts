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
  const next = <T extends WriterReply['type']>(type: T) =>
    new Promise<Extract<WriterReply, { type: T }>>((resolve, reject) => {
      const onMessage = (message: WriterReply) => {
        if (message.type !== type && message.type !== 'failed') return;
        cleanup();
        if (message.type === 'failed') reject(new Error(`writer: ${message.message}`));
        else resolve(message as Extract<WriterReply, { type: T }>);
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new Error(`writer exited (${signal ?? `code ${code}`}) while waiting for "${type}"`));
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
  const send = (command: WriterCommand) => child.send(command);
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  const ready = next('ready');
  send({ type: 'init', agentDbs, stateDb, rate });
  let openMs: number;
  try {
    openMs = (await ready).openMs;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    pid: child.pid ?? 0,
    openMs,
    async startPhase(name, seed, budget) {
      const started = next('phase-started');
      send({ type: 'phase', name, seed, budget });
      await started;
    },
    async figures() {
      const reply = next('figures');
      send({ type: 'figures' });
      return (await reply).figures;
    },
    async checkpoint(agents) {
      const reply = next('checkpointed');
      send({ type: 'checkpoint', agents });
      return (await reply).results;
    },
    async close() {
      if (ended()) return;
      const exited = once(child, 'exit');
      if (child.connected) send({ type: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      if (!ended()) child.kill('SIGKILL');
    },
  };
}
