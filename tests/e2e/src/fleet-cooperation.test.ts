import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type RedisHandle, reply, type StepFunction, startRedis, triageModel } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { llmRoute, startHarness } from './harness.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

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

function spawnWorker(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'apps/worker/src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

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
    const workers = [spawnWorker(h.env), spawnWorker(h.env)];
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
      for (const worker of workers) worker.kill('SIGKILL');
      await h.close();
    }
  }, 60_000);
});
