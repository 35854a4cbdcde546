import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A temp directory for one test file; `cleanup()` removes it. */
export interface TempDir {
  readonly root: string;
  /** Writes a file (creating parent dirs) and returns its absolute path. */
  write(relative: string, content: string | object, mode?: number): string;
  path(relative: string): string;
  cleanup(): void;
}

export function tempDir(prefix = 'app-test-'): TempDir {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return {
    root,
    path: (relative) => join(root, relative),
    write(relative, content, mode) {
      const file = join(root, relative);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      if (mode !== undefined) chmodSync(file, mode);
      return file;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * Writes a fake CLI: a small Node script run through a `#!` line, so the
 * command probe spawns a real child process. `body` is the script's code.
 */
export function fakeCli(dir: TempDir, name: string, body: string): string {
  return dir.write(`bin/${name}`, `#!${process.execPath}\n${body}\n`, 0o755);
}

/** A shell script CLI (cheap to start, even on a loaded machine) that appends to `mark` each time it runs. */
export function shellCli(dir: TempDir, name: string, mark: string, body: string): string {
  return dir.write(`bin/${name}`, `#!/bin/sh\necho run >> '${mark}'\n${body}\n`, 0o755);
}

/** The lines of a mark file the fake CLIs append to; none when it does not exist yet. */
export function markLines(mark: string): string[] {
  try {
    return readFileSync(mark, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
