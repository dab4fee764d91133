import { type Logger, sleep } from '@runner/retry';
import type { RedisOptions } from 'ioredis';
import {
  connectionFailures,
  createRedisClient,
  type RedisClient,
  type RedisTarget,
  redisHost,
  redisTargetVariable,
} from './redis-client.ts';

/**
 * ioredis options for clients that someone waits on (the intake answering GitHub within its 10 s webhook
 * timeout, the ops server answering a person or Prometheus): a Redis outage must fail a command at once
 * (→ 503), never queue it until Redis returns. ioredis's defaults (offline queue on, 20 retries per
 * request) held a `queue.add` for well over 15 s. BullMQ asks for `maxRetriesPerRequest: null` only on the
 * blocking connections of a Worker; a Queue may fail fast, as its "Failing fast when Redis is down"
 * pattern shows.
 */
export const failFastRedisOptions = {
  /** Commands sent while disconnected fail at once instead of waiting for a reconnect. */
  enableOfflineQueue: false,
  /** A command in flight when the connection drops fails after one reconnect attempt. */
  maxRetriesPerRequest: 1,
  /** A command with no answer (a Redis that hangs, a dropped network) fails after this, in ms. */
  commandTimeout: 2_000,
  /** How long one connection attempt may take, in ms (ioredis: 10 s). */
  connectTimeout: 5_000,
  /** `connectRedis` connects, so start-up can wait for it and fail with the reason. */
  lazyConnect: true,
} as const satisfies RedisOptions;

/** Start-up could not reach Redis. The message says where and why, without credentials. */
export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
  readonly code = 'redis_unreachable';

  /** `variable` is the setting that says where Redis is: REDIS_URL, or REDIS_CLUSTER_NODES. */
  constructor(where: string, cause: unknown, variable = 'REDIS_URL') {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `Cannot reach Redis at ${where} (${reason}); start it (docker compose up -d redis) or set ${variable}`,
      { cause },
    );
  }
}

// Clients being closed by us: their 'close' is a shutdown, not an outage.
const closedByUs = new WeakSet<RedisClient>();

/**
 * A connected ioredis client (a `Cluster` when the target lists cluster nodes) with
 * {@link failFastRedisOptions} (and `options`, e.g. `enableAutoPipelining`). Logs an outage once when
 * the connection drops (ioredis reports every failed reconnect attempt as an error) and once when it is
 * back.
 * @throws RedisUnreachableError when the first connection fails; the client is then disconnected.
 */
export async function connectRedis(
  target: RedisTarget,
  logger: Logger,
  name: string,
  options: RedisOptions = {},
): Promise<RedisClient> {
  const redis = createRedisClient(target, { ...failFastRedisOptions, ...options, connectionName: name });
  const fields = { target: 'redis', client: name };
  const failure = connectionFailures(redis);
  let connected = false;
  let down = false;
  redis.on('close', () => {
    if (!connected || down || closedByUs.has(redis)) return;
    down = true;
    logger.warn(fields, `Redis connection lost (${name}); reconnecting, answering 503 meanwhile`);
  });
  redis.on('ready', () => {
    connected = true;
    if (!down) return;
    down = false;
    logger.info(fields, `Redis connection back (${name})`);
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    // ioredis rejects with "Connection is closed."; the 'error' event had the reason (ECONNREFUSED, ...).
    throw new RedisUnreachableError(redisHost(target), failure() ?? error, redisTargetVariable(target));
  }
  return redis;
}

/** How long {@link closeRedis} waits for commands queued for auto-pipelining to go out. In ms. */
export const autoPipelineFlushMs = 1_000;

/**
 * QUIT, or just drop the socket when Redis is unreachable (QUIT would fail, not wait). Commands still
 * queued for auto-pipelining (sent in a later turn of the loop) go out first: QUIT is sent at once, and
 * would overtake them.
 */
export async function closeRedis(redis: RedisClient): Promise<void> {
  closedByUs.add(redis);
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  const flushBy = Date.now() + autoPipelineFlushMs;
  while (redis.autoPipelineQueueSize > 0 && Date.now() < flushBy) {
    // ioredis has no event for it; the queue goes out in the next check phase, or once the pipeline in
    // flight is answered.
    await sleep(1);
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
