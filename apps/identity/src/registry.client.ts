import { Inject, Injectable } from '@nestjs/common';

import { DomainError, Subjects, type Integration, type Project } from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import { MESSAGE_BUS } from '@tengine/runtime';

/** What identity needs to know from the registry, asked over NATS (identity never reads its tables). */
@Injectable()
export class RegistryClient {
  constructor(@Inject(MESSAGE_BUS) private readonly bus: MessageBus) {}

  /** The integration, or undefined when it does not exist in that project (any more). */
  async findIntegration(
    projectId: string,
    integrationId: string,
  ): Promise<Integration | undefined> {
    try {
      return await this.bus.request(Subjects.registry.integrationGet, { projectId, integrationId });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'REGISTRY_INTEGRATION_NOT_FOUND')
        return undefined;
      throw error;
    }
  }

  project(projectId: string): Promise<Project> {
    return this.bus.request(Subjects.registry.projectGet, { projectId });
  }
}
