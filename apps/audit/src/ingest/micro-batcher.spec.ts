import { MicroBatcher } from './micro-batcher.js';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe(MicroBatcher.name, () => {
  it('should flush a full batch at once and a partial one after the linger time', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number>(
      { maxSize: 3, lingerMs: 30 },
      (items) => {
        batches.push(items);
        return Promise.resolve();
      },
      () => undefined,
    );
    for (const value of [1, 2, 3]) batcher.add(value);
    await tick();
    batcher.add(4);
    await tick(5);
    expect(batches).toEqual([[1, 2, 3]]);
    await tick(60);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('should run one flush at a time and take what arrived meanwhile right after', async () => {
    const batches: number[][] = [];
    let active = 0;
    let maxActive = 0;
    const batcher = new MicroBatcher<number>(
      { maxSize: 2, lingerMs: 1_000 },
      async (items) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        batches.push(items);
        await tick(10);
        active -= 1;
      },
      () => undefined,
    );
    for (let value = 1; value <= 5; value += 1) batcher.add(value);
    await batcher.drain();
    expect(maxActive).toBe(1);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    expect(batcher.size).toBe(0);
  });

  it('should report a failed flush and go on with the next batch', async () => {
    const failed: number[][] = [];
    const done: number[][] = [];
    const batcher = new MicroBatcher<number>(
      { maxSize: 1, lingerMs: 0 },
      (items) =>
        items[0] === 1 ? Promise.reject(new Error('boom')) : (done.push(items), Promise.resolve()),
      (_error, items) => failed.push(items),
    );
    batcher.add(1);
    batcher.add(2);
    await batcher.drain();
    expect(failed).toEqual([[1]]);
    expect(done).toEqual([[2]]);
  });

  it('should write what is queued on drain without waiting for the linger time', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number>(
      { maxSize: 10, lingerMs: 60_000 },
      (items) => {
        batches.push(items);
        return Promise.resolve();
      },
      () => undefined,
    );
    batcher.add(1);
    await batcher.drain();
    expect(batches).toEqual([[1]]);
  });
});
