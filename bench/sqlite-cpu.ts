/**
 * What else ran on the machine during a phase: the CPU time of every process
 * but the benchmark and its writer, from Linux's /proc, in cores. On a
 * two-core machine another process's burst shows up as a loop stall and a
 * late commit at the same moment; this figure says when that happened.
 */
import { readFileSync } from 'node:fs';

interface Sample {
  /** Busy and total clock ticks of all CPUs (/proc/stat), and ticks of the benchmark's own processes. */
  readonly busy: number;
  readonly total: number;
  readonly ours: number;
}

/** utime + stime of a process and its threads, in clock ticks; 0 when it is gone. */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name in parentheses (which may contain spaces): utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function sample(pids: readonly number[]): Sample | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal: idle and iowait are not busy; guest time is already in user.
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    const busy = total - (cpu[3] ?? 0) - (cpu[4] ?? 0);
    return { busy, total, ours: pids.reduce((n, pid) => n + processTicks(pid), 0) };
  } catch {
    return undefined;
  }
}

/**
 * Starts counting; the returned function gives the cores (0 to the machine's
 * count) that processes other than `pids` kept busy since, on average. NaN
 * without /proc.
 */
export function otherCpu(pids: readonly number[], cpus: number): () => number {
  const start = sample(pids);
  return () => {
    const end = sample(pids);
    if (!start || !end || end.total <= start.total) return Number.NaN;
    const others = end.busy - start.busy - (end.ours - start.ours);
    return Math.max(0, (others / (end.total - start.total)) * cpus);
  };
}
