import { Injectable } from '@nestjs/common';

import {
  AUDIT_DEFAULT_PAGE_SIZE,
  DomainError,
  type GetRunRequest,
  type ListRunsRequest,
  type RunPage,
  type RunView,
} from '@tengine/contracts';

import { decodeCursor, encodeCursor } from './cursor.js';
import { RunsRepository } from './runs.repository.js';
import { historyBounds } from './time-range.js';

/** Run history of one project. */
@Injectable()
export class RunsService {
  constructor(private readonly repository: RunsRepository) {}

  /** A Run of the project; an unknown id and another project's Run look the same (404). */
  async get(request: GetRunRequest): Promise<RunView> {
    const run = await this.repository.findById(request.projectId, request.runId);
    if (!run) throw new DomainError('AUDIT_RUN_NOT_FOUND', 'Run not found');
    return run.view;
  }

  /** One page, newest first; reads one row more than asked to know whether a next page exists. */
  async list(request: ListRunsRequest): Promise<RunPage> {
    const limit = request.limit ?? AUDIT_DEFAULT_PAGE_SIZE;
    const cursor = request.cursor === undefined ? null : decodeCursor(request.cursor);
    const bounds = historyBounds(request.from, request.to);
    const rows = await this.repository.list(
      {
        projectId: request.projectId,
        toolName: request.tool,
        memberId: request.member,
        memberExternalId: request.member_external_id,
        status: request.status,
        apiKeyId: request.key,
        integrationId: request.integration,
        from: bounds.from,
        to: bounds.to,
      },
      cursor,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => row.view),
      next_cursor: rows.length > limit && last ? encodeCursor(last.cursor) : null,
    };
  }
}
