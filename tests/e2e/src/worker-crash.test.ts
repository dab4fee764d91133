import { once } from 'node:events';
import { type RedisHandle, reply, type StepFunction, startRedis, triageModel } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, spawnApp } from './app-process.ts';
import { llmRoute, startHarness } from './harness.ts';

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('a worker killed mid-job', () => {
  it('leaves the job to another worker, which completes it without commenting twice', async () => {
    // The model's final answer hangs the first time, so the first worker dies after commenting.
    const model = triageModel();
    let hung = false;
    const hangOnceBeforeTheAnswer: StepFunction = (req) => {
      const messages = (req.json as { messages: Array<{ role: string }> }).messages;
      if (!hung && messages.filter((m) => m.role === 'tool').length === 2) {
        hung = true;
        return reply.hang();
      }
      return model(req);
    };
    const h = await startHarness({
      redisUrl: redis.url,
      noWorker: true,
      llm: hangOnceBeforeTheAnswer,
      env: { WORKER_LOCK_DURATION_MS: '1500', WORKER_STALLED_INTERVAL_MS: '500' },
    });
    const workers: AppProcess[] = [];
    try {
      await h.queue.add('issues.opened', h.jobData('delivery-crash'), { jobId: 'delivery-crash' });
      const first = spawnApp('worker', h.env);
      workers.push(first);
      await h.llm.waitForRequests(3, { route: llmRoute, timeoutMs: 20_000 });
      expect(h.botComments()).toHaveLength(1);

      await first.kill();
      workers.push(spawnApp('worker', h.env));

      const { completed, job } = await h.waitForJob('delivery-crash', 30_000);
      expect(completed).toBe(true);
      expect(job.attemptsStarted).toBeGreaterThanOrEqual(2);
      expect(h.botComments()).toHaveLength(1);
      // The rerun asked the model again and got the recorded comment back, without posting.
      expect(h.github.requestsTo('POST /repos/:owner/:repo/issues/:number/comments')).toHaveLength(1);
    } finally {
      await Promise.all(workers.map((worker) => worker.kill()));
      await h.close();
    }
  }, 60_000);

  it('finishes its active job on SIGTERM before it exits', async () => {
    let release!: () => void;
    const answerHeld = new Promise<void>((resolve) => {
      release = resolve;
    });
    const model = triageModel();
    const h = await startHarness({
      redisUrl: redis.url,
      noWorker: true,
      llm: async (req) => {
        const messages = (req.json as { messages: Array<{ role: string }> }).messages;
        if (messages.filter((m) => m.role === 'tool').length === 2) await answerHeld;
        return model(req);
      },
    });
    const worker = spawnApp('worker', { ...h.env, LOG_LEVEL: 'info' });
    try {
      await h.queue.add('issues.opened', h.jobData('delivery-sigterm'), { jobId: 'delivery-sigterm' });
      await h.llm.waitForRequests(3, { route: llmRoute, timeoutMs: 20_000 });
      const stopping = worker.logged('Stopping');
      const exit = once(worker.child, 'exit');
      worker.child.kill('SIGTERM');
      // The job is still waiting for its last LLM answer when the worker starts to stop.
      await stopping;
      expect(await (await h.queue.getJob('delivery-sigterm'))?.getState()).toBe('active');
      release();
      const [code] = (await exit) as [number | null];
      expect(code).toBe(0);
      const job = await h.queue.getJob('delivery-sigterm');
      expect(await job?.getState()).toBe('completed');
      expect(h.botComments()).toHaveLength(1);
    } finally {
      await worker.kill();
      await h.close();
    }
  }, 60_000);
});
