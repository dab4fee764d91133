import { describe, expect, it } from 'vitest';
import { TurnQueue } from './turn-queue.ts';

describe('TurnQueue', () => {
  it('runs one turn at a time per key, in arrival order, and forgets idle keys', async () => {
    const queue = new TurnQueue();
    const log: string[] = [];
    const turn = (name: string) => async () => {
      log.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push(`${name} end`);
    };
    await Promise.all([queue.run('a', undefined, turn('1')), queue.run('a', undefined, turn('2'))]);
    expect(log).toEqual(['1 start', '1 end', '2 start', '2 end']);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(queue.size).toBe(0);
  });

  it('lets an aborted caller leave at once; its turn runs nothing and the next one goes on', async () => {
    const queue = new TurnQueue();
    let release!: () => void;
    const first = queue.run('a', undefined, () => new Promise<void>((resolve) => (release = resolve)));
    const controller = new AbortController();
    let secondRan = false;
    const second = queue.run('a', controller.signal, async () => {
      secondRan = true;
    });
    const third = queue.run('a', undefined, async () => {});
    controller.abort(new Error('gone'));
    await expect(second).rejects.toThrow('gone');
    release();
    await Promise.all([first, third]);
    expect(secondRan).toBe(false);
  });
});
