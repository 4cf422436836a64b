/** How the client classifies one answer. */
export type Outcome = 'ok' | 'failed' | 'indeterminate';

/** One logical tool call the driver makes. */
export interface CallSpec {
  /** The logical operation (the ledger's `op`); for writes also the client's idempotency key. */
  readonly op: string;
  readonly kind: 'read' | 'write';
  /** The client idempotency key; writes carry one, reads none. */
  readonly key?: string | undefined;
  /** Which gateway to use (index); by default the calls alternate. */
  readonly gateway?: number;
  /** The credential (default: the driver's). */
  readonly token?: string;
}

/** One HTTP exchange of a call. */
export interface Attempt {
  readonly gateway: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: Outcome;
  /** `ok`, the tengine error code, `HTTP_<status>`, `RPC_<code>`, or the transport error. */
  readonly code: string;
  readonly runId?: string | undefined;
  /** The Run status the executor reported (absent when the executor did not answer). */
  readonly runStatus?: string | undefined;
  readonly replayed?: boolean | undefined;
  readonly text?: string | undefined;
}

export interface CallRecord {
  readonly spec: CallSpec;
  readonly attempts: Attempt[];
  /** True when the driver retried the call with the same key to learn an unknown outcome. */
  retried: boolean;
}

/**
 * Error codes whose answer says the outcome is unknown. Everything else the driver counts as a
 * definite failure (nothing done), which the checker holds against the ledger.
 */
const UNKNOWN_OUTCOME_CODES = new Set([
  'EXECUTOR_TIMEOUT',
  'EXECUTOR_RUN_INTERRUPTED',
  'EXECUTOR_RUN_NOT_RECORDED',
]);

export interface DriverOptions {
  readonly gateways: () => readonly string[];
  readonly token: string;
  readonly tools: { readonly read: string; readonly write: string };
  /** Client-side limit per call; longer than the gateway's own wait for the executor. */
  readonly timeoutMs: number;
}

interface Session {
  id: string | undefined;
  version: string;
}

/** Issues `tools/call`s over MCP Streamable HTTP (JSON answers) and records every answer. */
export class Driver {
  private nextId = 1;
  private turn = 0;
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly options: DriverOptions) {}

  /** Runs every spec with at most `concurrency` in flight (optionally at most `ratePerSecond`). */
  async run(
    specs: readonly CallSpec[],
    options: {
      concurrency: number;
      ratePerSecond?: number;
      onSettled?: (done: number) => void;
      shouldStop?: () => boolean;
    },
  ): Promise<CallRecord[]> {
    const records: CallRecord[] = [];
    let next = 0;
    let done = 0;
    const started = Date.now();
    const worker = async (): Promise<void> => {
      for (;;) {
        if (options.shouldStop?.()) return;
        const index = next++;
        const spec = specs[index];
        if (spec === undefined) return;
        if (options.ratePerSecond) {
          const due = started + (index * 1000) / options.ratePerSecond;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        const record: CallRecord = { spec, attempts: [], retried: false };
        records.push(record);
        record.attempts.push(await this.call(spec));
        done += 1;
        options.onSettled?.(done);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
    return records;
  }

  /**
   * Runs groups of calls, `concurrency` groups at a time: the calls of a group one after the other
   * (`sequential`) or all at once.
   */
  async runGroups(
    groups: ReadonlyArray<readonly CallSpec[]>,
    options: { concurrency: number; sequential: boolean },
  ): Promise<CallRecord[]> {
    const records: CallRecord[] = [];
    let next = 0;
    const one = async (spec: CallSpec): Promise<void> => {
      const record: CallRecord = { spec, attempts: [], retried: false };
      records.push(record);
      record.attempts.push(await this.call(spec));
    };
    const worker = async (): Promise<void> => {
      for (let group = groups[next++]; group; group = groups[next++]) {
        if (options.sequential) for (const spec of group) await one(spec);
        else await Promise.all(group.map(one));
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    return records;
  }

  /** Asks again, with the same key, every write whose answer left its outcome unknown. */
  async resolve(records: readonly CallRecord[], concurrency: number): Promise<number> {
    const unknown = records.filter(
      (record) =>
        record.spec.kind === 'write' &&
        record.spec.key !== undefined &&
        record.attempts.at(-1)?.outcome === 'indeterminate',
    );
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let record = unknown[next++]; record; record = unknown[next++]) {
        record.retried = true;
        record.attempts.push(await this.call(record.spec));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return unknown.length;
  }

  /** One `tools/call`, classified. */
  async call(spec: CallSpec): Promise<Attempt> {
    const gateways = this.options.gateways();
    const gateway = spec.gateway ?? this.turn++ % gateways.length;
    const base = gateways[gateway] ?? '';
    const token = spec.token ?? this.options.token;
    const startedAt = Date.now();
    const finish = (fields: Omit<Attempt, 'gateway' | 'startedAt' | 'endedAt'>): Attempt => ({
      gateway,
      startedAt,
      endedAt: Date.now(),
      ...fields,
    });
    // A one-call credential (a minted member token) skips the handshake: the gateway is stateless.
    const session =
      spec.token === undefined ? await this.session(base, token).catch(() => undefined) : undefined;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
    };
    if (session?.id) headers['mcp-session-id'] = session.id;
    if (session) headers['mcp-protocol-version'] = session.version;
    const params: Record<string, unknown> = {
      name: spec.kind === 'write' ? this.options.tools.write : this.options.tools.read,
      arguments: spec.kind === 'write' ? { op: spec.op, amount: 1 } : { op: spec.op },
    };
    // Both ways the gateway takes a client key: the header, and the call's `_meta`.
    const id = this.nextId++;
    if (spec.key !== undefined) {
      if (id % 2 === 0) headers['idempotency-key'] = spec.key;
      else params['_meta'] = { 'io.tengine/idempotency-key': spec.key };
    }
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${base}/mcp`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const code = transportCode(error);
      // Refused connections never carried the request; anything else may have.
      return finish({
        outcome: code === 'ECONNREFUSED' ? 'failed' : 'indeterminate',
        code: `TRANSPORT_${code}`,
      });
    }
    if (response.status !== 200) {
      return finish({
        outcome: 'failed',
        code: `HTTP_${response.status}`,
        text: text.slice(0, 300),
      });
    }
    let body: {
      error?: { code?: number; message?: string };
      result?: {
        isError?: boolean;
        content?: Array<{ text?: string }>;
        _meta?: Record<string, unknown>;
      };
    };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return finish({ outcome: 'indeterminate', code: 'BAD_JSON', text: text.slice(0, 300) });
    }
    if (body.error) {
      return finish({
        outcome: 'failed',
        code: `RPC_${body.error.code ?? '?'}`,
        text: body.error.message?.slice(0, 300),
      });
    }
    const result = body.result ?? {};
    const meta = result._meta ?? {};
    const runId =
      typeof meta['io.tengine/run_id'] === 'string' ? meta['io.tengine/run_id'] : undefined;
    const runStatus =
      typeof meta['io.tengine/run_status'] === 'string' ? meta['io.tengine/run_status'] : undefined;
    const replayed = meta['io.tengine/replayed'] === true;
    if (!result.isError) {
      return finish({ outcome: 'ok', code: 'ok', runId, runStatus: 'succeeded', replayed });
    }
    const errorCode = meta['io.tengine/error_code'];
    const code = typeof errorCode === 'string' ? errorCode : 'UNKNOWN';
    const unknown = runStatus === 'indeterminate' || UNKNOWN_OUTCOME_CODES.has(code);
    return finish({
      outcome: unknown ? 'indeterminate' : 'failed',
      code,
      runId,
      runStatus,
      replayed,
      text: result.content?.[0]?.text?.slice(0, 300),
    });
  }

  /** An MCP session per gateway and credential (initialize, then notifications/initialized). */
  private async session(base: string, token: string): Promise<Session> {
    const cacheKey = `${base} ${token}`;
    const known = this.sessions.get(cacheKey);
    if (known) return known;
    const post = (body: unknown, extra: Record<string, string> = {}) =>
      fetch(`${base}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${token}`,
          ...extra,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5_000),
      });
    const response = await post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'tengine-chaos', version: '1.0.0' },
      },
    });
    const answer = (await response.json()) as { result?: { protocolVersion?: string } };
    const session: Session = {
      id: response.headers.get('mcp-session-id') ?? undefined,
      version: answer.result?.protocolVersion ?? '2025-06-18',
    };
    await post(
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      {
        ...(session.id ? { 'mcp-session-id': session.id } : {}),
        'mcp-protocol-version': session.version,
      },
    );
    this.sessions.set(cacheKey, session);
    return session;
  }
}

/**
 * The code of a fetch failure: `ECONNREFUSED`, `UND_ERR_SOCKET`, `TIMEOUT`… (duck-typed: under jest
 * the errors undici throws come from another realm, so `instanceof Error` does not hold).
 */
function transportCode(error: unknown): string {
  const name = (value: unknown): string | undefined =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string'
      ? (value as { name: string }).name
      : undefined;
  if (name(error) === 'TimeoutError' || name(error) === 'AbortError') return 'TIMEOUT';
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return name(error) ?? 'UNKNOWN';
}
