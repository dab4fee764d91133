import { type RedisHandle, reply, type StepFunction, startRedis, triageModel } from '@runner/testkit';
import { Redis } from 'ioredis';
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

/** Checks `condition` every 20 ms until it holds; fails after `timeoutMs`. */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The LLM answering 503 to everything: an outage. */
const llmDown: StepFunction = () => reply.status(503);

describe('workers cooperating through Redis', () => {
  it('hold back every worker once one has heard a 429: no second 429 inside the window', async () => {
    // The LLM is rate limited for 2 s after its first request; it says so with Retry-After.
    const model = triageModel();
    let limitedUntilMs = 0;
    const rateLimitedLlm: StepFunction = (req) => {
      if (limitedUntilMs === 0) limitedUntilMs = req.receivedAtMs + 2_000;
      if (req.receivedAtMs < limitedUntilMs) return reply.rateLimited({ retryAfterSeconds: 2 });
      return model(req);
    };
    const h = await startHarness({
      redisUrl: redis.url,
      noWorker: true,
      llm: rateLimitedLlm,
      env: { WORKER_CONCURRENCY: '1' },
    });
    const workers = [spawnApp('worker', h.env), spawnApp('worker', h.env)];
    try {
      await h.queue.add('issues.opened', h.jobData('fleet-1'), { jobId: 'fleet-1' });
      await h.llm.waitForRequests(1, { route: llmRoute, timeoutMs: 20_000 });
      // Once the first worker has taken in its 429 (its retry is in the job's timeline, written after the
      // cooldown), it waits it out, and the second worker takes the next job.
      await waitUntil(async () => (await h.tracker.read('fleet-1')).timeline.some((e) => e.kind === 'retry'));
      await h.queue.add('issues.opened', h.jobData('fleet-2'), { jobId: 'fleet-2' });
      const [first, second] = await Promise.all([
        h.waitForJob('fleet-1', 30_000),
        h.waitForJob('fleet-2', 30_000),
      ]);
      expect(first.completed && second.completed).toBe(true);

      const limited = h.llm.requests.filter((r) => r.receivedAtMs < limitedUntilMs);
      expect(limited).toHaveLength(1);
      const retries = await h.tracker.read('fleet-2');
      // The second job never heard a 429 of its own: it waited for the cooldown before its first request.
      expect(retries.timeline.filter((e) => e.kind === 'retry')).toHaveLength(0);
    } finally {
      await Promise.all(workers.map((worker) => worker.kill()));
      await h.close();
    }
  }, 60_000);

  it('open the circuit for every worker once one has seen it fail: the next worker sends nothing', async () => {
    const h = await startHarness({
      redisUrl: redis.url,
      noWorker: true,
      llm: llmDown,
      env: {
        WORKER_CONCURRENCY: '1',
        FLEET_CIRCUIT_FAILURE_THRESHOLD: '3',
        FLEET_CIRCUIT_COOLDOWN_MS: '60000',
        FLEET_RETRY_BUDGET_MIN_RETRIES: '1000',
      },
    });
    const first = spawnApp('worker', h.env);
    let second: AppProcess | undefined;
    const delayed = async (jobId: string) =>
      (await h.tracker.read(jobId)).timeline.find((entry) => entry.kind === 'job_delayed');
    try {
      await h.queue.add('issues.opened', h.jobData('circuit-1'), { jobId: 'circuit-1' });
      await waitUntil(async () => (await delayed('circuit-1')) !== undefined, 20_000);
      // Three failures opened the circuit; the fourth attempt failed fast and the job waits for the probe.
      expect(h.llm.requests).toHaveLength(3);
      expect((await delayed('circuit-1'))?.reason).toMatch(/circuit/);

      // Only the second process is left to take the next job.
      await first.kill();
      second = spawnApp('worker', h.env);
      await h.queue.add('issues.opened', h.jobData('circuit-2'), { jobId: 'circuit-2' });
      await waitUntil(async () => (await delayed('circuit-2')) !== undefined, 20_000);

      expect((await delayed('circuit-2'))?.reason).toMatch(/circuit/);
      expect((await delayed('circuit-2'))?.delayMs).toBeGreaterThan(30_000);
      expect(h.llm.requests).toHaveLength(3);
    } finally {
      await Promise.all([first.kill(), second?.kill()]);
      await h.close();
    }
  }, 60_000);

  it('share one retry budget: once it is spent, no worker retries and the job level delays the jobs', async () => {
    // Each job's first request is held until both are in flight: with one job at a time per worker,
    // the two requests come from the two processes.
    let inFlight = 0;
    let bothInFlight: () => void = () => {};
    const barrier = new Promise<void>((resolve) => {
      bothInFlight = resolve;
    });
    const llm: StepFunction = async (req) => {
      if (req.callNumber <= 2) {
        inFlight += 1;
        if (inFlight === 2) bothInFlight();
        await barrier;
      }
      return reply.status(503);
    };
    const h = await startHarness({
      redisUrl: redis.url,
      noWorker: true,
      llm,
      env: {
        WORKER_CONCURRENCY: '1',
        FLEET_RETRY_BUDGET_RATIO: '0',
        FLEET_RETRY_BUDGET_MIN_RETRIES: '2',
        FLEET_CIRCUIT_FAILURE_THRESHOLD: '1000',
      },
    });
    const workers = [spawnApp('worker', h.env), spawnApp('worker', h.env)];
    try {
      await h.queue.addBulk(
        ['budget-1', 'budget-2'].map((id) => ({
          name: 'issues.opened',
          data: h.jobData(id),
          opts: { jobId: id },
        })),
      );
      const records = async () => Promise.all(['budget-1', 'budget-2'].map((id) => h.tracker.read(id)));
      await waitUntil(
        async () => (await records()).every((r) => r.timeline.some((e) => e.kind === 'job_delayed')),
        20_000,
      );

      // Two first attempts and the fleet's two retries; two budgets of their own would have allowed six.
      expect(h.llm.requests).toHaveLength(4);
      const retries = (await records()).flatMap((r) => r.timeline.filter((e) => e.kind === 'retry'));
      expect(retries).toHaveLength(2);
      for (const record of await records()) {
        expect(record.timeline.find((e) => e.kind === 'job_delayed')?.reason).toMatch(/budget/);
        // Delayed until the upstream may be tried again: no requeue was spent on it.
        expect(record.timeline.filter((e) => e.kind === 'job_requeued')).toHaveLength(0);
      }
    } finally {
      await Promise.all(workers.map((worker) => worker.kill()));
      await h.close();
    }
  }, 60_000);

  it('keep working on their own state when Redis stops mid-run, and finish the job when it is back', async () => {
    const server = await startRedis({
      forcePrivate: true,
      args: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const model = triageModel();
    const llm: StepFunction = async (req) => {
      if (req.callNumber === 1) {
        await firstHeld;
        return reply.status(503);
      }
      return model(req);
    };
    const h = await startHarness({
      redisUrl: server.url,
      noWorker: true,
      llm,
      env: { WORKER_CONCURRENCY: '1' },
    });
    const worker = spawnApp('worker', { ...h.env, LOG_LEVEL: 'info' });
    try {
      await h.queue.add('issues.opened', h.jobData('outage-1'), { jobId: 'outage-1' });
      await h.llm.waitForRequests(1, { route: llmRoute, timeoutMs: 20_000 });

      await server.shutdown();
      releaseFirst();
      // The 503's retry needs the fleet's budget, cooldown and circuit: with Redis gone, this
      // process's own state answers and the retry goes out.
      await h.llm.waitForRequests(2, { route: llmRoute, timeoutMs: 20_000 });
      await worker.logged('Redis unavailable for the fleet');

      await server.start();
      await waitUntil(async () => (await h.queue.getJob('outage-1'))?.finishedOn !== undefined, 30_000);
      expect(await (await h.queue.getJob('outage-1'))?.getState()).toBe('completed');
      expect(h.botComments()).toHaveLength(1);
      expect(worker.exited()).toBe(false);
    } finally {
      await worker.kill();
      await h.close();
      await server.stop();
    }
  }, 90_000);

  it('take every call through the shared token buckets when RATE_LIMIT_<TARGET>_PER_SEC is set', async () => {
    const h = await startHarness({
      redisUrl: redis.url,
      env: { RATE_LIMIT_LLM_PER_SEC: '50', RATE_LIMIT_GITHUB_PER_SEC: '50', RATE_LIMIT_GITHUB_ADAPTIVE: '1' },
    });
    const client = new Redis(redis.url);
    try {
      const { completed } = await h.runJob(h.jobData('rate-1'));
      expect(completed).toBe(true);
      const prefix = h.config.queue.prefix;
      // The buckets live in Redis, one per upstream, where every worker takes its tokens.
      expect(await client.exists(`${prefix}:fleet:rate:llm`)).toBe(1);
      expect(await client.exists(`${prefix}:fleet:rate:github:installation:42`)).toBe(1);
    } finally {
      client.disconnect();
      await h.close();
    }
  }, 30_000);
});
