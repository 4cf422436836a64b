import { Module } from '@nestjs/common';

import { APP_LOGGER } from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import {
  REGISTRY_CONFIG,
  RegistryConfigModule,
  type RegistryConfig,
} from '../config/registry-config.js';
import { ToolImportService } from '../openapi/tool-import.service.js';
import { ToolSecrets } from '../secrets/tool-secrets.js';
import { ToolEvents } from './tool-events.js';
import { ToolsController } from './tools.controller.js';
import { ToolsRepository } from './tools.repository.js';
import { ToolsService } from './tools.service.js';

@Module({
  imports: [RegistryConfigModule],
  controllers: [ToolsController],
  providers: [
    ToolsRepository,
    ToolsService,
    ToolImportService,
    ToolEvents,
    {
      provide: ToolSecrets,
      inject: [REGISTRY_CONFIG, APP_LOGGER],
      useFactory: (config: RegistryConfig, logger: Logger) =>
        new ToolSecrets(config.keyring, logger),
    },
  ],
})
export class ToolsModule {}
