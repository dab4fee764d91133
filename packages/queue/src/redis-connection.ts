import type { Logger } from '@runner/retry';
import { Redis, type RedisOptions } from 'ioredis';

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

  constructor(where: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `Cannot reach Redis at ${where} (${reason}); start it (docker compose up -d redis) or set REDIS_URL`,
      {
        cause,
      },
    );
  }
}

/** `host:port` of a Redis URL: where to look, without the password a URL may carry. */
export function redisHost(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return 'the configured REDIS_URL';
  }
}

// Clients being closed by us: their 'close' is a shutdown, not an outage.
const closedByUs = new WeakSet<Redis>();

/**
 * A connected ioredis client with {@link failFastRedisOptions} (and `options`, e.g. `enableAutoPipelining`).
 * Logs an outage once when the connection drops (ioredis reports every failed reconnect attempt as an
 * error) and once when it is back.
 * @throws RedisUnreachableError when the first connection fails; the client is then disconnected.
 */
export async function connectRedis(
  url: string,
  logger: Logger,
  name: string,
  options: RedisOptions = {},
): Promise<Redis> {
  const redis = new Redis(url, { ...failFastRedisOptions, ...options, connectionName: name });
  const fields = { target: 'redis', client: name };
  let lastError: unknown;
  let connected = false;
  let down = false;
  redis.on('error', (error: unknown) => {
    lastError = error;
  });
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
    throw new RedisUnreachableError(redisHost(url), lastError ?? error);
  }
  return redis;
}

/** QUIT, or just drop the socket when Redis is unreachable (QUIT would fail, not wait). */
export async function closeRedis(redis: Redis): Promise<void> {
  closedByUs.add(redis);
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
