import { auditService } from '@tengine/audit';
import { executorService } from '@tengine/executor';
import { identityService } from '@tengine/identity';
import { registryService } from '@tengine/registry';
import type { BackendServiceDefinition } from '@tengine/runtime';

/** The four backend services, in start order (identity first: the gateway's first calls go there). */
export const BACKEND_DEFINITIONS: readonly BackendServiceDefinition[] = [
  identityService,
  registryService,
  executorService,
  auditService,
];
