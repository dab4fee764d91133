import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { envVariables } from './env-variables.ts';
import { loadConfig } from './load-config.ts';

// Every variable, set to something it cannot mean, must be refused with one line that names it. The table
// must cover every variable `loadConfig` reads, so a variable added later needs a malformed value here too.

/** A value each variable must refuse, or why any text is a valid value of it. */
const malformed: Record<string, string | { anyText: string }> = {
  REDIS_URL: 'localhost:6379',
  REDIS_CLUSTER_NODES: '10.0.0.1',
  LOG_LEVEL: 'loud',
  GITHUB_APP_ID: '12a',
  GITHUB_APP_PRIVATE_KEY: 'not a key',
  GITHUB_APP_PRIVATE_KEY_PATH: '/nonexistent/runner-test/key.pem',
  GITHUB_WEBHOOK_SECRET: { anyText: "GitHub takes any text as the secret; it must only match the App's" },
  GITHUB_APP_SLUG: 'My App',
  GITHUB_API_URL: 'api.github.com',
  LLM_BASE_URL: 'ftp://llm.example',
  LLM_API_KEY: 'key with spaces',
  LLM_MODEL: 'a\nb',
  OLLAMA_API_URL: 'ollama.com/api',
  OLLAMA_API_KEY: 'key with spaces',
  OLLAMA_MODEL: 'a\nb',
  QUEUE_PREFIX: 'has space',
  WORKER_ID: 'has space',
  WORKER_CONCURRENCY: '0',
  WORKER_SHUTDOWN_GRACE_MS: '-1',
  WORKER_LOCK_DURATION_MS: '1.5',
  WORKER_STALLED_INTERVAL_MS: 'soon',
  JOB_DEADLINE_MS: '1e3',
  AGENT_MAX_TURNS: '0',
  WEBHOOKS_PORT: '70000',
  WEBHOOK_MAX_BODY_BYTES: '-5',
  WEBHOOK_ENQUEUE_TIMEOUT_MS: '10000',
  OPS_PORT: 'http',
  OPS_HOST: 'a host',
  OPS_TOKEN: 'xyzzy',
  METRICS_PORT: '65536',
  ALLOW_INSECURE_UPSTREAMS: 'yes please',
  FLEET_RETRY_BUDGET_RATIO: '20%',
  FLEET_RETRY_BUDGET_MIN_RETRIES: '-1',
  FLEET_CIRCUIT_FAILURE_THRESHOLD: '0',
  FLEET_CIRCUIT_COOLDOWN_MS: 'forever',
};

/** Values for the variable families, by suffix: the retry policies and the rate limits. */
function malformedValue(name: string): string | { anyText: string } | undefined {
  if (name in malformed) return malformed[name];
  if (/^RETRY_[A-Z_]+_(MAX_RETRIES|INITIAL_DELAY_MS|MAX_DELAY_MS|TIMEOUT_MS)$/.test(name)) return 'lots';
  if (/^RATE_LIMIT_[A-Z]+_PER_SEC$/.test(name)) return '-3';
  if (/^RATE_LIMIT_[A-Z]+_BURST$/.test(name)) return '0';
  if (/^RATE_LIMIT_[A-Z]+_ADAPTIVE$/.test(name)) return 'maybe';
  return undefined;
}

function problemsFor(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('every malformed variable', () => {
  it('has a malformed value in this table', () => {
    expect(envVariables.map((variable) => variable.name).filter((name) => !malformedValue(name))).toEqual([]);
  });

  const refused = envVariables.flatMap((variable) => {
    const value = malformedValue(variable.name);
    return typeof value === 'string' ? [[variable.name, value, variable.secret] as const] : [];
  });
  it.each(refused)('%s=%j is refused in one line that names it', (name, value, secret) => {
    // A burst or adaptive mode means nothing without a rate, so the rate is given a valid value beside it.
    const rate = name.replace(/_(BURST|ADAPTIVE)$/, '_PER_SEC');
    const companion = rate === name ? {} : { [rate]: '5' };
    const problems = problemsFor({ ...companion, [name]: value });
    expect(problems).toHaveLength(1);
    const [problem = ''] = problems;
    expect(problem).toMatch(new RegExp(`^${name}: [^\\n]+$`));
    if (secret) expect(problem).not.toContain(value);
  });
});
