import type { Cluster, Redis } from 'ioredis';

/**
 * Where completed side effects are remembered, by idempotency key, so that a job that runs again
 * (a requeue, a worker that died) gets the recorded result instead of acting twice.
 */
export interface ToolResultStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, result: string): Promise<void>;
}

export interface RedisToolResultStoreOptions {
  /** Key prefix, e.g. the queue prefix: keys are `<prefix>:tool-result:<idempotency key>`. */
  prefix: string;
  /** Long enough to outlive every rerun of a job (its requeues and its deadline). Default 7 days. In ms. */
  ttlMs?: number;
}

export const defaultToolResultTtlMs = 7 * 24 * 60 * 60 * 1000;

export class RedisToolResultStore implements ToolResultStore {
  private readonly redis: Redis | Cluster;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(redis: Redis | Cluster, options: RedisToolResultStoreOptions) {
    this.redis = redis;
    this.prefix = options.prefix;
    this.ttlMs = options.ttlMs ?? defaultToolResultTtlMs;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.key(key))) ?? undefined;
  }

  async set(key: string, result: string): Promise<void> {
    await this.redis.set(this.key(key), result, 'PX', this.ttlMs);
  }

  private key(key: string): string {
    return `${this.prefix}:tool-result:${key}`;
  }
}
