/** Injection tokens of the infrastructure every service module can ask for. */
export const MESSAGE_BUS = Symbol('tengine.message-bus');
export const DATA_SOURCE = Symbol('tengine.data-source');
export const APP_LOGGER = Symbol('tengine.logger');
export const SERVICE_INFO = Symbol('tengine.service-info');
export const RAW_ENVIRONMENT = Symbol('tengine.raw-environment');
