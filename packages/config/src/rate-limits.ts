import { type Env, presentValue, readVariable } from './read-variable.ts';
import type { RateLimitConfig, RunnerConfig } from './runner-config.ts';
import { onOffRule, positiveNumberRule, wholeNumberRule } from './value-rules.ts';

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

/**
 * Reads `RATE_LIMIT_<TARGET>_*` for every target. A target without `_PER_SEC` has no limit; its
 * `_BURST` or `_ADAPTIVE` alone is a mistake worth saying, since it would silently do nothing.
 */
export function readRateLimits(env: Env, problems: string[]): RunnerConfig['rateLimits'] {
  const read = (target: RateLimitTarget): RateLimitConfig | undefined => {
    const names = rateLimitVariableNames(target);
    const perSec = readVariable(
      env,
      names.perSec,
      positiveNumberRule(100_000, rateLimitTargets[target].what),
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
  };
  return { llm: read('llm'), github: read('github') };
}
