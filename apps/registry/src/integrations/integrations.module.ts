import { Module } from '@nestjs/common';

import { IntegrationsController } from './integrations.controller.js';
import { IntegrationsRepository } from './integrations.repository.js';
import { IntegrationsService } from './integrations.service.js';

@Module({
  controllers: [IntegrationsController],
  providers: [IntegrationsRepository, IntegrationsService],
})
export class IntegrationsModule {}
