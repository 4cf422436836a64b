import { StatementBatcher } from './statement-batcher.js';

/** A statement that records its batches and answers when released. */
function recordingStatement() {
  const batches: number[][] = [];
  const releases: Array<() => void> = [];
  const run = (items: number[]) => {
    batches.push(items);
    return new Promise<number[]>((resolve) => {
      releases.push(() => resolve(items.map((item) => item * 10)));
    });
  };
  const releaseNext = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    releases.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, run, releaseNext };
}

describe('StatementBatcher', () => {
  it('should run a lone call at once, and group the calls that arrive meanwhile', async () => {
    const statement = recordingStatement();
    const batcher = new StatementBatcher<number, number>({ maxSize: 10 }, statement.run);
    const first = batcher.submit(1);
    expect(statement.batches).toEqual([[1]]);
    const later = [2, 3, 4].map((item) => batcher.submit(item));
    await statement.releaseNext();
    expect(await first).toBe(10);
    expect(statement.batches).toEqual([[1], [2, 3, 4]]);
    await statement.releaseNext();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
    expect(batcher.size).toBe(0);
  });

  it('should keep items with the same key out of one statement, and respect maxSize', async () => {
    const statement = recordingStatement();
    const batcher = new StatementBatcher<number, number>(
      { maxSize: 2, keyOf: (item) => String(item % 2) },
      statement.run,
    );
    const calls = [1, 3, 5, 2, 4].map((item) => batcher.submit(item));
    await statement.releaseNext();
    await statement.releaseNext();
    await statement.releaseNext();
    await statement.releaseNext();
    expect(await Promise.all(calls)).toEqual([10, 30, 50, 20, 40]);
    expect(statement.batches).toEqual([[1], [3, 2], [5, 4]]);
  });

  it('should reject every call of a failed batch and go on with the next one', async () => {
    let fail = true;
    const batcher = new StatementBatcher<number, number>({ maxSize: 10 }, (items) => {
      if (fail) {
        fail = false;
        return Promise.reject(new Error('connection lost'));
      }
      return Promise.resolve(items);
    });
    const failed = batcher.submit(1);
    const next = batcher.submit(2);
    await expect(failed).rejects.toThrow('connection lost');
    await expect(next).resolves.toBe(2);
  });

  it('should refuse a statement that answers the wrong number of results', async () => {
    const batcher = new StatementBatcher<number, number>({ maxSize: 10 }, () =>
      Promise.resolve([]),
    );
    await expect(batcher.submit(1)).rejects.toThrow('answered 0 results for 1 items');
  });

  it('should drain: wait until every submitted call is done', async () => {
    const statement = recordingStatement();
    const batcher = new StatementBatcher<number, number>({ maxSize: 10 }, statement.run);
    const done: number[] = [];
    void batcher.submit(1).then((value) => done.push(value));
    void batcher.submit(2).then((value) => done.push(value));
    const drained = batcher.drain();
    await statement.releaseNext();
    await statement.releaseNext();
    await drained;
    expect(done).toEqual([10, 20]);
  });
});
