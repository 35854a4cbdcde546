import { markLines, type TempDir } from './temp.js';

/**
 * Writes a fake CLI (a shell script, cheap to start) that records its start and end in a log, so that a test can
 * count how many ran at once: `cli LOG NAME N` appends `start NAME`, waits until N runs have started (polling at
 * most `polls` times, 50 ms apart), waits 100 ms more, and appends `end NAME`. The first N runs of a sweep thus
 * overlap whenever N may run at once, whatever the machine's speed; any run admitted beyond N overlaps them too.
 */
export function barrierCli(dir: TempDir, name: string, polls = 100): string {
  return dir.write(
    `bin/${name}`,
    `#!/bin/sh
echo "start $2" >> "$1"
n=0
while [ "$(grep -c '^start' "$1")" -lt "$3" ] && [ "$n" -lt ${polls} ]; do sleep 0.05; n=$((n + 1)); done
sleep 0.1
echo "end $2" >> "$1"
`,
    0o755,
  );
}

/** The most runs of a {@link barrierCli} log that had started and not yet ended at once, and how many ended. */
export function peakConcurrency(log: string): { peak: number; ended: number } {
  let running = 0;
  let peak = 0;
  let ended = 0;
  // Each line is one small append, so the file's order is the order the runs wrote them in.
  for (const line of markLines(log)) {
    if (line.startsWith('start ')) peak = Math.max(peak, ++running);
    else if (line.startsWith('end ')) {
      running--;
      ended++;
    }
  }
  return { peak, ended };
}
