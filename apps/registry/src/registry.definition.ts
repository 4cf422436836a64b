import { baselineMigration } from '@tengine/persistence';
import type { BackendServiceDefinition } from '@tengine/runtime';

/** Port of the registry service's health and metrics server when it runs on its own. */
export const REGISTRY_DEFAULT_PORT = 3001;

/** The registry service: its schema, migrations and modules. */
export const registryService: BackendServiceDefinition = {
  name: 'registry',
  schema: { schema: 'registry', entities: [], migrations: [baselineMigration('registry')] },
};
