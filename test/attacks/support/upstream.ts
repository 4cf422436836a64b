import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';

/** One request a recording upstream received, exactly as it arrived. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query as received, undecoded. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Answers one request; return false to fall through to the default behaviour. */
export type UpstreamRoute = (
  request: IncomingMessage,
  response: ServerResponse,
  recorded: RecordedRequest,
) => void;

/**
 * A customer API that records every TCP connection and every request it receives, and can behave
 * like a hostile or broken API (redirects, huge, endless or compressed bodies, hanging).
 */
export interface RecordingUpstream {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` (IPv6 hosts in brackets). */
  readonly origin: string;
  readonly requests: RecordedRequest[];
  /** TCP connections accepted, whether or not a request followed. */
  connections(): number;
  /** Requests whose connection the client closed before the answer was complete. */
  aborted(): number;
  /** Adds a route, matched by path prefix before the built-in ones. */
  route(prefix: string, handler: UpstreamRoute): void;
  /** Answers every request held by `/hang`. */
  releaseHeld(): void;
  reset(): void;
  close(): Promise<void>;
}

type BombEncoding = 'gzip' | 'deflate' | 'br';
const bombs = new Map<BombEncoding, Buffer>();
/** A decompression bomb: 64 MiB of zeros in at most 64 KiB. Built once per encoding. */
function compressedBomb(encoding: BombEncoding): Buffer {
  let bomb = bombs.get(encoding);
  if (!bomb) {
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    bomb =
      encoding === 'gzip'
        ? gzipSync(zeros, { level: 1 })
        : encoding === 'deflate'
          ? deflateSync(zeros, { level: 1 })
          : brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
    bombs.set(encoding, bomb);
  }
  return bomb;
}

function json(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

/**
 * Built-in behaviours, by path prefix:
 * - `/redirect?to=<url>&status=<3xx>`: a redirect;
 * - `/huge`: 8 MiB with a Content-Length; `/endless`: chunks until the client hangs up;
 * - `/bomb/gzip`, `/bomb/deflate`, `/bomb/br`: 64 MiB of zeros, compressed;
 * - `/hang`: no answer until {@link RecordingUpstream.releaseHeld} (or the client gives up);
 * - `/drip`: a 200 whose body arrives one byte every 200 ms, forever;
 * - `/echo-binary`: the request's Authorization header back as application/octet-stream;
 * - `/fail-echo`: a 500 quoting the request's Authorization header;
 * - anything else: 200 JSON echo of method, url, headers and body.
 */
export async function startRecordingUpstream(
  options: { host?: string; port?: number } = {},
): Promise<RecordingUpstream> {
  const host = options.host ?? '127.0.0.1';
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const held: ServerResponse[] = [];
  const routes: Array<[string, UpstreamRoute]> = [];
  let connections = 0;
  let aborted = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      response.on('close', () => {
        if (!response.writableFinished) aborted += 1;
      });
      const path = recorded.url.split('?')[0] ?? '/';
      const custom = routes.find(([prefix]) => path.startsWith(prefix));
      if (custom) {
        custom[1](request, response, recorded);
        return;
      }
      const query = new URL(recorded.url, 'http://upstream').searchParams;
      if (path.startsWith('/redirect')) {
        response
          .writeHead(Number(query.get('status') ?? 302), { location: query.get('to') ?? '/' })
          .end();
      } else if (path.startsWith('/huge')) {
        const body = Buffer.alloc(8 * 1024 * 1024, 'a');
        response.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
        response.end(body);
      } else if (path.startsWith('/endless')) {
        response.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 'z');
        const pump = (): void => {
          while (!response.destroyed && response.write(chunk));
          if (!response.destroyed) response.once('drain', pump);
        };
        pump();
      } else if (path.startsWith('/bomb/')) {
        const encoding = path.slice('/bomb/'.length) as BombEncoding;
        const body = compressedBomb(encoding);
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': encoding,
          'content-length': body.length,
        });
        response.end(body);
      } else if (path.startsWith('/hang')) {
        held.push(response);
      } else if (path.startsWith('/drip')) {
        response.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => response.write('.'), 200);
        response.on('close', () => clearInterval(timer));
      } else if (path.startsWith('/echo-binary')) {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        response.end(Buffer.from(`auth=${request.headers.authorization ?? ''}`, 'utf8'));
      } else if (path.startsWith('/fail-echo')) {
        response
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`denied for ${request.headers.authorization ?? ''}`);
      } else {
        json(response, 200, {
          method: recorded.method,
          url: recorded.url,
          headers: recorded.headers,
          body: recorded.body,
        });
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const releaseHeld = (): void => {
    for (const response of held.splice(0)) {
      if (!response.destroyed) json(response, 200, { released: true });
    }
  };
  return {
    host,
    port,
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    requests,
    connections: () => connections,
    aborted: () => aborted,
    route: (prefix, handler) => routes.unshift([prefix, handler]),
    releaseHeld,
    reset: () => {
      releaseHeld();
      requests.length = 0;
      connections = 0;
      aborted = 0;
    },
    close: () =>
      new Promise((resolve) => {
        releaseHeld();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
