export * from './audit.definition.js';
export { AUDIT_ENV } from './env.schema.js';
export { RunEventsConsumer } from './ingest/run-events.consumer.js';
export { RetentionService } from './retention/retention.service.js';
