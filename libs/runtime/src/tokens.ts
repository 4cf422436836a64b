/** Injection tokens of the infrastructure every service module can ask for. */
export const MESSAGE_BUS = Symbol('tengine.message-bus');
export const DATA_SOURCE = Symbol('tengine.data-source');
export const APP_LOGGER = Symbol('tengine.logger');
export const SERVICE_INFO = Symbol('tengine.service-info');
export const RAW_ENVIRONMENT = Symbol('tengine.raw-environment');
/**
 * The service's own NATS connection and subject prefix ({@link NatsLink}), for subsystems the
 * message bus does not cover (JetStream); `null` in embedded (in-process) mode.
 */
export const NATS_CONNECTION = Symbol('tengine.nats-connection');
