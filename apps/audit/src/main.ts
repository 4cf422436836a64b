import './telemetry.js';

import { runBackendMain } from '@tengine/runtime';

import { auditService, AUDIT_DEFAULT_PORT } from './audit.definition.js';

void runBackendMain(auditService, AUDIT_DEFAULT_PORT, process.env);
