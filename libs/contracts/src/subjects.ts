import type { z } from 'zod';

import type { BackendServiceName } from './services.js';
import { AdminTokenBootstrapReplySchema, AdminTokenBootstrapRequestSchema } from './identity.js';
import { ServiceStatusSchema, StatusRequestSchema } from './system.js';

/**
 * Every NATS subject, by owner. Format: `<kind>.<owner>.<entity>.<action>.v<major>`.
 * WARNING: subjects are a wire contract between independently deployed replicas. Never rename one
 * in place: add a `v2` and serve both until every replica is upgraded.
 */
export const Subjects = {
  registry: { statusGet: 'rpc.registry.status.get.v1' },
  identity: {
    statusGet: 'rpc.identity.status.get.v1',
    adminTokenBootstrap: 'rpc.identity.admin-token.bootstrap.v1',
  },
  executor: { statusGet: 'rpc.executor.status.get.v1' },
  audit: { statusGet: 'rpc.audit.status.get.v1' },
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

interface RpcContract<Request extends z.ZodType, Reply extends z.ZodType> {
  readonly request: Request;
  readonly reply: Reply;
}

function rpc<Request extends z.ZodType, Reply extends z.ZodType>(
  request: Request,
  reply: Reply,
): RpcContract<Request, Reply> {
  return { request, reply };
}

/** Request and reply schema of every RPC subject. Both sides validate against these. */
export const RPC_CONTRACTS = {
  [Subjects.registry.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
  [Subjects.identity.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
  [Subjects.identity.adminTokenBootstrap]: rpc(
    AdminTokenBootstrapRequestSchema,
    AdminTokenBootstrapReplySchema,
  ),
  [Subjects.executor.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
  [Subjects.audit.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
} as const;

/** Payload schema of every event subject (core NATS fan-out, no queue group). */
export const EVENT_CONTRACTS = {} as const satisfies Record<string, z.ZodType>;

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
