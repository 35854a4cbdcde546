/**
 * The parent's side of the load generator: forks `load.js` as a separate
 * process (so its own work never runs on the loop under test) and drives it
 * over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** One ack request: when it was sent (epoch milliseconds, sub-ms precision) and how long it took, in milliseconds (-1 if it failed). */
export interface AckSample {
  readonly sentAt: number;
  readonly latencyMs: number;
}

export type LoadCommand = { type: 'start'; url: string; hz: number } | { type: 'stop' } | { type: 'exit' };
export type LoadReply = { type: 'ready' } | { type: 'started' } | { type: 'samples'; samples: AckSample[] };

export interface LoadGenerator {
  /** The child process's id. */
  readonly pid: number | undefined;
  /** Starts sending `GET <url>/ack`, `hz` times a second, and resolves once the first is sent. */
  start(url: string, hz: number): Promise<void>;
  /** Stops sending, waits for every answer (or its failure) and returns all samples since `start`. */
  stop(): Promise<AckSample[]>;
  /** Ends the child process. */
  close(): Promise<void>;
}

const LOAD_FILE = fileURLToPath(new URL('./load.js', import.meta.url));

/** Forks the load generator and waits until it is ready. */
export async function forkLoadGenerator(): Promise<LoadGenerator> {
  const child: ChildProcess = fork(LOAD_FILE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const next = <T extends LoadReply['type']>(type: T) =>
    new Promise<Extract<LoadReply, { type: T }>>((resolve, reject) => {
      const onMessage = (message: LoadReply) => {
        if (message.type !== type) return;
        cleanup();
        resolve(message as Extract<LoadReply, { type: T }>);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`load generator exited (code ${code}) while waiting for "${type}"`));
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
  await next('ready');
  const send = (command: LoadCommand) => child.send(command);
  return {
    pid: child.pid,
    async start(url, hz) {
      const started = next('started');
      send({ type: 'start', url, hz });
      await started;
    },
    async stop() {
      const samples = next('samples');
      send({ type: 'stop' });
      return (await samples).samples;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      if (child.connected) send({ type: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
