import { readFileSync } from 'node:fs';
import { PolicyConfigError, type PolicyName, type RetryPolicy, resolvePolicies } from '@runner/retry';
import { ConfigError } from './config-error.ts';
import { configDefaults } from './env-variables.ts';
import { readFleetSettings } from './fleet-settings.ts';
import { privateKeyFileRule, privateKeyRule } from './private-key.ts';
import {
  characters,
  checkValue,
  type Env,
  presentValue,
  readAliased,
  readVariable,
} from './read-variable.ts';
import { missingProblem, requirements } from './requirements.ts';
import type { ConfigNeed, RunnerConfig } from './runner-config.ts';
import { checkUpstreamTransport } from './upstream-transport.ts';
import {
  appIdRule,
  appSlugRule,
  githubApiUrlRule,
  llmApiKeyRule,
  llmBaseUrlRule,
  llmModelRule,
  logLevelRule,
  onOffRule,
  opsHostRule,
  opsTokenRule,
  queuePrefixRule,
  redisClusterNodesRule,
  redisUrlRule,
  webhookSecretRule,
  wholeNumberRule,
  workerIdRule,
} from './value-rules.ts';

export interface LoadConfigOptions {
  /** The groups the calling app cannot run without; each adds "is required" problems for what is missing. */
  needs?: readonly ConfigNeed[];
  /** Reads GITHUB_APP_PRIVATE_KEY_PATH; `fs.readFileSync(path, 'utf8')` unless a test swaps it. */
  readFile?: (path: string) => string;
}

/**
 * Reads and checks the whole environment: the one place any app reads `process.env`. Does not load
 * `.env` files; the apps do that before calling it.
 * @param env the variables, `process.env` by default; empty or blank values count as unset.
 * @throws ConfigError listing every problem found, never just the first; secrets are never quoted.
 * @example
 * const config = loadConfig(process.env, { needs: ['githubApp', 'llm'] });
 */
export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): RunnerConfig {
  const problems: string[] = [];

  const redisUrl = readVariable(env, 'REDIS_URL', redisUrlRule, problems);
  const redisClusterNodes = readVariable(env, 'REDIS_CLUSTER_NODES', redisClusterNodesRule, problems);
  const logLevel = readVariable(env, 'LOG_LEVEL', logLevelRule, problems);
  const apiUrl = readVariable(env, 'GITHUB_API_URL', githubApiUrlRule, problems);
  const appId = readVariable(env, 'GITHUB_APP_ID', appIdRule, problems);
  const privateKey = readPrivateKey(env, options.readFile ?? readUtf8, problems);
  const webhookSecret = readVariable(env, 'GITHUB_WEBHOOK_SECRET', webhookSecretRule, problems);
  const appSlug = readVariable(env, 'GITHUB_APP_SLUG', appSlugRule, problems);
  const baseUrl = readAliased(
    env,
    'LLM_BASE_URL',
    'OLLAMA_API_URL',
    llmBaseUrlRule,
    problems,
    openAiCompatibleOllamaUrl,
  );
  const apiKey = readAliased(env, 'LLM_API_KEY', 'OLLAMA_API_KEY', llmApiKeyRule, problems);
  const model = readAliased(env, 'LLM_MODEL', 'OLLAMA_MODEL', llmModelRule, problems);
  const retry = readRetryPolicies(env, problems);
  const queuePrefix = readVariable(env, 'QUEUE_PREFIX', queuePrefixRule, problems);
  if (redisClusterNodes !== undefined) {
    checkClusterSettings(redisUrl, queuePrefix ?? configDefaults.queuePrefix, problems);
  }
  const number = (name: string, min: number, max: number, what: string) =>
    readVariable(env, name, wholeNumberRule(min, max, what), problems);
  const workerId = readVariable(env, 'WORKER_ID', workerIdRule, problems);
  const concurrency = number('WORKER_CONCURRENCY', 1, 1_000, 'jobs one worker runs at once');
  const shutdownGraceMs = number('WORKER_SHUTDOWN_GRACE_MS', 0, 3_600_000, 'milliseconds');
  const lockDurationMs = number('WORKER_LOCK_DURATION_MS', 1_000, 3_600_000, 'milliseconds');
  const stalledIntervalMs = number('WORKER_STALLED_INTERVAL_MS', 500, 3_600_000, 'milliseconds');
  const deadlineMs = number('JOB_DEADLINE_MS', 1_000, 86_400_000, 'milliseconds');
  const maxTurns = number('AGENT_MAX_TURNS', 1, 100, 'model turns');
  const port = number('WEBHOOKS_PORT', 0, 65_535, 'a TCP port');
  const maxBodyBytes = number('WEBHOOK_MAX_BODY_BYTES', 1_024, 100 * 1024 * 1024, 'bytes');
  // The answer must reach GitHub within its 10 s, with a second left for the network.
  const enqueueTimeoutMs = number('WEBHOOK_ENQUEUE_TIMEOUT_MS', 100, 9_000, 'milliseconds');
  const opsPort = number('OPS_PORT', 0, 65_535, 'a TCP port');
  const opsHost = readVariable(env, 'OPS_HOST', opsHostRule, problems);
  const opsToken = readVariable(env, 'OPS_TOKEN', opsTokenRule, problems);
  const metricsPort = number('METRICS_PORT', 0, 65_535, 'a TCP port');
  const fleet = readFleetSettings(env, problems);
  const allowInsecure = readVariable(env, 'ALLOW_INSECURE_UPSTREAMS', onOffRule, problems);
  checkUpstreamTransport(
    [
      { name: 'GITHUB_API_URL', url: apiUrl, carries: 'installation tokens and the app JWT' },
      {
        name: presentValue(env, 'LLM_BASE_URL') ? 'LLM_BASE_URL' : 'OLLAMA_API_URL',
        url: baseUrl,
        carries: 'the LLM API key and every prompt',
      },
    ],
    allowInsecure ?? false,
    problems,
  );

  for (const need of new Set(options.needs)) {
    for (const requirement of requirements[need]) {
      // A set but malformed variable already has its own problem; "required" would mislead.
      if (requirement.names.every((name) => presentValue(env, name) === undefined)) {
        problems.push(missingProblem(need, requirement));
      }
    }
  }

  // `retry` is undefined only when its problems were recorded.
  if (problems.length > 0 || retry === undefined) throw new ConfigError(problems);
  return {
    redisUrl: redisUrl ?? configDefaults.redisUrl,
    redisClusterNodes,
    logLevel: logLevel ?? configDefaults.logLevel,
    github: { apiUrl: apiUrl ?? configDefaults.githubApiUrl, appId, privateKey, webhookSecret, appSlug },
    llm: { baseUrl: baseUrl ?? configDefaults.llmBaseUrl, apiKey, model: model ?? configDefaults.llmModel },
    retry,
    queue: { prefix: queuePrefix ?? configDefaults.queuePrefix },
    worker: {
      id: workerId,
      concurrency: concurrency ?? configDefaults.workerConcurrency,
      shutdownGraceMs: shutdownGraceMs ?? configDefaults.workerShutdownGraceMs,
      lockDurationMs: lockDurationMs ?? configDefaults.workerLockDurationMs,
      stalledIntervalMs: stalledIntervalMs ?? configDefaults.workerStalledIntervalMs,
    },
    job: { deadlineMs: deadlineMs ?? configDefaults.jobDeadlineMs },
    agent: { maxTurns: maxTurns ?? configDefaults.agentMaxTurns },
    webhooks: {
      port: port ?? configDefaults.webhooksPort,
      maxBodyBytes: maxBodyBytes ?? configDefaults.webhookMaxBodyBytes,
      enqueueTimeoutMs: enqueueTimeoutMs ?? configDefaults.webhookEnqueueTimeoutMs,
    },
    ops: {
      port: opsPort ?? configDefaults.opsPort,
      host: opsHost ?? configDefaults.opsHost,
      token: opsToken,
    },
    metricsPort,
    fleet,
  };
}

/**
 * On a Redis Cluster, BullMQ's scripts and ours touch several keys of the queue at once, which Redis
 * allows only within one hash slot: the prefix must hold a hash tag (`{runner}`), so that Redis hashes
 * only the tag and every key of the queue lands in its slot. A cluster has no databases but 0.
 */
function checkClusterSettings(redisUrl: string | undefined, prefix: string, problems: string[]): void {
  if (!hasHashTag(prefix)) {
    problems.push(
      `QUEUE_PREFIX: must contain a hash tag such as {runner} when REDIS_CLUSTER_NODES is set, so that every key of the queue is in one slot; got ${JSON.stringify(prefix)}${prefix === configDefaults.queuePrefix ? ' (the default)' : ''}. Set QUEUE_PREFIX={${prefix.replace(/[{}]/g, '')}}`,
    );
  }
  const database = redisUrl === undefined ? '' : new URL(redisUrl).pathname.replace(/^\//, '');
  if (database !== '' && database !== '0') {
    problems.push(
      `REDIS_URL: a Redis Cluster has only database 0, so REDIS_URL may not name database ${JSON.stringify(database)} when REDIS_CLUSTER_NODES is set; remove the /${database}`,
    );
  }
}

/** Redis hashes only what is between the first `{` and the first `}` after it, when that is not empty. */
export function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  return open !== -1 && key.indexOf('}', open + 1) > open + 1;
}

function readUtf8(path: string): string {
  return readFileSync(path, 'utf8');
}

/**
 * The design notes set `OLLAMA_API_URL=https://ollama.com/api`, Ollama's native API; the LLM client
 * speaks the OpenAI-compatible API, which Ollama serves at `/v1`. So under the old name, a path ending in
 * `/api` means `/v1`. `LLM_BASE_URL` is taken as written.
 */
function openAiCompatibleOllamaUrl(url: string): string {
  return url.replace(/\/api$/, '/v1');
}

function readPrivateKey(
  env: Env,
  readFile: (path: string) => string,
  problems: string[],
): string | undefined {
  const inline = readVariable(env, 'GITHUB_APP_PRIVATE_KEY', privateKeyRule, problems);
  const path = presentValue(env, 'GITHUB_APP_PRIVATE_KEY_PATH')?.trim();
  const fromFile = path === undefined ? undefined : readPrivateKeyFile(path, readFile, problems);
  // Both are still checked above, so one run reports everything wrong with either.
  if (path !== undefined && presentValue(env, 'GITHUB_APP_PRIVATE_KEY') !== undefined) {
    problems.push(
      'GITHUB_APP_PRIVATE_KEY_PATH: set only one of GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_PATH (the key itself, or the path of its .pem file); both are set',
    );
    return undefined;
  }
  return inline ?? fromFile;
}

function readPrivateKeyFile(
  path: string,
  readFile: (path: string) => string,
  problems: string[],
): string | undefined {
  const expected = `GITHUB_APP_PRIVATE_KEY_PATH: expected ${privateKeyFileRule.expects}; got ${JSON.stringify(path)}`;
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    problems.push(`${expected}, which cannot be read (${readErrorReason(error)})`);
    return undefined;
  }
  const checked = checkValue(privateKeyFileRule, text);
  if (checked.ok) return checked.value;
  // The file's contents are as secret as the variable's would be: describe them, never quote them.
  problems.push(`${expected}, a file of ${characters(text.length)} that ${checked.defect}`);
  return undefined;
}

/** Node's code (ENOENT, EACCES, EISDIR) is the useful part; its message would only repeat the path. */
function readErrorReason(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return error instanceof Error ? error.message : String(error);
}

function readRetryPolicies(env: Env, problems: string[]): Record<PolicyName, RetryPolicy> | undefined {
  try {
    return resolvePolicies(env);
  } catch (error) {
    if (!(error instanceof PolicyConfigError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
}
