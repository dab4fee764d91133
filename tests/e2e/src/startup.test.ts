import { startRedis } from '@runner/testkit';
import { describe, expect, it } from 'vitest';
import { spawnApp } from './app-process.ts';
import { startHarness } from './harness.ts';

describe('a worker started before its Redis', () => {
  it('waits for it, saying so with backoff, and works once it is up', async () => {
    const server = await startRedis({ forcePrivate: true, args: ['--appendonly', 'yes'] });
    const h = await startHarness({ redisUrl: server.url, noWorker: true });
    await server.shutdown();
    const worker = spawnApp('worker', { ...h.env, LOG_LEVEL: 'info' });
    try {
      const first = await worker.logged('Redis at');
      expect(first.msg).toMatch(/does not answer \(ECONNREFUSED\); trying again in \d+\.\ds \(attempt 1\)$/);
      expect(first.level).toBe(40);
      await worker.logged(`Redis at 127.0.0.1:${server.port} does not answer (ECONNREFUSED); trying again`);
      expect(worker.exited()).toBe(false);

      await server.start();
      await worker.logged('Worker ready');
      await h.queue.add('issues.opened', h.jobData('late-redis'), { jobId: 'late-redis' });
      const { completed } = await h.waitForJob('late-redis', 30_000);
      expect(completed).toBe(true);
    } finally {
      await worker.kill();
      await h.close();
      await server.stop();
    }
  }, 60_000);
});
