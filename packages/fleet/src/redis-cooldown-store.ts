import { type Clock, type CooldownStore, InMemoryCooldownStore, systemClock } from '@runner/retry';
import { type FleetRedisOptions, fleetKey } from './fleet-redis.ts';
import { LuaScript } from './internal/lua-script.ts';
import { RedisFallback } from './redis-fallback.ts';

export interface RedisCooldownStoreOptions extends FleetRedisOptions {
  /** This process's cooldowns, used while Redis is slow or down. Default: a new `InMemoryCooldownStore`. */
  fallback?: InMemoryCooldownStore;
}

/**
 * KEYS[1] the cooldown; ARGV[1] the new "not before" time, epoch ms. Keeps the later of the stored time
 * and the new one (a short `Retry-After` heard after a long reset must not cut it short), and sets the key
 * to expire at that very time (`PXAT`), so a cooldown is gone when it is over. Returns the time in force.
 */
const holdScript = new LuaScript(`
local untilMs = tonumber(ARGV[1])
local stored = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs <= stored then return stored end
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if untilMs <= nowMs then return stored end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
return untilMs`);

/**
 * Cooldowns shared by the fleet: when any process hears a 429 or a rate-limit 403 with a time, every
 * process holds its calls to that upstream until then. Key: `<prefix>:fleet:cooldown:<target>`, a string
 * holding the epoch ms, expiring at that time. Requires Redis 6.2 or later (`SET ... PXAT`).
 *
 * Every hold is also kept in this process, and every cooldown read from Redis too, so while Redis is slow
 * or down this process still honours what it heard itself and what the fleet had said before.
 */
export class RedisCooldownStore implements CooldownStore {
  private readonly options: FleetRedisOptions;
  private readonly clock: Clock;
  private readonly local: InMemoryCooldownStore;
  private readonly fallback: RedisFallback;

  constructor(options: RedisCooldownStoreOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.local = options.fallback ?? new InMemoryCooldownStore({ clock: this.clock });
    this.fallback = new RedisFallback('cooldown store', options);
  }

  until(target: string): Promise<number | undefined> {
    return this.fallback.run(
      'cooldown read',
      async () => {
        const stored = await this.options.redis.get(this.key(target));
        const untilMs = stored === null ? Number.NaN : Number(stored);
        if (!(untilMs > this.clock.now())) return undefined;
        await this.local.hold(target, untilMs);
        return untilMs;
      },
      () => this.local.until(target),
    );
  }

  async hold(target: string, untilMs: number): Promise<void> {
    if (!Number.isFinite(untilMs)) return;
    await this.local.hold(target, untilMs);
    const rounded = Math.ceil(untilMs);
    await this.fallback.run(
      'cooldown hold',
      async () => {
        await holdScript.run(this.options.redis, [this.key(target)], [rounded]);
      },
      () => {},
    );
  }

  private key(target: string): string {
    return fleetKey(this.options.prefix, 'cooldown', target);
  }
}
