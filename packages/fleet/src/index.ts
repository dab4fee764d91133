export { type FleetRedisOptions, type FleetStateKind, fleetKey } from './fleet-redis.ts';
export {
  defaultRedisCircuitStoreOptions,
  RedisCircuitStore,
  type RedisCircuitStoreOptions,
} from './redis-circuit-store.ts';
export { RedisCooldownStore, type RedisCooldownStoreOptions } from './redis-cooldown-store.ts';
export {
  defaultRedisFallbackOptions,
  RedisFallback,
  type RedisFallbackOptions,
  RedisOperationTimeoutError,
} from './redis-fallback.ts';
export {
  defaultRedisRateLimiterOptions,
  RedisRateLimiter,
  type RedisRateLimiterOptions,
} from './redis-rate-limiter.ts';
export { RedisRetryBudget, type RedisRetryBudgetOptions } from './redis-retry-budget.ts';
