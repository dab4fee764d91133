import { type RedisHandle, startRedis } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPoisonJobs } from './chaos/poison-jobs.ts';
import { type RedisRestartFigures, runRedisRestart } from './chaos/redis-restart.ts';
import { intakeAnswerBoundMs, runSlowRedis, type SlowRedisFigures } from './chaos/slow-redis.ts';
import { runUpstreamChaos } from './chaos/upstream-chaos.ts';
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
    const refused = Object.values(figures.refused).reduce((sum, count) => sum + count, 0);
    expect(figures.redeliveredAcknowledged).toBe(refused);
    expect(figures).toMatchObject({
      acknowledged: 60,
      completed: 60,
      lost: 0,
      duplicateComments: 0,
    });
  }, 120_000);

  it('fails poison jobs with a clear reason after bounded work, and runs the good ones around them', async () => {
    const figures = await runPoisonJobs({ redis, goodJobs: 10, settleTimeoutMs: 30_000 });
    expect(figures.goodCompleted).toBe(figures.goodJobs);
    expect(figures.poison['invalid data']).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/^Invalid job data: /),
    });
    expect(figures.poison['looping model']).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/no final answer within 4 turns/),
    });
    // Bounded: AGENT_MAX_TURNS calls, and no requeue to do it again.
    expect(figures.loopingLlmCalls).toBe(4);
    // Garbage from the model goes back to it as tool errors; the run still ends with its answer.
    expect(figures.poison['garbage tool calls']).toMatchObject({ state: 'completed' });
  }, 120_000);

  it('ends every job completed or dead-lettered with its reason when 20 % of upstream calls fail', async () => {
    const figures = await runUpstreamChaos({
      redis,
      jobs: 20,
      faultRate: 0.2,
      workers: 2,
      settleTimeoutMs: 90_000,
    });
    expect(figures.faultsInjected).toBeGreaterThan(10);
    expect(figures).toMatchObject({ unfinished: 0, deadLetteredWithoutReason: 0, duplicateComments: 0 });
    expect(figures.completed + figures.deadLettered).toBe(figures.jobs);
  }, 150_000);

  it('answers 503 while Redis is killed and restarted, reconnects by itself, and loses no acknowledged delivery', async () => {
    const figures = await runRedisRestart({
      deliveries: 50,
      deliveriesPerSec: 10,
      workers: 2,
      signal: 'SIGKILL',
      appendfsync: 'always',
      downAfterMs: 1_500,
      downForMs: 2_000,
      settleTimeoutMs: 60_000,
    });
    expectOutageRidden(figures, 50);
  }, 120_000);

  it('answers every delivery within 9 s while Redis is paused, and completes every acknowledged one', async () => {
    const figures = await runSlowRedis({
      deliveries: 100,
      deliveriesPerSec: 10,
      workers: 2,
      pauseAfterMs: 1_000,
      pauseMs: 8_000,
      settleTimeoutMs: 60_000,
    });
    expect(figures.maxLatencyMs).toBeLessThanOrEqual(intakeAnswerBoundMs);
    expect(figures.overBound).toBe(0);
    expect(figures.sentAfterPause).toBeGreaterThan(0);
    expect(figures.acknowledgedAfterPause).toBe(figures.sentAfterPause);
    expectOutageRidden(figures, 100);
  }, 120_000);
});

/**
 * Redis's trouble was seen (503s), nothing else went wrong: every delivery acknowledged in the end (the
 * refused ones on redelivery), every job completed, no comment twice, no app process gone.
 */
function expectOutageRidden(figures: RedisRestartFigures | SlowRedisFigures, deliveries: number): void {
  expect(figures.refused).toBeGreaterThan(0);
  expect(figures.redeliveredAcknowledged).toBe(figures.redelivered);
  expect(figures).toMatchObject({
    acknowledged: deliveries,
    otherAnswers: 0,
    completed: deliveries,
    lost: 0,
    duplicateComments: 0,
    appExits: 0,
  });
}
