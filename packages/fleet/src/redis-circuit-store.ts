import {
  type CircuitSnapshot,
  type CircuitState,
  type CircuitStore,
  InMemoryCircuitStore,
} from '@runner/retry';
import { type FleetRedisOptions, fleetKey } from './fleet-redis.ts';
import { LuaScript } from './internal/lua-script.ts';
import { RedisFallback } from './redis-fallback.ts';

export interface RedisCircuitStoreOptions extends FleetRedisOptions {
  /** How long a circuit nobody writes to is kept; every write starts it again. Default 86 400 000 ms (a day). In ms. */
  keyTtlMs?: number;
  /** This process's circuits, used while Redis is slow or down. Default: a new `InMemoryCircuitStore`. */
  fallback?: InMemoryCircuitStore;
}

export const defaultRedisCircuitStoreOptions = { keyTtlMs: 86_400_000 } as const;

/**
 * KEYS[1] the circuit's hash; ARGV: expected version, next version, next snapshot (JSON), TTL in ms.
 * Writes only if the stored version (0 when absent) is still the expected one; returns 1 if it wrote.
 * Reading and writing in one script is what makes the breaker's read-modify-write safe across the
 * fleet: of many processes racing from one version, exactly one wins (one probe in half-open).
 */
const compareAndSetScript = new LuaScript(`
local stored = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if stored ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'snapshot', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`);

const circuitStates = new Set<CircuitState>(['closed', 'open', 'half-open']);
const numericFields = [
  'consecutiveFailures',
  'windowStartMs',
  'windowRequests',
  'windowFailures',
  'retryAtMs',
  'probeLeaseUntilMs',
] as const;

/**
 * Circuits shared by the fleet: one process's failures open the circuit for all, and in half-open one
 * probe goes through across the fleet. The `CircuitBreaker` keeps its logic; this store only reads a
 * snapshot (`HMGET`) and replaces it by compare-and-set on its version (one script).
 *
 * Key: `<prefix>:fleet:circuit:<name>`, a hash `{ version, snapshot }`, expiring `keyTtlMs` after the last
 * write. While Redis is slow or down each process falls back to its own circuits, starting from the
 * last snapshot it saw in Redis, so a circuit open when Redis went away stays open.
 */
export class RedisCircuitStore implements CircuitStore {
  private readonly options: FleetRedisOptions;
  private readonly keyTtlMs: number;
  private readonly local: InMemoryCircuitStore;
  private readonly fallback: RedisFallback;

  constructor(options: RedisCircuitStoreOptions) {
    this.options = options;
    this.keyTtlMs = options.keyTtlMs ?? defaultRedisCircuitStoreOptions.keyTtlMs;
    this.local = options.fallback ?? new InMemoryCircuitStore();
    this.fallback = new RedisFallback('circuit store', options);
  }

  read(key: string): Promise<CircuitSnapshot | undefined> {
    return this.fallback.run(
      'circuit read',
      async () => {
        const [version, json] = await this.options.redis.hmget(this.key(key), 'version', 'snapshot');
        const snapshot = version == null ? undefined : parseSnapshot(Number(version), json ?? null);
        if (snapshot !== undefined) await this.mirror(key, snapshot);
        return snapshot;
      },
      () => this.local.read(key),
    );
  }

  compareAndSet(key: string, expectedVersion: number, next: CircuitSnapshot): Promise<boolean> {
    return this.fallback.run(
      'circuit compare-and-set',
      async () => {
        const written = await compareAndSetScript.run(
          this.options.redis,
          [this.key(key)],
          [expectedVersion, next.version, JSON.stringify(next), this.keyTtlMs],
        );
        if (written !== 1) return false;
        await this.mirror(key, next);
        return true;
      },
      () => this.local.compareAndSet(key, expectedVersion, next),
    );
  }

  private key(name: string): string {
    return fleetKey(this.options.prefix, 'circuit', name);
  }

  /** Keeps the local copy at what Redis last said, so a fallback starts from the fleet's state. */
  private async mirror(key: string, snapshot: CircuitSnapshot): Promise<void> {
    const local = await this.local.read(key);
    await this.local.compareAndSet(key, local?.version ?? 0, snapshot);
  }
}

/**
 * A snapshot from its JSON, or, when the JSON is unreadable (written by something else), a closed circuit
 * at the stored version, so that the breaker's next write replaces it instead of failing forever.
 */
function parseSnapshot(version: number, json: string | null): CircuitSnapshot {
  const parsed: unknown = json === null ? undefined : safeParse(json);
  if (isSnapshot(parsed) && parsed.version === version) return parsed;
  return {
    state: 'closed',
    consecutiveFailures: 0,
    windowStartMs: 0,
    windowRequests: 0,
    windowFailures: 0,
    retryAtMs: 0,
    probeLeaseUntilMs: 0,
    version,
  };
}

function isSnapshot(value: unknown): value is CircuitSnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    circuitStates.has(record.state as CircuitState) &&
    typeof record.version === 'number' &&
    numericFields.every((field) => typeof record[field] === 'number')
  );
}

function safeParse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}
