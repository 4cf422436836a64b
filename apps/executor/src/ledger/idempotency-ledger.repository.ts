import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import type { ExecuteRunReply, RunEvent } from '@tengine/contracts';
import { StatementBatcher } from '@tengine/persistence';
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

/** Most calls written by one batched ledger statement. */
const BATCH_MAX = 128;

interface ClaimItem {
  readonly key: LedgerKey;
  readonly claim: ClaimRequest;
}

interface CompleteItem {
  readonly key: LedgerKey;
  readonly runId: string;
  readonly completion: Completion;
}

interface PublishedItem {
  readonly key: LedgerKey;
  readonly runId: string;
}

/**
 * The rows of a batch as one JSON array parameter, read back with `jsonb_to_recordset`: a single
 * serialization, where one array parameter per column would have every JSON value escaped again.
 */
function batchRows(rows: ReadonlyArray<Record<string, unknown>>): string {
  return JSON.stringify(rows);
}

function keyFields(key: LedgerKey): Record<string, string> {
  return {
    project_id: key.projectId,
    principal: key.principal,
    idempotency_key: key.idempotencyKey,
  };
}

function keyId(key: LedgerKey): string {
  return `${key.projectId}\u0000${key.principal}\u0000${key.idempotencyKey}`;
}

/**
 * The only code touching executor.idempotency_keys. Times are the database's (`now()`).
 *
 * The three statements every call makes (claim, complete, mark published) are batched: concurrent
 * calls share one multi-row statement, so under load a commit serves many calls, while a lone call
 * still runs its statement at once.
 */
@Injectable()
export class IdempotencyLedgerRepository implements OnModuleDestroy {
  private readonly claims: StatementBatcher<ClaimItem, boolean>;
  private readonly completions: StatementBatcher<CompleteItem, boolean>;
  private readonly publications: StatementBatcher<PublishedItem, void>;

  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {
    const keyOf = (item: { key: LedgerKey }) => keyId(item.key);
    this.claims = new StatementBatcher<ClaimItem, boolean>({ maxSize: BATCH_MAX, keyOf }, (items) =>
      this.claimBatch(items),
    );
    this.completions = new StatementBatcher<CompleteItem, boolean>(
      { maxSize: BATCH_MAX, keyOf },
      (items) => this.completeBatch(items),
    );
    this.publications = new StatementBatcher<PublishedItem, void>(
      { maxSize: BATCH_MAX, keyOf },
      (items) => this.markPublishedBatch(items),
    );
  }

  /** Lets the statements under way finish before the connection pool closes. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.claims.drain(), this.completions.drain(), this.publications.drain()]);
  }

  /**
   * Claims the key for `runId`: a new key is inserted; a `released` key with the same fingerprint
   * is taken over once its terminal event is acknowledged (so no event is lost). Returns true when
   * this call now owns the key; false when another row is in the way (read it with {@link find}).
   */
  claim(key: LedgerKey, claim: ClaimRequest): Promise<boolean> {
    return this.claims.submit({ key, claim });
  }

  private async claimBatch(items: ClaimItem[]): Promise<boolean[]> {
    const rows = await this.dataSource.query<Array<{ run_id: string }>>(
      `INSERT INTO executor.idempotency_keys AS k
         (project_id, principal, idempotency_key, fingerprint, state, run_id, retry_safe,
          run_context, lease_until, expires_at)
       SELECT v.project_id, v.principal, v.idempotency_key, v.fingerprint, 'in_flight', v.run_id,
              v.retry_safe, v.run_context,
              now() + make_interval(secs => v.lease_ms / 1000),
              now() + make_interval(hours => v.retention_hours)
       FROM jsonb_to_recordset($1::jsonb)
         AS v(project_id uuid, principal text, idempotency_key text, fingerprint text,
              run_id text, retry_safe boolean, run_context jsonb, lease_ms double precision,
              retention_hours int)
       ON CONFLICT (project_id, principal, idempotency_key) DO UPDATE
         SET state = 'in_flight', run_id = EXCLUDED.run_id, retry_safe = EXCLUDED.retry_safe,
             run_context = EXCLUDED.run_context, lease_until = EXCLUDED.lease_until,
             expires_at = EXCLUDED.expires_at, result = NULL, terminal_event = NULL,
             terminal_published = false, updated_at = now()
         WHERE k.state = 'released' AND k.fingerprint = EXCLUDED.fingerprint
           AND k.terminal_published
       RETURNING run_id`,
      [
        batchRows(
          items.map(({ key, claim }) => ({
            ...keyFields(key),
            fingerprint: claim.fingerprint,
            run_id: claim.runId,
            retry_safe: claim.retrySafe,
            run_context: claim.runContext,
            lease_ms: claim.leaseMs,
            retention_hours: claim.retentionHours,
          })),
        ),
      ],
    );
    const owned = new Set(rows.map((row) => row.run_id));
    return items.map((item) => owned.has(item.claim.runId));
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
  complete(key: LedgerKey, runId: string, completion: Completion): Promise<boolean> {
    return this.completions.submit({ key, runId, completion });
  }

  private async completeBatch(items: CompleteItem[]): Promise<boolean[]> {
    const [rows] = await this.dataSource.query<[Array<{ run_id: string }>, number]>(
      `UPDATE executor.idempotency_keys AS k
         SET state = v.state, result = v.result, terminal_event = v.terminal_event,
             terminal_published = false, updated_at = now(),
             expires_at = now() + make_interval(hours => v.retention_hours)
       FROM jsonb_to_recordset($1::jsonb)
         AS v(project_id uuid, principal text, idempotency_key text, run_id text, state text,
              result jsonb, terminal_event jsonb, retention_hours int)
       WHERE k.project_id = v.project_id AND k.principal = v.principal
         AND k.idempotency_key = v.idempotency_key AND k.run_id = v.run_id
         AND k.state = 'in_flight'
       RETURNING k.run_id`,
      [
        batchRows(
          items.map(({ key, runId, completion }) => ({
            ...keyFields(key),
            run_id: runId,
            state: completion.state,
            result: completion.result,
            terminal_event: completion.terminalEvent,
            retention_hours: completion.retentionHours,
          })),
        ),
      ],
    );
    const stored = new Set(rows.map((row) => row.run_id));
    return items.map((item) => stored.has(item.runId));
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

  /**
   * Restarts the lease of the claim `runId` still owns (nothing sent yet). False when it no longer
   * owns it: another replica took it for abandoned and ended the Run as interrupted.
   */
  async renew(key: LedgerKey, runId: string, leaseMs: number): Promise<boolean> {
    const rows = await this.dataSource.query<[unknown[], number]>(
      `UPDATE executor.idempotency_keys
         SET lease_until = now() + make_interval(secs => $5::double precision / 1000)
       WHERE ${KEY} AND run_id = $4 AND state = 'in_flight'
       RETURNING 1`,
      [...keyParams(key), runId, leaseMs],
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
  markPublished(key: LedgerKey, runId: string): Promise<void> {
    return this.publications.submit({ key, runId });
  }

  private async markPublishedBatch(items: PublishedItem[]): Promise<void[]> {
    await this.dataSource.query(
      `UPDATE executor.idempotency_keys AS k SET terminal_published = true
       FROM jsonb_to_recordset($1::jsonb)
         AS v(project_id uuid, principal text, idempotency_key text, run_id text)
       WHERE k.project_id = v.project_id AND k.principal = v.principal
         AND k.idempotency_key = v.idempotency_key AND k.run_id = v.run_id`,
      [batchRows(items.map(({ key, runId }) => ({ ...keyFields(key), run_id: runId })))],
    );
    return items.map(() => undefined);
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
