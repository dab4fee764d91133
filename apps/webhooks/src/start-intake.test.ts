import { performance } from 'node:perf_hooks';
import { loadConfig } from '@runner/config';
import {
  type AgentQueue,
  closeRedis,
  connectRedis,
  createAgentQueue,
  EvictionPolicyError,
  type RedisClient,
  RedisUnreachableError,
} from '@runner/queue';
import { findFreePort, type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningIntake, startIntake } from './start-intake.ts';
import { captureLogger, deleteKeys, issuesPayload, postWebhook, testConfig, within } from './test-helpers.ts';

describe('startIntake wired to the real queue', () => {
  let redis: RedisHandle;
  let prefix: string;
  let intake: RunningIntake;
  let queue: AgentQueue;

  beforeAll(async () => {
    redis = await startRedis();
    prefix = uniquePrefix('webhooks');
    intake = await startIntake(testConfig(redis.url, prefix), captureLogger().logger, { host: '127.0.0.1' });
    // An observer with its own connection: what a worker would see.
    queue = createAgentQueue({ connection: { url: redis.url }, prefix });
  });

  afterAll(async () => {
    await intake?.close();
    await queue?.close();
    if (redis !== undefined && prefix !== undefined) await deleteKeys(redis.url, prefix);
    await redis?.stop();
  });

  it('stores one job for a delivery sent three times: 202, then 200 duplicate twice', async () => {
    const payload = issuesPayload();
    const statuses: number[] = [];
    const bodies: unknown[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await postWebhook(intake.url, payload, { deliveryId: 'delivery-thrice' });
      statuses.push(response.status);
      bodies.push(response.body);
    }

    expect(statuses).toEqual([202, 200, 200]);
    expect(bodies).toEqual([
      { jobId: 'delivery-thrice' },
      { duplicate: true, jobId: 'delivery-thrice' },
      { duplicate: true, jobId: 'delivery-thrice' },
    ]);
    const job = await queue.getJob('delivery-thrice');
    expect(job?.name).toBe('issues.opened');
    expect(job?.data).toMatchObject({
      deliveryId: 'delivery-thrice',
      event: 'issues.opened',
      issueNumber: 7,
    });
    expect(await queue.getJobCounts('waiting', 'delayed', 'active')).toMatchObject({
      waiting: 1,
      delayed: 0,
      active: 0,
    });
  });

  it('answers 200 duplicate to the same body under a new delivery id (a replay), and stores no job', async () => {
    const payload = issuesPayload({ issue: { number: 99 } });
    const first = await postWebhook(intake.url, payload, { deliveryId: 'delivery-original' });
    const replay = await postWebhook(intake.url, payload, { deliveryId: 'delivery-replayed' });

    expect(first.status).toBe(202);
    expect(replay).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(await queue.getJob('delivery-replayed')).toBeUndefined();
    expect(await queue.getJob('delivery-original')).toBeDefined();
  });

  it('stores one job for deliveries that arrive together: the same id five times, the same body under five ids', async () => {
    const payload = issuesPayload({ issue: { number: 123 } });
    const sameId = Array.from({ length: 5 }, () =>
      postWebhook(intake.url, issuesPayload({ issue: { number: 124 } }), { deliveryId: 'delivery-together' }),
    );
    const sameBody = Array.from({ length: 5 }, (_, i) =>
      postWebhook(intake.url, payload, { deliveryId: `delivery-body-${i}` }),
    );
    const statuses = async (responses: Array<Promise<{ status: number }>>) =>
      (await Promise.all(responses)).map((r) => r.status).sort();

    // The same id: each answer is a 2xx for the one job, 202 from those that added it (BullMQ keeps one
    // job per id) and 200 duplicate from those that found it stored. A 2xx only once the job is stored.
    const sameIdStatuses = await statuses(sameId);
    expect(sameIdStatuses.every((status) => status === 200 || status === 202)).toBe(true);
    expect(sameIdStatuses).toContain(202);
    expect(await queue.getJob('delivery-together')).toBeDefined();
    expect(await statuses(sameBody)).toEqual([200, 200, 200, 200, 202]);
    const stored = await Promise.all(Array.from({ length: 5 }, (_, i) => queue.getJob(`delivery-body-${i}`)));
    expect(stored.filter((job) => job !== undefined)).toHaveLength(1);
  });

  it('is healthy and ready', async () => {
    expect((await fetch(`${intake.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${intake.url}/readyz`)).status).toBe(200);
  });
});

describe('startIntake when Redis goes away', () => {
  const log = captureLogger();
  let redis: RedisHandle;
  let intake: RunningIntake;
  let probe: { client: RedisClient; queue: AgentQueue } | undefined;

  beforeAll(async () => {
    // Private: this describe stops it.
    redis = await startRedis({ forcePrivate: true });
    const prefix = uniquePrefix('webhooks-down');
    intake = await startIntake(testConfig(redis.url, prefix), log.logger, { host: '127.0.0.1' });
    const client = await connectRedis(redis.url, captureLogger().logger, 'probe');
    probe = { client, queue: createAgentQueue({ connection: client, prefix }) };
  });

  afterAll(async () => {
    await intake?.close();
    await probe?.queue.close();
    if (probe !== undefined) await closeRedis(probe.client);
    await redis?.stop();
  });

  it('answers 503 at once, is not ready, and stays healthy', async () => {
    const before = await postWebhook(intake.url, issuesPayload(), { deliveryId: 'delivery-before' });
    expect(before.status).toBe(202);

    await redis.stop();

    const started = performance.now();
    const during = await postWebhook(intake.url, issuesPayload({ issue: { number: 2 } }), {
      deliveryId: 'delivery-during',
    });
    const elapsedMs = performance.now() - started;
    expect(during).toMatchObject({ status: 503, body: { error: 'queue unavailable, retry later' } });
    expect(elapsedMs).toBeLessThan(3_000);
    expect((await fetch(`${intake.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${intake.url}/healthz`)).status).toBe(200);
    // Once per client and outage, not once per reconnect attempt.
    expect(log.lines.filter((line) => String(line.msg).startsWith('Redis connection lost'))).toHaveLength(2);
  });

  it('fails queue.add at once instead of waiting for Redis to come back', async () => {
    await redis.stop();
    const job = { deliveryId: 'x' } as Parameters<AgentQueue['add']>[1];
    // Without enableOfflineQueue: false, ioredis queues the command until Redis returns (BullMQ's default).
    await expect(
      within(1_000, 'queue.add with Redis down', probe!.queue.add('issues.opened', job)),
    ).rejects.toThrow(/enableOfflineQueue/);
  });

  it('closes promptly with Redis down', async () => {
    await redis.stop();
    await within(3_000, 'intake.close with Redis down', intake.close());
    expect(intake.server.listening).toBe(false);
  });
});

describe('startIntake started before its Redis (waitForRedis)', () => {
  it('listens at once, answers 503 and is not ready while Redis is away, and works once it is up', async () => {
    const redis = await startRedis({ forcePrivate: true });
    await redis.shutdown();
    const log = captureLogger();
    const intake = await startIntake(testConfig(redis.url, uniquePrefix('late')), log.logger, {
      host: '127.0.0.1',
      waitForRedis: true,
    });
    try {
      expect((await fetch(`${intake.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${intake.url}/readyz`)).status).toBe(503);
      const early = await postWebhook(intake.url, issuesPayload(), { deliveryId: 'delivery-early' });
      expect(early).toMatchObject({ status: 503, body: { error: 'queue unavailable, retry later' } });
      expect(log.text()).toContain(`Redis at 127.0.0.1:${redis.port} does not answer (ECONNREFUSED)`);

      await redis.start();
      await within(15_000, 'intake.ready once Redis is up', intake.ready);
      expect((await fetch(`${intake.url}/readyz`)).status).toBe(200);
      const later = await postWebhook(intake.url, issuesPayload(), { deliveryId: 'delivery-early' });
      // GitHub's redelivery of the refused delivery is taken: the 503 left no dedupe mark behind.
      expect(later.status).toBe(202);
    } finally {
      await intake.close();
      await redis.stop();
    }
  });

  it('closes promptly while still waiting', async () => {
    const port = await findFreePort('127.0.0.1');
    const intake = await startIntake(testConfig(`redis://127.0.0.1:${port}`, 'p'), captureLogger().logger, {
      host: '127.0.0.1',
      waitForRedis: true,
    });
    await within(3_000, 'intake.close while waiting for Redis', intake.close());
    await expect(intake.ready).rejects.toThrow();
    expect(intake.server.listening).toBe(false);
  });
});

describe('startIntake refuses to start', () => {
  it('when Redis may evict keys', async () => {
    const redis = await startRedis({ forcePrivate: true, args: ['--maxmemory-policy', 'allkeys-lru'] });
    try {
      await expect(
        startIntake(testConfig(redis.url, uniquePrefix('evict')), captureLogger().logger),
      ).rejects.toThrow(EvictionPolicyError);
    } finally {
      await redis.stop();
    }
  });

  it('when Redis cannot be reached, saying where and why', async () => {
    const port = await findFreePort('127.0.0.1');
    const error = await startIntake(
      testConfig(`redis://:hunter2@127.0.0.1:${port}`, 'p'),
      captureLogger().logger,
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisUnreachableError);
    expect((error as Error).message).toContain(`127.0.0.1:${port} (connect ECONNREFUSED`);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('when the config was loaded without the webhooks need', async () => {
    const config = loadConfig({});
    await expect(startIntake(config, captureLogger().logger)).rejects.toThrow(/GITHUB_WEBHOOK_SECRET/);
  });
});
