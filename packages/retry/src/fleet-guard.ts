import { type Classification, classifyError } from './classify-error.ts';
import { type Clock, sleep as realSleep, type Sleep, systemClock } from './clock.ts';
import { type CooldownStore, cooldownUntilMsOf } from './cooldown.ts';
import { RetryAfterTooLongError } from './errors.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { type RetryBudget, RetryBudgetExhaustedError } from './retry-budget.ts';
import type { RetryEvent, RetryOptions } from './retry-with-backoff.ts';

export interface FleetGuardOptions {
  /** Shared "not before" times per upstream; absent: no cooldown. */
  cooldowns?: CooldownStore;
  /** Shared retry budget per upstream; absent: retries are limited by the policy alone. */
  budget?: RetryBudget;
  /** Shared rate limit per upstream; absent: none. */
  limiter?: RateLimiter;
  /**
   * Reads a failure for what it tells the fleet (a quota's time, a throttle). Default `classifyError`;
   * a client passes its own refinement (GitHub's rate-limit 403s and its 60 s rule for secondary limits).
   */
  classify?: (error: unknown, nowMs: number) => Classification;
  clock?: Clock;
  sleep?: Sleep;
}

/**
 * Makes the calls of one process cooperate with the fleet on an upstream (`target`): they wait out a
 * cooldown any process has heard of, take a token from a shared rate limit, tell the fleet what they
 * hear (a 429's time, a throttle, a success), and retry only within a shared budget. With Redis-backed
 * stores (`@runner/fleet`) all workers behave as one polite client; with in-memory ones, one process does.
 */
export class FleetGuard {
  private readonly options: FleetGuardOptions;
  private readonly clock: Clock;
  private readonly sleep: Sleep;

  constructor(options: FleetGuardOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
  }

  /**
   * The `retryWithBackoff` options and the attempt wrapper for one logical call to `target`. Counts the
   * call once for the retry budget. `maxWaitMs` is the longest cooldown this layer waits out in-process;
   * a longer one ends the call with `RetryAfterTooLongError` and its time, for the job level.
   */
  async forCall<T>(
    target: string,
    maxWaitMs: number,
  ): Promise<{
    pace: NonNullable<RetryOptions['pace']>;
    beforeRetry: NonNullable<RetryOptions['beforeRetry']>;
    observe: (attempt: () => Promise<T>) => Promise<T>;
  }> {
    const { cooldowns, budget, limiter } = this.options;
    await budget?.recordRequest(target);
    return {
      pace: async (signal) => {
        const untilMs = await cooldowns?.until(target);
        const waitMs = untilMs === undefined ? 0 : untilMs - this.clock.now();
        if (waitMs > maxWaitMs) {
          throw new RetryAfterTooLongError({
            attempts: 0,
            reason: 'fleet cooldown',
            retryAt: new Date(this.clock.now() + waitMs),
            maxWaitMs,
          });
        }
        if (waitMs > 0) await this.sleep(waitMs, signal);
        await limiter?.acquire(target, signal);
      },
      beforeRetry: async (event: RetryEvent) => {
        // A 429 retried through the shared limiter is paced by it (held until the hint, then let out at
        // the fleet's rate), so it cannot grow into a storm; the budget is for failures nobody paces.
        if (limiter && event.status === 429) return;
        if (!budget || (await budget.tryRetry(target))) return;
        throw new RetryBudgetExhaustedError({
          target,
          retryAt: new Date(this.clock.now() + budget.windowMs),
          attempts: event.attempt - 1,
          status: event.status,
          cause: event.error,
        });
      },
      observe: async (attempt) => {
        try {
          const result = await attempt();
          await limiter?.onSuccess(target);
          return result;
        } catch (error) {
          const nowMs = this.clock.now();
          const classification = (this.options.classify ?? classifyError)(error, nowMs);
          const untilMs = cooldownUntilMsOf(classification, nowMs);
          if (untilMs !== undefined) await cooldowns?.hold(target, untilMs);
          // The hint goes to the limiter too: it holds the bucket until then and lets callers out one by
          // one at its rate, where a per-request sleep on one hint would send them back all at once.
          if (isThrottle(classification)) await limiter?.onThrottled(target, untilMs);
          throw error;
        }
      },
    };
  }
}

/** The upstream refused for quota, not for trouble: a 429, or a 403 that a client's classifier calls retryable (GitHub's rate limits). */
function isThrottle(classification: Classification): boolean {
  return classification.status === 429 || (classification.status === 403 && classification.retryable);
}
