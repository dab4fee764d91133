import { randomUUID } from 'node:crypto';
import { type RedisHandle, startRedis } from '@runner/testkit';
import { createIntakeLogger, type RunningIntake, signBody, startIntake } from '@runner/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, issue, startHarness, webhookSecret } from './harness.ts';

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

function issuesOpened() {
  return JSON.stringify({
    action: 'opened',
    issue: {
      number: issue.number,
      title: 'Crash on start',
      body: '...',
      user: { login: 'octocat', type: 'User' },
    },
    repository: {
      name: issue.repo,
      full_name: `${issue.owner}/${issue.repo}`,
      owner: { login: issue.owner },
    },
    sender: { login: 'octocat', type: 'User' },
    installation: { id: 42 },
  });
}

async function deliver(body: string, deliveryId: string, signature = signBody(body, webhookSecret)) {
  return fetch(`${intake.url}/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': signature,
    },
    body,
  });
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
