import { type RedisHandle, startRedis } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWorkerCrashes } from './chaos/worker-crashes.ts';

// The short form of `npm run chaos`: the same scenarios, fewer deliveries.
let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis({ forcePrivate: true, args: ['--appendonly', 'yes'] });
});
afterAll(async () => {
  await redis.stop();
});

describe('fault suite (short form)', () => {
  it('loses no delivery and posts no comment twice while workers are killed every 2 s', async () => {
    const figures = await runWorkerCrashes({
      redis,
      deliveries: 60,
      deliveriesPerSec: 10,
      workers: 3,
      killEveryMs: 2_000,
      settleTimeoutMs: 60_000,
    });
    expect(figures.kills).toBeGreaterThanOrEqual(2);
    expect(figures).toMatchObject({
      acknowledged: 60,
      refused: 0,
      completed: 60,
      lost: 0,
      duplicateComments: 0,
    });
  }, 120_000);
});
