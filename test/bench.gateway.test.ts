import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../dist/bench/gateway.js';
import { forkLoadGenerator, type LoadGenerator } from '../dist/bench/load-control.js';

function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('the HTTP ack harness', () => {
  let gateway: Gateway;
  let load: LoadGenerator;
  beforeAll(async () => {
    gateway = await startGateway();
    load = await forkLoadGenerator();
  });
  afterAll(async () => {
    await load?.close();
    await gateway?.close();
  });

  it('answers /ack at once with a deferred interaction response, and 404 elsewhere', async () => {
    expect(await fetchText(`${gateway.url}/ack`)).toEqual({ status: 200, body: '{"type":5}' });
    expect((await fetchText(`${gateway.url}/nope`)).status).toBe(404);
  });

  it('lists the providers with auth on /models through the installed sweep, timing it', async () => {
    expect((await fetchText(`${gateway.url}/models`)).status).toBe(503);
    gateway.setSweep(async () => ['anthropic', 'openai']);
    const models = await gateway.requestModels();
    expect(models.providers).toEqual(['anthropic', 'openai']);
    expect(models.sweepMs).toBeGreaterThanOrEqual(0);
    gateway.setSweep(async () => {
      throw new Error('probe exploded');
    });
    await expect(gateway.requestModels()).rejects.toThrow(/500: .*probe exploded/);
    gateway.setSweep(undefined);
  });

  it('sends acks at a steady rate from another process and reports each one, also across a blocked loop', async () => {
    await load.start(gateway.url, 50);
    await sleep(200);
    // Block this (the gateway's) thread: acks sent meanwhile wait in the accept queue, not lost.
    const end = Date.now() + 300;
    while (Date.now() < end) {
      // spin
    }
    await sleep(200);
    const samples = await load.stop();
    expect(samples.length).toBeGreaterThan(3);
    expect(samples.every((s) => s.latencyMs >= 0)).toBe(true);
    const sent = samples.map((s) => s.sentAt).sort((a, b) => a - b);
    expect(new Set(sent).size).toBe(sent.length);
    // A second run starts from an empty record.
    await load.start(gateway.url, 50);
    await sleep(100);
    const again = await load.stop();
    expect(again.every((s) => s.sentAt > (sent[sent.length - 1] as number))).toBe(true);
  });

  it('ends the load process on close, and closing twice is harmless', async () => {
    const other = await forkLoadGenerator();
    const pid = other.pid as number;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await other.close();
    await other.close();
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });
});
