import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { createAuthProbePool, type AuthProbePool, type AuthProbePoolOptions } from 'auth-probe-pool';

/** Tracks pools so a test file's `afterAll` can close every one it made; `defaults` go under each pool's options. */
export function poolFactory(defaults: Partial<AuthProbePoolOptions> = {}) {
  const pools: AuthProbePool[] = [];
  return {
    create(options: AuthProbePoolOptions): AuthProbePool {
      const pool = createAuthProbePool({ threads: { min: 1, max: 2 }, ...defaults, ...options });
      pools.push(pool);
      return pool;
    },
    async closeAll(): Promise<void> {
      await Promise.all(pools.splice(0).map((p) => p.close({ force: true })));
    },
  };
}

/** A pino logger whose JSON lines land in `lines`, at every level. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[]; text: () => string } {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines, text: () => raw };
}
