import type { z } from 'zod';

import { AUDIT_EVENTS, AUDIT_RPC, AUDIT_SUBJECTS } from './audit.js';
import { EXECUTOR_EVENTS, EXECUTOR_RPC, EXECUTOR_SUBJECTS } from './executor.js';
import { IDENTITY_EVENTS, IDENTITY_RPC, IDENTITY_SUBJECTS } from './identity.js';
import { REGISTRY_EVENTS, REGISTRY_RPC, REGISTRY_SUBJECTS } from './registry.js';
import type { BackendServiceName } from './services.js';

/**
 * Every NATS subject, by owner. Format: `<kind>.<owner>.<entity>.<action>.v<major>`.
 * WARNING: subjects are a wire contract between independently deployed replicas. Never rename one
 * in place: add a `v2` and serve both until every replica is upgraded.
 */
export const Subjects = {
  registry: REGISTRY_SUBJECTS,
  identity: IDENTITY_SUBJECTS,
  executor: EXECUTOR_SUBJECTS,
  audit: AUDIT_SUBJECTS,
} as const;

/** The status subject of a backend service. */
export type StatusSubject = (typeof Subjects)[BackendServiceName]['statusGet'];

/** The status subject of each backend service. */
export const STATUS_SUBJECTS: Readonly<Record<BackendServiceName, StatusSubject>> = {
  registry: Subjects.registry.statusGet,
  identity: Subjects.identity.statusGet,
  executor: Subjects.executor.statusGet,
  audit: Subjects.audit.statusGet,
};

/** Request and reply schema of every RPC subject. Both sides validate against these. */
export const RPC_CONTRACTS = {
  ...REGISTRY_RPC,
  ...IDENTITY_RPC,
  ...EXECUTOR_RPC,
  ...AUDIT_RPC,
} as const;

/** Payload schema of every event subject (core NATS fan-out, no queue group). */
export const EVENT_CONTRACTS = {
  ...REGISTRY_EVENTS,
  ...IDENTITY_EVENTS,
  ...EXECUTOR_EVENTS,
  ...AUDIT_EVENTS,
} as const satisfies Record<string, z.ZodType>;

/** Any RPC subject. */
export type RpcSubject = keyof typeof RPC_CONTRACTS;
/** Any event subject. */
export type EventSubject = keyof typeof EVENT_CONTRACTS;

/** The request type of an RPC subject. */
export type RpcRequest<S extends RpcSubject> = z.output<(typeof RPC_CONTRACTS)[S]['request']>;
/** The reply type of an RPC subject. */
export type RpcReply<S extends RpcSubject> = z.output<(typeof RPC_CONTRACTS)[S]['reply']>;
/** The payload type of an event subject. */
export type EventPayload<E extends EventSubject> = z.output<(typeof EVENT_CONTRACTS)[E]>;

/** True when `subject` names a known RPC. */
export function isRpcSubject(subject: string): subject is RpcSubject {
  return Object.prototype.hasOwnProperty.call(RPC_CONTRACTS, subject);
}
