import { backoffDelayMs } from './backoff.ts';
import { type Classification, classifyError } from './classify-error.ts';
import { type Clock, sleep as realSleep, type Sleep, systemClock } from './clock.ts';
import {
  AttemptTimeoutError,
  CircuitOpenError,
  DeadlineExceededError,
  formatSeconds,
  NotRetryableError,
  RetriesExhaustedError,
  RetryAfterTooLongError,
} from './errors.ts';
import { type Logger, silentLogger } from './logger.ts';
import { defaultPolicies, type PolicyName, type RetryPolicy } from './policies.ts';
import type { Random } from './random.ts';

/** Emitted before every wait between attempts; the job level records these in the job's timeline. */
export interface RetryEvent {
  /** The attempt about to be made, 1-based: 2 for the first retry, as in `(attempt 2/6)`. */
  attempt: number;
  /** Attempts allowed in all: `maxRetries + 1`. */
  maxAttempts: number;
  /** How long we wait before that attempt. In ms. */
  delayMs: number;
  /** `backoff` when our own exponential delay won, `server` when the upstream's hint was longer. */
  delaySource: 'backoff' | 'server';
  reason: string;
  status?: number;
  error: unknown;
  layer?: string;
  target?: string;
}

/**
 * One `onRetry` that calls each given hook in order, skipping absent ones: a client's own (process
 * metrics) and a call's (the timeline of the job that made it).
 */
export function allRetryHooks(
  ...hooks: (((event: RetryEvent) => void) | undefined)[]
): ((event: RetryEvent) => void) | undefined {
  const present = hooks.filter((hook) => hook !== undefined);
  if (present.length <= 1) return present[0];
  return (event) => {
    for (const hook of present) hook(event);
  };
}

export interface RetryOptions extends Partial<RetryPolicy> {
  /** A named policy or a policy object to start from; the fields above override it. Without one, `defaultRetryOptions`. */
  policy?: PolicyName | RetryPolicy;
  /** Overall budget for all attempts and waits, from the call. A wait that would cross it is not started. In ms. */
  deadlineMs?: number;
  /** Longest server hint waited out in-process; a longer one ends the call with `RetryAfterTooLongError`. Default: `maxDelayMs`. In ms. */
  maxRetryAfterMs?: number;
  /**
   * Waits for admission before each attempt: request spacing, a shared rate limit. The attempt's timeout
   * starts after it, so time spent queueing is not mistaken for a slow upstream; the deadline still counts it.
   */
  pace?: (signal: AbortSignal | undefined) => Promise<void>;
  /** The caller's cancellation: stops an attempt and a wait at once, and is never retried. */
  signal?: AbortSignal;
  /** Replaces `classifyError`, e.g. to refine a status with what the body says. */
  classify?: (error: unknown, nowMs: number) => Classification;
  /** Final say on retrying, after classification. */
  shouldRetry?: (error: unknown, classification: Classification) => boolean;
  onRetry?: (event: RetryEvent) => void;
  /**
   * Asked before each wait whether the retry may happen at all, e.g. by a fleet-wide retry budget.
   * Throwing stops the call: the error goes up as it is, for the job level.
   */
  beforeRetry?: (event: RetryEvent) => Promise<void>;
  logger?: Logger;
  /** The log line for a retry. Default: `Retrying in 1.0s (attempt 2/6) after HTTP 429`. */
  describeRetry?: (event: RetryEvent) => string;
  /** For log fields and events: `request`, `tool`, `job`. */
  layer?: string;
  /** For log fields and events: `llm`, `github`, ... */
  target?: string;
  clock?: Clock;
  sleep?: Sleep;
  random?: Random;
}

/** Used where neither a policy nor a field is given: the tool level's numbers, the most conservative. */
export const defaultRetryOptions: Readonly<RetryPolicy> = defaultPolicies.githubTools;

/**
 * Calls `fn(attempt, signal)` until it succeeds, retrying what `classifyError` (or `classify`/`shouldRetry`)
 * calls retryable, with exponential backoff and jitter, a server's `Retry-After` honoured when longer,
 * a per-attempt timeout (a fresh `signal` each attempt), an overall deadline, and the caller's abort.
 *
 * @throws NotRetryableError, RetriesExhaustedError, RetryAfterTooLongError or DeadlineExceededError, each
 *   with the attempts made and the last failure as `cause`; a `CircuitOpenError` from `fn` as it is, without
 *   waiting out the cool-down; or the caller's abort reason.
 */
export async function retryWithBackoff<T>(
  fn: (attempt: number, signal: AbortSignal) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const policy = resolvePolicy(options);
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? silentLogger;
  const classify = options.classify ?? classifyError;
  const maxAttempts = policy.maxRetries + 1;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? policy.maxDelayMs;
  const startedAt = clock.now();
  const deadlineAt =
    options.deadlineMs === undefined ? Number.POSITIVE_INFINITY : startedAt + options.deadlineMs;
  const fields = { layer: options.layer, target: options.target };
  let previousDelayMs: number | undefined;

  let lastFailure: { error: unknown; reason: string; status: number | undefined } | undefined;

  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    if (options.pace) await options.pace(options.signal);
    options.signal?.throwIfAborted();
    const timeoutMs = Math.min(policy.timeoutMs ?? Number.POSITIVE_INFINITY, deadlineAt - clock.now());
    if (timeoutMs <= 0) {
      // Pacing used up what was left of the deadline: do not send a request that cannot finish.
      const final = new DeadlineExceededError({
        attempts: attempt - 1,
        reason: lastFailure?.reason ?? 'deadline',
        status: lastFailure?.status,
        cause: lastFailure?.error,
        deadlineMs: options.deadlineMs ?? 0,
      });
      logger.warn({ ...fields, attempt, maxAttempts, reason: final.reason }, final.message);
      throw final;
    }

    let error: unknown;
    try {
      return await runAttempt(fn, attempt, timeoutMs, options.signal);
    } catch (caught) {
      error = caught;
    }
    options.signal?.throwIfAborted();

    const nowMs = clock.now();
    const c = classify(error, nowMs);
    // The upstream's last word on when to come back travels with the final error, for the job level.
    const retryAt = c.retryAfterMs === undefined ? undefined : new Date(nowMs + c.retryAfterMs);
    const details = { attempts: attempt, reason: c.reason, status: c.status, retryAt, cause: error };
    lastFailure = { error, reason: c.reason, status: c.status };
    const giveUp = (final: Error): never => {
      logger.warn({ ...fields, attempt, maxAttempts, status: c.status, reason: c.reason }, final.message);
      throw final;
    };

    // An open circuit is the fleet saying "not now": waiting out its cool-down here would hold the caller,
    // so it goes up as it is, with its retryAt, for the job level to reschedule.
    if (error instanceof CircuitOpenError) giveUp(error);
    if (!(options.shouldRetry ? options.shouldRetry(error, c) : c.retryable)) {
      giveUp(new NotRetryableError(details));
    }
    if (c.retryAfterMs !== undefined && c.retryAfterMs > maxRetryAfterMs) {
      giveUp(
        new RetryAfterTooLongError({
          ...details,
          retryAt: new Date(nowMs + c.retryAfterMs),
          maxWaitMs: maxRetryAfterMs,
        }),
      );
    }
    if (attempt >= maxAttempts) giveUp(new RetriesExhaustedError(details));

    let delayMs = backoffDelayMs(attempt - 1, policy, random, previousDelayMs);
    let delaySource: RetryEvent['delaySource'] = 'backoff';
    if (c.retryAfterMs !== undefined && c.retryAfterMs >= delayMs) {
      delayMs = c.retryAfterMs;
      delaySource = 'server';
    }
    if (nowMs + delayMs >= deadlineAt) {
      giveUp(new DeadlineExceededError({ ...details, deadlineMs: options.deadlineMs ?? 0 }));
    }
    previousDelayMs = delayMs;

    const event: RetryEvent = {
      ...definedOnly(fields),
      attempt: attempt + 1,
      maxAttempts,
      delayMs,
      delaySource,
      reason: c.reason,
      ...(c.status === undefined ? {} : { status: c.status }),
      error,
    };
    logger.warn(
      {
        ...fields,
        attempt: event.attempt,
        maxAttempts,
        delayMs,
        delaySource,
        status: c.status,
        reason: c.reason,
      },
      (options.describeRetry ?? describeRetry)(event),
    );
    if (options.beforeRetry) {
      try {
        await options.beforeRetry(event);
      } catch (refusal) {
        logger.warn({ ...fields, attempt, maxAttempts, reason: c.reason }, (refusal as Error).message);
        throw refusal;
      }
    }
    notify(options.onRetry, event, logger);
    await sleep(delayMs, options.signal);
  }
}

/**
 * One attempt under its own AbortController, so a timed-out attempt's signal is never reused.
 * The attempt is raced against the timeout and the caller's abort, so a callee that ignores its
 * signal still cannot hold the caller past either.
 */
async function runAttempt<T>(
  fn: (attempt: number, signal: AbortSignal) => Promise<T>,
  attempt: number,
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
): Promise<T> {
  const controller = new AbortController();
  const cleanups: Array<() => void> = [];
  const stops: Array<Promise<never>> = [];

  if (Number.isFinite(timeoutMs)) {
    stops.push(
      new Promise<never>((_, reject) => {
        const timer = setTimeout(
          () => {
            const timeout = new AttemptTimeoutError(timeoutMs);
            controller.abort(timeout);
            reject(timeout);
          },
          Math.max(0, timeoutMs),
        );
        cleanups.push(() => clearTimeout(timer));
      }),
    );
  }
  if (callerSignal) {
    stops.push(
      new Promise<never>((_, reject) => {
        const onAbort = () => {
          controller.abort(callerSignal.reason);
          reject(callerSignal.reason);
        };
        callerSignal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => callerSignal.removeEventListener('abort', onAbort));
      }),
    );
  }

  try {
    return await Promise.race([fn(attempt, controller.signal), ...stops]);
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}

/** The default retry log line, for people: `Retrying in 1.0s (attempt 2/6) after HTTP 429`. */
export function describeRetry(event: RetryEvent): string {
  return `Retrying in ${formatSeconds(event.delayMs)} (attempt ${event.attempt}/${event.maxAttempts}) after ${event.reason}`;
}

function resolvePolicy(options: RetryOptions): RetryPolicy {
  const base =
    typeof options.policy === 'string'
      ? defaultPolicies[options.policy]
      : (options.policy ?? defaultRetryOptions);
  if (base === undefined) throw new RangeError(`Unknown retry policy "${String(options.policy)}"`);
  const policy: RetryPolicy = {
    maxRetries: options.maxRetries ?? base.maxRetries,
    initialDelayMs: options.initialDelayMs ?? base.initialDelayMs,
    maxDelayMs: options.maxDelayMs ?? base.maxDelayMs,
    multiplier: options.multiplier ?? base.multiplier,
    jitter: options.jitter ?? base.jitter,
  };
  const timeoutMs = options.timeoutMs ?? base.timeoutMs;
  if (timeoutMs !== undefined) policy.timeoutMs = timeoutMs;

  for (const key of ['maxRetries', 'initialDelayMs', 'maxDelayMs', 'multiplier', 'timeoutMs'] as const) {
    const value = policy[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`retryWithBackoff: ${key} must be a finite number >= 0, got ${value}`);
    }
  }
  if (!Number.isInteger(policy.maxRetries)) {
    throw new RangeError(`retryWithBackoff: maxRetries must be a whole number, got ${policy.maxRetries}`);
  }
  return policy;
}

function notify(onRetry: RetryOptions['onRetry'], event: RetryEvent, logger: Logger): void {
  try {
    onRetry?.(event);
  } catch (hookError) {
    // A broken observer must not change the outcome of the call it observes.
    logger.error({ layer: event.layer, target: event.target, err: hookError }, 'onRetry hook threw');
  }
}

function definedOnly<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}
