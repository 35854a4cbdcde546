/** Small helpers of the scenario generator: a seeded random source and file writers. */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A random number in [0, 1). */
export type Random = () => number;

/** mulberry32: a tiny, fast, seeded generator; the same seed gives the same sequence on every machine. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** `length` base64url characters: a made-up token. */
export function token(random: Random, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(random() * 64)];
  return out;
}

/** Writes `content` to `path`, creating parent directories, and returns `path`. */
export function writeFile(path: string, content: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** Writes an executable `/bin/sh` script `dir/name` and returns its path. */
export function writeScript(dir: string, name: string, body: string): string {
  const path = writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
