import type { IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

import { Agent, type Dispatcher } from 'undici';

import type { EgressPolicy } from '../egress/egress-policy.js';
import { pinnedConnector } from '../egress/pinned-connector.js';

/** One HTTP request to a customer's API. */
export interface UpstreamRequest {
  readonly origin: string;
  /** Path and query, encoded. */
  readonly target: string;
  readonly method: Dispatcher.HttpMethod;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
}

/**
 * What one attempt came to. `sent` says whether the request may have reached the server: it turns
 * true the moment undici hands the request to a connected socket, so anything failing before (DNS,
 * egress policy, refused or timed-out connect, TLS handshake) certainly sent nothing.
 */
export type AttemptOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      /** Decompressed body. */
      readonly body: Buffer;
      readonly elapsedMs: number;
    }
  | { readonly kind: 'too_large'; readonly status: number; readonly elapsedMs: number }
  | { readonly kind: 'timeout'; readonly sent: boolean; readonly elapsedMs: number }
  | {
      readonly kind: 'error';
      readonly error: Error;
      readonly sent: boolean;
      readonly elapsedMs: number;
    };

/** Limits of the client. */
export interface UpstreamClientOptions {
  readonly connectTimeoutMs: number;
  /** Largest body accepted, compressed on the wire and again after decompression. */
  readonly maxResponseBytes: number;
}

class AttemptAborted extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'AttemptAborted';
  }
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Decodes a `Content-Encoding` with a cap on the output, so a small gzip bomb cannot expand into
 * gigabytes of memory. Returns undefined when the output would exceed the cap.
 */
function decode(body: Buffer, encoding: string | undefined, maxBytes: number): Buffer | undefined {
  const name = (encoding ?? '').trim().toLowerCase();
  const options = { maxOutputLength: maxBytes };
  try {
    if (name === 'gzip' || name === 'x-gzip') return gunzipSync(body, options);
    if (name === 'deflate') return inflateSync(body, options);
    if (name === 'br') return brotliDecompressSync(body, options);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    // A corrupt encoding is returned as the bytes received; the caller treats them as binary.
    return body;
  }
  return body;
}

/**
 * HTTP client for customers' APIs: undici with one keep-alive pool per origin (sockets with Nagle
 * off), every new connection checked by the egress policy and pinned to the checked address,
 * never following redirects, with a per-attempt deadline and a response size cap.
 */
export class UpstreamClient {
  private readonly agent: Agent;

  constructor(
    policy: EgressPolicy,
    private readonly options: UpstreamClientOptions,
  ) {
    this.agent = new Agent({
      connect: pinnedConnector(policy, options.connectTimeoutMs),
      connections: 128,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
    });
  }

  /** Sends one attempt; never rejects (failures are outcomes). */
  send(request: UpstreamRequest, timeoutMs: number): Promise<AttemptOutcome> {
    const startedAt = performance.now();
    const elapsed = (): number => performance.now() - startedAt;
    const maxBytes = this.options.maxResponseBytes;
    return new Promise<AttemptOutcome>((resolve) => {
      let settled = false;
      let sent = false;
      let abort: ((reason: Error) => void) | undefined;
      let status = 0;
      let headers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let received = 0;
      const finish = (outcome: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        // Stop waiting now; a connect still in progress is cancelled when it reaches onRequestStart.
        finish({ kind: 'timeout', sent, elapsedMs: elapsed() });
        abort?.(new AttemptAborted('timed out'));
      }, timeoutMs);
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(controller) {
          if (settled) {
            controller.abort(new AttemptAborted('cancelled before sending'));
            return;
          }
          sent = true;
          abort = (reason) => controller.abort(reason);
        },
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode;
          headers = responseHeaders;
        },
        onResponseData(controller, chunk) {
          received += chunk.length;
          if (received > maxBytes) {
            finish({ kind: 'too_large', status, elapsedMs: elapsed() });
            controller.abort(new AttemptAborted('response too large'));
            return;
          }
          chunks.push(chunk);
        },
        onResponseEnd() {
          const raw = Buffer.concat(chunks);
          const body = decode(raw, headerValue(headers, 'content-encoding'), maxBytes);
          if (body === undefined) finish({ kind: 'too_large', status, elapsedMs: elapsed() });
          else finish({ kind: 'response', status, headers, body, elapsedMs: elapsed() });
        },
        onResponseError(_controller, error) {
          finish({ kind: 'error', error, sent, elapsedMs: elapsed() });
        },
      };
      this.agent.dispatch(
        {
          origin: request.origin,
          path: request.target,
          method: request.method,
          headers: request.headers,
          body: request.body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          // A POST must never be replayed by the client itself on a broken pipelined socket.
          idempotent: false,
        },
        handler,
      );
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** The `Content-Type` of a response, or null. */
export function contentTypeOf(headers: IncomingHttpHeaders): string | null {
  return headerValue(headers, 'content-type') ?? null;
}

/** The `Retry-After` header of a response. */
export function retryAfterOf(headers: IncomingHttpHeaders): string | undefined {
  return headerValue(headers, 'retry-after');
}

/** The `Location` header of a response (reported on redirects, never followed). */
export function locationOf(headers: IncomingHttpHeaders): string | undefined {
  return headerValue(headers, 'location');
}
