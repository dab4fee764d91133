import {
  defaultCircuitBreakerOptions,
  defaultPolicies,
  defaultRetryBudgetOptions,
  type PolicyName,
  policyEnvPrefix,
  policyEnvVariables,
  policyNames,
} from '@runner/retry';

import { type RateLimitTarget, rateLimitTargets, rateLimitVariableNames } from './fleet-settings.ts';

/** One environment variable `loadConfig` reads. */
export interface EnvVariable {
  readonly name: string;
  readonly description: string;
  /** What an unset variable means, as it would be written in `.env`; absent when unset means "none". */
  readonly default?: string;
  /** Its value must never be logged or shown in an error. */
  readonly secret: boolean;
}

/** Defaults shared by `loadConfig` and the variable list, so the documentation cannot drift from the code. */
export const configDefaults = {
  redisUrl: 'redis://127.0.0.1:6379',
  logLevel: 'info',
  githubApiUrl: 'https://api.github.com',
  // Ollama Turbo's OpenAI-compatible endpoint; its native API lives at /api.
  llmBaseUrl: 'https://ollama.com/v1',
  llmModel: 'glm-4.6',
  queuePrefix: 'runner',
  workerConcurrency: 4,
  workerShutdownGraceMs: 30_000,
  workerLockDurationMs: 30_000,
  workerStalledIntervalMs: 30_000,
  jobDeadlineMs: 15 * 60_000,
  agentMaxTurns: 8,
  webhooksPort: 3000,
  // GitHub caps webhook payloads at 25 MB.
  webhookMaxBodyBytes: 25 * 1024 * 1024,
  // GitHub gives up on a delivery after 10 s; a slow Redis must get a 503 well before that.
  webhookEnqueueTimeoutMs: 5_000,
  opsPort: 3001,
  opsHost: '127.0.0.1',
} as const;

const policyPurpose: Record<PolicyName, string> = {
  llm: 'each call to the LLM API (request level)',
  githubToken: 'each request for a GitHub App installation token (request level)',
  githubTools: 'each GitHub API call an agent tool makes (tool level)',
  job: 'requeues of a whole job through BullMQ (job level)',
};

// Keyed by the variable's suffix, which @runner/retry derives from the policy field's name.
const fieldPurpose: Record<string, string> = {
  MAX_RETRIES: 'Retries after the first attempt (5 allows 6 attempts)',
  INITIAL_DELAY_MS: 'Delay before the first retry in ms, before jitter',
  MAX_DELAY_MS: 'Cap on one backoff delay in ms, and the longest server hint waited out in-process',
  TIMEOUT_MS: 'Time limit of one attempt in ms',
};

/** `MAX_RETRIES` → `maxRetries`, the `RetryPolicy` field the variable overrides. */
function fieldOf(suffix: string): string {
  return suffix.toLowerCase().replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function rateLimitVariables(): EnvVariable[] {
  return (Object.keys(rateLimitTargets) as RateLimitTarget[]).flatMap((target) => {
    const names = rateLimitVariableNames(target);
    return [
      {
        name: names.perSec,
        description: `Fleet-wide rate limit: ${rateLimitTargets[target].what}, shared through Redis; unset for none`,
        secret: false,
      },
      {
        name: names.burst,
        description: `Calls let through at once under ${names.perSec} after a quiet spell; one second's worth by default`,
        secret: false,
      },
      {
        name: names.adaptive,
        description: `1 to halve the rate on a 429 and win it back slowly on success (AIMD), never above ${names.perSec}`,
        default: '0',
        secret: false,
      },
    ];
  });
}

// Derived from @runner/retry's own list, so a field it adds appears here (and in the .env.example test).
function retryVariables(): EnvVariable[] {
  return policyEnvVariables().map((name) => {
    const policy = policyNames.find((candidate) => name.startsWith(policyEnvPrefix(candidate)));
    if (policy === undefined) throw new Error(`${name} belongs to no retry policy`);
    const suffix = name.slice(policyEnvPrefix(policy).length);
    const value: unknown = (defaultPolicies[policy] as unknown as Record<string, unknown>)[fieldOf(suffix)];
    const description = `${fieldPurpose[suffix] ?? suffix}; policy ${policy}: ${policyPurpose[policy]}`;
    return value === undefined
      ? { name, description: `${description}; none by default`, secret: false }
      : { name, description, default: String(value), secret: false };
  });
}

/** Every variable `loadConfig` reads, in `.env.example` order; a test keeps that file complete. */
export const envVariables: readonly EnvVariable[] = [
  {
    name: 'REDIS_URL',
    description:
      'Redis for the job queue and shared retry state; rediss:// for TLS, redis://:<password>@host for AUTH',
    default: configDefaults.redisUrl,
    secret: false,
  },
  {
    name: 'REDIS_CLUSTER_NODES',
    description:
      "Comma-separated host:port of some or all Redis Cluster nodes; set, the apps use cluster mode with REDIS_URL's user, password and TLS (its host is then unused), and QUEUE_PREFIX must hold a hash tag such as {runner}",
    secret: false,
  },
  {
    name: 'LOG_LEVEL',
    description: 'fatal, error, warn, info, debug, trace or silent',
    default: configDefaults.logLevel,
    secret: false,
  },
  {
    name: 'GITHUB_APP_ID',
    description: 'The numeric App ID from the GitHub App settings page; required by the worker',
    secret: false,
  },
  {
    name: 'GITHUB_APP_PRIVATE_KEY',
    description:
      'The App private key in PEM form; one line with \\n escapes is fine. Set this or GITHUB_APP_PRIVATE_KEY_PATH',
    secret: true,
  },
  {
    name: 'GITHUB_APP_PRIVATE_KEY_PATH',
    description: 'Path of the .pem file holding the App private key, instead of GITHUB_APP_PRIVATE_KEY',
    secret: false,
  },
  {
    name: 'GITHUB_WEBHOOK_SECRET',
    description: 'The webhook secret set on the GitHub App; required by the webhook intake',
    secret: true,
  },
  {
    name: 'GITHUB_APP_SLUG',
    description: 'The App slug, as in https://github.com/apps/<slug>; required by the webhook intake',
    secret: false,
  },
  {
    name: 'GITHUB_API_URL',
    description: 'GitHub REST API base; https://<host>/api/v3 for GitHub Enterprise Server',
    default: configDefaults.githubApiUrl,
    secret: false,
  },
  {
    name: 'LLM_BASE_URL',
    description: 'Base URL of any OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1 for a local Ollama',
    default: configDefaults.llmBaseUrl,
    secret: false,
  },
  {
    name: 'LLM_API_KEY',
    description: 'API key for LLM_BASE_URL; leave empty for endpoints that need none, such as a local Ollama',
    secret: true,
  },
  {
    name: 'LLM_MODEL',
    description: 'Model name as the endpoint lists it',
    default: configDefaults.llmModel,
    secret: false,
  },
  {
    name: 'OLLAMA_API_URL',
    description:
      "Older name for LLM_BASE_URL; a path ending in /api (Ollama's native API) is read as /v1 (its OpenAI-compatible one)",
    secret: false,
  },
  { name: 'OLLAMA_API_KEY', description: 'Older name for LLM_API_KEY', secret: true },
  { name: 'OLLAMA_MODEL', description: 'Older name for LLM_MODEL', secret: false },
  {
    name: 'QUEUE_PREFIX',
    description: 'Prefix of every Redis key of the queue; {runner} keeps them in one Redis Cluster slot',
    default: configDefaults.queuePrefix,
    secret: false,
  },
  {
    name: 'WORKER_ID',
    description:
      'Names this worker process in its logs and on each job it runs; unique per process. Default: <hostname>:<pid>',
    secret: false,
  },
  {
    name: 'WORKER_CONCURRENCY',
    description: 'Jobs one worker process runs at once',
    default: String(configDefaults.workerConcurrency),
    secret: false,
  },
  {
    name: 'WORKER_SHUTDOWN_GRACE_MS',
    description: 'On SIGTERM, how long active jobs may take to finish before the worker closes anyway, in ms',
    default: String(configDefaults.workerShutdownGraceMs),
    secret: false,
  },
  {
    name: 'WORKER_LOCK_DURATION_MS',
    description:
      "How long a job's lock lasts without renewal; a worker silent for this long is taken for dead, in ms",
    default: String(configDefaults.workerLockDurationMs),
    secret: false,
  },
  {
    name: 'WORKER_STALLED_INTERVAL_MS',
    description: 'How often workers look for jobs whose worker died, to put them back in the queue, in ms',
    default: String(configDefaults.workerStalledIntervalMs),
    secret: false,
  },
  {
    name: 'JOB_DEADLINE_MS',
    description:
      'Most time a job may work in all its runs together; every inner retry respects what is left, in ms',
    default: String(configDefaults.jobDeadlineMs),
    secret: false,
  },
  {
    name: 'AGENT_MAX_TURNS',
    description: 'Most model turns in one agent run',
    default: String(configDefaults.agentMaxTurns),
    secret: false,
  },
  {
    name: 'WEBHOOKS_PORT',
    description: 'Port of the webhook intake (POST /webhooks, GET /healthz, GET /readyz)',
    default: String(configDefaults.webhooksPort),
    secret: false,
  },
  {
    name: 'WEBHOOK_MAX_BODY_BYTES',
    description: "Largest webhook body accepted, in bytes (GitHub's own cap is 25 MB); larger ones get 413",
    default: String(configDefaults.webhookMaxBodyBytes),
    secret: false,
  },
  {
    name: 'WEBHOOK_ENQUEUE_TIMEOUT_MS',
    description:
      "Longest the intake waits for Redis to store a delivery's job, in ms (at most 9000: GitHub gives up after 10 s); then 503",
    default: String(configDefaults.webhookEnqueueTimeoutMs),
    secret: false,
  },
  {
    name: 'OPS_PORT',
    description: 'Port of the ops server: dashboard, job timelines, /metrics',
    default: String(configDefaults.opsPort),
    secret: false,
  },
  {
    name: 'OPS_HOST',
    description: 'Interface the ops server listens on; anything but loopback requires OPS_TOKEN',
    default: configDefaults.opsHost,
    secret: false,
  },
  {
    name: 'OPS_TOKEN',
    description:
      'Bearer token (or basic-auth password) for everything on the ops server but its health checks',
    secret: true,
  },
  {
    name: 'METRICS_PORT',
    description: "Port of a worker's own /metrics for Prometheus, with /healthz and /readyz; unset for none",
    secret: false,
  },
  {
    name: 'ALLOW_INSECURE_UPSTREAMS',
    description:
      'GITHUB_API_URL and LLM_BASE_URL must be https:// unless on loopback; 1 allows http:// to other hosts on a trusted network',
    default: '0',
    secret: false,
  },
  {
    name: 'FLEET_RETRY_BUDGET_RATIO',
    description:
      'Retries to an upstream allowed per request made to it, across all workers (0.2 = 20 %); beyond it, jobs are delayed instead',
    default: String(defaultRetryBudgetOptions.ratio),
    secret: false,
  },
  {
    name: 'FLEET_RETRY_BUDGET_MIN_RETRIES',
    description: 'Retries to an upstream allowed per 10 s window however few requests there were',
    default: String(defaultRetryBudgetOptions.minRetriesPerWindow),
    secret: false,
  },
  {
    name: 'FLEET_CIRCUIT_FAILURE_THRESHOLD',
    description: "Failures in a row (5xx, timeouts, resets) that open an upstream's circuit for every worker",
    default: String(defaultCircuitBreakerOptions.failureThreshold),
    secret: false,
  },
  {
    name: 'FLEET_CIRCUIT_COOLDOWN_MS',
    description: 'How long an open circuit fails calls fast before one probe is let through, in ms',
    default: String(defaultCircuitBreakerOptions.cooldownMs),
    secret: false,
  },
  ...rateLimitVariables(),
  ...retryVariables(),
];
