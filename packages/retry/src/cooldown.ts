import { type Classification, classifyError } from './classify-error.ts';
import { type Clock, systemClock } from './clock.ts';

/**
 * Where an upstream's "not before" time is kept, so that when one caller hears a 429 (or GitHub's
 * rate-limit 403) with a time, every caller holds its calls to that upstream until then instead of
 * each discovering the limit on its own. A Redis store shares it across the fleet.
 */
export interface CooldownStore {
  /** When calls to `target` may resume, epoch ms; undefined when it is not cooling down. */
  until(target: string): Promise<number | undefined>;
  /** Holds calls to `target` until `untilMs` (epoch ms). Keeps the later of the stored time and this one. */
  hold(target: string, untilMs: number): Promise<void>;
}

export interface InMemoryCooldownStoreOptions {
  clock?: Clock;
}

/** One process's cooldowns. An expired one is forgotten when it is next read. */
export class InMemoryCooldownStore implements CooldownStore {
  private readonly clock: Clock;
  private readonly untilMsByTarget = new Map<string, number>();

  constructor(options: InMemoryCooldownStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async until(target: string): Promise<number | undefined> {
    const untilMs = this.untilMsByTarget.get(target);
    if (untilMs === undefined) return undefined;
    if (untilMs > this.clock.now()) return untilMs;
    this.untilMsByTarget.delete(target);
    return undefined;
  }

  async hold(target: string, untilMs: number): Promise<void> {
    if (!Number.isFinite(untilMs) || untilMs <= this.clock.now()) return;
    const current = this.untilMsByTarget.get(target);
    // A shorter hint arriving after a longer one must not cut the longer one short.
    if (current === undefined || untilMs > current) this.untilMsByTarget.set(target, untilMs);
  }
}

/**
 * When `error` asks the whole fleet to hold its calls: an HTTP 429, or a 403 rate limit, that names a
 * time (`Retry-After`, `retry-after-ms`, GitHub's `x-ratelimit-reset`, or our own errors' `retryAt`).
 * Epoch ms, or undefined for any other failure: a 503 or a timeout says nothing about a quota.
 */
export function cooldownUntilMs(error: unknown, nowMs: number): number | undefined {
  return cooldownUntilMsOf(classifyError(error, nowMs), nowMs);
}

/** `cooldownUntilMs` for a failure a client has already classified its own way (GitHub's 60 s rule). */
export function cooldownUntilMsOf(classification: Classification, nowMs: number): number | undefined {
  if (classification.retryAfterMs === undefined) return undefined;
  if (classification.status !== 429 && classification.status !== 403) return undefined;
  return nowMs + classification.retryAfterMs;
}
