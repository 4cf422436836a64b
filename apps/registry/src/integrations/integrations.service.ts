import { Inject, Injectable } from '@nestjs/common';

import {
  DomainError,
  Subjects,
  type CreateIntegrationRequest,
  type Integration,
  type IntegrationList,
} from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import { APP_LOGGER, MESSAGE_BUS } from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import { projectNotFound } from '../projects/project-errors.js';
import { IntegrationsRepository, type IntegrationRow } from './integrations.repository.js';

function toIntegration(row: IntegrationRow): Integration {
  return {
    id: row.id,
    project_id: row.project_id,
    kind: row.kind,
    name: row.name,
    created_at: row.created_at.toISOString(),
  };
}

function integrationNotFound(): DomainError {
  return new DomainError('REGISTRY_INTEGRATION_NOT_FOUND', 'Integration not found');
}

@Injectable()
export class IntegrationsService {
  constructor(
    private readonly repository: IntegrationsRepository,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  async create(request: CreateIntegrationRequest): Promise<Integration> {
    const row = await this.repository.insert(request.projectId, request.kind, request.name);
    if (!row) throw projectNotFound();
    return toIntegration(row);
  }

  async get(projectId: string, integrationId: string): Promise<Integration> {
    const row = await this.repository.findLive(projectId, integrationId);
    if (!row) throw integrationNotFound();
    return toIntegration(row);
  }

  async list(projectId: string): Promise<IntegrationList> {
    return { items: (await this.repository.listLive(projectId)).map(toIntegration) };
  }

  async delete(projectId: string, integrationId: string): Promise<{ deleted: true }> {
    if (!(await this.repository.softDelete(projectId, integrationId))) throw integrationNotFound();
    try {
      this.bus.publish(Subjects.registry.integrationDeleted, { projectId, integrationId });
    } catch (error) {
      this.logger.error(
        { err: error, projectId, integrationId },
        'integration event not published',
      );
    }
    return { deleted: true };
  }
}
