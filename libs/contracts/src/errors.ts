import { AUDIT_ERROR_CODES } from './audit.js';
import { EXECUTOR_ERROR_CODES } from './executor.js';
import { IDENTITY_ERROR_CODES } from './identity.js';
import { REGISTRY_ERROR_CODES } from './registry.js';

/**
 * Stable error codes shared by every service. Codes are persisted in logs, run records and client
 * integrations: never rename one in place, add a new one instead.
 */
export const COMMON_ERROR_CODES = [
  // Generic, any service
  'VALIDATION_FAILED',
  'INTERNAL',
  // Messaging layer (raised by the typed client, never by a handler)
  'RPC_NO_RESPONDERS',
  'RPC_TIMEOUT',
  'RPC_TRANSPORT_CLOSED',
  'RPC_BAD_REPLY',
] as const;

/** Every error code, common and per service. */
export const ERROR_CODES = [
  ...COMMON_ERROR_CODES,
  ...IDENTITY_ERROR_CODES,
  ...REGISTRY_ERROR_CODES,
  ...EXECUTOR_ERROR_CODES,
  ...AUDIT_ERROR_CODES,
] as const;

/** One of the stable error codes in {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Details attached to an error: plain JSON only, never secrets. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/**
 * The only error type domain code throws. It crosses NATS as an {@link RpcErrorEnvelope} and comes
 * out of the typed client as a `DomainError` again, so `switch (error.code)` works on both sides.
 */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { details?: ErrorDetails; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.details = options?.details;
  }

  /** The wire form of this error. */
  toEnvelope(): RpcErrorEnvelope {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** What a failed RPC carries over the transport instead of a reply. */
export interface RpcErrorEnvelope {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: ErrorDetails;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** True when `value` is a well-formed {@link RpcErrorEnvelope} with a known code. */
export function isRpcErrorEnvelope(value: unknown): value is RpcErrorEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { code?: unknown; message?: unknown };
  return (
    typeof candidate.code === 'string' &&
    KNOWN_CODES.has(candidate.code) &&
    typeof candidate.message === 'string'
  );
}

/** Rebuilds a {@link DomainError} from its wire form. */
export function domainErrorFromEnvelope(envelope: RpcErrorEnvelope): DomainError {
  return new DomainError(
    envelope.code,
    envelope.message,
    envelope.details ? { details: envelope.details } : undefined,
  );
}
