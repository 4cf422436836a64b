import { runEvent, runOwner, runPair } from '../../test/support/run-events.js';
import { latestPerRun, statusRank, toRunRecord, type RunRecord } from './run-record.js';

const NO_EXTRAS = { toolListVersion: null, scopes: null };
const item = (record: RunRecord, tag: string) => ({ record, tag });

describe('toRunRecord', () => {
  it('should map every field and give a failure the executor’s detail as its message', () => {
    const event = runEvent('failed', { requestId: 'abc' });
    const record = toRunRecord(event, { toolListVersion: 3, scopes: ['mcp:connect'] }, 12);
    expect(record).toMatchObject({
      runId: event.runId,
      requestId: 'abc',
      status: 'failed',
      errorCode: 'EXECUTOR_UPSTREAM_NON_2XX',
      errorMessage: 'Upstream tool call failed — non-2xx response',
      upstreamHost: 'api.example.com',
      apiKeyId: event.keyId,
      toolListVersion: 3,
      scopes: ['mcp:connect'],
      lastEvent: 'failed',
      streamSequence: 12,
    });
  });

  it('should leave the error message empty for a success', () => {
    expect(toRunRecord(runEvent('succeeded'), NO_EXTRAS, null).errorMessage).toBeNull();
  });
});

describe('latestPerRun', () => {
  const owner = runOwner();

  it('should keep the terminal event of a Run whichever order the events came in', () => {
    const [started, succeeded] = runPair('succeeded', owner);
    const first = item(toRunRecord(started, NO_EXTRAS, 1), 'started');
    const second = item(toRunRecord(succeeded, NO_EXTRAS, 2), 'succeeded');
    for (const order of [
      [first, second],
      [second, first],
    ]) {
      const { winners, superseded } = latestPerRun(order);
      expect(winners.map((winner) => winner.tag)).toEqual(['succeeded']);
      expect(superseded.map((loser) => loser.tag)).toEqual(['started']);
    }
  });

  it('should keep the first of two equally advanced events and one winner per Run', () => {
    const [, succeeded] = runPair('succeeded', owner);
    const other = runEvent('started', {}, owner);
    const { winners, superseded } = latestPerRun([
      item(toRunRecord(succeeded, NO_EXTRAS, 1), 'first'),
      item(toRunRecord(other, NO_EXTRAS, 2), 'other'),
      item(toRunRecord(succeeded, NO_EXTRAS, 3), 'duplicate'),
    ]);
    expect(winners.map((winner) => winner.tag)).toEqual(['first', 'other']);
    expect(superseded.map((loser) => loser.tag)).toEqual(['duplicate']);
  });

  it('should rank running below every outcome', () => {
    expect(statusRank('running')).toBeLessThan(statusRank('succeeded'));
    expect(statusRank('failed')).toBe(statusRank('rejected'));
  });
});
