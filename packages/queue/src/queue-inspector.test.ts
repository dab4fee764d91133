import { RetriesExhaustedError, RetryAfterTooLongError, type RetryPolicy } from '@runner/retry';
import { type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentQueue } from './agent-queue.ts';
import { createAgentWorker } from './agent-worker.ts';
import { QueueInspector } from './queue-inspector.ts';
import { exampleJobData } from './test-fixtures.ts';

const policy: RetryPolicy = {
  maxRetries: 2,
  initialDelayMs: 10,
  maxDelayMs: 20,
  multiplier: 2,
  jitter: 'none',
};
const silent = { debug() {}, info() {}, warn() {}, error() {} };

let server: RedisHandle;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('QueueInspector', () => {
  it('shows counts, jobs and a dead-lettered job’s history, and puts it back to complete', {
    timeout: 20_000,
  }, async () => {
    const prefix = uniquePrefix('inspect');
    const connection = { url: server.url, maxRetriesPerRequest: null };
    const queue = createAgentQueue({ connection, prefix, policy });
    const events = new QueueEvents('agent-jobs', { connection, prefix });
    let healthy = false;
    const worker = createAgentWorker({
      connection,
      redis,
      prefix,
      concurrency: 1,
      deadlineMs: 60_000,
      policy,
      logger: silent,
      handle: async (data) => {
        if (data.deliveryId === 'later') {
          throw new RetryAfterTooLongError({
            attempts: 1,
            reason: 'HTTP 429',
            status: 429,
            retryAt: new Date(Date.now() + 60_000),
            maxWaitMs: 1,
          });
        }
        if (data.deliveryId === 'poison' && !healthy) {
          throw new RetriesExhaustedError({
            attempts: 4,
            reason: 'HTTP 503',
            status: 503,
            cause: new Error('upstream down'),
          });
        }
        return 'ok';
      },
    });
    const inspector = new QueueInspector(queue, redis, prefix);
    try {
      await events.waitUntilReady();
      const poison = await queue.add('issues.opened', exampleJobData('poison'), { jobId: 'poison' });
      await expect(poison.waitUntilFinished(events, 10_000)).rejects.toThrow('upstream down');
      const delayedEvent = new Promise<void>((resolve) =>
        events.on('delayed', ({ jobId }) => {
          if (jobId === 'later') resolve();
        }),
      );
      const later = await queue.add('issues.opened', exampleJobData('later'), { jobId: 'later' });
      await delayedEvent;

      const status = await inspector.status();
      expect(status.counts).toMatchObject({ failed: 1, 'dead-lettered': 1, delayed: 1 });
      expect(status.workers).toBeGreaterThanOrEqual(1);
      expect(status.retriedLastHour.job).toBe(3);

      const [dead] = await inspector.jobs({ state: 'dead-lettered' });
      expect(dead).toMatchObject({
        id: 'poison',
        state: 'dead-lettered',
        attempts: 3,
        retryCount: 2,
        lastError: 'Gave up after 4 attempts (HTTP 503): upstream down',
      });
      const [delayed] = await inspector.jobs({ state: 'delayed' });
      expect(delayed?.id).toBe(later.id);
      expect(delayed!.nextRunAtMs).toBeGreaterThan(Date.now() + 50_000);

      const details = await inspector.job('poison');
      expect(details?.timeline.map((e) => e.kind)).toEqual([
        'job_started',
        'job_requeued',
        'job_started',
        'job_requeued',
        'job_started',
        'job_failed',
      ]);
      expect(await inspector.job('no-such-job')).toBeUndefined();

      healthy = true;
      expect(await inspector.retry('poison')).toBe('retried');
      await poison.waitUntilFinished(events, 10_000);
      const revived = await inspector.job('poison');
      expect(revived).toMatchObject({ state: 'completed', deadLettered: false });
      expect(revived?.timeline.map((e) => e.kind).slice(-3)).toEqual([
        'job_retried_by_ops',
        'job_started',
        'job_completed',
      ]);
      expect(await inspector.retry('poison')).toBe('not-failed');

      await inspector.pause();
      expect((await inspector.status()).isPaused).toBe(true);
      await inspector.resume();
      expect(await inspector.remove('later')).toBe(true);
      expect(await inspector.remove('later')).toBe(false);
      expect(await inspector.clean('completed', 0)).toBe(1);
      expect((await inspector.status()).counts.completed).toBe(0);
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }
  });
});
