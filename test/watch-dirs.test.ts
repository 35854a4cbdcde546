import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/temp.js';
import { eventually } from './helpers/processes.js';

// Internal: reached through the build, like the worker.
const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { DirectoryWatches } = (await import(dist('answers/watch-dirs.js'))) as typeof import('../src/answers/watch-dirs.js');
const { fileFingerprint } = (await import(dist('probes/dep-states.js'))) as typeof import('../src/probes/dep-states.js');

/** Real `fs.watch` handles on a temp dir; the paths each event reported, in order. */
function watched() {
  const reported: string[] = [];
  const watches = new DirectoryWatches(
    (paths) => {
      for (const path of paths) reported.push(path);
    },
    (err) => {
      throw err;
    },
  );
  return { watches, reported };
}

describe('the directory watches', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('watch a present file once, however often it is placed, and report its changes', async () => {
    const file = dir.write('once/auth.json', '{}');
    const { watches, reported } = watched();
    try {
      expect(watches.place(file, fileFingerprint(file), undefined)).toBe(true);
      // An agent's five providers, each result placing the same store: nothing more is made.
      for (let i = 0; i < 4; i++) expect(watches.place(file, fileFingerprint(file), undefined)).toBe(false);
      writeFileSync(file, '{"v":2}');
      expect(await eventually(() => reported.includes(file))).toBe(true);
    } finally {
      watches.close();
    }
  });

  it('watch a present file anew from its directory once that directory was removed and made again (a re-login)', async () => {
    const file = dir.write('relogin/auth.json', '{}');
    const { watches, reported } = watched();
    try {
      watches.place(file, fileFingerprint(file), undefined);
      rmSync(dir.path('relogin'), { recursive: true });
      // The file's own event, then the directory's: its watch is closed and the file reported to be placed again.
      expect(await eventually(() => reported.filter((p) => p === file).length >= 2)).toBe(true);
      mkdirSync(dir.path('relogin'));
      writeFileSync(file, '{}');
      // Placed as present again: what was watched from the old directory is gone, so it is watched from the new one.
      expect(watches.place(file, fileFingerprint(file), undefined)).toBe(true);
      reported.length = 0;
      writeFileSync(file, '{"v":3}');
      expect(await eventually(() => reported.includes(file))).toBe(true);
    } finally {
      watches.close();
    }
  });
});
