import { baselineMigration } from '@tengine/persistence';
import type { BackendServiceDefinition } from '@tengine/runtime';

/** Port of the audit service's health and metrics server when it runs on its own. */
export const AUDIT_DEFAULT_PORT = 3004;

/** The audit service: its schema, migrations and modules. */
export const auditService: BackendServiceDefinition = {
  name: 'audit',
  schema: { schema: 'audit', entities: [], migrations: [baselineMigration('audit')] },
};
