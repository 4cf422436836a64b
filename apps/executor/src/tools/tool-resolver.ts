import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';

import {
  DomainError,
  REGISTRY_EVENT_SUBJECTS,
  Subjects,
  type ResolvedTool,
} from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import { APP_LOGGER, MESSAGE_BUS } from '@tengine/runtime';
import type { Logger } from '@tengine/telemetry';

import { EXECUTOR_CONFIG, type ExecutorConfig } from '../config/executor-config.js';

/** What looking a tool version up came to. */
export type ToolLookup =
  | { readonly kind: 'found'; readonly tool: ResolvedTool }
  /** No such tool (or version) in the project. */
  | { readonly kind: 'missing' }
  /** The registry has the tool but cannot decrypt its secret. */
  | { readonly kind: 'secret-unreadable' };

interface CacheEntry {
  readonly tool: ResolvedTool;
  readonly expiresAt: number;
}

const MAX_ENTRIES = 10_000;

/**
 * Resolves tool versions (with their plaintext secret) from the registry, and keeps them in memory
 * for a short while: a tool call must not cost a registry round trip, and a version's definition
 * never changes. `evt.registry.tool.changed.v1` drops a tool's entries at once (enabled state and
 * secrets do change); after a NATS reconnect, when events may have been missed, everything goes.
 */
@Injectable()
export class ToolResolver implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly disposers: Array<() => void> = [];

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EXECUTOR_CONFIG) private readonly config: ExecutorConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.disposers.push(
      this.bus.subscribe(REGISTRY_EVENT_SUBJECTS.toolChanged, (event) => {
        this.forget(event.projectId, event.toolName);
      }),
      this.bus.onReconnect(() => this.cache.clear()),
    );
  }

  onModuleDestroy(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
    this.cache.clear();
  }

  async resolve(projectId: string, name: string, version: number): Promise<ToolLookup> {
    const key = `${projectId}/${name}/${version}`;
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > Date.now()) return { kind: 'found', tool: cached.tool };
    let tool: ResolvedTool;
    try {
      tool = await this.bus.request(Subjects.registry.toolResolve, { projectId, name, version });
    } catch (error) {
      if (error instanceof DomainError) {
        if (error.code === 'REGISTRY_TOOL_NOT_FOUND') return { kind: 'missing' };
        if (error.code === 'REGISTRY_SECRET_DECRYPT_FAILED') return { kind: 'secret-unreadable' };
      }
      this.logger.error({ err: error, projectId, tool: name }, 'registry tool lookup failed');
      throw new DomainError(
        'EXECUTOR_REGISTRY_UNAVAILABLE',
        'Tool registry unavailable: the tool could not be looked up.',
        { cause: error },
      );
    }
    if (this.config.toolCacheTtlMs > 0) {
      if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
      this.cache.set(key, { tool, expiresAt: Date.now() + this.config.toolCacheTtlMs });
    }
    return { kind: 'found', tool };
  }

  /** Drops every cached version of one tool. */
  forget(projectId: string, name: string): void {
    const prefix = `${projectId}/${name}/`;
    for (const key of this.cache.keys()) if (key.startsWith(prefix)) this.cache.delete(key);
  }
}
