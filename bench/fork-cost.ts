/**
 * What spawning a CLI from a worker thread costs the main thread, by process
 * size. On Linux, Node 20's libuv forks to spawn, and a fork copies the page
 * tables of the whole process while the main thread keeps running (and
 * faulting), so the stall grows with RSS. For each size, a child process
 * holds that much memory, spawns `/bin/true` from a worker thread for
 * `--seconds`, and reports the main thread's event-loop delay.
 * Run: `npm run build && node dist/bench/fork-cost.js [--rss-mb 0,500,1500] [--seconds 3] [--json]`.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({
  options: {
    'rss-mb': { type: 'string', default: '0,500,1500' },
    seconds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});

/** The measuring child: allocate, spawn from a worker while the main thread touches its memory, print one JSON line. */
async function child(mb: number, seconds: number): Promise<void> {
  const { Worker } = await import('node:worker_threads');
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const heap: Buffer[] = [];
  for (let i = 0; i < mb; i++) heap.push(Buffer.alloc(1 << 20, 1));
  const worker = new Worker(
    `const { spawnSync } = require('node:child_process'); const { parentPort, workerData } = require('node:worker_threads');
     const until = Date.now() + workerData.ms; let n = 0;
     while (Date.now() < until) { spawnSync('/bin/true'); n++; }
     parentPort.postMessage(n);`,
    { eval: true, workerData: { ms: seconds * 1000 } },
  );
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let sink = 0;
  // A gateway's main thread keeps touching its memory: the faults are what wait on the fork.
  const touch = setInterval(() => {
    for (let i = 0; i < heap.length; i += 7) sink += heap[i]?.[i % 4096] ?? 0;
  }, 5);
  const spawns = await new Promise<number>((resolve) => worker.once('message', resolve));
  delay.disable();
  clearInterval(touch);
  await worker.terminate();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const rssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
  console.log(JSON.stringify({ rssMb, spawnsPerS: Math.round(spawns / seconds), loopP99Ms: ms(delay.percentile(99)), loopMaxMs: ms(delay.max), sink: sink > 0 }));
}

if (flags.child !== undefined) {
  await child(Number(flags.child), Number(flags.seconds));
} else {
  const sizes = flags['rss-mb'].split(',').map(Number);
  const rows = sizes.map((mb) => {
    process.stderr.write(`[fork-cost] ${mb} MB...\n`);
    const out = execFileSync(process.execPath, [process.argv[1] as string, '--child', String(mb), '--seconds', flags.seconds], { encoding: 'utf8' });
    return JSON.parse(out) as { rssMb: number; spawnsPerS: number; loopP99Ms: number; loopMaxMs: number };
  });
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, uv: process.versions.uv };
  if (flags.json) console.log(JSON.stringify({ machine, rows }, null, 2));
  else {
    console.log(`spawn cost by process size on ${machine.cpus} × ${machine.model}, Node ${machine.node} (libuv ${machine.uv})`);
    console.log('RSS MB  spawns/s  loop p99 ms  loop max ms');
    for (const r of rows) console.log(`${String(r.rssMb).padStart(6)}  ${String(r.spawnsPerS).padStart(8)}  ${r.loopP99Ms.toFixed(2).padStart(11)}  ${r.loopMaxMs.toFixed(2).padStart(11)}`);
  }
}
