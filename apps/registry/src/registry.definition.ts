import { baselineMigration } from '@tengine/persistence';
import type { BackendServiceDefinition } from '@tengine/runtime';

import { IntegrationEntity } from './integrations/integration.entity.js';
import { IntegrationsModule } from './integrations/integrations.module.js';
import { ProjectsIntegrations1763769600101 } from './migrations/1763769600101-projects-integrations.js';
import { Tools1763769600102 } from './migrations/1763769600102-tools.js';
import { ProjectEntity } from './projects/project.entity.js';
import { ProjectsModule } from './projects/projects.module.js';
import { ToolVersionEntity } from './tools/tool-version.entity.js';
import { ToolEntity } from './tools/tool.entity.js';
import { ToolsModule } from './tools/tools.module.js';

/** Port of the registry service's health and metrics server when it runs on its own. */
export const REGISTRY_DEFAULT_PORT = 3001;

/** The registry's schema: its tables and the migrations that create them, oldest first. */
export const registrySchema: BackendServiceDefinition['schema'] = {
  schema: 'registry',
  entities: [ProjectEntity, IntegrationEntity, ToolEntity, ToolVersionEntity],
  migrations: [
    baselineMigration('registry'),
    ProjectsIntegrations1763769600101,
    Tools1763769600102,
  ],
};

/** The registry service: projects, integrations and tools. */
export const registryService: BackendServiceDefinition = {
  name: 'registry',
  schema: registrySchema,
  imports: [ProjectsModule, IntegrationsModule, ToolsModule],
};
