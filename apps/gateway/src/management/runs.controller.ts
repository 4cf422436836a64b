import { Controller, Get, Param, Query } from '@nestjs/common';

import { Subjects, type RpcReply } from '@tengine/contracts';

import { Auth, CurrentProject } from '../auth/auth.guard.js';
import { bodyObject, Forwarder } from './forwarder.js';

/**
 * The query string as the contract's request fields. Every parameter is passed on, so an unknown or
 * repeated one is refused with a 422 naming it instead of being silently ignored; `limit` is the
 * only number, and an ill-formed one stays a string so the contract names it too.
 */
export function queryFields(query: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...bodyObject(query) };
  const limit = fields['limit'];
  if (typeof limit === 'string' && /^\d{1,4}$/.test(limit)) fields['limit'] = Number(limit);
  return fields;
}

/**
 * Run history and usage of the caller's project. The project always comes from the credential
 * (or `X-Project-Id` for the admin token), never from the query, so one project's runs are
 * invisible to every other project's keys.
 */
@Controller('api/v1')
@Auth({ scope: 'runs:read' })
export class RunsController {
  constructor(private readonly forwarder: Forwarder) {}

  /** Newest first; filters `tool`, `member`, `member_external_id`, `status`, `from`, `to`, `key`, `integration`. */
  @Get('runs')
  list(
    @CurrentProject() projectId: string,
    @Query() query: unknown,
  ): Promise<RpcReply<typeof Subjects.audit.runList>> {
    return this.forwarder.send(Subjects.audit.runList, { ...queryFields(query), projectId });
  }

  @Get('runs/:runId')
  get(
    @CurrentProject() projectId: string,
    @Param('runId') runId: string,
  ): Promise<RpcReply<typeof Subjects.audit.runGet>> {
    return this.forwarder.send(Subjects.audit.runGet, { projectId, runId });
  }

  /** Counts, error rates and p50/p95 latency per tool, member, integration and day. */
  @Get('usage')
  usage(
    @CurrentProject() projectId: string,
    @Query() query: unknown,
  ): Promise<RpcReply<typeof Subjects.audit.usageGet>> {
    return this.forwarder.send(Subjects.audit.usageGet, { ...queryFields(query), projectId });
  }
}
