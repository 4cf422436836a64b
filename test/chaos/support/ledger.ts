import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the ledger answers, switchable while calls are running. */
export type LedgerMode =
  /** Applies the effect and answers 200 at once. */
  | { readonly kind: 'normal' }
  /**
   * Applies the effect on receipt, answers 200 after `delayMs` plus a random share of `jitterMs`
   * (if the caller still listens).
   */
  | { readonly kind: 'slow'; readonly delayMs: number; readonly jitterMs?: number }
  /** Answers 5xx (500, 502, 503, 504 in turn) without applying anything. */
  | { readonly kind: 'storm' }
  /** Reads the request, applies the effect, then destroys the connection without answering. */
  | { readonly kind: 'reset' }
  /** Reads the request and never answers (nothing applied). */
  | { readonly kind: 'hang' };

/** What the ledger knows about one upstream `Idempotency-Key`. */
export interface KeyRecord {
  readonly key: string;
  readonly op: string;
  readonly method: string;
  deliveries: number;
  effects: number;
  readonly runIds: Set<string>;
}

/** What the ledger knows about one logical operation (the `op` the client put in the call). */
export interface OpRecord {
  deliveries: number;
  effects: number;
  readonly keys: Set<string>;
  readonly runIds: Set<string>;
}

/** One answered request, handed to the after-answer hook. */
export interface Answered {
  readonly op: string;
  readonly method: string;
  /** The caller's (executor's) local TCP port, to find the process that holds the connection. */
  readonly peerPort: number;
}

/**
 * The customer API of the suite: records every request by its `Idempotency-Key` (the header the
 * executor sends on every attempt, derived from project, principal and client key), applies each
 * key's effect once (a write is "applied" the first time its key arrives while the ledger is
 * willing to process it), and counts deliveries and effects separately, per key and per operation.
 */
export class Ledger {
  readonly keys = new Map<string, KeyRecord>();
  readonly ops = new Map<string, OpRecord>();
  mode: LedgerMode = { kind: 'normal' };
  /** Called just before a response is written (used to freeze the executor that will get it). */
  onAnswering: ((answered: Answered) => void) | undefined;
  /** Called right after a response was handed to the kernel (used to kill the executor then). */
  onAnswered: ((answered: Answered) => void) | undefined;
  private stormTurn = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<Ledger> {
    const server = createServer();
    // The executor keeps connections alive; never let Node's defaults cut a slow answer short.
    server.requestTimeout = 0;
    server.headersTimeout = 0;
    server.keepAliveTimeout = 30_000;
    const ledger = new Ledger(server);
    server.on('connection', (socket: Socket) => {
      ledger.sockets.add(socket);
      socket.once('close', () => ledger.sockets.delete(socket));
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) =>
      ledger.handle(request, response),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return ledger;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  op(op: string): OpRecord | undefined {
    return this.ops.get(op);
  }

  private record(op: string, key: string, method: string, runId: string): KeyRecord {
    let byKey = this.keys.get(key);
    if (!byKey) {
      byKey = { key, op, method, deliveries: 0, effects: 0, runIds: new Set() };
      this.keys.set(key, byKey);
    }
    byKey.deliveries += 1;
    if (runId) byKey.runIds.add(runId);
    let byOp = this.ops.get(op);
    if (!byOp) {
      byOp = { deliveries: 0, effects: 0, keys: new Set(), runIds: new Set() };
      this.ops.set(op, byOp);
    }
    byOp.deliveries += 1;
    byOp.keys.add(key);
    if (runId) byOp.runIds.add(runId);
    return byKey;
  }

  /** Applies a write's effect unless its key already had one: the API honours Idempotency-Key. */
  private apply(record: KeyRecord): void {
    if (record.method === 'GET' || record.effects > 0) return;
    record.effects += 1;
    const byOp = this.ops.get(record.op);
    if (byOp) byOp.effects += 1;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const method = request.method ?? 'GET';
      const url = new URL(request.url ?? '/', 'http://ledger');
      let op = url.searchParams.get('op') ?? '';
      if (method !== 'GET' && chunks.length > 0) {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { op?: unknown };
          if (typeof body.op === 'string') op = body.op;
        } catch {
          // Not JSON: recorded under the empty op.
        }
      }
      const key = String(request.headers['idempotency-key'] ?? '');
      const runId = String(request.headers['x-tengine-run-id'] ?? '');
      const record = this.record(op, key, method, runId);
      const mode = this.mode;
      const answer = (status: number): void => {
        if (response.destroyed || request.socket.destroyed) return;
        const byOp = this.ops.get(op);
        const body = JSON.stringify({
          op,
          effects: byOp?.effects ?? 0,
          deliveries: record.deliveries,
        });
        const answered = { op, method, peerPort: request.socket.remotePort ?? 0 };
        this.onAnswering?.(answered);
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(body, () => this.onAnswered?.(answered));
      };
      switch (mode.kind) {
        case 'normal':
          this.apply(record);
          answer(200);
          return;
        case 'slow':
          this.apply(record);
          setTimeout(
            () => answer(200),
            mode.delayMs + Math.floor(Math.random() * (mode.jitterMs ?? 0)),
          ).unref();
          return;
        case 'storm': {
          const statuses = [500, 502, 503, 504];
          answer(statuses[this.stormTurn++ % statuses.length] ?? 500);
          return;
        }
        case 'reset':
          this.apply(record);
          request.socket.destroy();
          return;
        case 'hang':
          return;
      }
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
