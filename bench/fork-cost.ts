/**
 * What command probes cost the gateway's main thread, by process size, with
 * the pool forking in the gateway process (`spawnVia: 'worker'`) or in its
 * small spawn helper (`spawnVia: 'helper'`). On Linux, Node 20's libuv forks
 * to spawn, and a fork copies the page tables of the whole process while the
 * main thread keeps running (and faulting), so with `worker` the stall grows
 * with RSS. For each size and mode, a child process holds that much memory
 * and sweeps 50 providers whose probe runs `/bin/true`, invalidating between
 * sweeps, for `--seconds`, while its main thread keeps touching its memory;
 * it reports the main thread's event-loop delay and the spawn rate.
 * Run: `npm run build && node dist/bench/fork-cost.js [--rss-mb 0,500,1500] [--seconds 3] [--json]` (`--help`).
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { FlagError, integerFlag, integerListFlag, parseCommandLine, parseStrict } from './cli-args.js';

const USAGE = `Usage: node dist/bench/fork-cost.js [flags]   (after npm run build)

  --rss-mb A,B,C       process sizes to measure, in MB (default 0,500,1500)
  --seconds S          how long each size and spawnVia sweeps (default 3)
  --json               print the JSON result instead of the table
  --help

  (--child MB and --via worker|helper are the measuring child's own: the program runs itself with them.)`;

const flags = parseCommandLine(USAGE, (argv) => {
  const v = parseStrict(argv, { 'rss-mb': { type: 'string' }, seconds: { type: 'string' }, json: { type: 'boolean' }, child: { type: 'string' }, via: { type: 'string' }, help: { type: 'boolean' } });
  if (v['via'] !== undefined && v['via'] !== 'worker' && v['via'] !== 'helper') throw new FlagError('--via: expected worker or helper');
  return {
    rssMb: integerListFlag(typeof v['rss-mb'] === 'string' ? v['rss-mb'] : '0,500,1500', 'rss-mb', 0, 65_536),
    seconds: integerFlag(v['seconds'], 'seconds', 1, 3600, 3),
    json: v['json'] === true,
    child: v['child'] === undefined ? undefined : integerFlag(v['child'], 'child', 0, 65_536, 0),
    via: v['via'] === 'helper' ? ('helper' as const) : ('worker' as const),
  };
});

interface Row {
  readonly via: string;
  readonly rssMb: number;
  readonly spawnsPerS: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
}

/** The measuring child: allocate, sweep through a pool while the main thread touches its memory, print one JSON line. */
async function child(mb: number, seconds: number, via: 'worker' | 'helper'): Promise<void> {
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const { createAuthProbePool } = await import('../src/index.js');
  const heap: Buffer[] = [];
  for (let i = 0; i < mb; i++) heap.push(Buffer.alloc(1 << 20, 1));
  const providers = Array.from({ length: 50 }, (_, i) => `cli${i}`);
  const pool = createAuthProbePool({
    probes: { providers: Object.fromEntries(providers.map((p) => [p, [{ kind: 'command', command: '/bin/true' }]])) },
    threads: { min: 2, max: 2 },
    spawnVia: via,
  });
  const check = pool.createChecker();
  await Promise.all(providers.map((p) => check(p))); // threads (and helpers) started before measuring
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let sink = 0;
  // A gateway's main thread keeps touching its memory: its page faults are what wait on a fork.
  const touch = setInterval(() => {
    for (let i = 0; i < heap.length; i += 7) sink += heap[i]?.[i % 4096] ?? 0;
  }, 5);
  delay.enable();
  const until = Date.now() + seconds * 1000;
  let spawns = 0;
  while (Date.now() < until) {
    pool.invalidate();
    await Promise.all(providers.map((p) => check(p)));
    spawns += providers.length;
  }
  delay.disable();
  clearInterval(touch);
  await pool.close();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const row: Row = { via, rssMb: Math.round(process.memoryUsage().rss / 2 ** 20), spawnsPerS: Math.round(spawns / seconds), loopP99Ms: ms(delay.percentile(99)), loopMaxMs: ms(delay.max) };
  console.log(JSON.stringify({ ...row, touched: sink > 0 }));
}

if (flags.child !== undefined) {
  await child(flags.child, flags.seconds, flags.via);
} else {
  const rows: Row[] = [];
  for (const mb of flags.rssMb) {
    for (const via of ['worker', 'helper']) {
      process.stderr.write(`[fork-cost] ${mb} MB, spawnVia ${via}...\n`);
      const out = execFileSync(process.execPath, [process.argv[1] as string, '--child', String(mb), '--seconds', String(flags.seconds), '--via', via], { encoding: 'utf8' });
      rows.push(JSON.parse(out) as Row);
    }
  }
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, uv: process.versions.uv };
  if (flags.json) console.log(JSON.stringify({ machine, rows }, null, 2));
  else {
    console.log(`command probes by process size on ${machine.cpus} × ${machine.model}, Node ${machine.node} (libuv ${machine.uv})`);
    console.log('spawnVia  RSS MB  spawns/s  loop p99 ms  loop max ms');
    for (const r of rows) {
      console.log(`${r.via.padEnd(8)}  ${String(r.rssMb).padStart(6)}  ${String(r.spawnsPerS).padStart(8)}  ${r.loopP99Ms.toFixed(2).padStart(11)}  ${r.loopMaxMs.toFixed(2).padStart(11)}`);
    }
  }
}
