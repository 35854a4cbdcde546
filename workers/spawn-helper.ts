/**
 * The spawn helper: a small process, one per worker thread when the pool's
 * `spawnVia` is `helper`, that runs command probes' executables for it. A
 * spawn forks the process it runs in, and a fork copies that process's page
 * tables while its other threads stall on page faults: done here, in a process
 * of a few tens of MB, it costs the gateway nothing, whatever its size.
 *
 * Protocol: one JSON request per line on stdin (`{ id, spec }`), one JSON
 * reply per line on stdout (`{ id, run }`), in order, after one `{ ready: true }`
 * line once it has started. It exits when stdin closes, which is when its
 * worker thread ends.
 */
import { createInterface } from 'node:readline';
import { runCommandSync, type CommandSpec } from '../src/probes/spawn.js';

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let id: unknown = null;
  try {
    const request = JSON.parse(line) as { id: number; spec: CommandSpec };
    id = request.id;
    process.stdout.write(`${JSON.stringify({ id, run: runCommandSync(request.spec) })}\n`);
  } catch {
    process.stdout.write(`${JSON.stringify({ id, run: { errorCode: 'EHELPER', status: null, signal: null, stdoutNonEmpty: false } })}\n`);
  }
});
lines.on('close', () => process.exit(0));
// Modules loaded, requests read: the worker may start its probes' clocks.
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
