import { randomUUID } from 'node:crypto';
import { type RedisHandle, startRedis } from '@runner/testkit';
import { createIntakeLogger, type RunningIntake, signBody, startIntake } from '@runner/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver as deliverTo, issuesOpenedBody } from './deliveries.ts';
import { type Harness, startHarness, webhookSecret } from './harness.ts';

let redis: RedisHandle;
let harness: Harness;
let intake: RunningIntake;
beforeAll(async () => {
  redis = await startRedis();
  harness = await startHarness({ redisUrl: redis.url, env: { WEBHOOKS_PORT: '0' } });
  intake = await startIntake(harness.config, createIntakeLogger('silent'), { host: '127.0.0.1' });
});
afterAll(async () => {
  await intake.close();
  await harness.close();
  await redis.stop();
});

function issuesOpened(): string {
  return issuesOpenedBody();
}

async function deliver(body: string, deliveryId: string, signature = signBody(body, webhookSecret)) {
  return deliverTo(intake.url, body, webhookSecret, { deliveryId, signature });
}

describe('webhook in, comment out', () => {
  it('turns a signed issues.opened delivery, sent three times, into one job and exactly one comment', async () => {
    const deliveryId = randomUUID();
    const body = issuesOpened();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await deliver(body, deliveryId)).status);
    expect(statuses).toEqual([202, 200, 200]);

    const { completed } = await harness.waitForJob(deliveryId);
    expect(completed).toBe(true);
    expect(harness.botComments()).toHaveLength(1);
    expect(await harness.queue.getJobCounts('completed', 'wait', 'delayed', 'active')).toEqual({
      completed: 1,
      wait: 0,
      delayed: 0,
      active: 0,
    });
  });

  it('enqueues nothing for a forged signature', async () => {
    const allJobs = async () =>
      Object.values(await harness.queue.getJobCounts()).reduce((sum, count) => sum + count, 0);
    const before = await allJobs();
    const response = await deliver(issuesOpened(), randomUUID(), signBody('{"other": true}', webhookSecret));
    expect(response.status).toBe(401);
    expect(await allJobs()).toBe(before);
    expect(before).toBeGreaterThan(0);
  });
});
