import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { useFixture } from './helpers/fixture.js';
import { eventually } from './helpers/processes.js';

// The watcher is internal: reached through the build, like the worker.
const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { DependencyWatcher } = (await import(dist('answers/watcher.js'))) as typeof import('../src/answers/watcher.js');
const { currentFingerprint } = (await import(dist('probes/fingerprint.js'))) as typeof import('../src/probes/fingerprint.js');

describe('the dependency watcher', () => {
  const { dir } = useFixture();
  const logger = pino({ level: 'silent' });

  it('still notices a change whose event never leads to a check, through its periodic fingerprint check', async () => {
    const file = dir.write('a/auth.json', '{"v":1}');
    const changed: unknown[] = [];
    // A debounce of ten minutes: file events alone would not be checked within this test.
    const watcher = new DependencyWatcher({ enabled: true, debounceMs: 600_000, pollMs: 2000, verifyMs: 50, logger }, (items) => changed.push(...items));
    try {
      const item = { deps: new Map([[file, await currentFingerprint(file)]]) };
      watcher.track(item);
      expect(watcher.mode).toBe('watch');
      writeFileSync(file, '{"v":22}');
      expect(await eventually(() => changed.length === 1)).toBe(true);
      expect(changed[0]).toMatchObject({ item, path: file, fingerprint: await currentFingerprint(file) });
      expect(watcher.size).toBe(1); // still followed: its owner re-tracks it with what the re-run read
    } finally {
      watcher.close();
    }
  });

  it('reports nothing while fingerprints stay the same, and nothing after close()', async () => {
    const file = dir.write('b/auth.json', '{"v":1}');
    const changed: unknown[] = [];
    const watcher = new DependencyWatcher({ enabled: true, debounceMs: 10, pollMs: 2000, verifyMs: 20, logger }, (items) => changed.push(...items));
    watcher.track({ deps: new Map([[file, await currentFingerprint(file)]]) });
    await new Promise((r) => setTimeout(r, 150)); // several verifications
    expect(changed).toEqual([]);
    watcher.close();
    writeFileSync(file, '{"v":333}');
    await new Promise((r) => setTimeout(r, 150));
    expect(changed).toEqual([]);
  });
});
