import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { DATA_SOURCE } from '@tengine/runtime';

/** An event audit could not store, kept with the reason for an operator to look at. */
export interface ParkedEvent {
  readonly source: 'jetstream' | 'bus';
  /** Stream and sequence of a JetStream message (null for in-process events). */
  readonly stream: string | null;
  readonly streamSequence: number | null;
  readonly subject: string;
  readonly deliveryCount: number;
  readonly reason: string;
  /** The payload as text, cut to {@link PARKED_PAYLOAD_MAX_CHARS}; null when unavailable. */
  readonly payload: string | null;
}

/** Parked payloads are kept for diagnosis, not replay: a bounded excerpt is enough. */
export const PARKED_PAYLOAD_MAX_CHARS = 16_384;

/** The only code touching audit.parked_events. */
@Injectable()
export class ParkedEventsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Parks events; a message parked before (its ack was lost) is not parked twice. */
  async park(events: readonly ParkedEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO audit.parked_events (source, stream, stream_sequence, subject, delivery_count, reason, payload)
       SELECT source, stream, stream_sequence, subject, delivery_count, reason, payload
       FROM jsonb_to_recordset($1::jsonb) AS x(source text, stream text, stream_sequence bigint,
         subject text, delivery_count integer, reason text, payload text)
       ON CONFLICT (stream, stream_sequence) WHERE stream_sequence IS NOT NULL DO NOTHING`,
      [
        JSON.stringify(
          events.map((event) => ({
            source: event.source,
            stream: event.stream,
            stream_sequence: event.streamSequence,
            subject: event.subject,
            delivery_count: event.deliveryCount,
            // PostgreSQL text cannot hold NUL; the excerpt is for humans anyway.
            reason: event.reason.replaceAll('\u0000', '\\u0000').slice(0, 2_000),
            payload:
              event.payload === null
                ? null
                : event.payload.replaceAll('\u0000', '\\u0000').slice(0, PARKED_PAYLOAD_MAX_CHARS),
          })),
        ),
      ],
    );
  }

  /** Deletes up to `limit` parked events older than `cutoff`; returns how many. */
  async deleteParkedBefore(cutoff: Date, limit: number): Promise<number> {
    const result = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM audit.parked_events WHERE id = ANY(ARRAY(
         SELECT id FROM audit.parked_events WHERE parked_at < $1 ORDER BY parked_at LIMIT $2
       ))`,
      [cutoff, limit],
    );
    return result[1];
  }
}
