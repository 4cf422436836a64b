import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { LRUCache } from 'lru-cache';

import { Subjects, type Principal, type Tool, type ToolChangedEvent } from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';

/** The live tools of one project at one tool-list version. */
export interface ProjectTools {
  readonly version: number;
  readonly byName: ReadonlyMap<string, Tool>;
  /** Sorted by name. */
  readonly all: readonly Tool[];
  readonly loadedAt: number;
}

/** Cached lists expire on their own too, in case a change event was lost (core NATS is at-most-once). */
const MAX_AGE_MS = 60_000;
const PAGE = 200;

// ajv-formats is CommonJS with a default export; under ESM interop it may arrive wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (ajv: Ajv) => Ajv;

/**
 * The gateway's cache of each project's tools, keyed by the project's tool-list version and
 * dropped on `evt.registry.tool.changed.v1`, with compiled argument validators per tool version.
 * The hot path (tools/list, tools/call) never queries the registry while the cache is warm.
 */
export class ToolCatalog {
  private readonly projects = new Map<string, ProjectTools>();
  private readonly loading = new Map<string, Promise<ProjectTools>>();
  private readonly validators = new LRUCache<string, ValidateFunction>({ max: 20_000 });
  private readonly ajv2020: Ajv;
  private readonly ajv07: Ajv;
  private readonly listeners = new Set<(event: ToolChangedEvent) => void>();
  private readonly unsubscribe: () => void;

  constructor(private readonly bus: MessageBus) {
    this.ajv2020 = addFormats(new Ajv2020({ strict: false, allErrors: false }));
    this.ajv07 = addFormats(new Ajv({ strict: false, allErrors: false }));
    this.unsubscribe = bus.subscribe(Subjects.registry.toolChanged, (event) =>
      this.handleChange(event),
    );
  }

  close(): void {
    this.unsubscribe();
    this.projects.clear();
  }

  /** Forgets everything (after a NATS reconnect, when change events may have been missed). */
  clear(): void {
    this.projects.clear();
  }

  /** Calls `listener` after every tool change of any project. */
  onToolsChanged(listener: (event: ToolChangedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private handleChange(event: ToolChangedEvent): void {
    const cached = this.projects.get(event.projectId);
    if (cached && cached.version < event.toolListVersion) this.projects.delete(event.projectId);
    for (const listener of this.listeners) listener(event);
  }

  /** The project's live tools, from cache or loaded once (concurrent callers share the load). */
  async project(projectId: string): Promise<ProjectTools> {
    const cached = this.projects.get(projectId);
    if (cached && Date.now() - cached.loadedAt < MAX_AGE_MS) return cached;
    const inflight = this.loading.get(projectId);
    if (inflight) return inflight;
    const load = this.load(projectId).finally(() => this.loading.delete(projectId));
    this.loading.set(projectId, load);
    return load;
  }

  private async load(projectId: string): Promise<ProjectTools> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    let version = 0;
    do {
      const page = await this.bus.request(Subjects.registry.toolListAll, {
        projectId,
        limit: PAGE,
        ...(cursor ? { cursor } : {}),
      });
      tools.push(...page.items);
      version = Math.max(version, page.toolListVersion);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    tools.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
    const entry: ProjectTools = {
      version,
      all: tools,
      byName: new Map(tools.map((tool) => [tool.name, tool])),
      loadedAt: Date.now(),
    };
    const current = this.projects.get(projectId);
    if (!current || current.version <= version) this.projects.set(projectId, entry);
    return entry;
  }

  /** Whether the principal may see and call the tool (the registry's visibility rules). */
  static visibleTo(tool: Tool, principal: Principal): boolean {
    if (!tool.is_enabled) return false;
    if (principal.kind === 'admin') return true;
    if (tool.required_scope && !principal.scopes.includes(tool.required_scope)) return false;
    return !tool.require_member || principal.kind === 'member_session';
  }

  /** The compiled validator of a tool version's input schema. */
  validator(tool: Tool): ValidateFunction {
    const key = `${tool.id}@${tool.version}`;
    let validate = this.validators.get(key);
    if (!validate) {
      const dialect = tool.input_schema['$schema'];
      const draft07 = typeof dialect === 'string' && dialect.includes('draft-07');
      const { $schema: _ignored, ...schema } = tool.input_schema;
      validate = (draft07 ? this.ajv07 : this.ajv2020).compile(schema);
      this.validators.set(key, validate);
    }
    return validate;
  }
}
