// The runner's LLM client as `apps/worker` wires it (a FleetGuard on the Redis cooldown and retry budget
// of target `llm`, a circuit breaker on the Redis circuit store), plus the shared rate limiter that the
// worker does not wire yet. Benchmarks 2 and 3 call the upstream through it.
import { RedisCircuitStore, RedisCooldownStore, RedisRateLimiter, RedisRetryBudget } from '@runner/fleet';
import { LlmClient } from '@runner/llm';
import { CircuitBreaker, FleetGuard, type Random, type RetryPolicy } from '@runner/retry';
import { Redis } from 'ioredis';

export interface RunnerLlmOptions {
  redisUrl: string;
  /** The fleet's key prefix: one per run, so that no state carries over. */
  prefix: string;
  baseUrl: string;
  policy: RetryPolicy;
  /**
   * The shared rate limit: adaptive (AIMD and `Retry-After` fed in) from `ratePerSec`, which is the known
   * quota (`RATE_LIMIT_LLM_PER_SEC`).
   */
  rateLimit?: { ratePerSec: number; burst: number };
  /** The breaker's cool-down: how long the circuit stays open before one probe goes through. In ms. */
  probeIntervalMs?: number;
  /** The retry budget's window, and so how long a job refused by it is delayed. Default 10 000 ms. In ms. */
  retryBudgetWindowMs?: number;
  random: Random;
  fetch: typeof fetch;
}

export interface RunnerLlm {
  llm: LlmClient;
  close(): void;
}

export function createRunnerLlm(options: RunnerLlmOptions): RunnerLlm {
  // As start-worker.ts: the fleet's client fails fast, so a slow Redis never holds a call up.
  const redis = new Redis(options.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
  });
  redis.on('error', () => {});
  const fleetOptions = { redis, prefix: options.prefix };
  const fleet = new FleetGuard({
    cooldowns: new RedisCooldownStore(fleetOptions),
    budget: new RedisRetryBudget({
      ...fleetOptions,
      ...(options.retryBudgetWindowMs === undefined ? {} : { windowMs: options.retryBudgetWindowMs }),
    }),
    ...(options.rateLimit
      ? { limiter: new RedisRateLimiter({ ...fleetOptions, ...options.rateLimit, adaptive: true }) }
      : {}),
  });
  const llm = new LlmClient({
    baseUrl: `${options.baseUrl}/v1`,
    model: 'bench',
    policy: options.policy,
    // The per-process spacer (100 ms by default) caps a process at 10 calls/s whatever the fleet does;
    // these benchmarks measure the fleet's own pacing, so it is off.
    minIntervalMs: 0,
    fleet,
    breaker: new CircuitBreaker({
      name: `llm:${options.baseUrl}`,
      store: new RedisCircuitStore(fleetOptions),
      ...(options.probeIntervalMs === undefined ? {} : { cooldownMs: options.probeIntervalMs }),
    }),
    fetch: options.fetch,
    random: options.random,
  });
  return { llm, close: () => redis.disconnect() };
}

/** When a failed call says to come back (`retryAt` of `LlmError`, `RetryBudgetExhaustedError`, ...), epoch ms. */
export function retryAtMsOf(error: unknown): number | undefined {
  const retryAt = (error as { retryAt?: unknown } | null)?.retryAt;
  return retryAt instanceof Date ? retryAt.getTime() : undefined;
}
