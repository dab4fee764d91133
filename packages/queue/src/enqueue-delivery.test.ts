import { createHash } from 'node:crypto';
import { type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentQueue } from './agent-queue.ts';
import { deliveryDedupeTtlMs, enqueueDelivery, validateJobData } from './enqueue-delivery.ts';
import { assertNoEviction, EvictionPolicyError } from './redis-eviction-check.ts';
import { exampleJobData } from './test-fixtures.ts';

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

const data = (deliveryId: string) => exampleJobData(deliveryId);
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('enqueueDelivery', () => {
  it('adds one job per delivery, with the delivery id as job id, and refuses redeliveries and replays', async () => {
    const prefix = uniquePrefix('enqueue');
    const queue = createAgentQueue({ connection: { url: server.url }, prefix });
    try {
      const first = await enqueueDelivery({
        queue,
        redis,
        prefix,
        data: data('d-1'),
        bodyDigest: sha('body-1'),
      });
      const again = await enqueueDelivery({
        queue,
        redis,
        prefix,
        data: data('d-1'),
        bodyDigest: sha('body-1'),
      });
      const replayed = await enqueueDelivery({
        queue,
        redis,
        prefix,
        data: data('d-2'),
        bodyDigest: sha('body-1'),
      });
      expect([first.outcome, again.outcome, replayed.outcome]).toEqual([
        'enqueued',
        'duplicate',
        'duplicate',
      ]);
      expect((await queue.getJob('d-1'))?.data.deliveryId).toBe('d-1');
      expect(await queue.getJob('d-2')).toBeUndefined();
      expect(await queue.count()).toBe(1);
      const ttl = await redis.pttl(`${prefix}:delivery:d-1`);
      expect(ttl).toBeGreaterThan(deliveryDedupeTtlMs - 60_000);
    } finally {
      await queue.close();
    }
  });

  it('stores nothing, and leaves no mark, for data that does not fit the job schema', async () => {
    const prefix = uniquePrefix('enqueue');
    const queue = createAgentQueue({ connection: { url: server.url }, prefix });
    try {
      const bad = { ...data('d-bad'), installationId: -1 };
      await expect(
        enqueueDelivery({ queue, redis, prefix, data: bad, bodyDigest: sha('x') }),
      ).rejects.toThrow(/installationId/);
      expect(await redis.exists(`${prefix}:delivery:d-bad`)).toBe(0);
    } finally {
      await queue.close();
    }
  });

  it('takes data checked by validateJobData as it is, frozen, and refuses what it rejects', async () => {
    const prefix = uniquePrefix('enqueue');
    const queue = createAgentQueue({ connection: { url: server.url }, prefix });
    try {
      const parsed = validateJobData(data('d-valid'));
      if (!parsed.ok) throw new Error(parsed.problems.join('; '));
      expect(Object.isFrozen(parsed.data) && Object.isFrozen(parsed.data.repository)).toBe(true);
      const result = await enqueueDelivery({ queue, redis, prefix, data: parsed.data, bodyDigest: sha('v') });
      expect(result).toEqual({ outcome: 'enqueued', jobId: 'd-valid' });
      expect((await queue.getJob('d-valid'))?.data).toEqual(parsed.data);
      expect(validateJobData({ ...data('d-bad'), installationId: -1 })).toMatchObject({ ok: false });
    } finally {
      await queue.close();
    }
  });

  it('still dedupes after Redis has forgotten its scripts (a restart, SCRIPT FLUSH)', async () => {
    const own = await startRedis({ forcePrivate: true });
    const client = new Redis(own.url);
    const prefix = uniquePrefix('enqueue');
    const queue = createAgentQueue({ connection: { url: own.url }, prefix });
    try {
      const enqueue = (id: string) =>
        enqueueDelivery({ queue, redis: client, prefix, data: data(id), bodyDigest: sha(id) });
      await enqueue('d-4');
      await client.script('FLUSH');
      expect([(await enqueue('d-4')).outcome, (await enqueue('d-5')).outcome]).toEqual([
        'duplicate',
        'enqueued',
      ]);
      expect(await client.pttl(`${prefix}:delivery:d-5`)).toBeGreaterThan(deliveryDedupeTtlMs - 60_000);
    } finally {
      await queue.close();
      client.disconnect();
      await own.stop();
    }
  });

  it('lets the redelivery through when Redis ran the mark after the intake had given up on it', async () => {
    const prefix = uniquePrefix('enqueue');
    const queue = createAgentQueue({ connection: { url: server.url }, prefix });
    // The intake's fail-fast client gives up on a command Redis holds; Redis still runs it later.
    const impatient = new Redis(server.url, { commandTimeout: 200 });
    const admin = new Redis(server.url);
    try {
      const delivery = () => ({ queue, prefix, data: data('d-6'), bodyDigest: sha('body-6') });
      await impatient.ping();
      await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
      await expect(enqueueDelivery({ ...delivery(), redis: impatient })).rejects.toThrow(/timed out/);
      // Held behind the pause, after the mark: Redis resumes held commands in the order they came.
      await admin.ping();
      expect(await redis.exists(`${prefix}:delivery:d-6`)).toBe(1);

      expect(await enqueueDelivery({ ...delivery(), redis })).toEqual({ outcome: 'enqueued', jobId: 'd-6' });
      expect((await queue.getJob('d-6'))?.data.deliveryId).toBe('d-6');
      expect((await enqueueDelivery({ ...delivery(), redis })).outcome).toBe('duplicate');
    } finally {
      impatient.disconnect();
      admin.disconnect();
      await queue.close();
    }
  });

  it('lets a redelivery through as a new job once ops removed the first one', async () => {
    const prefix = uniquePrefix('enqueue');
    const queue = createAgentQueue({ connection: { url: server.url }, prefix });
    try {
      const delivery = { queue, redis, prefix, data: data('d-10'), bodyDigest: sha('body-10') };
      expect((await enqueueDelivery(delivery)).outcome).toBe('enqueued');
      expect((await enqueueDelivery(delivery)).outcome).toBe('duplicate');
      await queue.remove('d-10');
      expect(await enqueueDelivery(delivery)).toEqual({ outcome: 'enqueued', jobId: 'd-10' });
      expect((await queue.getJob('d-10'))?.data.deliveryId).toBe('d-10');
    } finally {
      await queue.close();
    }
  });

  it('reads the pending marks an older intake left as their delivery id', async () => {
    const prefix = uniquePrefix('enqueue');
    const queue = createAgentQueue({ connection: { url: server.url }, prefix });
    try {
      await redis.set(`${prefix}:delivery:d-11`, 'pending:d-11', 'PX', 60_000);
      await redis.set(`${prefix}:delivery-body:${sha('body-11')}`, 'pending:d-11', 'PX', 60_000);
      const replay = { queue, redis, prefix, data: data('d-12'), bodyDigest: sha('body-11') };
      expect(await enqueueDelivery(replay)).toEqual({ outcome: 'duplicate', jobId: 'd-11' });
      // Its own redelivery, with no job stored behind the mark: let through.
      const redelivery = { queue, redis, prefix, data: data('d-11'), bodyDigest: sha('body-11') };
      expect(await enqueueDelivery(redelivery)).toEqual({ outcome: 'enqueued', jobId: 'd-11' });
    } finally {
      await queue.close();
    }
  });

  it('removes its marks when the job could not be added, so GitHub’s redelivery gets through', async () => {
    const prefix = uniquePrefix('enqueue');
    const queue = createAgentQueue({ connection: { url: server.url }, prefix });
    await queue.close();
    await expect(
      enqueueDelivery({ queue, redis, prefix, data: data('d-3'), bodyDigest: sha('body-3') }),
    ).rejects.toThrow();
    expect(await redis.exists(`${prefix}:delivery:d-3`, `${prefix}:delivery-body:${sha('body-3')}`)).toBe(0);
  });
});

describe('assertNoEviction', () => {
  it('accepts noeviction and refuses any other policy, saying how to fix it', async () => {
    await expect(assertNoEviction(redis)).resolves.toBeUndefined();
    const evicting = await startRedis({ forcePrivate: true, args: ['--maxmemory-policy', 'allkeys-lru'] });
    const client = new Redis(evicting.url);
    try {
      const error = await assertNoEviction(client).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EvictionPolicyError);
      expect((error as Error).message).toContain('maxmemory-policy allkeys-lru');
      expect((error as Error).message).toContain('CONFIG SET maxmemory-policy noeviction');
    } finally {
      client.disconnect();
      await evicting.stop();
    }
  });
});
