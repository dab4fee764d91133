import type { Cluster, Redis } from 'ioredis';
import type { RedisFallbackOptions } from './redis-fallback.ts';

/** What every Redis-backed primitive of the fleet is given. */
export interface FleetRedisOptions extends RedisFallbackOptions {
  /**
   * A client on the Redis the fleet shares. Best a dedicated one created with `enableOfflineQueue: false`,
   * `maxRetriesPerRequest: 1` and a `commandTimeout`, so that a dead Redis fails a command at once instead
   * of queueing it (the operation timeout bounds the wait either way).
   */
  redis: Redis | Cluster;
  /**
   * Start of every key, e.g. the queue prefix `{runner}`. Keys are `<prefix>:fleet:<kind>:<target>`, and
   * each script touches one key, so the layout works on a Redis Cluster; a hash tag in the prefix keeps
   * all of them in one slot beside the queue.
   */
  prefix: string;
}

/** The kinds of shared state, one key per target each. */
export type FleetStateKind = 'circuit' | 'cooldown' | 'budget' | 'rate';

/** `<prefix>:fleet:<kind>:<target>`, e.g. `{runner}:fleet:cooldown:github:installation:42`. */
export function fleetKey(prefix: string, kind: FleetStateKind, target: string): string {
  return `${prefix}:fleet:${kind}:${target}`;
}
