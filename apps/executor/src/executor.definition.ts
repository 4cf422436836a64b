import { baselineMigration } from '@tengine/persistence';
import type { BackendServiceDefinition } from '@tengine/runtime';

import { ExecutorModule } from './executor.module.js';
import { IdempotencyLedger1763769600301 } from './migrations/1763769600301-idempotency-ledger.js';

/** Port of the executor service's health and metrics server when it runs on its own. */
export const EXECUTOR_DEFAULT_PORT = 3003;

/** The executor service: runs tool calls, owns the idempotency ledger, publishes Run events. */
export const executorService: BackendServiceDefinition = {
  name: 'executor',
  schema: {
    schema: 'executor',
    entities: [],
    migrations: [baselineMigration('executor'), IdempotencyLedger1763769600301],
  },
  imports: [ExecutorModule],
};
