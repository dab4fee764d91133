import type { RateLimitConfig, RunnerConfig } from '@runner/config';
import { RedisCircuitStore, RedisCooldownStore, RedisRateLimiter, RedisRetryBudget } from '@runner/fleet';
import {
  classifyGitHubError,
  createGitHubFleetGuard,
  type InstallationFleet,
  installationTarget,
} from '@runner/github';
import { createRedisClient, type FleetStats } from '@runner/queue';
import { CircuitBreaker, type CircuitBreakerOptions, FleetGuard, type Logger } from '@runner/retry';
import type { WorkerMetrics } from './metrics.ts';

/** How this worker's clients cooperate with every other worker, through Redis. */
export interface WorkerFleet {
  /** For the LLM client: target `llm`, with `RATE_LIMIT_LLM_*`. */
  llm: FleetGuard;
  /** For the token client and the tools: targets `github:installation:<id>`, with `RATE_LIMIT_GITHUB_*`. */
  github: FleetGuard;
  /** The LLM endpoint's circuit, one for the whole fleet. */
  llmBreaker: CircuitBreaker;
  /** The guard, target and circuit for the tool calls of a job on `installationId`. */
  installation(installationId: number): InstallationFleet;
  close(): void;
}

export interface WorkerFleetOptions {
  logger: Logger;
  metrics: WorkerMetrics;
  stats: FleetStats;
}

/**
 * The shared cooldowns, retry budget, rate limits and circuits, one set per upstream, all in Redis so
 * that the workers behave as one polite client. They get a Redis client of their own that fails fast:
 * a slow or absent Redis must never hold a call up (each store then falls back to this process's state).
 */
export function createWorkerFleet(config: RunnerConfig, options: WorkerFleetOptions): WorkerFleet {
  const { logger, metrics, stats } = options;
  const redis = createRedisClient(config, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
  });
  // Failures are handled (and logged once) by each store's fallback; an unhandled 'error' would crash.
  redis.on('error', () => {});
  const storeOptions = { redis, prefix: config.queue.prefix, logger };
  const { rateLimits, retryBudget, circuit: circuitSettings } = config.fleet;
  const shared = {
    cooldowns: new RedisCooldownStore(storeOptions),
    budget: new RedisRetryBudget({ ...storeOptions, ...retryBudget }),
  };
  const limiter = (limit: RateLimitConfig | undefined) =>
    limit && {
      limiter: new RedisRateLimiter({
        ...storeOptions,
        ratePerSec: limit.perSec,
        adaptive: limit.adaptive,
        ...(limit.burst === undefined ? {} : { burst: limit.burst }),
      }),
    };
  const github = createGitHubFleetGuard({ ...shared, ...limiter(rateLimits.github) });

  /** `target` labels the circuit in this worker's metrics; `name` keys it in Redis and in ops' views. */
  const circuit = (name: string, target: string, classify?: CircuitBreakerOptions['classify']) =>
    new CircuitBreaker({
      name,
      // One circuit for the whole fleet: one worker's failures open it for all, one probe at a time.
      store: new RedisCircuitStore(storeOptions),
      ...circuitSettings,
      ...(classify && { classify }),
      onStateChange: ({ to }) => {
        metrics.circuitState(target, to);
        const retryAtMs = to === 'open' ? Date.now() + circuitSettings.cooldownMs : undefined;
        stats
          .reportCircuit({ name, state: to, updatedAtMs: Date.now(), ...(retryAtMs ? { retryAtMs } : {}) })
          .catch((error: unknown) => logger.warn({ err: error }, 'Could not report the circuit state'));
      },
    });
  // Named after the endpoint, so that pointing LLM_BASE_URL elsewhere starts with a closed circuit.
  const llmBreaker = circuit(`llm:${config.llm.baseUrl}`, 'llm');
  metrics.circuitState('llm', 'closed');
  const installations = new Map<number, InstallationFleet>();

  return {
    llm: new FleetGuard({ ...shared, ...limiter(rateLimits.llm) }),
    github,
    llmBreaker,
    installation(installationId) {
      let fleet = installations.get(installationId);
      if (!fleet) {
        const target = installationTarget(installationId);
        // Read as GitHub means its answers, so that a spent quota (a 403) does not count as an outage.
        fleet = { guard: github, target, breaker: circuit(target, target, classifyGitHubError) };
        installations.set(installationId, fleet);
      }
      return fleet;
    },
    close() {
      redis.disconnect();
    },
  };
}
