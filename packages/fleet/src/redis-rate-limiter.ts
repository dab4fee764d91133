import {
  type RateLimiter,
  sleep as realSleep,
  type Sleep,
  TokenBucketRateLimiter,
  type TokenBucketRateLimiterOptions,
} from '@runner/retry';
import { type FleetRedisOptions, fleetKey } from './fleet-redis.ts';
import { definedOnly } from './internal/defined-only.ts';
import { LuaScript } from './internal/lua-script.ts';
import { TurnQueue } from './internal/turn-queue.ts';
import { RedisFallback } from './redis-fallback.ts';

export interface RedisRateLimiterOptions
  extends FleetRedisOptions,
    Omit<TokenBucketRateLimiterOptions, 'clock'> {
  /** How long a bucket nobody uses is kept; a new one starts full at `ratePerSec`. Default 600 000 ms (10 min). In ms. */
  keyTtlMs?: number;
  /**
   * This process's bucket, used while Redis is slow or down. Default: a `TokenBucketRateLimiter` on the same
   * options, so each process alone keeps to the quota and the fleet may exceed it by its size during an
   * outage; give one at `ratePerSec / processes` where the quota is strict.
   */
  fallback?: TokenBucketRateLimiter;
}

export const defaultRedisRateLimiterOptions = { keyTtlMs: 600_000 } as const;

/**
 * KEYS[1] the bucket's hash. ARGV: operation (`acquire`, `release`, `throttled`, `success`), rate, burst,
 * adaptive (1/0), min rate, decrease factor, increase per second, decrease interval ms, key TTL ms, and
 * for `throttled` the upstream's hint (epoch ms, 0 for none).
 * Refills the stored tokens for the time since the last refill at the stored rate, on the server's clock
 * (`TIME`: one clock for the fleet), capped at the capacity (burst, scaled down with a lowered rate as the
 * AWS SDK's adaptive mode does). `acquire` takes a token, due or not: it returns 0 when one was there,
 * and minus the ms until it is due when the bucket went into debt for it (a reservation: the slots are
 * handed out in the order callers ask, so a process the scheduler wakes late keeps its turn instead of
 * losing the race for every token). During a hold it takes nothing and returns the ms until the hold
 * ends. `release` gives back a reserved token its caller no longer wants. `throttled` with a hint empties
 * the bucket (keeping its debt) and sets its refill time to the hint, so no token is due before it (a
 * future `refilledAt` is a hold); it also, when adaptive, multiplies the rate by the factor, at most once
 * per interval, not below the min; `success` adds `increase × (time since the last success, at most
 * 1 s)`, not above the rate (AIMD). The same arithmetic as `TokenBucketRateLimiter`, which as this
 * process's fallback makes its callers ask again instead of reserving.
 */
const bucketScript = new LuaScript(`
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local op = ARGV[1]
local baseRate, burst, adaptive = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local minRate, factor, increase = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local decreaseIntervalMs = tonumber(ARGV[8])
local h = redis.call('HMGET', KEYS[1], 'tokens', 'refilledAt', 'rate', 'increasedAt', 'decreasedAt')
local rate = baseRate
if adaptive and h[3] then rate = math.min(baseRate, tonumber(h[3])) end
local function capacity(r) return math.max(1, burst * r / baseRate) end
local tokens = tonumber(h[1]) or burst
local refilledAt = tonumber(h[2]) or nowMs
local increasedAt = tonumber(h[4]) or nowMs
local decreasedAt = tonumber(h[5]) or -1e15
tokens = math.min(capacity(rate), tokens + math.max(0, nowMs - refilledAt) * rate / 1000)
refilledAt = math.max(nowMs, refilledAt)
local waitMs = 0
if op == 'acquire' then
  local heldMs = refilledAt - nowMs
  if heldMs > 0 then
    waitMs = heldMs + math.ceil(math.max(0, 1 - tokens) * 1000 / rate)
  else
    tokens = tokens - 1
    if tokens < -1e-9 then waitMs = -math.max(1, math.ceil(-tokens * 1000 / rate)) end
  end
elseif op == 'release' then
  tokens = math.min(capacity(rate), tokens + 1)
elseif op == 'throttled' then
  local untilMs = tonumber(ARGV[10]) or 0
  if untilMs > nowMs then
    tokens = math.min(tokens, 0)
    refilledAt = math.max(refilledAt, untilMs)
  end
  if adaptive and nowMs - decreasedAt >= decreaseIntervalMs then
    rate = math.max(minRate, rate * factor)
    decreasedAt, increasedAt = nowMs, nowMs
    tokens = math.min(tokens, capacity(rate))
  end
elseif op == 'success' and adaptive then
  local stepMs = math.min(math.max(0, nowMs - increasedAt), 1000)
  rate = math.min(baseRate, rate + increase * stepMs / 1000)
  increasedAt = nowMs
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'refilledAt', refilledAt, 'rate', tostring(rate),
  'increasedAt', increasedAt, 'decreasedAt', decreasedAt)
redis.call('PEXPIRE', KEYS[1], ARGV[9])
return waitMs`);

/**
 * A token bucket shared by the fleet, so that all processes together stay under a known quota
 * (`RATE_LIMIT_<TARGET>_PER_SEC`). With `adaptive`, the shared rate is halved on a 429 and regained slowly
 * on success (AIMD, like the AWS SDK's adaptive retry mode), so one process's 429 slows every process.
 *
 * Key: `<prefix>:fleet:rate:<target>`, a hash `{ tokens, refilledAt, rate, increasedAt, decreasedAt }`
 * expiring `keyTtlMs` after the last call. In each process the callers for one target queue up and only
 * the first asks Redis, holding at most one reserved token at a time: the fleet's debt stays under one
 * token per process, and a crowd of waiters costs one script call per token, not one each per wake-up.
 * A token reserved before a 429's hold began is still used when due, so each process may send one call
 * into a hold it had not heard of; every call after that waits for the hold.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly options: FleetRedisOptions;
  private readonly keyTtlMs: number;
  private readonly sleep: Sleep;
  private readonly local: TokenBucketRateLimiter;
  private readonly fallback: RedisFallback;
  private readonly turns = new TurnQueue();

  constructor(options: RedisRateLimiterOptions) {
    this.options = options;
    this.keyTtlMs = options.keyTtlMs ?? defaultRedisRateLimiterOptions.keyTtlMs;
    this.sleep = options.sleep ?? realSleep;
    this.local =
      options.fallback ??
      new TokenBucketRateLimiter({
        ratePerSec: options.ratePerSec,
        ...definedOnly({
          burst: options.burst,
          adaptive: options.adaptive,
          minRatePerSec: options.minRatePerSec,
          decreaseFactor: options.decreaseFactor,
          increasePerSec: options.increasePerSec,
          decreaseIntervalMs: options.decreaseIntervalMs,
          clock: options.clock,
          sleep: options.sleep,
        }),
      });
    this.fallback = new RedisFallback('rate limiter', options);
  }

  acquire(target: string, signal?: AbortSignal): Promise<void> {
    return this.turns.run(target, signal, async () => {
      for (;;) {
        signal?.throwIfAborted();
        const waitMs = await this.fallback.run(
          'rate limit acquire',
          async () => Number(await this.call(target, 'acquire')),
          () => this.local.tryAcquire(target),
        );
        if (waitMs === 0) return;
        if (waitMs > 0) {
          // A hold (or this process's own bucket): nothing was taken; ask again when it ends.
          await this.sleep(waitMs, signal);
          continue;
        }
        // Reserved: the token is this caller's once it is due.
        try {
          await this.sleep(-waitMs, signal);
          return;
        } catch (error) {
          void this.release(target);
          throw error;
        }
      }
    });
  }

  /** Gives back a reserved token its caller gave up on, so that the next caller need not wait for it. */
  private async release(target: string): Promise<void> {
    await this.fallback.run(
      'rate limit release',
      async () => {
        await this.call(target, 'release');
      },
      () => {},
    );
  }

  async onThrottled(target: string, untilMs?: number): Promise<void> {
    this.local.onThrottled(target, untilMs);
    await this.fallback.run(
      'rate limit throttled',
      async () => {
        await this.call(target, 'throttled', untilMs);
      },
      () => {},
    );
  }

  async onSuccess(target: string): Promise<void> {
    if (!this.local.adaptive) return;
    this.local.onSuccess(target);
    await this.fallback.run(
      'rate limit success',
      async () => {
        await this.call(target, 'success');
      },
      () => {},
    );
  }

  /** The fleet's rate for `target` now (this process's while Redis is away), for metrics and tests. Per second. */
  async currentRatePerSec(target: string): Promise<number> {
    return this.fallback.run(
      'rate limit read',
      async () => {
        const rate = await this.options.redis.hget(this.key(target), 'rate');
        return rate === null || !this.local.adaptive
          ? this.local.ratePerSec
          : Math.min(Number(rate), this.local.ratePerSec);
      },
      () => this.local.currentRatePerSec(target),
    );
  }

  private call(
    target: string,
    op: 'acquire' | 'release' | 'throttled' | 'success',
    untilMs?: number,
  ): Promise<unknown> {
    const l = this.local;
    return bucketScript.run(
      this.options.redis,
      [this.key(target)],
      [
        op,
        l.ratePerSec,
        l.burst,
        l.adaptive ? 1 : 0,
        l.minRatePerSec,
        l.decreaseFactor,
        l.increasePerSec,
        l.decreaseIntervalMs,
        this.keyTtlMs,
        untilMs === undefined || !Number.isFinite(untilMs) ? 0 : Math.ceil(untilMs),
      ],
    );
  }

  private key(target: string): string {
    return fleetKey(this.options.prefix, 'rate', target);
  }
}
