import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisClusterUnavailable, startRedisCluster } from './redis-cluster.ts';
import { probeRedis } from './redis-probe.ts';

const unavailable = await redisClusterUnavailable();
if (unavailable !== undefined) console.warn(`Skipping the Redis Cluster tests: ${unavailable}`);

describe('startRedisCluster', () => {
  it.skipIf(unavailable !== undefined)(
    'starts three masters that serve every slot, and stops them all',
    async () => {
      const cluster = await startRedisCluster();
      const client = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
      try {
        expect(cluster.nodes).toHaveLength(3);
        expect(cluster.nodeList).toBe(cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(','));
        const info = await client.cluster('INFO');
        expect(info).toMatch(/^cluster_state:ok\r?$/m);
        expect(info).toMatch(/^cluster_slots_assigned:16384\r?$/m);
        expect(client.nodes('master')).toHaveLength(3);
        // Keys of different slots live on different masters; a hash tag keeps keys together.
        const owners = new Set<string>();
        for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) {
          await client.set(key, key);
          const slot = await client.cluster('KEYSLOT', key);
          const node = client.slots[slot]?.[0];
          if (node !== undefined) owners.add(node);
        }
        expect(owners.size).toBeGreaterThan(1);
        await client.mset('{t}:a', '1', '{t}:b', '2');
        expect(await client.mget('{t}:a', '{t}:b')).toEqual(['1', '2']);
        await expect(client.mset('a', '1', 'b', '2')).rejects.toThrow(/CROSSSLOT/);
      } finally {
        client.disconnect();
        await cluster.stop();
      }
      for (const { host, port } of cluster.nodes) {
        expect((await probeRedis(host, port, 500)).ok, `node ${port} still answers`).toBe(false);
      }
    },
    30_000,
  );

  it('says how to get redis-cli when it is missing', async () => {
    expect(await redisClusterUnavailable('/nonexistent/redis-cli')).toMatch(
      /redis-cli was not found on PATH.*apt-get install -y redis-tools/,
    );
  });
});
