import { z } from 'zod';

import { RunEventSchema, RunsStream, type RunEvent } from '@tengine/contracts';

import type { RunEventExtras } from '../runs/run-record.js';

/** A Run event that can be stored, or why it cannot (a poison event, parked and never retried). */
export type DecodedRunEvent =
  | { readonly ok: true; readonly event: RunEvent; readonly extras: RunEventExtras }
  | { readonly ok: false; readonly reason: string };

/**
 * Fields newer executors may add to Run events. Read leniently: a malformed extra is dropped, never
 * a reason to park an otherwise valid Run.
 */
const ExtrasSchema = z.object({
  toolListVersion: z.number().int().min(0).optional(),
  scopes: z.array(z.string().max(64)).max(64).optional(),
});

const decoder = new TextDecoder('utf-8', { fatal: true });

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

function isInstant(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(Date.parse(value));
}

/**
 * Validates a Run event beyond its schema: the status must agree with the event name, and times
 * must be real instants (PostgreSQL would refuse them and the batch would fail forever).
 */
export function decodeRunEventObject(value: unknown): DecodedRunEvent {
  const parsed = RunEventSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, reason: `invalid run event: ${describeIssues(parsed.error)}` };
  }
  const event = parsed.data;
  const expected = event.event === 'started' ? 'running' : event.event;
  if (event.status !== expected) {
    return {
      ok: false,
      reason: `invalid run event: status "${event.status}" on a "${event.event}" event`,
    };
  }
  if (!isInstant(event.timings.startedAt)) {
    return { ok: false, reason: 'invalid run event: timings.startedAt is not an ISO 8601 instant' };
  }
  if (event.timings.finishedAt !== null && !isInstant(event.timings.finishedAt)) {
    return {
      ok: false,
      reason: 'invalid run event: timings.finishedAt is not an ISO 8601 instant',
    };
  }
  const extras = ExtrasSchema.safeParse(value);
  return {
    ok: true,
    event,
    extras: {
      toolListVersion: extras.success ? (extras.data.toolListVersion ?? null) : null,
      scopes: extras.success ? (extras.data.scopes ?? null) : null,
    },
  };
}

/** Decodes the bytes of a JetStream message: UTF-8 JSON of a valid Run event. */
export function decodeRunEventBytes(data: Uint8Array): DecodedRunEvent {
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return { ok: false, reason: 'undecodable: payload is not UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `undecodable: payload is not JSON (${(error as Error).message})` };
  }
  return decodeRunEventObject(value);
}

/**
 * Checks that a message's subject is the one the executor publishes this event on
 * (`<prefix>runs.<project_id>.<event>`): an event filed under another project is refused, so a
 * project's run history only ever holds events published for that project.
 */
export function subjectMismatch(subject: string, prefix: string, event: RunEvent): string | null {
  const expected = RunsStream.subject(prefix, event.projectId, event.event);
  return subject === expected
    ? null
    : `subject mismatch: event of project ${event.projectId} (${event.event}) on ${subject}, expected ${expected}`;
}
