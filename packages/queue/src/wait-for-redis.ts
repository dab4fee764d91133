import { backoffDelayMs, formatSeconds, type Logger, sleep as realSleep, type Sleep } from '@runner/retry';
import { connectionReason, type RedisTarget, redisHost } from './redis-client.ts';
import { closeRedis, connectRedis, RedisUnreachableError } from './redis-connection.ts';

export interface WaitForRedisOptions {
  /** Stops waiting (a SIGTERM while Redis is still away): rejects with the signal's reason. */
  signal?: AbortSignal;
  sleep?: Sleep;
}

/** From 0.5 s, doubling, to 10 s between tries, with equal jitter so a restarted fleet does not knock in step. */
export const waitForRedisBackoff = {
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 'equal',
} as const;

/**
 * Resolves once Redis at `target` (one server, or a cluster's nodes) answers, trying again with backoff while it is away, and saying so in one
 * log line per try: a process started before its Redis (a compose stack, a node reboot) waits for it
 * instead of crashing or hanging silently.
 */
export async function waitForRedis(
  target: RedisTarget,
  logger: Logger,
  options: WaitForRedisOptions = {},
): Promise<void> {
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      await closeRedis(await connectRedis(target, logger, 'startup-probe'));
      if (attempt > 1)
        logger.info({ target: 'redis', attempt }, `Redis at ${redisHost(target)} answers; starting`);
      return;
    } catch (error) {
      if (!(error instanceof RedisUnreachableError)) throw error;
      const delayMs = backoffDelayMs(attempt - 1, waitForRedisBackoff);
      logger.warn(
        { target: 'redis', attempt, delayMs: Math.round(delayMs) },
        `Redis at ${redisHost(target)} does not answer (${connectionReason(error.cause)}); trying again in ${formatSeconds(delayMs)} (attempt ${attempt})`,
      );
      await sleep(delayMs, options.signal);
    }
  }
}
