import { type RedisHandle, startRedis } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnApp } from './app-process.ts';
import { startHarness } from './harness.ts';

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('worker processes sharing nothing but Redis', () => {
  it('drain one queue between them, each job run once by one of them', async () => {
    const h = await startHarness({ redisUrl: redis.url, noWorker: true, env: { WORKER_CONCURRENCY: '2' } });
    const workers = ['box-a:1', 'box-b:1'].map((id) =>
      spawnApp('worker', { ...h.env, WORKER_ID: id, LOG_LEVEL: 'info' }),
    );
    try {
      const ready = await Promise.all(workers.map((worker) => worker.logged('Worker ready')));
      expect(ready.map((line) => line.workerId)).toEqual(['box-a:1', 'box-b:1']);
      const ids = Array.from({ length: 12 }, (_, i) => `many-${i}`);
      await h.queue.addBulk(
        ids.map((id) => ({ name: 'issues.opened', data: h.jobData(id), opts: { jobId: id } })),
      );
      const outcomes = await Promise.all(ids.map((id) => h.waitForJob(id, 30_000)));

      expect(outcomes.every((outcome) => outcome.completed)).toBe(true);
      // Each job started once, by one of the two, and both took a share.
      expect(outcomes.map((outcome) => outcome.job.attemptsStarted)).toEqual(ids.map(() => 1));
      const by = outcomes.map((outcome) => outcome.job.processedBy);
      expect(new Set(by)).toEqual(new Set(['box-a:1', 'box-b:1']));
      // One comment per job: no job's side effect happened twice.
      expect(h.botComments()).toHaveLength(ids.length);
    } finally {
      await Promise.all(workers.map((worker) => worker.kill()));
      await h.close();
    }
  }, 60_000);
});
