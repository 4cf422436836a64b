import { z } from 'zod';

import { rpc } from './rpc.js';
import { ServiceStatusSchema, StatusRequestSchema } from './system.js';

/** Error codes raised by the registry. WARNING: persisted by clients; never rename one. */
export const REGISTRY_ERROR_CODES = ['REGISTRY_PROJECT_NOT_FOUND', 'REGISTRY_INTEGRATION_NOT_FOUND'] as const;

export const PROJECT_ENVIRONMENTS = ['development', 'production'] as const;
export const ProjectEnvironmentSchema = z.enum(PROJECT_ENVIRONMENTS);

/** An isolated execution environment: its own keys, integrations and tools. */
export const ProjectSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  environment: ProjectEnvironmentSchema,
  createdAt: z.string(),
});
export type Project = z.infer<typeof ProjectSchema>;

export const INTEGRATION_KINDS = ['claude_desktop', 'cursor', 'sdk', 'custom'] as const;

/** An MCP client connection of a project; API keys are created from one. */
export const IntegrationSchema = z.object({
  id: z.string().uuid(),
  projectId: z.string().uuid(),
  kind: z.enum(INTEGRATION_KINDS),
  name: z.string(),
  createdAt: z.string(),
});
export type Integration = z.infer<typeof IntegrationSchema>;

const ProjectIdSchema = z.object({ projectId: z.string().uuid() }).strict();
const PageRequestSchema = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.number().int().min(1).max(200).optional(),
});

export const CreateProjectRequestSchema = z
  .object({ name: z.string().trim().min(1).max(100), environment: ProjectEnvironmentSchema })
  .strict();
export const ListProjectsRequestSchema = PageRequestSchema.strict();
export const ProjectPageSchema = z.object({ items: z.array(ProjectSchema), nextCursor: z.string().nullable() });

export const CreateIntegrationRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    kind: z.enum(INTEGRATION_KINDS),
    name: z.string().trim().min(1).max(100),
  })
  .strict();
export const IntegrationRefSchema = z.object({ projectId: z.string().uuid(), integrationId: z.string().uuid() }).strict();
export const IntegrationListSchema = z.object({ items: z.array(IntegrationSchema) });

export const REGISTRY_SUBJECTS = {
  statusGet: 'rpc.registry.status.get.v1',
  projectCreate: 'rpc.registry.project.create.v1',
  projectList: 'rpc.registry.project.list.v1',
  projectGet: 'rpc.registry.project.get.v1',
  integrationCreate: 'rpc.registry.integration.create.v1',
  integrationList: 'rpc.registry.integration.list.v1',
  integrationGet: 'rpc.registry.integration.get.v1',
  integrationDelete: 'rpc.registry.integration.delete.v1',
} as const;

export const REGISTRY_RPC = {
  [REGISTRY_SUBJECTS.statusGet]: rpc(StatusRequestSchema, ServiceStatusSchema),
  [REGISTRY_SUBJECTS.projectCreate]: rpc(CreateProjectRequestSchema, ProjectSchema),
  [REGISTRY_SUBJECTS.projectList]: rpc(ListProjectsRequestSchema, ProjectPageSchema),
  [REGISTRY_SUBJECTS.projectGet]: rpc(ProjectIdSchema, ProjectSchema),
  [REGISTRY_SUBJECTS.integrationCreate]: rpc(CreateIntegrationRequestSchema, IntegrationSchema),
  [REGISTRY_SUBJECTS.integrationList]: rpc(ProjectIdSchema, IntegrationListSchema),
  [REGISTRY_SUBJECTS.integrationGet]: rpc(IntegrationRefSchema, IntegrationSchema),
  [REGISTRY_SUBJECTS.integrationDelete]: rpc(IntegrationRefSchema, z.object({ deleted: z.literal(true) })),
} as const;

/** Events the registry publishes (fan-out to every gateway and executor replica). */
export const REGISTRY_EVENTS = {} as const;
