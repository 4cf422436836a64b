import { randomUUID } from 'node:crypto';

/**
 * Wire format of a request: the JSON packet `@nestjs/microservices` NATS servers expect, so the
 * handlers stay plain Nest `@MessagePattern`s.
 */
export interface RequestPacket {
  readonly pattern: string;
  readonly data: unknown;
  readonly id: string;
}

/** Wire format of a reply, as written by Nest's server (`response`, or `err` holding an `RpcErrorEnvelope`). */
export interface ReplyPacket {
  readonly id?: string;
  readonly response?: unknown;
  readonly err?: unknown;
  readonly isDisposed?: boolean;
}

/** Builds the request packet for `subject`. */
export function encodeRequest(subject: string, data: unknown): string {
  const packet: RequestPacket = { pattern: subject, data, id: randomUUID() };
  return JSON.stringify(packet);
}

/** Builds an event packet (no id: Nest treats it as an event). */
export function encodeEvent(subject: string, data: unknown): string {
  return JSON.stringify({ pattern: subject, data });
}

/** Parses a reply or event packet; `undefined` when it is not JSON of the expected shape. */
export function decodePacket(
  raw: string,
): (ReplyPacket & { pattern?: string; data?: unknown }) | undefined {
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True for a plain subject (`rpc.executor.run.execute.v1`), as all of ours are; false for a
 * JSON-encoded pattern, which Nest's servers parse first.
 */
export function isPlainSubject(pattern: string): boolean {
  return /^[A-Za-z_$][\w.$*>-]*$/.test(pattern);
}
