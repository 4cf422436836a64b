import { baselineMigration } from '@tengine/persistence';
import type { BackendServiceDefinition } from '@tengine/runtime';

import { AuditModule } from './audit.module.js';
import { Runs1763769600001 } from './migrations/1763769600001-runs.js';

/** Port of the audit service's health and metrics server when it runs on its own. */
export const AUDIT_DEFAULT_PORT = 3004;

/** The audit service: the Run store, run history and usage. */
export const auditService: BackendServiceDefinition = {
  name: 'audit',
  schema: {
    schema: 'audit',
    entities: [],
    migrations: [baselineMigration('audit'), Runs1763769600001],
  },
  imports: [AuditModule],
};
