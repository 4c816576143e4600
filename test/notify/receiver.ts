import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the receiver saw it. */
export interface Received {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  text: string | null;
}

/** What to do with the n-th request (0-based); the default answers 200 "ok" like Slack. */
export type Behaviour = (n: number, res: ServerResponse) => void;

export interface Receiver {
  url: string;
  requests: Received[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records what Slack would have received. */
export async function startReceiver(behaviour: Behaviour = ok, path = '/services/T0001/B0002/s3cr3tW3bh00kT0k3n'): Promise<Receiver> {
  const requests: Received[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let text: string | null = null;
      try {
        text = (JSON.parse(body) as { text?: string }).text ?? null;
      } catch {
        text = null;
      }
      requests.push({ at: Date.now(), method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, text });
      behaviour(n++, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const ok: Behaviour = (_n, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
};

/** A port on 127.0.0.1 where nothing listens: connection refused. */
export async function deadUrl(): Promise<string> {
  const r = await startReceiver();
  const url = r.url;
  await r.close();
  return url;
}
