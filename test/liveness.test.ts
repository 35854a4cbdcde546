import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthProbeError, startLivenessMonitor, type LivenessSample } from 'auth-probe-pool';
import { capturingLogger } from './helpers/pools.js';

/** Keeps the thread busy: the event loop cannot turn meanwhile. */
function blockLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

/** Waits (a bounded number of turns) until `cond()` holds. */
async function until(cond: () => boolean, turns = 200, stepMs = 25): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await sleep(stepMs);
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('startLivenessMonitor', () => {
  const stops: (() => void)[] = [];
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });

  it('logs a pino warning with p99, max and utilisation when the loop is blocked', async () => {
    const { logger, lines } = capturingLogger();
    stops.push(startLivenessMonitor({ logger, intervalMs: 100, resolutionMs: 1, loopMaxWarnMs: 200 }));
    await sleep(150);
    blockLoop(500);
    await until(() => lines.some((l) => l['msg'] === 'event loop delayed'));
    const warning = lines.find((l) => l['msg'] === 'event loop delayed');
    expect(warning).toMatchObject({ level: 40, lib: 'auth-probe-pool', monitor: 'liveness' });
    expect(warning?.['loopMaxMs']).toBeGreaterThan(200);
    expect(typeof warning?.['loopP99Ms']).toBe('number');
    expect(warning?.['utilization']).toBeGreaterThanOrEqual(0);
    expect(warning?.['utilization']).toBeLessThanOrEqual(1);
  });

  it('says when the loop has recovered after a warning', async () => {
    const { logger, lines } = capturingLogger();
    stops.push(startLivenessMonitor({ logger, intervalMs: 100, loopMaxWarnMs: 300, loopP99WarnMs: 300, utilizationWarnRatio: 1 }));
    await sleep(150);
    blockLoop(600);
    await until(() => lines.some((l) => l['msg'] === 'event loop recovered'));
    const messages = lines.map((l) => l['msg']);
    expect(messages).toContain('event loop delayed');
    expect(messages.indexOf('event loop recovered')).toBeGreaterThan(messages.indexOf('event loop delayed'));
  });

  it('reports every reading to onSample and logs nothing while under the thresholds', async () => {
    const { logger, lines } = capturingLogger();
    const samples: LivenessSample[] = [];
    stops.push(startLivenessMonitor({ logger, intervalMs: 50, loopP99WarnMs: 60_000, loopMaxWarnMs: 60_000, utilizationWarnRatio: 1, onSample: (s) => samples.push(s) }));
    await until(() => samples.length >= 3);
    expect(samples.length).toBeGreaterThanOrEqual(3);
    for (const s of samples) {
      expect(Object.keys(s).sort()).toEqual(['elapsedMs', 'loopMaxMs', 'loopP50Ms', 'loopP99Ms', 'utilization']);
      expect(s.loopMaxMs).toBeGreaterThanOrEqual(s.loopP99Ms);
    }
    expect(lines).toEqual([]);
  });

  it('stops sampling once stopped, and stopping twice is harmless', async () => {
    const { logger } = capturingLogger();
    let count = 0;
    const stop = startLivenessMonitor({ logger, intervalMs: 20, onSample: () => count++ });
    await until(() => count >= 2);
    stop();
    stop();
    const seen = count;
    await sleep(100);
    expect(count).toBe(seen);
  });

  it('rejects bad options with E_BAD_OPTIONS naming the field', () => {
    const { logger } = capturingLogger();
    const attempt = (options: unknown) => () => startLivenessMonitor(options as Parameters<typeof startLivenessMonitor>[0]);
    expect(attempt({ logger, intervalMs: -5 })).toThrow(/intervalMs/);
    expect(attempt({ logger, utilizationWarnRatio: 2 })).toThrow(/utilizationWarnRatio/);
    expect(attempt({ logger, resolutionMs: 0.5 })).toThrow(/resolutionMs/);
    expect(attempt({ logger: { warn() {} } })).toThrow(/logger/);
    expect(attempt({ logger, unknownOption: 1 })).toThrow(AuthProbeError);
    try {
      attempt({ intervalMs: 1000 })();
    } catch (err) {
      expect((err as AuthProbeError).code).toBe('E_BAD_OPTIONS');
    }
  });

  it('never keeps the process alive: a script that only starts a monitor exits by itself', async () => {
    const script = `import { pino } from 'pino';
import { startLivenessMonitor } from './dist/src/index.js';
startLivenessMonitor({ logger: pino({ level: 'silent' }), intervalMs: 10 });`;
    const result = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      const child = execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 20_000, killSignal: 'SIGKILL' });
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    expect(result).toEqual({ code: 0, signal: null });
  });
});
