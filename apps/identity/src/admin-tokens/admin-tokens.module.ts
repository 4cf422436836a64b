import { Module } from '@nestjs/common';

import { AdminTokensController } from './admin-tokens.controller.js';
import { AdminTokensRepository } from './admin-tokens.repository.js';
import { AdminTokensService } from './admin-tokens.service.js';

@Module({
  controllers: [AdminTokensController],
  providers: [AdminTokensRepository, AdminTokensService],
})
export class AdminTokensModule {}
