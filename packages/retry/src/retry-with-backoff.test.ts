import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AttemptTimeoutError,
  CircuitOpenError,
  DeadlineExceededError,
  NotRetryableError,
  RetriesExhaustedError,
  RetryAfterTooLongError,
} from './errors.ts';
import type { Logger } from './logger.ts';
import { seededRandom } from './random.ts';
import { allRetryHooks, type RetryEvent, type RetryOptions, retryWithBackoff } from './retry-with-backoff.ts';

function httpError(status: number, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`HTTP ${status}`), { status, headers });
}

/** A callee that fails with the given errors in turn, then succeeds; it records when each attempt started. */
function scripted(failures: unknown[]) {
  const startedAtMs: number[] = [];
  const fn = async (attempt: number) => {
    startedAtMs.push(Date.now());
    const failure = failures[attempt - 1];
    if (failure !== undefined) throw failure;
    return `ok after ${attempt}`;
  };
  return { fn, startedAtMs };
}

function recordingLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void => {
      lines.push({ level, fields, message });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

/** Runs the promise to completion under fake timers, returning its outcome without unhandled rejections. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  const outcome = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await vi.runAllTimersAsync();
  return outcome;
}

const fixed: Partial<RetryOptions> = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 'none',
};

describe('retryWithBackoff (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-11-25T12:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries retryable failures with exponential delays and returns the success', async () => {
    const { fn, startedAtMs } = scripted([httpError(503), httpError(503), httpError(502)]);
    const { value } = await settle(retryWithBackoff(fn, { ...fixed, maxRetries: 5 }));
    expect(value).toBe('ok after 4');
    const gaps = startedAtMs.slice(1).map((t, i) => t - startedAtMs[i]!);
    expect(gaps).toEqual([1_000, 2_000, 4_000]);
  });

  it('makes maxRetries + 1 attempts, then says how many and keeps the last cause', async () => {
    const last = httpError(503);
    const { fn, startedAtMs } = scripted([
      httpError(500),
      httpError(502),
      httpError(429),
      last,
      httpError(500),
    ]);
    const { error } = await settle(retryWithBackoff(fn, { ...fixed, maxRetries: 3 }));
    expect(startedAtMs).toHaveLength(4);
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    const exhausted = error as RetriesExhaustedError;
    expect(exhausted.attempts).toBe(4);
    expect(exhausted.cause).toBe(last);
    expect(exhausted.status).toBe(503);
    expect(exhausted.retryable).toBe(true);
    expect(exhausted.message).toBe('Gave up after 4 attempts (HTTP 503): HTTP 503');
  });

  it('passes the last server hint on with the final error, so the job level can wait for it', async () => {
    const { fn, startedAtMs } = scripted([
      httpError(429, { 'retry-after': '2' }),
      httpError(429, { 'retry-after': '3' }),
    ]);
    const { error } = await settle(retryWithBackoff(fn, { ...fixed, maxRetries: 1 }));
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect((error as RetriesExhaustedError).retryAt?.getTime()).toBe(startedAtMs[1]! + 3_000);
  });

  it('stops at once on a non-retryable error', async () => {
    const notFound = httpError(404);
    const { fn, startedAtMs } = scripted([httpError(503), notFound]);
    const { error } = await settle(retryWithBackoff(fn, { ...fixed, maxRetries: 5 }));
    expect(startedAtMs).toHaveLength(2);
    expect(error).toBeInstanceOf(NotRetryableError);
    expect((error as NotRetryableError).retryable).toBe(false);
    expect((error as NotRetryableError).status).toBe(404);
    expect((error as NotRetryableError).cause).toBe(notFound);
  });

  it('honours a Retry-After longer than the backoff exactly', async () => {
    const { fn, startedAtMs } = scripted([httpError(429, { 'retry-after': '7' })]);
    const events: RetryEvent[] = [];
    await settle(retryWithBackoff(fn, { ...fixed, onRetry: (e) => events.push(e) }));
    expect(startedAtMs[1]! - startedAtMs[0]!).toBe(7_000);
    expect(events[0]).toMatchObject({ attempt: 2, delayMs: 7_000, delaySource: 'server', status: 429 });
  });

  it('keeps its own backoff when the hint is shorter', async () => {
    const { fn, startedAtMs } = scripted([httpError(503), httpError(503, { 'retry-after-ms': '10' })]);
    await settle(retryWithBackoff(fn, fixed));
    expect(startedAtMs[2]! - startedAtMs[1]!).toBe(2_000);
  });

  it('gives up at once with the retry time when the hint exceeds what the policy may wait', async () => {
    const { fn, startedAtMs } = scripted([httpError(429, { 'retry-after': '600' })]);
    const { error } = await settle(retryWithBackoff(fn, { ...fixed, maxRetries: 5 }));
    expect(startedAtMs).toHaveLength(1);
    expect(error).toBeInstanceOf(RetryAfterTooLongError);
    const tooLong = error as RetryAfterTooLongError;
    expect(tooLong.retryAt?.getTime()).toBe(startedAtMs[0]! + 600_000);
    expect(tooLong.retryable).toBe(true);
    expect(tooLong.message).toContain("beyond this layer's 30.0s limit");
  });

  it('gives each attempt a fresh signal and times out a hung attempt as retryable', async () => {
    const signals: AbortSignal[] = [];
    const fn = (attempt: number, signal: AbortSignal) => {
      signals.push(signal);
      if (attempt === 1) return new Promise<string>(() => {}); // hangs and ignores its signal
      return Promise.resolve('second attempt');
    };
    const events: RetryEvent[] = [];
    const { value } = await settle(
      retryWithBackoff(fn, { ...fixed, timeoutMs: 5_000, onRetry: (e) => events.push(e) }),
    );
    expect(value).toBe('second attempt');
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBeInstanceOf(AttemptTimeoutError);
    expect(signals[1]!.aborted).toBe(false);
    expect(events[0]).toMatchObject({ reason: 'timeout', attempt: 2 });
  });

  it('does not start a wait that would cross the overall deadline', async () => {
    const { fn, startedAtMs } = scripted(Array.from({ length: 10 }, () => httpError(503)));
    const { error } = await settle(retryWithBackoff(fn, { ...fixed, maxRetries: 9, deadlineMs: 10_000 }));
    // Attempts at 0, 1 s, 3 s, 7 s; the next wait (8 s) would end at 15 s.
    expect(startedAtMs.map((t) => t - startedAtMs[0]!)).toEqual([0, 1_000, 3_000, 7_000]);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as DeadlineExceededError).attempts).toBe(4);
  });

  it('shortens the last attempt’s timeout to what is left of the deadline', async () => {
    const fn = () => new Promise<string>(() => {});
    const started = Date.now();
    const { error } = await settle(retryWithBackoff(fn, { ...fixed, timeoutMs: 60_000, deadlineMs: 2_500 }));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(Date.now() - started).toBe(2_500);
  });

  it('paces each attempt before its timeout starts, so queueing is not a timeout', async () => {
    const paced: number[] = [];
    const { fn, startedAtMs } = scripted([httpError(503)]);
    const { value } = await settle(
      retryWithBackoff(fn, {
        ...fixed,
        timeoutMs: 1_000,
        pace: async () => {
          paced.push(Date.now());
          await new Promise((resolve) => setTimeout(resolve, 5_000));
        },
      }),
    );
    expect(value).toBe('ok after 2');
    expect(paced).toHaveLength(2);
    expect(startedAtMs[0]! - paced[0]!).toBe(5_000);
  });

  it('sends nothing when pacing used up the deadline', async () => {
    const { fn, startedAtMs } = scripted([]);
    const { error } = await settle(
      retryWithBackoff(fn, {
        ...fixed,
        deadlineMs: 2_000,
        pace: () => new Promise((resolve) => setTimeout(resolve, 3_000)),
      }),
    );
    expect(startedAtMs).toHaveLength(0);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as DeadlineExceededError).attempts).toBe(0);
  });

  it('stops a wait at once when the caller aborts, with the caller’s reason, and never retries it', async () => {
    const controller = new AbortController();
    const { fn, startedAtMs } = scripted([httpError(503), httpError(503)]);
    const outcome = retryWithBackoff(fn, { ...fixed, signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500); // in the middle of the 1 s wait
    controller.abort(new Error('shutting down'));
    const error = await outcome;
    expect((error as Error).message).toBe('shutting down');
    expect(startedAtMs).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes an abort through to the running attempt', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const fn = (_attempt: number, signal: AbortSignal) => {
      seen = signal;
      return new Promise<string>(() => {});
    };
    const outcome = retryWithBackoff(fn, { ...fixed, signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort(new Error('cancelled'));
    expect(((await outcome) as Error).message).toBe('cancelled');
    expect(seen?.aborted).toBe(true);
  });

  it('logs each retry for people and machines, numbering attempts out of maxRetries + 1', async () => {
    const { logger, lines } = recordingLogger();
    const { fn } = scripted([httpError(429), httpError(503)]);
    await settle(retryWithBackoff(fn, { ...fixed, maxRetries: 5, logger, layer: 'request', target: 'llm' }));
    expect(lines.map((l) => l.message)).toEqual([
      'Retrying in 1.0s (attempt 2/6) after HTTP 429',
      'Retrying in 2.0s (attempt 3/6) after HTTP 503',
    ]);
    expect(lines[0]!.fields).toMatchObject({
      layer: 'request',
      target: 'llm',
      attempt: 2,
      maxAttempts: 6,
      delayMs: 1_000,
      status: 429,
      reason: 'HTTP 429',
    });
  });

  it('fails fast on an open circuit instead of waiting out its cool-down', async () => {
    const open = new CircuitOpenError('llm', new Date(Date.now() + 20_000));
    const { fn, startedAtMs } = scripted([httpError(503), open]);
    const { error } = await settle(retryWithBackoff(fn, { ...fixed, maxRetries: 5 }));
    expect(startedAtMs).toHaveLength(2);
    expect(error).toBe(open);
  });

  it('lets a layer word its own retry line', async () => {
    const { logger, lines } = recordingLogger();
    const { fn } = scripted([httpError(429)]);
    await settle(
      retryWithBackoff(fn, {
        ...fixed,
        maxRetries: 3,
        logger,
        describeRetry: (e) => `[Attempt ${e.attempt - 1}/${e.maxAttempts}] rate limited, ${e.delayMs} ms`,
      }),
    );
    expect(lines[0]?.message).toBe('[Attempt 1/4] rate limited, 1000 ms');
  });

  it('lets a client refine the classification and the caller veto retries', async () => {
    const quota = Object.assign(httpError(429), { code: 'insufficient_quota' });
    const { fn, startedAtMs } = scripted([quota]);
    const { error } = await settle(
      retryWithBackoff(fn, {
        ...fixed,
        shouldRetry: (e, c) => c.retryable && (e as { code?: string }).code !== 'insufficient_quota',
      }),
    );
    expect(startedAtMs).toHaveLength(1);
    expect(error).toBeInstanceOf(NotRetryableError);

    const classify = () => ({ retryable: true, reason: 'custom' });
    const second = scripted([new Error('anything')]);
    const { value } = await settle(retryWithBackoff(second.fn, { ...fixed, classify }));
    expect(value).toBe('ok after 2');
  });

  it('uses a named policy and lets fields override it', async () => {
    const { fn, startedAtMs } = scripted(Array.from({ length: 10 }, () => httpError(503)));
    const { error } = await settle(retryWithBackoff(fn, { policy: 'githubTools', jitter: 'none' }));
    expect(startedAtMs).toHaveLength(4);
    expect((error as RetriesExhaustedError).attempts).toBe(4);
  });

  it('survives an onRetry hook that throws', async () => {
    const { fn } = scripted([httpError(503)]);
    const { value } = await settle(
      retryWithBackoff(fn, {
        ...fixed,
        onRetry: () => {
          throw new Error('broken metrics');
        },
      }),
    );
    expect(value).toBe('ok after 2');
  });

  it('rejects nonsensical options with a clear error', async () => {
    await expect(retryWithBackoff(async () => 1, { maxRetries: -1 })).rejects.toThrow(/maxRetries must be/);
    await expect(retryWithBackoff(async () => 1, { initialDelayMs: Number.NaN })).rejects.toThrow(
      /initialDelayMs/,
    );
  });

  it('keeps its bounds over thousands of random policies and failure sequences', async () => {
    const random = seededRandom(2026);
    for (let run = 0; run < 2_000; run++) {
      const maxRetries = Math.floor(random() * 6);
      const maxDelayMs = 1 + Math.floor(random() * 60_000);
      const options: RetryOptions = {
        maxRetries,
        initialDelayMs: 1 + Math.floor(random() * Math.min(5_000, maxDelayMs)),
        maxDelayMs,
        multiplier: 1 + random() * 2,
        jitter: (['full', 'equal', 'decorrelated'] as const)[Math.floor(random() * 3)]!,
        random,
        sleep: async () => {},
      };
      const hintSeconds = random() < 0.3 ? Math.floor(random() * 90) : undefined;
      const failures = Array.from({ length: Math.floor(random() * 10) }, () =>
        httpError(503, hintSeconds === undefined ? {} : { 'retry-after': String(hintSeconds) }),
      );
      const delays: RetryEvent[] = [];
      let attempts = 0;
      await retryWithBackoff(
        async (attempt) => {
          attempts++;
          if (failures[attempt - 1]) throw failures[attempt - 1];
        },
        { ...options, onRetry: (e) => delays.push(e) },
      ).catch(() => {});
      expect(attempts).toBeLessThanOrEqual(maxRetries + 1);
      for (const event of delays) {
        expect(event.delayMs).toBeGreaterThanOrEqual(0);
        if (hintSeconds === undefined) expect(event.delayMs).toBeLessThanOrEqual(maxDelayMs);
        else expect(event.delayMs).toBeGreaterThanOrEqual(hintSeconds * 1000);
        // A hint beyond the policy is never waited on in-process.
        expect(event.delayMs).toBeLessThanOrEqual(Math.max(maxDelayMs, (hintSeconds ?? 0) * 1000));
        if (hintSeconds !== undefined) expect(hintSeconds * 1000).toBeLessThanOrEqual(maxDelayMs);
      }
    }
  });
});

describe('allRetryHooks', () => {
  const event: RetryEvent = {
    attempt: 2,
    maxAttempts: 4,
    delayMs: 100,
    delaySource: 'backoff',
    reason: 'HTTP 503',
    error: null,
  };

  it('calls every present hook in order with the event', () => {
    const calls: string[] = [];
    const hook = allRetryHooks(
      (e) => calls.push(`a:${e.attempt}`),
      undefined,
      (e) => calls.push(`b:${e.reason}`),
    );
    hook?.(event);
    expect(calls).toEqual(['a:2', 'b:HTTP 503']);
  });

  it('gives the hook itself when only one is present, and nothing when none is', () => {
    const only = () => {};
    expect(allRetryHooks(undefined, only)).toBe(only);
    expect(allRetryHooks(undefined, undefined)).toBeUndefined();
  });
});
