import { runEvent, runOwner } from '../../test/support/run-events.js';
import { decodeRunEventBytes, decodeRunEventObject, subjectMismatch } from './run-event-decoder.js';

const bytes = (value: unknown): Uint8Array =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('decodeRunEventBytes', () => {
  it('should decode a valid event and read no extras when the executor sends none', () => {
    const event = runEvent('succeeded');
    const decoded = decodeRunEventBytes(bytes(event));
    expect(decoded).toEqual({
      ok: true,
      event,
      extras: { toolListVersion: null, scopes: null },
    });
  });

  it('should read the tool-list version and scopes when a newer executor sends them', () => {
    const decoded = decodeRunEventBytes(
      bytes({ ...runEvent('started'), toolListVersion: 4, scopes: ['mcp:connect'] }),
    );
    expect(decoded.ok && decoded.extras).toEqual({ toolListVersion: 4, scopes: ['mcp:connect'] });
  });

  it('should keep a valid event whose extras are malformed, without them', () => {
    const decoded = decodeRunEventBytes(bytes({ ...runEvent('started'), toolListVersion: 'x' }));
    expect(decoded.ok && decoded.extras).toEqual({ toolListVersion: null, scopes: null });
  });

  it.each([
    ['not UTF-8', new Uint8Array([0xff, 0xfe, 0x00]), /undecodable: payload is not UTF-8/],
    ['not JSON', bytes('{"event":'), /undecodable: payload is not JSON/],
    ['failing the schema', bytes({ event: 'started' }), /invalid run event: runId/],
    ['an unknown event', bytes({ ...runEvent('started'), event: 'paused' }), /invalid run event/],
  ])('should refuse a payload %s with a reason', (_name, data, reason) => {
    const decoded = decodeRunEventBytes(data);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toMatch(reason);
  });
});

describe('decodeRunEventObject', () => {
  it('should refuse a status that contradicts the event', () => {
    const decoded = decodeRunEventObject({ ...runEvent('started'), status: 'succeeded' });
    expect(!decoded.ok && decoded.reason).toBe(
      'invalid run event: status "succeeded" on a "started" event',
    );
  });

  it('should refuse times PostgreSQL could not store, naming the field', () => {
    const event = runEvent('succeeded');
    const badStart = decodeRunEventObject({
      ...event,
      timings: { ...event.timings, startedAt: 'yesterday' },
    });
    const badFinish = decodeRunEventObject({
      ...event,
      timings: { ...event.timings, finishedAt: '2025-13-45T99:00:00Z' },
    });
    expect(!badStart.ok && badStart.reason).toMatch(/timings.startedAt/);
    expect(!badFinish.ok && badFinish.reason).toMatch(/timings.finishedAt/);
  });
});

describe('subjectMismatch', () => {
  const owner = runOwner();
  const event = runEvent('failed', {}, owner);

  it('should accept the subject the executor publishes the event on, with or without a prefix', () => {
    expect(subjectMismatch(`runs.${owner.projectId}.failed`, '', event)).toBeNull();
    expect(subjectMismatch(`acme.runs.${owner.projectId}.failed`, 'acme.', event)).toBeNull();
  });

  it("should refuse an event filed under another project's subject or another event", () => {
    expect(subjectMismatch(`runs.${runOwner().projectId}.failed`, '', event)).toMatch(
      /subject mismatch/,
    );
    expect(subjectMismatch(`runs.${owner.projectId}.succeeded`, '', event)).toMatch(
      /subject mismatch/,
    );
  });
});
