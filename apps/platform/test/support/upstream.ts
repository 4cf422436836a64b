import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the test upstream received. */
export interface UpstreamHit {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A customer API on loopback: echoes, fails, or hangs, and records every request. */
export interface TestUpstream {
  readonly origin: string;
  readonly hits: UpstreamHit[];
  close(): Promise<void>;
}

export async function startUpstream(): Promise<TestUpstream> {
  const hits: UpstreamHit[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      hits.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
      });
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      if (path.startsWith('/fail')) {
        response
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"error":"database on fire"}');
      } else if (path.startsWith('/delay')) {
        setTimeout(
          () =>
            response.writeHead(200, { 'content-type': 'application/json' }).end('{"done":true}'),
          400,
        ).unref();
      } else if (path.startsWith('/slow')) {
        setTimeout(() => response.writeHead(200).end('{"late":true}'), 2_000).unref();
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            path,
            body: body ? (JSON.parse(body) as unknown) : null,
            project: request.headers['x-tengine-project-id'] ?? null,
            member: request.headers['x-tengine-member-id'] ?? null,
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
