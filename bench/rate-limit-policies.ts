// The callers of benchmark 2: the old retry loops, written plainly over fetch, and the runner's client.
// Each makes one logical call (a chat completion) and returns once it has succeeded, however many
// attempts that takes; the window's abort is the only way out.
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultPolicies, type Random } from '@runner/retry';
import { createRunnerLlm, retryAtMsOf } from './runner-llm.ts';

export const rateLimitPolicies = [
  'static 5 s sleep',
  'exponential, no jitter',
  'full jitter',
  'Retry-After per process',
  'runner',
] as const;
export type RateLimitPolicy = (typeof rateLimitPolicies)[number];

/** What one process's callers count, each attempt as the upstream answered it. */
export interface AttemptCounts {
  attempts: number;
  throttled: number;
}

export interface CallerSetup {
  policy: RateLimitPolicy;
  upstreamUrl: string;
  redisUrl: string;
  prefix: string;
  /** The upstream's quota, as the runner's operator sets it (`RATE_LIMIT_LLM_PER_SEC`, `_BURST`). */
  quota: { ratePerSec: number; burst: number };
  counts: AttemptCounts;
  /** The process's seeded stream, for the runner's client (shared by the process's callers, as a worker's jobs share one). */
  random: Random;
}

/** One logical call; `random` is the caller's own seeded stream. */
export type LogicalCall = (random: Random, signal: AbortSignal) => Promise<void>;

export interface Callers {
  call: LogicalCall;
  close(): void;
}

// The llm policy's backoff numbers (design notes): 1 s doubling to at most 60 s.
const { initialDelayMs, maxDelayMs } = defaultPolicies.llm;
const exponentialMs = (retry: number) => Math.min(maxDelayMs, initialDelayMs * 2 ** retry);

/** How long a baseline waits before retry number `retry` (0-based), given the 429's hint if any. */
const baselineDelays: Record<
  Exclude<RateLimitPolicy, `runner${string}`>,
  (retry: number, hintMs: number | undefined, random: Random) => number
> = {
  'static 5 s sleep': () => 5_000,
  'exponential, no jitter': (retry) => exponentialMs(retry),
  'full jitter': (retry, _hint, random) => random() * exponentialMs(retry),
  'Retry-After per process': (retry, hintMs, random) =>
    Math.max(hintMs ?? 0, random() * exponentialMs(retry)),
};

const requestBody = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'hi' }] });

/** A fetch that counts every answer it gets (the runner's client sends through it). */
export function countingFetch(counts: AttemptCounts): typeof fetch {
  return async (input, init) => {
    counts.attempts += 1;
    const response = await fetch(input, init);
    if (response.status === 429) counts.throttled += 1;
    return response;
  };
}

export function createCallers(setup: CallerSetup): Callers {
  const send = countingFetch(setup.counts);
  if (setup.policy === 'runner') {
    const { llm, close } = createRunnerLlm({
      redisUrl: setup.redisUrl,
      prefix: setup.prefix,
      baseUrl: setup.upstreamUrl,
      policy: defaultPolicies.llm,
      rateLimit: setup.quota,
      random: setup.random,
      fetch: send,
    });
    return {
      async call(_random, signal) {
        for (;;) {
          try {
            await llm.chat({ messages: [{ role: 'user', content: 'hi' }], signal });
            return;
          } catch (error) {
            signal.throwIfAborted();
            // What the job level would do: come back at the time the lower layer named, or in 1 s.
            const waitMs = (retryAtMsOf(error) ?? Date.now() + 1_000) - Date.now();
            await sleep(Math.max(0, waitMs), undefined, { signal });
          }
        }
      },
      close,
    };
  }
  const delayMs = baselineDelays[setup.policy];
  return {
    async call(random, signal) {
      for (let retry = 0; ; retry += 1) {
        const response = await send(`${setup.upstreamUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: requestBody,
          signal,
        });
        await response.arrayBuffer();
        if (response.ok) return;
        const hint = Number(response.headers.get('retry-after'));
        await sleep(delayMs(retry, Number.isFinite(hint) ? hint * 1000 : undefined, random), undefined, {
          signal,
        });
      }
    },
    close() {},
  };
}
