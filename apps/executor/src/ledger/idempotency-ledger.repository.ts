import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { ExecuteRunReply, RunEvent } from '@tengine/contracts';
import { DATA_SOURCE } from '@tengine/runtime';

/** `in_flight`: a replica is executing it. `completed`: result stored for replay. `released`: nothing
 * took effect (or repeating is harmless), so the next call with the key executes again. */
export type LedgerState = 'in_flight' | 'completed' | 'released';

/** Identifies a ledger row: the key is scoped to its project and principal. */
export interface LedgerKey {
  readonly projectId: string;
  /** `api_key:<keyId>` or `member:<memberId>`. */
  readonly principal: string;
  readonly idempotencyKey: string;
}

/** One ledger row. */
export interface LedgerEntry extends LedgerKey {
  readonly fingerprint: string;
  readonly state: LedgerState;
  readonly runId: string;
  readonly retrySafe: boolean;
  /** The Run's `started` event, from which a terminal event can be built by any replica. */
  readonly runContext: RunEvent;
  readonly leaseExpired: boolean;
  readonly result: ExecuteRunReply | null;
  readonly terminalEvent: RunEvent | null;
  readonly terminalPublished: boolean;
}

/** What a claim needs besides the key. */
export interface ClaimRequest {
  readonly fingerprint: string;
  readonly runId: string;
  readonly retrySafe: boolean;
  readonly runContext: RunEvent;
  readonly leaseMs: number;
  readonly retentionHours: number;
}

/** A finished call to store. */
export interface Completion {
  readonly state: Exclude<LedgerState, 'in_flight'>;
  readonly result: ExecuteRunReply;
  readonly terminalEvent: RunEvent;
  readonly retentionHours: number;
}

interface LedgerRow {
  project_id: string;
  principal: string;
  idempotency_key: string;
  fingerprint: string;
  state: LedgerState;
  run_id: string;
  retry_safe: boolean;
  run_context: RunEvent;
  lease_expired: boolean;
  result: ExecuteRunReply | null;
  terminal_event: RunEvent | null;
  terminal_published: boolean;
}

const COLUMNS = `project_id, principal, idempotency_key, fingerprint, state, run_id, retry_safe,
  run_context, lease_until < now() AS lease_expired, result, terminal_event, terminal_published`;
const KEY = 'project_id = $1 AND principal = $2 AND idempotency_key = $3';

function toEntry(row: LedgerRow): LedgerEntry {
  return {
    projectId: row.project_id,
    principal: row.principal,
    idempotencyKey: row.idempotency_key,
    fingerprint: row.fingerprint,
    state: row.state,
    runId: row.run_id,
    retrySafe: row.retry_safe,
    runContext: row.run_context,
    leaseExpired: row.lease_expired,
    result: row.result,
    terminalEvent: row.terminal_event,
    terminalPublished: row.terminal_published,
  };
}

function keyParams(key: LedgerKey): [string, string, string] {
  return [key.projectId, key.principal, key.idempotencyKey];
}

/** The only code touching executor.idempotency_keys. Times are the database's (`now()`). */
@Injectable()
export class IdempotencyLedgerRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /**
   * Claims the key for `runId` in one statement: a new key is inserted; a `released` key with the
   * same fingerprint is taken over once its terminal event is acknowledged (so no event is lost). Returns true when this call now owns the key; false when
   * another row is in the way (read it with {@link find}).
   */
  async claim(key: LedgerKey, claim: ClaimRequest): Promise<boolean> {
    const rows = await this.dataSource.query<Array<{ run_id: string }>>(
      `INSERT INTO executor.idempotency_keys AS k
         (project_id, principal, idempotency_key, fingerprint, state, run_id, retry_safe,
          run_context, lease_until, expires_at)
       VALUES ($1, $2, $3, $4, 'in_flight', $5, $6, $7,
               now() + make_interval(secs => $8::double precision / 1000),
               now() + make_interval(hours => $9))
       ON CONFLICT (project_id, principal, idempotency_key) DO UPDATE
         SET state = 'in_flight', run_id = EXCLUDED.run_id, retry_safe = EXCLUDED.retry_safe,
             run_context = EXCLUDED.run_context, lease_until = EXCLUDED.lease_until,
             expires_at = EXCLUDED.expires_at, result = NULL, terminal_event = NULL,
             terminal_published = false, updated_at = now()
         WHERE k.state = 'released' AND k.fingerprint = EXCLUDED.fingerprint
           AND k.terminal_published
       RETURNING run_id`,
      [
        ...keyParams(key),
        claim.fingerprint,
        claim.runId,
        claim.retrySafe,
        JSON.stringify(claim.runContext),
        claim.leaseMs,
        claim.retentionHours,
      ],
    );
    return rows[0]?.run_id === claim.runId;
  }

  async find(key: LedgerKey): Promise<LedgerEntry | undefined> {
    const rows = await this.dataSource.query<LedgerRow[]>(
      `SELECT ${COLUMNS} FROM executor.idempotency_keys WHERE ${KEY}`,
      keyParams(key),
    );
    return rows[0] ? toEntry(rows[0]) : undefined;
  }

  /**
   * Stores the outcome of the call `runId` owns. False when it no longer owns the key (its lease
   * expired and another replica ended the Run as interrupted).
   */
  async complete(key: LedgerKey, runId: string, completion: Completion): Promise<boolean> {
    const rows = await this.dataSource.query<[unknown[], number]>(
      `UPDATE executor.idempotency_keys
         SET state = $5, result = $6, terminal_event = $7, terminal_published = false,
             updated_at = now(), expires_at = now() + make_interval(hours => $8)
       WHERE ${KEY} AND run_id = $4 AND state = 'in_flight'
       RETURNING 1`,
      [
        ...keyParams(key),
        runId,
        completion.state,
        JSON.stringify(completion.result),
        JSON.stringify(completion.terminalEvent),
        completion.retentionHours,
      ],
    );
    return rows[1] > 0;
  }

  /**
   * Ends an abandoned claim (lease expired): stores the interrupted outcome, or releases the key
   * when repeating the call is harmless. False when the row changed meanwhile (someone else did it).
   */
  async interrupt(
    key: LedgerKey,
    runId: string,
    result: ExecuteRunReply,
    terminalEvent: RunEvent,
    retentionHours: number,
  ): Promise<boolean> {
    const rows = await this.dataSource.query<[unknown[], number]>(
      `UPDATE executor.idempotency_keys
         SET state = CASE WHEN retry_safe THEN 'released' ELSE 'completed' END,
             result = $5, terminal_event = $6, terminal_published = false,
             updated_at = now(), expires_at = now() + make_interval(hours => $7)
       WHERE ${KEY} AND run_id = $4 AND state = 'in_flight' AND lease_until < now()
       RETURNING 1`,
      [
        ...keyParams(key),
        runId,
        JSON.stringify(result),
        JSON.stringify(terminalEvent),
        retentionHours,
      ],
    );
    return rows[1] > 0;
  }

  /** Drops a claim that never sent anything (its Run could not even be started). */
  async abandon(key: LedgerKey, runId: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM executor.idempotency_keys WHERE ${KEY} AND run_id = $4 AND state = 'in_flight'`,
      [...keyParams(key), runId],
    );
  }

  /** Records that the terminal event of `runId` was acknowledged by the run log. */
  async markPublished(key: LedgerKey, runId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE executor.idempotency_keys SET terminal_published = true
       WHERE ${KEY} AND run_id = $4`,
      [...keyParams(key), runId],
    );
  }

  /** Claims whose lease has expired: their executor died mid-call. */
  async expiredLeases(limit: number): Promise<LedgerEntry[]> {
    const rows = await this.dataSource.query<LedgerRow[]>(
      `SELECT ${COLUMNS} FROM executor.idempotency_keys
       WHERE state = 'in_flight' AND lease_until < now()
       ORDER BY lease_until LIMIT $1`,
      [limit],
    );
    return rows.map(toEntry);
  }

  /** Finished calls whose terminal event was not acknowledged for `olderThanMs`. */
  async unpublished(olderThanMs: number, limit: number): Promise<LedgerEntry[]> {
    const rows = await this.dataSource.query<LedgerRow[]>(
      `SELECT ${COLUMNS} FROM executor.idempotency_keys
       WHERE NOT terminal_published AND state <> 'in_flight' AND terminal_event IS NOT NULL
         AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
       ORDER BY updated_at LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows.map(toEntry);
  }

  /** Deletes rows past their retention (never an in-flight claim); returns how many. */
  async purgeExpired(limit: number): Promise<number> {
    const rows = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM executor.idempotency_keys WHERE ctid IN (
         SELECT ctid FROM executor.idempotency_keys
         WHERE expires_at < now() AND state <> 'in_flight' LIMIT $1)
       RETURNING 1`,
      [limit],
    );
    return rows[1];
  }
}
