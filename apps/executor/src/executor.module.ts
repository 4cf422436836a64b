import { Module } from '@nestjs/common';

import { ExecutorConfigModule } from './config/executor-config.js';
import { RunExecutorController } from './execution/run-executor.controller.js';
import { RunExecutorService } from './execution/run-executor.service.js';
import { RunMaintenanceService } from './execution/run-maintenance.service.js';
import { IdempotencyLedgerRepository } from './ledger/idempotency-ledger.repository.js';
import { RUN_EVENT_SINK_PROVIDER } from './runs/run-event-sink.js';
import { RunJournal } from './runs/run-journal.js';
import { ToolResolver } from './tools/tool-resolver.js';
import { UpstreamCaller } from './upstream/upstream-caller.js';

/** Tool execution: `rpc.executor.run.execute.v1`, the idempotency ledger and the run log. */
@Module({
  imports: [ExecutorConfigModule],
  controllers: [RunExecutorController],
  providers: [
    IdempotencyLedgerRepository,
    RUN_EVENT_SINK_PROVIDER,
    RunExecutorService,
    RunJournal,
    RunMaintenanceService,
    ToolResolver,
    UpstreamCaller,
  ],
})
export class ExecutorModule {}
