/**
 * The spawn helper: a small process, one per pool when its `spawnVia` is
 * `helper`, spawned and reaped by the pool's main thread
 * (`src/dispatch/helper-host.ts`), that runs command probes' executables. A
 * spawn forks the process it runs in, and a fork copies that process's page
 * tables while its other threads stall on page faults: done here, in a process
 * of a few tens of MB, it costs the gateway nothing, whatever its size.
 *
 * Protocol: one JSON request per line on stdin (`{ id, spec }`); on stdout,
 * one `{ ready: true }` line once it has started, then per request
 * `{ id, pid }` when the command starts and `{ id, run }` when it ends.
 * Commands run without blocking the helper, so when it is stopped (SIGTERM,
 * the pool's close()) or its stdin closes (the gateway's process ended), it
 * kills what is still running and exits at once.
 */
import { createInterface } from 'node:readline';
import { killGroup, runCommand, type CommandSpec } from '../src/probes/spawn.js';

/** Commands running now, by pid (each its process group's id): killed with the helper's end. */
const running = new Set<number>();

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let id: unknown = null;
  const fail = () => process.stdout.write(`${JSON.stringify({ id, run: { errorCode: 'EHELPER', status: null, signal: null, stdoutNonEmpty: false } })}\n`);
  try {
    const request = JSON.parse(line) as { id: number; spec: CommandSpec };
    id = request.id;
    let pid = 0;
    runCommand(request.spec, (started) => {
      pid = started;
      running.add(pid);
      process.stdout.write(`${JSON.stringify({ id, pid })}\n`);
    }).then((run) => {
      running.delete(pid);
      process.stdout.write(`${JSON.stringify({ id, run })}\n`);
    }, fail);
  } catch {
    fail();
  }
});
// The pool stopped it (SIGTERM), or the gateway's process ended (stdin closed): nothing it started may outlive it.
const end = () => {
  for (const pid of running) killGroup(pid);
  process.exit(0);
};
lines.on('close', end);
process.on('SIGTERM', end);
// Modules loaded, requests read.
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
