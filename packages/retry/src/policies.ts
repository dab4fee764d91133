import type { Jitter } from './backoff.ts';

/** The numbers that govern one layer's retries. */
export interface RetryPolicy {
  /** Retries after the first attempt: `maxRetries: 5` allows up to 6 attempts (as openai-node, p-retry, Octokit). */
  maxRetries: number;
  /** Delay before the first retry, before jitter. In ms. */
  initialDelayMs: number;
  /** Cap on any one backoff delay, and the longest server hint this layer waits out in-process. In ms. */
  maxDelayMs: number;
  /** Growth factor of the exponential backoff. */
  multiplier: number;
  jitter: Jitter;
  /** Time limit of one attempt; absent means none. In ms. */
  timeoutMs?: number;
}

export type PolicyName = 'llm' | 'githubToken' | 'githubTools' | 'job';

export const policyNames: readonly PolicyName[] = ['llm', 'githubToken', 'githubTools', 'job'];

/** Defaults from the design notes (docs/architecture.md, "Retry policies"). */
export const defaultPolicies: Readonly<Record<PolicyName, Readonly<RetryPolicy>>> = {
  /** Request level: the LLM API. 30 s per attempt. */
  llm: {
    maxRetries: 5,
    initialDelayMs: 1_000,
    maxDelayMs: 60_000,
    multiplier: 2,
    jitter: 'full',
    timeoutMs: 30_000,
  },
  /** Request level: GitHub's installation-token endpoint. 10 s per attempt. */
  githubToken: {
    maxRetries: 5,
    initialDelayMs: 1_000,
    maxDelayMs: 30_000,
    multiplier: 2,
    jitter: 'full',
    timeoutMs: 10_000,
  },
  /** Tool level: each Octokit call a tool makes. Octokit has no timeout of its own, so we set one. */
  githubTools: {
    maxRetries: 3,
    initialDelayMs: 1_000,
    maxDelayMs: 30_000,
    multiplier: 2,
    jitter: 'full',
    timeoutMs: 15_000,
  },
  /** Job level: requeues through BullMQ. No per-attempt timeout: the job deadline bounds a run. */
  job: { maxRetries: 5, initialDelayMs: 1_000, maxDelayMs: 60_000, multiplier: 2, jitter: 'full' },
};

/** Thrown at start-up when `RETRY_*` variables are malformed; lists every problem at once. */
export class PolicyConfigError extends Error {
  override name = 'PolicyConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid retry policy configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

type Field = 'maxRetries' | 'initialDelayMs' | 'maxDelayMs' | 'timeoutMs';

const fieldSuffix: Record<Field, string> = {
  maxRetries: 'MAX_RETRIES',
  initialDelayMs: 'INITIAL_DELAY_MS',
  maxDelayMs: 'MAX_DELAY_MS',
  timeoutMs: 'TIMEOUT_MS',
};

/** Upper bounds that catch typos (a delay in µs, a retry count meant for a loop) without limiting real use. */
const fieldMax: Record<Field, number> = {
  maxRetries: 100,
  initialDelayMs: 3_600_000,
  maxDelayMs: 86_400_000,
  timeoutMs: 3_600_000,
};

/** `githubTools` → `RETRY_GITHUB_TOOLS_`. */
export function policyEnvPrefix(name: PolicyName): string {
  return `RETRY_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_`;
}

/** Every variable `resolvePolicies` reads, for `.env.example` and config docs. */
export function policyEnvVariables(): string[] {
  return policyNames.flatMap((name) =>
    (Object.keys(fieldSuffix) as Field[]).map((field) => `${policyEnvPrefix(name)}${fieldSuffix[field]}`),
  );
}

/**
 * The named policies with overrides from an environment record, e.g. `RETRY_LLM_MAX_RETRIES=3`.
 * Pure: the caller passes the environment (only `@runner/config` reads `process.env`).
 * @throws PolicyConfigError naming each bad variable, what it expects and what it got.
 */
export function resolvePolicies(
  env: Readonly<Record<string, string | undefined>> = {},
): Record<PolicyName, RetryPolicy> {
  const problems: string[] = [];
  const resolved = {} as Record<PolicyName, RetryPolicy>;

  for (const name of policyNames) {
    const policy: RetryPolicy = { ...defaultPolicies[name] };
    for (const field of Object.keys(fieldSuffix) as Field[]) {
      const variable = `${policyEnvPrefix(name)}${fieldSuffix[field]}`;
      const raw = env[variable];
      if (raw === undefined || raw.trim() === '') continue;
      const value = Number(raw.trim());
      const min = field === 'maxRetries' ? 0 : 1;
      if (!Number.isInteger(value) || value < min || value > fieldMax[field]) {
        problems.push(
          `${variable}: expected a whole number from ${min} to ${fieldMax[field]}${field === 'maxRetries' ? '' : ' (milliseconds)'}, got "${raw}"`,
        );
        continue;
      }
      policy[field] = value;
    }
    if (policy.initialDelayMs > policy.maxDelayMs) {
      problems.push(
        `${policyEnvPrefix(name)}INITIAL_DELAY_MS (${policy.initialDelayMs}) must not exceed ${policyEnvPrefix(name)}MAX_DELAY_MS (${policy.maxDelayMs})`,
      );
    }
    resolved[name] = policy;
  }

  if (problems.length > 0) throw new PolicyConfigError(problems);
  return resolved;
}
