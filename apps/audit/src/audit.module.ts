import { Module } from '@nestjs/common';

import { ParkedEventsRepository } from './ingest/parked-events.repository.js';
import { RunEventsConsumer } from './ingest/run-events.consumer.js';
import { RunIngestor } from './ingest/run-ingestor.js';
import { RetentionService } from './retention/retention.service.js';
import { RunsController } from './runs/runs.controller.js';
import { RunsRepository } from './runs/runs.repository.js';
import { RunsService } from './runs/runs.service.js';
import { UsageController } from './usage/usage.controller.js';
import { UsageRepository } from './usage/usage.repository.js';
import { UsageService } from './usage/usage.service.js';

/** The Run store: consumption of run events, run history, usage, retention. */
@Module({
  controllers: [RunsController, UsageController],
  providers: [
    ParkedEventsRepository,
    RetentionService,
    RunEventsConsumer,
    RunIngestor,
    RunsRepository,
    RunsService,
    UsageRepository,
    UsageService,
  ],
})
export class AuditModule {}
