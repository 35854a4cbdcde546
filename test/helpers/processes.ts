import { readdirSync, readFileSync } from 'node:fs';

/** A process as /proc/<pid>/stat shows it: its state letter (`Z`: a zombie, exited and never reaped), parent and name. */
export interface ProcessEntry {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  /** The executable's name (`comm`): a zombie keeps it, though its command line is gone. */
  readonly name: string;
}

/** The process's entry, or undefined once it is gone (a zombie is not gone: it is listed with state `Z`). */
export function processEntry(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name is in parentheses and may itself hold ") ": the fields start after the last one.
    const close = stat.lastIndexOf(')');
    const [state = '', ppid = '0'] = stat.slice(close + 2).split(' ');
    return { pid, state, ppid: Number(ppid), name: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    return undefined;
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/**
 * Pids of live processes whose command line contains `marker` (read from /proc). Zombies are left out: their
 * command line is empty, so no marker finds them; count them with {@link zombieChildren}.
 */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const pid of pids()) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(marker) && processEntry(pid)?.state !== 'Z') found.push(pid);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Polls until `predicate` holds or `timeoutMs` passes; a generous bound, never a timing assertion. */
export async function eventually(predicate: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return predicate();
}

/** Pids of live children of this process whose command line contains `marker`. */
export function childrenWith(marker: string): number[] {
  return processesWith(marker).filter((pid) => processEntry(pid)?.ppid === process.pid);
}

/** Every child of this process, zombies included. */
export function childProcesses(): ProcessEntry[] {
  return pids()
    .map(processEntry)
    .filter((p): p is ProcessEntry => p !== undefined && p.ppid === process.pid);
}

/**
 * Children of this process that exited and were never reaped (state `Z`): each holds a pid until this process
 * ends. A child a worker thread spawned is reaped only by that thread's loop (nodejs/node#46569), so one still
 * running when its thread ends stays a zombie.
 */
export function zombieChildren(): ProcessEntry[] {
  return childProcesses().filter((p) => p.state === 'Z');
}
