import {
  connectionFailures,
  connectionReason,
  createRedisClient,
  type RedisClient,
  type RedisTarget,
  redisHost,
  redisTargetVariable,
} from '@runner/queue';
import { withTimeout } from '@runner/retry';
import type { RedisOptions } from 'ioredis';
import { CliError } from './cli-errors.ts';

/**
 * ioredis options for the CLI. A person waits on every command, so a Redis that is down must fail at
 * once with its reason, never hang: ioredis's defaults queue commands while offline and retry each 20
 * times. BullMQ asks for `maxRetriesPerRequest: null` only on a Worker's blocking connections; a Queue
 * may fail fast.
 */
export const cliRedisOptions = {
  /** `connectRedis` connects itself, so the first failure is seen and reported with its reason. */
  lazyConnect: true,
  /** Commands sent while disconnected fail at once instead of waiting for a reconnect. */
  enableOfflineQueue: false,
  /** A command in flight when the connection drops fails after one reconnect attempt. */
  maxRetriesPerRequest: 1,
  /** One TCP connection attempt may take this long, in ms (ioredis: 10 s). */
  connectTimeout: 3_000,
  /** A command with no answer (a hung Redis, a dropped network) fails after this, in ms. */
  commandTimeout: 10_000,
} as const satisfies RedisOptions;

export const defaultConnectRedisOptions = {
  /** The whole connection (TCP, AUTH, ready check) must be up within this, in ms. */
  timeoutMs: 3_000,
} as const;

/** The CLI could not reach Redis. Its message is the one line shown; it never holds a password. */
export class RedisUnreachableError extends CliError {
  override name = 'RedisUnreachableError';

  constructor(target: RedisTarget, reason: string, options?: ErrorOptions) {
    super(
      `cannot reach Redis at ${redactRedisTarget(target)} (${reason}); is it running? Set ${redisTargetVariable(target)}.`,
      options,
    );
  }
}

/** The URL to show people: credentials dropped, since `REDIS_URL` may carry a password. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const path = parsed.pathname === '/' ? '' : parsed.pathname;
    return `${parsed.protocol}//${parsed.host}${path}`;
  } catch {
    return 'the configured REDIS_URL';
  }
}

/** Where Redis is, for people: the URL without credentials, or the cluster's nodes. */
export function redactRedisTarget(target: RedisTarget): string {
  if (typeof target === 'string') return redactRedisUrl(target);
  return redisTargetVariable(target) === 'REDIS_CLUSTER_NODES'
    ? redisHost(target)
    : redactRedisUrl(target.redisUrl);
}

/**
 * A connected ioredis client with {@link cliRedisOptions} (a `Cluster` when the target lists cluster
 * nodes), or a clear failure within `timeoutMs`.
 * @throws RedisUnreachableError when the connection fails or takes too long; the client is dropped.
 */
export async function connectRedis(
  target: RedisTarget,
  options: { timeoutMs?: number; name?: string } = {},
): Promise<RedisClient> {
  const timeoutMs = options.timeoutMs ?? defaultConnectRedisOptions.timeoutMs;
  const redis = createRedisClient(target, {
    ...cliRedisOptions,
    connectionName: options.name ?? 'runner-ops',
  });
  // Without a listener ioredis prints every failed reconnect attempt; the reason is kept for the report.
  const failure = connectionFailures(redis);
  try {
    await withTimeout(
      redis.connect(),
      timeoutMs,
      () => new Error(`no answer within ${(timeoutMs / 1000).toFixed(1)}s`),
    );
  } catch (error) {
    redis.disconnect();
    // ioredis rejects with "Connection is closed."; the 'error' event had the reason (ECONNREFUSED, ...).
    const why = failure() ?? error;
    throw new RedisUnreachableError(target, connectionReason(why), { cause: why });
  }
  return redis;
}
