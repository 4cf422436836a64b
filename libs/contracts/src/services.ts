/** The five tengine services. Also the NATS queue group of each service's handlers. */
export const SERVICE_NAMES = ['gateway', 'registry', 'identity', 'executor', 'audit'] as const;

/** One of {@link SERVICE_NAMES}. */
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Services that answer RPCs over NATS (the gateway only asks). */
export const BACKEND_SERVICES = ['registry', 'identity', 'executor', 'audit'] as const;

/** One of {@link BACKEND_SERVICES}. */
export type BackendServiceName = (typeof BACKEND_SERVICES)[number];
