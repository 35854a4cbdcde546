/**
 * A worker's way to the pool's spawn helper, which the main thread owns
 * (`src/dispatch/helper-host.ts`: a helper spawned from a worker thread would be left
 * a zombie when the thread ends). A command goes out on the task's port as
 * `{ command: { id, spec } }`, and its outcome comes back on it as
 * `{ command: { id, run } }`, or `{ command: { id, failed } }` when it could
 * not be run (the helper died, the pool is closing). The answer is read when
 * this thread's loop is free; the main thread saw the command end, at its
 * own timeout at the latest, whatever this thread was doing meanwhile.
 */
import type { MessagePort } from 'node:worker_threads';
import type { CommandAnswer } from '../dispatch/helper-protocol.js';
import type { CommandRun, CommandSpec } from './spawn.js';

/** Runs a command in the pool's spawn helper; rejects when it could not be run there. */
export type RunInHelper = (spec: CommandSpec) => Promise<CommandRun>;

const channels = new WeakMap<MessagePort, RunInHelper>();

/** The task's way to the helper, over its port (one per port, whichever of the task's providers asks). */
export function helperChannel(port: MessagePort): RunInHelper {
  const known = channels.get(port);
  if (known) return known;
  const waiting = new Map<number, { resolve(run: CommandRun): void; reject(err: Error): void }>();
  let next = 0;
  // The main thread's own messages: not validated again here.
  port.on('message', (message: Partial<CommandAnswer> | undefined) => {
    const answer = message?.command;
    const request = answer === undefined ? undefined : waiting.get(answer.id);
    if (!answer || !request) return;
    waiting.delete(answer.id);
    if ('run' in answer) request.resolve(answer.run);
    else request.reject(new Error(answer.failed));
  });
  const run: RunInHelper = (spec) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      port.postMessage({ command: { id, spec } });
    });
  channels.set(port, run);
  return run;
}
