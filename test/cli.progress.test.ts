import { describe, expect, it } from 'vitest';
import { startProgress } from '../dist/src/cli/progress.js';

const stream = (isTTY: boolean) => {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (chunk: string) => chunks.push(chunk) };
};
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('sweep progress on stderr', () => {
  it('shows a rewritten count line on a terminal once the sweep outlasts the delay, then clears it', async () => {
    const [stdout, stderr] = [stream(true), stream(true)];
    const progress = startProgress({ total: 3, label: 'probing', stdout, stderr, delayMs: 0 });
    progress.tick();
    await tick();
    progress.tick();
    progress.done();
    expect(stderr.chunks).toEqual(['\r\x1b[Kprobing 1/3…', '\r\x1b[Kprobing 2/3…', '\r\x1b[K']);
    expect(stdout.chunks).toEqual([]);
  });

  it('writes nothing for a sweep done before the delay', async () => {
    const [stdout, stderr] = [stream(true), stream(true)];
    const progress = startProgress({ total: 1, label: 'probing', stdout, stderr, delayMs: 60_000 });
    progress.tick();
    progress.done();
    await tick();
    expect(stderr.chunks).toEqual([]);
  });

  it('is quiet when stdout is not a terminal', async () => {
    const [stdout, stderr] = [stream(false), stream(true)];
    const progress = startProgress({ total: 2, label: 'probing', stdout, stderr, delayMs: 0 });
    await tick();
    progress.tick();
    progress.done();
    expect(stderr.chunks).toEqual([]);
  });
});
