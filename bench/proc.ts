/**
 * What Linux's /proc tells about this process that Node does not: each
 * thread's nice value (to check that `niceIncrement` took effect) and a peak
 * RSS that can be reset between modes. Elsewhere the figures degrade to
 * what Node offers.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** A full garbage collection, so each mode's peak RSS starts from the same floor. */
export function collectGarbage(): void {
  if (!gc) {
    // V8's gc() without a command-line flag: `npm run bench` runs plain `node`.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/** The process's CPU time since `start` (a `process.cpuUsage()`), user and system, every thread's, in milliseconds. */
export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const cpu = process.cpuUsage(start);
  return (cpu.user + cpu.system) / 1000;
}

/** One OS thread of this process and its scheduling nice value. */
export interface ThreadNice {
  readonly tid: number;
  readonly nice: number;
}

/** Field 19 of `/proc/self/task/<tid>/stat` per thread; empty where /proc is unavailable. */
export function threadNiceValues(): ThreadNice[] {
  return eachThread((tid) => ({ tid, nice: niceOf(tid) }));
}

/** A thread's nice value and its scheduler counters (see {@link SchedStat}). */
export interface ThreadTimes extends ThreadNice, SchedStat {}

/** Every thread's nice value and `/proc/self/task/<tid>/schedstat`; empty where /proc is unavailable. */
export function threadTimes(): ThreadTimes[] {
  return eachThread((tid) => ({ tid, nice: niceOf(tid), ...readSchedStat(`/proc/self/task/${tid}/schedstat`) }));
}

/** `read` of each of this process's threads; a thread that ended between the listing and the read is left out. */
function eachThread<T>(read: (tid: number) => T): T[] {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const tid of tids) {
    try {
      out.push(read(Number(tid)));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  // The command name in parentheses may contain spaces: count fields after its closing one (field 3 onwards).
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** A thread's scheduler counters: time on a CPU, time runnable but waiting for one (both in ns), and timeslices run. */
export interface SchedStat {
  readonly runNs: number;
  readonly waitNs: number;
  readonly slices: number;
}

/**
 * `/proc/thread-self/schedstat`: how long this thread has waited for a CPU
 * while runnable. Its growth over a window is CPU contention itself,
 * whatever caused it. Undefined where unavailable.
 */
export function schedStat(): SchedStat | undefined {
  try {
    return readSchedStat('/proc/thread-self/schedstat');
  } catch {
    return undefined;
  }
}

/** A `schedstat` file of `/proc`: run time, wait time and timeslices, space-separated. */
function readSchedStat(path: string): SchedStat {
  const [run, wait, slices] = readFileSync(path, 'utf8').trim().split(' ').map(Number);
  return { runNs: run as number, waitNs: wait as number, slices: slices as number };
}

/**
 * Resets the peak RSS the kernel tracks (VmHWM) to the current RSS. Returns
 * false where that is not possible; `peakRssMb()` then reports the
 * process's lifetime peak.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak resident set size since the last reset (or since start), in MiB. */
export function peakRssMb(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // Not Linux: fall through.
  }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Child processes of this process whose command line contains `match` (the
 * pool's spawn helpers): how `spawnVia` actually ran, whatever its default.
 * Null where /proc is unavailable.
 */
export function childProcessCount(match: string): number | null {
  return childProcesses(match)?.length ?? null;
}

/** The pids of this process's children whose command line contains `match`; null where /proc is unavailable. */
export function childProcesses(match: string): number[] | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const out: number[] = [];
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Field 4, the parent's pid, after the command name in parentheses (which may contain spaces).
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(match)) out.push(Number(pid));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

/**
 * Resident memory of process `pid`, in MiB: its RSS (`VmRSS` of /proc/<pid>/status, shared pages counted in
 * full) and its proportional share (`Pss` of smaps_rollup, shared pages divided among their sharers). NaN
 * for a figure /proc does not give.
 */
export function processMemoryMb(pid: number): { readonly rssMb: number; readonly pssMb: number } {
  const kb = (file: string, field: string) => {
    try {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
      return match ? Number(match[1]) / 1024 : Number.NaN;
    } catch {
      return Number.NaN;
    }
  };
  return { rssMb: kb('status', 'VmRSS'), pssMb: kb('smaps_rollup', 'Pss') };
}
