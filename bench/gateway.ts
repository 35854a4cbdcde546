/**
 * The gateway under test: a real node:http server in the benchmarked
 * process. `GET /ack` answers at once, as a Discord interaction's deferred
 * ack must (within 3 s); `GET /models` lists the providers that have auth
 * through whatever sweep the current mode installed.
 */
import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** What `/models` answers. */
export interface ModelsResponse {
  readonly providers: readonly string[];
  /** How long the sweep took inside the handler, in milliseconds. */
  readonly sweepMs: number;
}

export interface Gateway {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Installs the sweep `/models` runs; `undefined` makes `/models` answer 503. */
  setSweep(sweep: (() => Promise<readonly string[]>) | undefined): void;
  /** GET /models from this process, as a client would; rejects on a non-200 answer. */
  requestModels(): Promise<ModelsResponse>;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

const ACK = JSON.stringify({ type: 5 }); // Discord's DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Starts the gateway on a free loopback port. */
export async function startGateway(): Promise<Gateway> {
  let sweep: (() => Promise<readonly string[]>) | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/ack') return send(res, 200, ACK);
    if (req.url !== '/models') return send(res, 404, '{"error":"not found"}');
    if (!sweep) return send(res, 503, '{"error":"no sweep installed"}');
    const started = performance.now();
    sweep().then(
      (providers) => send(res, 200, JSON.stringify({ providers, sweepMs: performance.now() - started } satisfies ModelsResponse)),
      (err: unknown) => send(res, 500, JSON.stringify({ error: err instanceof Error ? err.message : String(err) })),
    );
  });
  // A blocked loop leaves connections in the kernel's accept queue: make room for a few seconds of acks.
  server.listen({ host: '127.0.0.1', port: 0, backlog: 2048 });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    setSweep(next) {
      sweep = next;
    },
    requestModels: () =>
      new Promise<ModelsResponse>((resolve, reject) => {
        get(`${url}/models`, { agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`/models answered ${res.statusCode}: ${body.slice(0, 200)}`));
            else resolve(JSON.parse(body) as ModelsResponse);
          });
          res.on('error', reject);
        }).on('error', reject);
      }),
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
