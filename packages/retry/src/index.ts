export { type BackoffOptions, backoffDelayMs, exponentialCapMs, type Jitter } from './backoff.ts';
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  defaultCircuitBreakerOptions,
  type FailureRateOptions,
} from './circuit-breaker.ts';
export {
  type CircuitSnapshot,
  type CircuitState,
  type CircuitStore,
  InMemoryCircuitStore,
} from './circuit-store.ts';
export { type Classification, classifyError } from './classify-error.ts';
export { type Clock, type Sleep, sleep, systemClock } from './clock.ts';
export {
  type CooldownStore,
  cooldownUntilMs,
  InMemoryCooldownStore,
  type InMemoryCooldownStoreOptions,
} from './cooldown.ts';
export {
  AttemptTimeoutError,
  CircuitOpenError,
  DeadlineExceededError,
  formatSeconds,
  isRetryError,
  NotRetryableError,
  RetriesExhaustedError,
  RetryAfterTooLongError,
  RetryError,
  type RetryErrorCode,
  type RetryErrorDetails,
} from './errors.ts';
export { FleetGuard, type FleetGuardOptions } from './fleet-guard.ts';
export { type HeadersLike, readHeader } from './headers.ts';
export { type Logger, silentLogger } from './logger.ts';
export {
  defaultPolicies,
  PolicyConfigError,
  type PolicyName,
  policyEnvPrefix,
  policyEnvVariables,
  policyNames,
  type RetryPolicy,
  resolvePolicies,
} from './policies.ts';
export { type Random, seededRandom } from './random.ts';
export {
  defaultTokenBucketRateLimiterOptions,
  type RateLimiter,
  TokenBucketRateLimiter,
  type TokenBucketRateLimiterOptions,
} from './rate-limiter.ts';
export { defaultRequestSpacerOptions, RequestSpacer, type RequestSpacerOptions } from './request-spacer.ts';
export { parseRetryHint, type RetryHint, type RetryHintSource } from './retry-after.ts';
export {
  defaultRetryBudgetOptions,
  InMemoryRetryBudget,
  isRetryBudgetExhaustedError,
  type RetryBudget,
  type RetryBudgetExhaustedDetails,
  RetryBudgetExhaustedError,
  type RetryBudgetOptions,
} from './retry-budget.ts';
export {
  allRetryHooks,
  defaultRetryOptions,
  type RetryEvent,
  type RetryOptions,
  retryWithBackoff,
} from './retry-with-backoff.ts';
export { withTimeout } from './with-timeout.ts';
