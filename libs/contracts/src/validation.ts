import type { z } from 'zod';

import { DomainError } from './errors.js';
import type { RpcReply, RpcRequest, RpcSubject } from './subjects.js';
import { RPC_CONTRACTS } from './subjects.js';

/** One failed field of a payload, in a form safe to return to callers. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

function issuesOf(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = issuesOf(result.error);
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  throw new DomainError('VALIDATION_FAILED', `${what} is invalid: ${summary}`, {
    details: { issues },
  });
}

/** Validates an RPC request against its contract; throws `VALIDATION_FAILED` naming each bad field. */
export function parseRpcRequest<S extends RpcSubject>(subject: S, payload: unknown): RpcRequest<S> {
  const schema = RPC_CONTRACTS[subject].request as unknown as z.ZodType<RpcRequest<S>>;
  return parseWith(schema, payload, `Request of ${subject}`);
}

/** Validates an RPC reply against its contract; throws `VALIDATION_FAILED` naming each bad field. */
export function parseRpcReply<S extends RpcSubject>(subject: S, payload: unknown): RpcReply<S> {
  const schema = RPC_CONTRACTS[subject].reply as unknown as z.ZodType<RpcReply<S>>;
  return parseWith(schema, payload, `Reply of ${subject}`);
}
