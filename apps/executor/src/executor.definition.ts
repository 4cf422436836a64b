import { baselineMigration } from '@tengine/persistence';
import type { BackendServiceDefinition } from '@tengine/runtime';

/** Port of the executor service's health and metrics server when it runs on its own. */
export const EXECUTOR_DEFAULT_PORT = 3003;

/** The executor service: its schema, migrations and modules. */
export const executorService: BackendServiceDefinition = {
  name: 'executor',
  schema: { schema: 'executor', entities: [], migrations: [baselineMigration('executor')] },
};
