import { defaultCircuitBreakerOptions, defaultRetryBudgetOptions } from '@runner/retry';
import { type Env, presentValue, readVariable } from './read-variable.ts';
import type { FleetConfig, RateLimitConfig } from './runner-config.ts';
import { decimalRule, onOffRule, wholeNumberRule } from './value-rules.ts';

/** The upstreams a fleet-wide rate limit can be set for, and the variable infix of each. */
export const rateLimitTargets = {
  llm: { infix: 'LLM', what: 'calls per second to the LLM API, across all workers' },
  github: { infix: 'GITHUB', what: 'GitHub API calls per second per installation, across all workers' },
} as const;

export type RateLimitTarget = keyof typeof rateLimitTargets;

/** The three variables of one target: `RATE_LIMIT_LLM_PER_SEC`, `RATE_LIMIT_LLM_BURST`, `RATE_LIMIT_LLM_ADAPTIVE`. */
export function rateLimitVariableNames(target: RateLimitTarget) {
  const prefix = `RATE_LIMIT_${rateLimitTargets[target].infix}`;
  return { perSec: `${prefix}_PER_SEC`, burst: `${prefix}_BURST`, adaptive: `${prefix}_ADAPTIVE` } as const;
}

/** What the fleet shares per upstream, read from `FLEET_*` and `RATE_LIMIT_<TARGET>_*`. */
export function readFleetSettings(env: Env, problems: string[]): FleetConfig {
  const number = (name: string, min: number, max: number, what: string) =>
    readVariable(env, name, wholeNumberRule(min, max, what), problems);
  const ratio = readVariable(
    env,
    'FLEET_RETRY_BUDGET_RATIO',
    decimalRule({ min: 0, max: 10 }, 'retries allowed per request, fleet-wide (0.2 = 20 %)'),
    problems,
  );
  const minRetries = number(
    'FLEET_RETRY_BUDGET_MIN_RETRIES',
    0,
    100_000,
    'retries allowed per window anyway',
  );
  const threshold = number('FLEET_CIRCUIT_FAILURE_THRESHOLD', 1, 10_000, 'failures in a row');
  const cooldownMs = number('FLEET_CIRCUIT_COOLDOWN_MS', 100, 3_600_000, 'milliseconds');
  return {
    rateLimits: { llm: readRateLimit(env, 'llm', problems), github: readRateLimit(env, 'github', problems) },
    retryBudget: {
      ratio: ratio ?? defaultRetryBudgetOptions.ratio,
      minRetriesPerWindow: minRetries ?? defaultRetryBudgetOptions.minRetriesPerWindow,
    },
    circuit: {
      failureThreshold: threshold ?? defaultCircuitBreakerOptions.failureThreshold,
      cooldownMs: cooldownMs ?? defaultCircuitBreakerOptions.cooldownMs,
    },
  };
}

/**
 * `RATE_LIMIT_<TARGET>_*`. A target without `_PER_SEC` has no limit; its `_BURST` or `_ADAPTIVE` alone
 * is a mistake worth saying, since it would silently do nothing.
 */
function readRateLimit(env: Env, target: RateLimitTarget, problems: string[]): RateLimitConfig | undefined {
  const names = rateLimitVariableNames(target);
  const perSec = readVariable(
    env,
    names.perSec,
    decimalRule({ min: 0, max: 100_000, above: true }, rateLimitTargets[target].what),
    problems,
  );
  const burst = readVariable(
    env,
    names.burst,
    wholeNumberRule(1, 100_000, 'calls let through at once'),
    problems,
  );
  const adaptive = readVariable(env, names.adaptive, onOffRule, problems);
  if (presentValue(env, names.perSec) === undefined) {
    for (const name of [names.burst, names.adaptive]) {
      if (presentValue(env, name) !== undefined) {
        problems.push(
          `${name}: only applies with ${names.perSec}; set ${names.perSec} too, or unset ${name}`,
        );
      }
    }
    return undefined;
  }
  if (perSec === undefined) return undefined;
  return { perSec, ...(burst === undefined ? {} : { burst }), adaptive: adaptive ?? false };
}
