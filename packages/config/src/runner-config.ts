import type { PolicyName, RetryPolicy } from '@runner/retry';

/** Pino's levels, so apps can pass `logLevel` straight to their logger. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof logLevels)[number];

/**
 * A group of variables an app cannot start without. `llm` requires nothing (a local Ollama needs no
 * key) and exists so an app can say what it uses; set LLM variables are checked whether needed or not.
 */
export type ConfigNeed = 'githubApp' | 'webhooks' | 'llm';

/** One node of a Redis Cluster, as `REDIS_CLUSTER_NODES` lists it. */
export interface RedisNode {
  host: string;
  port: number;
}

/** Everything the apps read from the environment, checked and with defaults filled in. */
export interface RunnerConfig {
  /** `redis://` or `rediss://` URL for BullMQ and shared retry state. */
  redisUrl: string;
  /**
   * Some or all nodes of a Redis Cluster (`REDIS_CLUSTER_NODES`): set, the apps connect in cluster mode,
   * with `redisUrl`'s user, password and TLS for every node (its host and port are then unused).
   */
  redisClusterNodes: RedisNode[] | undefined;
  logLevel: LogLevel;
  github: {
    /** REST API base without a trailing slash: `https://api.github.com`, or `https://<host>/api/v3` on GHES. */
    apiUrl: string;
    /** Numeric App ID as a string; present when `needs` included `githubApp`. */
    appId: string | undefined;
    /** PEM text with real newlines; present when `needs` included `githubApp`. */
    privateKey: string | undefined;
    /** Present when `needs` included `webhooks`. */
    webhookSecret: string | undefined;
    /** The App's slug, as in `https://github.com/apps/<slug>`; present when `needs` included `webhooks`. */
    appSlug: string | undefined;
  };
  llm: {
    /** Base URL of an OpenAI-compatible API, without a trailing slash, e.g. `https://ollama.com/v1`. */
    baseUrl: string;
    /** Absent for endpoints that need no key, such as a local Ollama. */
    apiKey: string | undefined;
    model: string;
  };
  /** The named retry policies with their `RETRY_*` overrides applied. */
  retry: Record<PolicyName, RetryPolicy>;
  queue: {
    /** Prefix of every Redis key of the queue (BullMQ's `prefix`). */
    prefix: string;
  };
  worker: {
    /** Names this process in logs and on each job it runs (BullMQ's `processedBy`); absent: the app picks `<hostname>:<pid>`. */
    id: string | undefined;
    concurrency: number;
    /** On SIGTERM, how long active jobs may take before the worker closes anyway. In ms. */
    shutdownGraceMs: number;
    /** BullMQ's job lock: a worker that does not renew it for this long is taken for dead. In ms. */
    lockDurationMs: number;
    /** How often stalled jobs (their worker died) are looked for and put back. In ms. */
    stalledIntervalMs: number;
  };
  job: {
    /** Most work time of one job across all its runs. In ms. */
    deadlineMs: number;
  };
  agent: {
    maxTurns: number;
  };
  webhooks: {
    port: number;
    maxBodyBytes: number;
    /** Longest the intake waits for Redis to store a delivery's job before answering 503. In ms. */
    enqueueTimeoutMs: number;
  };
  ops: {
    port: number;
    host: string;
    /** Absent: the server only listens on loopback. */
    token: string | undefined;
  };
  /** A worker's own /metrics port; absent for none. */
  metricsPort: number | undefined;
  /** What the workers share per upstream through Redis, so that they behave as one polite client. */
  fleet: FleetConfig;
}

export interface FleetConfig {
  /** Fleet-wide rate limits per upstream (`RATE_LIMIT_<TARGET>_*`); absent for none. */
  rateLimits: { llm: RateLimitConfig | undefined; github: RateLimitConfig | undefined };
  /** Retries to an upstream may not exceed this share of its recent requests, fleet-wide. */
  retryBudget: {
    /** Retries per request. */
    ratio: number;
    /** Retries allowed per 10 s window however few requests there were. */
    minRetriesPerWindow: number;
  };
  /** One circuit per upstream for the whole fleet. */
  circuit: {
    /** Failures in a row (5xx, timeouts, resets) that open it. */
    failureThreshold: number;
    /** How long it stays open before one probe is let through. In ms. */
    cooldownMs: number;
  };
}

/** A distributed token bucket for one upstream, shared by every worker through Redis. */
export interface RateLimitConfig {
  /** The known quota. Per second. */
  perSec: number;
  /** Calls let through at once after a quiet spell; absent: one second's worth. */
  burst?: number;
  /** Lower the rate on throttling and win it back slowly on success (AIMD). */
  adaptive: boolean;
}
