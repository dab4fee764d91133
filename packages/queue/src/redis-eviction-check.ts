import type { Redis } from 'ioredis';

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
 * Refuses to go on unless Redis runs with `maxmemory-policy noeviction`. Reads `INFO memory`, which
 * managed services allow even where `CONFIG GET` is disabled.
 */
export async function assertNoEviction(redis: Pick<Redis, 'info'>): Promise<void> {
  const info = await redis.info('memory');
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy === undefined) {
    throw new Error('Could not read maxmemory_policy from Redis INFO memory; is this a Redis server?');
  }
  if (policy !== 'noeviction') throw new EvictionPolicyError(policy);
}
