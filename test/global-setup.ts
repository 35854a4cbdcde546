/**
 * Runs around the whole suite. At the end it checks that the suite cleaned
 * up after itself: no process started from a test's temp dir is still alive,
 * and no temp dir of ours is left. A leak fails the run.
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { processesWith } from './helpers/processes.js';

const PREFIX = 'app-';

const ours = () => new Set(readdirSync(tmpdir()).filter((name) => name.startsWith(PREFIX)));

export default function setup() {
  const before = ours();
  return async () => {
    // Killed process groups are reaped asynchronously: give them a moment.
    let leftover: number[] = [];
    for (let i = 0; i < 40; i++) {
      leftover = processesWith(`${tmpdir()}/${PREFIX}`);
      if (leftover.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const dirs = [...ours()].filter((name) => !before.has(name));
    // Silent when clean, so the summary reporter's line stays the run's last.
    if (leftover.length > 0) throw new Error(`processes left behind by the suite: ${leftover.join(', ')}`);
    if (dirs.length > 0) throw new Error(`temp dirs left behind by the suite: ${dirs.join(', ')}`);
  };
}
