import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type AuthProbeError, createAuthProbePool, startLivenessMonitor, type AuthProbeLogger } from 'auth-probe-pool';
import { useFixture } from './helpers/fixture.js';
import { capturingLogger } from './helpers/pools.js';
import { eventually } from './helpers/processes.js';

const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { ownLogger } = (await import(dist('logger.js'))) as typeof import('../src/logger.js');

/** A real `Console` (no `child()`, no levels) whose stdout and stderr land in one string. */
function capturingConsole(): { console: Console; text: () => string } {
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw += chunk.toString();
      done();
    },
  });
  return { console: new Console({ stdout: stream, stderr: stream, colorMode: false }), text: () => raw };
}

// Type-level: the global console and a pino logger are both loggers the pool takes.
const _console: AuthProbeLogger = console;
void _console;

describe('logger', () => {
  const { pools } = useFixture();
  const probes = { providers: { a: [{ kind: 'env' as const, vars: ['A'] }] } };

  it('accepts console: each entry carries lib "auth-probe-pool", its fields, then its message', async () => {
    const { console: log, text } = capturingConsole();
    const pool = pools.create({ probes, env: { A: 'set' }, slowProbeMs: 0, logger: log });
    expect(await pool.hasAuth('a')).toBe(true);
    expect(text()).toMatch(/\{\s*lib: 'auth-probe-pool',\s*provider: 'a',\s*probe: 'env',[^}]*\} slow auth probe/);
    // Logged when its task ends, just after its provider was answered.
    expect(await eventually(() => /\} dispatch/.test(text()))).toBe(true);
    expect(text()).toMatch(/\{\s*lib: 'auth-probe-pool',\s*providers: 1,\s*probes: 1,[^}]*\} dispatch/);
  });

  it("redacts secret fields before the caller's logger sees them, with child() (pino) or without (console)", () => {
    const secret = `sk-logged-${Math.random().toString(36).slice(2)}`;
    const err = Object.assign(new Error('boom'), { token: secret });
    const fields = { token: secret, env: { A: secret }, nested: { password: secret, kept: 'visible' }, err, count: 3 };
    const pino = capturingLogger();
    const con = capturingConsole();
    for (const target of [pino.logger, con.console]) ownLogger(target, { lib: 'auth-probe-pool' }).child({ monitor: 'x' }).warn(fields, 'planted');
    for (const out of [pino.text(), con.text()]) {
      expect(out).not.toContain(secret);
      expect(out).toContain('[redacted]');
      expect(out).toContain('visible');
      expect(out).toContain('boom');
      expect(out).toContain('planted');
    }
    expect(pino.lines[0]).toMatchObject({ lib: 'auth-probe-pool', monitor: 'x', count: 3, err: { type: 'Error', message: 'boom', token: '[redacted]' } });
    // The caller's objects are copied where a field is censored, never changed.
    expect(fields.nested.password).toBe(secret);
    expect(err.token).toBe(secret);
  });

  it('rejects an object that is not a logger with E_BAD_OPTIONS naming what it lacks', () => {
    const attempt = (logger: unknown): AuthProbeError => {
      try {
        createAuthProbePool({ probes, logger: logger as AuthProbeLogger });
      } catch (err) {
        return err as AuthProbeError;
      }
      throw new Error('expected a throw');
    };
    const noop = () => {};
    expect(attempt({ info: noop, warn: noop })).toMatchObject({ code: 'E_BAD_OPTIONS', message: expect.stringMatching(/logger: .*missing or not a function: debug, error$/) });
    expect(attempt({ debug: noop, info: noop, warn: noop, error: noop, child: 'x' })).toMatchObject({ code: 'E_BAD_OPTIONS', message: expect.stringMatching(/not a function: child$/) });
    expect(attempt('stdout')).toMatchObject({ code: 'E_BAD_OPTIONS', message: expect.stringContaining('logger') });
  });

  it('lets startLivenessMonitor warn through console', async () => {
    const { console: log, text } = capturingConsole();
    const stop = startLivenessMonitor({ logger: log, intervalMs: 20, resolutionMs: 1, loopMaxWarnMs: 0.001 });
    try {
      for (let i = 0; i < 200 && !text().includes('event loop delayed'); i++) await sleep(25);
    } finally {
      stop();
    }
    expect(text()).toMatch(/\{\s*lib: 'auth-probe-pool',\s*monitor: 'liveness',\s*loopP50Ms: [^}]*\} event loop delayed/);
  });
});
