import { InMemoryRetryBudget, type RetryBudget, type RetryBudgetOptions } from '@runner/retry';
import { type FleetRedisOptions, fleetKey } from './fleet-redis.ts';
import { definedOnly } from './internal/defined-only.ts';
import { LuaScript } from './internal/lua-script.ts';
import { RedisFallback } from './redis-fallback.ts';

export interface RedisRetryBudgetOptions extends FleetRedisOptions, Omit<RetryBudgetOptions, 'clock'> {
  /** This process's budget, used while Redis is slow or down. Default: an `InMemoryRetryBudget` on the same options. */
  fallback?: InMemoryRetryBudget;
}

/**
 * KEYS[1] the budget's hash; ARGV: `request` or `retry`, window in ms, ratio, floor (retries per window).
 * The hash holds the counts of the current fixed window (`window` = floor(now / windowMs), `req`, `ret`)
 * and of the one before (`preq`, `pret`); the sliding window is estimated by weighting the previous one
 * by how much of it still overlaps the last `windowMs`. `request` counts a request; `retry` spends a retry
 * only if retries + 1 <= max(floor, ratio × requests), the check and the increment in one step, so that
 * processes racing for the last retry cannot both win. One clock for the fleet: the server's `TIME`.
 * Returns 1 when the retry (or request) was counted, 0 when the budget is spent.
 */
const budgetScript = new LuaScript(`
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local windowMs = tonumber(ARGV[2])
local window = math.floor(nowMs / windowMs)
local h = redis.call('HMGET', KEYS[1], 'window', 'req', 'ret', 'preq', 'pret')
local stored = tonumber(h[1])
local req, ret = tonumber(h[2]) or 0, tonumber(h[3]) or 0
local preq, pret = tonumber(h[4]) or 0, tonumber(h[5]) or 0
if stored == nil or stored < window - 1 then
  req, ret, preq, pret = 0, 0, 0, 0
elseif stored == window - 1 then
  preq, pret, req, ret = req, ret, 0, 0
elseif stored > window then
  window = stored
end
local allowed = 1
if ARGV[1] == 'request' then
  req = req + 1
else
  local weight = math.min(1, math.max(0, 1 - (nowMs - window * windowMs) / windowMs))
  local limit = math.max(tonumber(ARGV[4]), tonumber(ARGV[3]) * (req + preq * weight))
  if ret + pret * weight + 1 <= limit then ret = ret + 1 else allowed = 0 end
end
redis.call('HSET', KEYS[1], 'window', window, 'req', req, 'ret', ret, 'preq', preq, 'pret', pret)
redis.call('PEXPIRE', KEYS[1], 2 * windowMs)
return allowed`);

/**
 * A retry budget shared by the fleet: retries to an upstream, from all processes together, stay within
 * max(`minRetriesPerWindow`, `ratio` × requests) over a sliding `windowMs` (defaults 3, 20%, 10 s). The
 * rule gRPC's retry throttling and the AWS SDK's retry quota apply per client, applied here fleet-wide.
 *
 * Key: `<prefix>:fleet:budget:<target>`, a hash of counters expiring two windows after the last call.
 * Requests are also counted in this process, so that while Redis is slow or down the process falls back
 * to a budget of its own share of the traffic rather than to an empty one.
 */
export class RedisRetryBudget implements RetryBudget {
  readonly windowMs: number;
  private readonly options: FleetRedisOptions;
  private readonly local: InMemoryRetryBudget;
  private readonly fallback: RedisFallback;

  constructor(options: RedisRetryBudgetOptions) {
    this.options = options;
    this.local =
      options.fallback ??
      new InMemoryRetryBudget(
        definedOnly({
          ratio: options.ratio,
          minRetriesPerWindow: options.minRetriesPerWindow,
          windowMs: options.windowMs,
          clock: options.clock,
        }),
      );
    this.windowMs = this.local.windowMs;
    this.fallback = new RedisFallback('retry budget', options);
  }

  async recordRequest(target: string): Promise<void> {
    await this.local.recordRequest(target);
    await this.fallback.run(
      'retry budget request',
      async () => {
        await this.count(target, 'request');
      },
      () => {},
    );
  }

  tryRetry(target: string): Promise<boolean> {
    return this.fallback.run(
      'retry budget retry',
      async () => (await this.count(target, 'retry')) === 1,
      () => this.local.tryRetry(target),
    );
  }

  private count(target: string, what: 'request' | 'retry'): Promise<unknown> {
    const { windowMs, ratio, minRetriesPerWindow } = this.local;
    return budgetScript.run(
      this.options.redis,
      [fleetKey(this.options.prefix, 'budget', target)],
      [what, windowMs, ratio, minRetriesPerWindow],
    );
  }
}
