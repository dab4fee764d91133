import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MutationQueue } from './mutation-queue.ts';

describe('MutationQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A write that takes `ms` and records when it started and ended. */
  function write(log: Array<[number, number]>, ms: number) {
    return async () => {
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, ms));
      log.push([start, Date.now()]);
    };
  }

  it('runs one write at a time per installation, each starting 1 s after the previous ended', async () => {
    const queue = new MutationQueue({ clock: { now: () => Date.now() } });
    const log: Array<[number, number]> = [];
    const writes = [
      queue.run(7, write(log, 300)),
      queue.run(7, write(log, 300)),
      queue.run(7, write(log, 50)),
    ];
    await vi.runAllTimersAsync();
    await Promise.all(writes);
    expect(log).toEqual([
      [0, 300],
      [1_300, 1_600],
      [2_600, 2_650],
    ]);
  });

  it('keeps installations apart', async () => {
    const queue = new MutationQueue({ clock: { now: () => Date.now() } });
    const log: Array<[number, number]> = [];
    const writes = [queue.run(1, write(log, 100)), queue.run(2, write(log, 100))];
    await vi.runAllTimersAsync();
    await Promise.all(writes);
    expect(log.map(([start]) => start)).toEqual([0, 0]);
  });

  it('goes on after a failed write, and lets an aborted caller leave the line at once', async () => {
    const queue = new MutationQueue({ clock: { now: () => Date.now() } });
    const log: Array<[number, number]> = [];
    const failing = queue.run(7, async () => {
      throw new Error('HTTP 502');
    });
    const controller = new AbortController();
    const abandoned = queue.run(7, write(log, 10), controller.signal).catch((e: unknown) => e);
    const next = queue.run(7, write(log, 10));
    controller.abort(new Error('job cancelled'));
    expect(((await abandoned) as Error).message).toBe('job cancelled');
    await expect(failing).rejects.toThrow('HTTP 502');
    await vi.runAllTimersAsync();
    await next;
    expect(log).toEqual([[1_000, 1_010]]);
  });
});
