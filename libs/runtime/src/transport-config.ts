import {
  connectNats,
  InProcessServer,
  InProcessTransport,
  MessageBus,
  NatsTransport,
  TengineNatsServer,
  type InProcessBroker,
  type installTraceHooks,
} from '@tengine/messaging';
import type { CustomTransportStrategy } from '@nestjs/microservices';

/** How a service reaches the others: NATS in production, an in-process broker in embedded mode. */
export type TransportConfig =
  | { readonly kind: 'nats'; readonly url: string; readonly subjectPrefix?: string | undefined }
  | { readonly kind: 'in-process'; readonly broker: InProcessBroker };

/** A raw NATS connection with the subject prefix its service uses on the wire. */
export interface NatsLink {
  readonly connection: NatsTransport['nats'];
  /** Namespace prepended to subjects (`''` when none, else ending with a dot). */
  readonly subjectPrefix: string;
}

/** The part of Nest's `Server` the trace hooks need. */
export type ServerHooks = Parameters<typeof installTraceHooks>[0];

/** A connected bus, and the Nest server that serves the service's handlers on the same link. */
export interface ServiceLink {
  readonly bus: MessageBus;
  /** Namespace prepended to subjects on the wire (`''` when none). */
  readonly subjectPrefix: string;
  /** Serves this service's handlers in queue group `queueGroup`. */
  server(queueGroup: string): CustomTransportStrategy & ServerHooks;
  /** The NATS connection itself (for JetStream); null over the in-process transport. */
  readonly nats: NatsLink | null;
}

function subjectPrefix(prefix: string | undefined): string {
  return prefix ? `${prefix}.` : '';
}

/** Connects one service (one NATS connection per service, shared by its client and its server). */
export async function connectService(
  config: TransportConfig,
  connectionName: string,
  rpcTimeoutMs: number,
): Promise<ServiceLink> {
  if (config.kind === 'in-process') {
    const bus = new MessageBus(new InProcessTransport(config.broker), rpcTimeoutMs);
    return {
      bus,
      subjectPrefix: '',
      server: () => new InProcessServer(config.broker),
      nats: null,
    };
  }
  const connection = await connectNats({ url: config.url, name: connectionName });
  const prefix = subjectPrefix(config.subjectPrefix);
  const bus = new MessageBus(new NatsTransport(connection, prefix), rpcTimeoutMs);
  return {
    bus,
    subjectPrefix: prefix,
    server: (queueGroup) => new TengineNatsServer(connection, queueGroup, prefix),
    nats: { connection, subjectPrefix: prefix },
  };
}
