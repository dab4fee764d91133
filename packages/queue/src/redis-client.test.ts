import { once } from 'node:events';
import { silentLogger } from '@runner/retry';
import {
  findFreePort,
  type RedisClusterHandle,
  redisClusterUnavailable,
  startRedis,
  startRedisCluster,
} from '@runner/testkit';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient, type RedisTarget, redisHost, redisMasters } from './redis-client.ts';
import { closeRedis, connectRedis, RedisUnreachableError } from './redis-connection.ts';
import { assertNoEviction, EvictionPolicyError } from './redis-eviction-check.ts';
import { waitForRedis } from './wait-for-redis.ts';

const nodes = [
  { host: '10.0.0.1', port: 7000 },
  { host: 'redis-2.internal', port: 7001 },
];

describe('createRedisClient', () => {
  it('makes a plain client from a URL, or from a config without cluster nodes', () => {
    for (const target of [
      'redis://127.0.0.1:1',
      { redisUrl: 'redis://127.0.0.1:1', redisClusterNodes: undefined },
    ]) {
      const client = createRedisClient(target, { lazyConnect: true, commandTimeout: 100 });
      expect(client).toBeInstanceOf(Redis);
      expect((client as Redis).options).toMatchObject({ port: 1, commandTimeout: 100 });
      client.disconnect();
    }
  });

  it("makes a Cluster from the nodes, with REDIS_URL's user, password and TLS on every node", () => {
    const client = createRedisClient(
      { redisUrl: 'rediss://runner:p%40ss@ignored-host:6380', redisClusterNodes: nodes },
      { lazyConnect: true, enableOfflineQueue: false, commandTimeout: 500, connectionName: 'intake' },
    );
    expect(client).toBeInstanceOf(Cluster);
    const { options } = client as Cluster;
    // Cluster-wide options at the top, the rest for each node's connection.
    expect(options).toMatchObject({ lazyConnect: true, enableOfflineQueue: false });
    expect(options.redisOptions).toEqual({
      username: 'runner',
      password: 'p@ss',
      tls: {},
      commandTimeout: 500,
      connectionName: 'intake',
    });
    // @ts-expect-error: ioredis keeps the startup nodes private; they are what REDIS_CLUSTER_NODES listed.
    expect((client as Cluster).startupNodes).toEqual(nodes);
    client.disconnect();
  });

  it('names the cluster by its nodes, never by the credentials', () => {
    expect(redisHost({ redisUrl: 'redis://:secret@host:6379', redisClusterNodes: nodes })).toBe(
      'the Redis Cluster at 10.0.0.1:7000,redis-2.internal:7001',
    );
    expect(redisHost('redis://:secret@host:6379')).toBe('host:6379');
  });
});

describe('connectRedis to a cluster nobody answers for', () => {
  it('says where and which variable to fix, without the password', async () => {
    const port = await findFreePort('127.0.0.1');
    const target = {
      redisUrl: 'redis://:hunter2@127.0.0.1:6379',
      redisClusterNodes: [{ host: '127.0.0.1', port }],
    };
    const error = await connectRedis(target, silentLogger, 'test').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnreachableError);
    const message = (error as Error).message;
    // ioredis tells a cluster's reason less precisely than a server's ("Connection is closed.").
    expect(message).toMatch(
      new RegExp(
        `^Cannot reach Redis at the Redis Cluster at 127\\.0\\.0\\.1:${port} \\(.+\\); start it .* or set REDIS_CLUSTER_NODES$`,
      ),
    );
    expect(message).not.toContain('hunter2');
  });
});

/**
 * Queues writes on an auto-pipelined client, closes it at once, and reads them back on a fresh client:
 * QUIT, sent at once, would overtake writes still queued for the next turn of the loop.
 */
async function expectQueuedWritesSentBeforeQuit(target: RedisTarget): Promise<void> {
  const client = createRedisClient(target, { enableAutoPipelining: true });
  const reader = createRedisClient(target);
  try {
    await client.ping();
    const keys = Array.from({ length: 20 }, (_, i) => `close-test:${Date.now()}:{${i}}`);
    const writes = keys.map((key) => client.set(key, 'kept', 'PX', 60_000));
    expect(client.autoPipelineQueueSize).toBe(keys.length);
    await closeRedis(client);
    expect(await Promise.all(writes)).toEqual(keys.map(() => 'OK'));
    for (const key of keys) expect(await reader.get(key)).toBe('kept');
  } finally {
    client.disconnect();
    await closeRedis(reader);
  }
}

describe('closeRedis', () => {
  it('sends the commands queued for auto-pipelining before it quits', async () => {
    const server = await startRedis();
    try {
      await expectQueuedWritesSentBeforeQuit(server.url);
    } finally {
      await server.stop();
    }
  });
});

const unavailable = await redisClusterUnavailable();
if (unavailable !== undefined) console.warn(`Skipping the queue's Redis Cluster tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('on a Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let target: { redisUrl: string; redisClusterNodes: Array<{ host: string; port: number }> };
  beforeAll(async () => {
    cluster = await startRedisCluster();
    target = { redisUrl: 'redis://127.0.0.1:6379', redisClusterNodes: [...cluster.nodes] };
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('waits for it, connects, and closes', async () => {
    await waitForRedis(target, silentLogger);
    const client = await connectRedis(target, silentLogger, 'test');
    expect(client).toBeInstanceOf(Cluster);
    expect(await client.ping()).toBe('PONG');
    expect(redisMasters(client)).toHaveLength(3);
    await closeRedis(client);
    // A cluster ends once every node's connection has closed, just after its QUIT is answered.
    if (client.status !== 'end') await once(client, 'end');
  });

  it('sends the commands queued for auto-pipelining on every node before it quits', async () => {
    await expectQueuedWritesSentBeforeQuit(target);
  });

  it('refuses it when any master may evict keys, since each holds keys of its own', async () => {
    const client = createRedisClient(target);
    try {
      await assertNoEviction(client);
      const last = redisMasters(client).at(-1);
      await last?.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await expect(assertNoEviction(client)).rejects.toBeInstanceOf(EvictionPolicyError);
      await last?.config('SET', 'maxmemory-policy', 'noeviction');
    } finally {
      await closeRedis(client);
    }
  });
});
