import { createHmac, timingSafeEqual } from 'node:crypto';

import { Webhook, WebhookVerificationError } from 'standardwebhooks';

import { canonicalRequestString, safeDecode } from './canonical-request.js';

/** Why a request was not accepted as coming from tengine. */
export type RequestVerificationFailure =
  /** A signature header is missing. */
  | 'MISSING_HEADERS'
  /** `webhook-timestamp` is more than the tolerance away from now (at most ±5 minutes). */
  | 'TIMESTAMP_OUT_OF_TOLERANCE'
  /** The Standard Webhooks signature (`webhook-signature`) does not match the body. */
  | 'INVALID_SIGNATURE'
  /** The canonical signature (`X-Tengine-Signature`) does not match: method, path, query or identity altered. */
  | 'INVALID_CANONICAL_SIGNATURE'
  /** This `webhook-id` was accepted before: a captured request replayed. */
  | 'REPLAYED';

/** A request that failed verification; `code` says why. Answer it with 401. */
export class RequestVerificationError extends Error {
  constructor(
    readonly code: RequestVerificationFailure,
    message: string,
  ) {
    super(message);
    this.name = 'RequestVerificationError';
  }
}

/**
 * Remembers accepted `webhook-id`s until they expire. `remember` returns false when the id was
 * already there. Share one store across your server replicas (e.g. Redis `SET id 1 NX PXAT exp`).
 */
export interface ReplayStore {
  remember(id: string, expiresAtMs: number): boolean | Promise<boolean>;
}

/** A {@link ReplayStore} in process memory (enough for a single server process). */
export class MemoryReplayStore implements ReplayStore {
  private readonly seen = new Map<string, number>();

  remember(id: string, expiresAtMs: number): boolean {
    const now = Date.now();
    if (this.seen.size > 10_000) {
      for (const [key, expiry] of this.seen) if (expiry <= now) this.seen.delete(key);
    }
    const known = this.seen.get(id);
    if (known !== undefined && known > now) return false;
    this.seen.set(id, expiresAtMs);
    return true;
  }
}

/** Request headers as frameworks expose them. */
export type HeadersLike =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Options of {@link verifyRequest}. */
export interface VerifyRequestOptions {
  /**
   * The tool's secret (`whsec_…`), or several during a rotation (any one may match). A secret not
   * in `whsec_` form is used as its UTF-8 bytes, as tengine does.
   */
  readonly secret: string | readonly string[];
  /** The HTTP method as received. */
  readonly method: string;
  /** Path and query exactly as received (`req.originalUrl`, `req.url`), e.g. `/users/42?x=1`. */
  readonly url: string;
  readonly headers: HeadersLike;
  /** The raw body as received (before any JSON parsing), empty for none. */
  readonly body: string | Uint8Array;
  /** Where accepted ids are remembered; defaults to one store per process. */
  readonly replayStore?: ReplayStore;
  /** Accepted clock difference in seconds; at most (and by default) 300. */
  readonly toleranceSeconds?: number;
}

/** Who tengine called your API for, as proven by the signatures. */
export interface VerifiedRequest {
  /** The `webhook-id`: unique per attempt. */
  readonly id: string;
  readonly timestamp: Date;
  readonly projectId: string;
  readonly integrationId: string;
  /** tengine's member id, or null when the call was made with a plain API key. */
  readonly memberId: string | null;
  /** Your own user id (the assertion's `sub`), or null. */
  readonly memberExternalId: string | null;
  readonly runId: string | null;
  /** Stable across retries of one call: use it to de-duplicate effects. */
  readonly idempotencyKey: string;
}

const MAX_TOLERANCE_SECONDS = 300;
const defaultReplayStore = new MemoryReplayStore();

function header(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return typeof value === 'string' ? value : value?.join(', ');
}

function keyOf(secret: string): { webhook: Webhook; key: Buffer } {
  if (secret.startsWith('whsec_')) {
    return { webhook: new Webhook(secret), key: Buffer.from(secret.slice(6), 'base64') };
  }
  const key = Buffer.from(secret, 'utf8');
  return { webhook: new Webhook(key, { format: 'raw' }), key };
}

function sameSignature(expected: string, presented: string): boolean {
  const left = Buffer.from(expected);
  const right = Buffer.from(presented);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Verifies that a request was sent by tengine for this tool and has not been altered or replayed:
 * the Standard Webhooks signature over id, timestamp and body (checked with the `standardwebhooks`
 * package), the canonical signature over method, path, sorted query, body digest and the injected
 * identity, a timestamp within ±5 minutes (never more), and an id not seen before. Resolves with
 * the verified identity; rejects with {@link RequestVerificationError}.
 */
export async function verifyRequest(options: VerifyRequestOptions): Promise<VerifiedRequest> {
  const tolerance = Math.min(
    options.toleranceSeconds ?? MAX_TOLERANCE_SECONDS,
    MAX_TOLERANCE_SECONDS,
  );
  const id = header(options.headers, 'webhook-id');
  const timestamp = header(options.headers, 'webhook-timestamp');
  const signature = header(options.headers, 'webhook-signature');
  const canonicalSignature = header(options.headers, 'x-tengine-signature');
  const projectId = header(options.headers, 'x-tengine-project-id');
  const integrationId = header(options.headers, 'x-tengine-integration-id');
  const idempotencyKey = header(options.headers, 'idempotency-key');
  if (
    !id ||
    !timestamp ||
    !signature ||
    !canonicalSignature ||
    !projectId ||
    !integrationId ||
    !idempotencyKey
  ) {
    throw new RequestVerificationError('MISSING_HEADERS', 'tengine signature headers are missing');
  }
  const seconds = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - seconds) > tolerance) {
    throw new RequestVerificationError(
      'TIMESTAMP_OUT_OF_TOLERANCE',
      `webhook-timestamp is more than ${tolerance} s away from now`,
    );
  }
  const secrets = typeof options.secret === 'string' ? [options.secret] : [...options.secret];
  const keys = secrets.map(keyOf);
  const body =
    typeof options.body === 'string' ? options.body : Buffer.from(options.body).toString('utf8');
  const webhookHeaders = {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
  };
  const bodySigned = keys.some(({ webhook }) => {
    try {
      webhook.verify(body, webhookHeaders, { jsonParse: false });
      return true;
    } catch (error) {
      if (error instanceof WebhookVerificationError) return false;
      throw error;
    }
  });
  if (!bodySigned) {
    throw new RequestVerificationError('INVALID_SIGNATURE', 'webhook-signature does not match');
  }
  const memberId = header(options.headers, 'x-tengine-member-id') ?? '';
  const memberExternalId = header(options.headers, 'x-tengine-member-external-id') ?? '';
  const canonical = canonicalRequestString({
    id,
    timestamp,
    method: options.method,
    target: options.url,
    body: options.body,
    projectId,
    integrationId,
    memberId,
    memberExternalId,
    idempotencyKey,
  });
  const presented = canonicalSignature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => entry.slice(3));
  const canonicalSigned = keys.some(({ key }) => {
    const expected = createHmac('sha256', key).update(canonical).digest('base64');
    return presented.some((candidate) => sameSignature(expected, candidate));
  });
  if (!canonicalSigned) {
    throw new RequestVerificationError(
      'INVALID_CANONICAL_SIGNATURE',
      'X-Tengine-Signature does not match the method, path, query, body or identity',
    );
  }
  // The run id is not in the canonical string, but the signed webhook-id carries it
  // (`msg_<runId>_<attempt>`): an X-Tengine-Run-Id that disagrees was altered.
  const runId = header(options.headers, 'x-tengine-run-id') ?? null;
  if (runId !== null && /^msg_(.+)_\d+$/.exec(id)?.[1] !== runId) {
    throw new RequestVerificationError(
      'INVALID_CANONICAL_SIGNATURE',
      'X-Tengine-Run-Id does not match the run of the signed webhook-id',
    );
  }
  const store = options.replayStore ?? defaultReplayStore;
  if (!(await store.remember(id, (seconds + tolerance) * 1000))) {
    throw new RequestVerificationError('REPLAYED', `webhook-id ${id} was already accepted`);
  }
  return {
    id,
    timestamp: new Date(seconds * 1000),
    projectId,
    integrationId,
    memberId: memberId === '' ? null : memberId,
    memberExternalId: memberExternalId === '' ? null : safeDecode(memberExternalId),
    runId,
    idempotencyKey,
  };
}
