import { once } from 'node:events';
import { Cluster, type Redis } from 'ioredis';

/** Raised at start-up when Redis may evict keys: BullMQ only warns, and an evicted key is a lost job. */
export class EvictionPolicyError extends Error {
  override name = 'EvictionPolicyError';
  readonly policy: string;
  constructor(policy: string) {
    super(
      `Redis runs with maxmemory-policy ${policy}, which may evict queue keys and lose jobs. BullMQ needs noeviction: ` +
        'run `redis-cli CONFIG SET maxmemory-policy noeviction` (and set it in redis.conf to keep it), ' +
        'or on a managed Redis set the parameter maxmemory-policy to noeviction.',
    );
    this.policy = policy;
  }
}

/**
 * Refuses to go on unless Redis runs with `maxmemory-policy noeviction`: on a cluster, every master
 * (each holds keys of its own, and `INFO` goes to one node only). Reads `INFO memory`, which managed
 * services allow even where `CONFIG GET` is disabled.
 */
export async function assertNoEviction(redis: Cluster | Pick<Redis, 'info'>): Promise<void> {
  const servers = redis instanceof Cluster ? await clusterMasters(redis) : [redis];
  await Promise.all(servers.map(checkServer));
}

/** A cluster knows its masters once it is ready (a server's commands would wait in its offline queue). */
async function clusterMasters(cluster: Cluster): Promise<Redis[]> {
  if (cluster.status !== 'ready') await once(cluster, 'ready');
  const masters = cluster.nodes('master');
  if (masters.length === 0) throw new Error('The Redis Cluster lists no master node; is it set up?');
  return masters;
}

async function checkServer(redis: Pick<Redis, 'info'>): Promise<void> {
  const info = await redis.info('memory');
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy === undefined) {
    throw new Error('Could not read maxmemory_policy from Redis INFO memory; is this a Redis server?');
  }
  if (policy !== 'noeviction') throw new EvictionPolicyError(policy);
}
