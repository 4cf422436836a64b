import { Inject, Injectable } from '@nestjs/common';

import { Subjects, type ToolChange } from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import { APP_LOGGER, MESSAGE_BUS } from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

/** The tool a change event is about. */
export interface ChangedTool {
  readonly projectId: string;
  readonly toolId: string;
  readonly toolName: string;
  readonly version: number;
}

/** Publishes `evt.registry.tool.changed.v1`, only ever after the change committed. */
@Injectable()
export class ToolEvents {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  changed(tool: ChangedTool, change: ToolChange, toolListVersion: number): void {
    try {
      this.bus.publish(Subjects.registry.toolChanged, { ...tool, change, toolListVersion });
    } catch (error) {
      // The change is committed; caches converge through their expiry and the next event.
      this.logger.error({ err: error, ...tool, change }, 'tool change event not published');
    }
  }
}
