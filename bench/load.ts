/**
 * The load generator's child process: sends `GET /ack` at a steady rate
 * (open loop: a slow answer never delays the next request, as users do not
 * wait for each other) and records each request's send time and latency.
 * Driven over IPC by `load-control.ts`.
 */
import { Agent, get } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AckSample, LoadCommand, LoadReply } from './load-control.js';

const now = () => performance.timeOrigin + performance.now();
const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });
/** A request unanswered after this many milliseconds is recorded as failed; bounds the drain. */
const REQUEST_TIMEOUT_MS = 60_000;

let samples: AckSample[] = [];
let outstanding = 0;
let timer: NodeJS.Timeout | undefined;
let drained: (() => void) | undefined;

function reply(message: LoadReply): void {
  process.send?.(message);
}

function ack(url: string): void {
  const sentAt = now();
  outstanding++;
  let done = false;
  const finish = (latencyMs: number) => {
    if (done) return;
    done = true;
    samples.push({ sentAt, latencyMs });
    if (--outstanding === 0) drained?.();
  };
  const req = get(`${url}/ack`, { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
    res.resume();
    res.on('end', () => finish(res.statusCode === 200 ? now() - sentAt : -1));
    res.on('error', () => finish(-1));
  });
  req.on('timeout', () => req.destroy());
  req.on('error', () => finish(-1));
}

function start(url: string, hz: number): void {
  const intervalMs = 1000 / hz;
  const begin = now();
  let k = 0;
  const tick = () => {
    ack(url);
    k++;
    timer = setTimeout(tick, Math.max(0, begin + k * intervalMs - now()));
  };
  tick();
}

async function stop(): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = undefined;
  if (outstanding > 0) await new Promise<void>((resolve) => (drained = resolve));
  drained = undefined;
  reply({ type: 'samples', samples });
  samples = [];
}

process.on('message', (message: LoadCommand) => {
  switch (message.type) {
    case 'start':
      start(message.url, message.hz);
      reply({ type: 'started' });
      break;
    case 'stop':
      void stop();
      break;
    case 'exit':
      process.disconnect();
      break;
  }
});
// The parent going away (or asking to exit) ends this process: nothing is left to keep it alive.
process.on('disconnect', () => {
  agent.destroy();
  if (timer) clearTimeout(timer);
  timer = undefined;
});
reply({ type: 'ready' });
