import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import type { TempDir } from './temp.js';

const PACKAGE = pathToFileURL(fileURLToPath(new URL('../../dist/src/index.js', import.meta.url))).href;

/** What the thread answers for one command: the value, or the error as the thread saw it. */
export type ThreadReply = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: { readonly name: string; readonly code?: string; readonly typed: boolean } };

export interface CheckerThread {
  /** The main thread's end of the channel, to pass to `exposeChecker`. */
  readonly port: MessagePort;
  readonly worker: Worker;
  /**
   * Asks the thread to run `check(...args)`, `check.warm(args[0])`, the same warm collecting its progress
   * reports (`warmWithProgress`, answering `{ report, progress }`), or `check.close()` on its connected checker.
   */
  send(op: 'check' | 'warm' | 'warmWithProgress' | 'close', ...args: unknown[]): Promise<ThreadReply>;
  terminate(): Promise<void>;
}

/**
 * Starts a real worker thread from an .mjs file written into `dir`, which
 * imports the built package and connects a checker to the other end of a
 * fresh MessageChannel. `threads.closeAll()` terminates every one.
 */
export function checkerThreads(dir: TempDir) {
  const file = dir.write(
    'checker-thread.mjs',
    `import { parentPort, workerData } from 'node:worker_threads';
import { AuthProbeError, connectChecker } from ${JSON.stringify(PACKAGE)};

const check = connectChecker(workerData.port);
parentPort.on('message', async ({ id, op, args }) => {
  try {
    const progress = [];
    const value =
      op === 'check' ? await check(...args)
      : op === 'warm' ? await check.warm(args[0])
      : op === 'warmWithProgress' ? { report: await check.warm(args[0], { onProgress: (p) => progress.push(p) }), progress }
      : check.close();
    parentPort.postMessage({ id, reply: { ok: true, value: value ?? null } });
  } catch (err) {
    parentPort.postMessage({ id, reply: { ok: false, error: { name: err.name, code: err.code, typed: err instanceof AuthProbeError } } });
  }
});
`,
  );
  const started: CheckerThread[] = [];
  return {
    start(): CheckerThread {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(file, { workerData: { port: port2 }, transferList: [port2] });
      const waiting = new Map<number, (reply: ThreadReply) => void>();
      let next = 0;
      worker.on('message', ({ id, reply }: { id: number; reply: ThreadReply }) => {
        waiting.get(id)?.(reply);
        waiting.delete(id);
      });
      const thread: CheckerThread = {
        port: port1,
        worker,
        send: (op, ...args) =>
          new Promise((resolve) => {
            const id = next++;
            waiting.set(id, resolve);
            worker.postMessage({ id, op, args });
          }),
        terminate: async () => {
          await worker.terminate();
        },
      };
      started.push(thread);
      return thread;
    },
    async closeAll(): Promise<void> {
      await Promise.all(started.splice(0).map((t) => t.terminate()));
    },
  };
}
