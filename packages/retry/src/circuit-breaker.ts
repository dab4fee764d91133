import {
  type CircuitSnapshot,
  type CircuitState,
  type CircuitStore,
  InMemoryCircuitStore,
} from './circuit-store.ts';
import { type Classification, classifyError } from './classify-error.ts';
import { type Clock, systemClock } from './clock.ts';
import { CircuitOpenError } from './errors.ts';

export interface FailureRateOptions {
  /** Open when failures ÷ requests in the window reach this, in (0, 1]. */
  threshold: number;
  /** Length of the tumbling window. In ms. */
  windowMs: number;
  /** Below this many requests in the window the rate is not judged. */
  minimumRequests: number;
}

export interface CircuitBreakerOptions {
  /** Names the circuit in errors and in the store: one per upstream, e.g. `llm:https://ollama.com/v1`. */
  name: string;
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** Also open on a failure rate over a window. Off by default. */
  failureRate?: FailureRateOptions;
  /** How long the circuit stays open before one probe may go through. Default 30 000 ms. */
  cooldownMs?: number;
  /** How long a half-open probe may take before another caller may probe instead. Default: `cooldownMs`. */
  probeLeaseMs?: number;
  /**
   * Reads a failure as the upstream means it. Default `classifyError`; a client whose upstream has its own
   * dialect (GitHub's rate-limit 403s) passes its classifier, as it does to `FleetGuard`.
   */
  classify?: (error: unknown) => Classification;
  /**
   * Which errors count against the upstream. Default: what `classify` calls retryable (a 404 means the
   * upstream is up), except a rate limit (429, a rate-limit 403): an upstream that says "slow down" is up,
   * and the cooldown and rate limiter answer it; a burst of 429s must not shut the fleet out for a cool-down.
   */
  isFailure?: (error: unknown) => boolean;
  store?: CircuitStore;
  clock?: Clock;
  onStateChange?: (change: { name: string; from: CircuitState; to: CircuitState }) => void;
}

export const defaultCircuitBreakerOptions = {
  failureThreshold: 5,
  cooldownMs: 30_000,
} as const;

/** How many times a read-modify-write is tried against concurrent writers before giving up. */
const maxCasRounds = 20;

/**
 * closed → open after `failureThreshold` consecutive failures (or the failure rate); open → half-open
 * after `cooldownMs`, letting exactly one probe through; its success closes the circuit, its failure
 * opens it again. While open, calls fail fast with `CircuitOpenError` saying when to try again.
 */
export class CircuitBreaker {
  readonly name: string;
  private readonly failureThreshold: number;
  private readonly failureRate: FailureRateOptions | undefined;
  private readonly cooldownMs: number;
  private readonly probeLeaseMs: number;
  private readonly classify: (error: unknown) => Classification;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly store: CircuitStore;
  private readonly clock: Clock;
  private readonly onStateChange: CircuitBreakerOptions['onStateChange'];

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name;
    this.failureThreshold = options.failureThreshold ?? defaultCircuitBreakerOptions.failureThreshold;
    this.failureRate = options.failureRate;
    this.cooldownMs = options.cooldownMs ?? defaultCircuitBreakerOptions.cooldownMs;
    this.probeLeaseMs = options.probeLeaseMs ?? this.cooldownMs;
    const classify = options.classify ?? ((error: unknown) => classifyError(error));
    this.classify = classify;
    this.isFailure =
      options.isFailure ??
      ((error) => {
        if (error instanceof CircuitOpenError) return false;
        const { retryable, status } = classify(error);
        return retryable && status !== 429 && status !== 403;
      });
    this.store = options.store ?? new InMemoryCircuitStore();
    this.clock = options.clock ?? systemClock;
    this.onStateChange = options.onStateChange;
    if (!(Number.isInteger(this.failureThreshold) && this.failureThreshold >= 1)) {
      throw new RangeError(
        `CircuitBreaker: failureThreshold must be a whole number >= 1, got ${this.failureThreshold}`,
      );
    }
  }

  /** Runs `fn` if the circuit lets it through, and records how it went. */
  async execute<T>(fn: () => Promise<T>): Promise<T> {
    const isProbe = await this.acquire();
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      if (this.isFailure(error)) await this.recordFailure(isProbe);
      // A caller's abort says nothing about the upstream; a probe that was abandoned frees its lease.
      else if (this.classify(error).reason === 'aborted') await this.releaseProbe(isProbe);
      // The upstream answered (a 404, a 422): it is up.
      else await this.recordSuccess(isProbe);
      throw error;
    }
    await this.recordSuccess(isProbe);
    return result;
  }

  /** The circuit's state now, for ops and metrics. */
  async state(): Promise<CircuitState> {
    const snapshot = await this.store.read(this.name);
    if (!snapshot) return 'closed';
    if (snapshot.state === 'open' && this.clock.now() >= snapshot.retryAtMs) return 'half-open';
    return snapshot.state;
  }

  /** Lets a call through or throws `CircuitOpenError`. Returns whether the call is the half-open probe. */
  private async acquire(): Promise<boolean> {
    let isProbe = false;
    await this.mutate((current, nowMs) => {
      isProbe = false;
      if (current.state === 'closed') return undefined;
      const leaseFree =
        current.state === 'open' ? nowMs >= current.retryAtMs : nowMs >= current.probeLeaseUntilMs;
      if (!leaseFree) {
        const retryAtMs = current.state === 'open' ? current.retryAtMs : current.probeLeaseUntilMs;
        throw new CircuitOpenError(this.name, new Date(retryAtMs));
      }
      isProbe = true;
      return { ...current, state: 'half-open', probeLeaseUntilMs: nowMs + this.probeLeaseMs };
    });
    return isProbe;
  }

  private recordSuccess(isProbe: boolean): Promise<void> {
    return this.mutate((current, nowMs) => {
      if (current.state === 'half-open' && !isProbe) return undefined;
      const window = this.rollWindow(current, nowMs);
      const untouched =
        current.state === 'closed' && current.consecutiveFailures === 0 && this.failureRate === undefined;
      if (untouched) return undefined;
      return {
        ...window,
        state: 'closed',
        consecutiveFailures: 0,
        windowRequests: window.windowRequests + 1,
        retryAtMs: 0,
        probeLeaseUntilMs: 0,
      };
    });
  }

  private async releaseProbe(isProbe: boolean): Promise<void> {
    if (!isProbe) return;
    await this.mutate((current) =>
      current.state === 'half-open' ? { ...current, probeLeaseUntilMs: 0 } : undefined,
    );
  }

  private recordFailure(isProbe: boolean): Promise<void> {
    return this.mutate((current, nowMs) => {
      if (current.state === 'half-open' && !isProbe) return undefined;
      const window = this.rollWindow(current, nowMs);
      const next: CircuitSnapshot = {
        ...window,
        consecutiveFailures: current.consecutiveFailures + 1,
        windowRequests: window.windowRequests + 1,
        windowFailures: window.windowFailures + 1,
      };
      const rate = this.failureRate;
      const tripped =
        isProbe ||
        current.state === 'open' ||
        next.consecutiveFailures >= this.failureThreshold ||
        (rate !== undefined &&
          next.windowRequests >= rate.minimumRequests &&
          next.windowFailures / next.windowRequests >= rate.threshold);
      if (!tripped) return next;
      return { ...next, state: 'open', retryAtMs: nowMs + this.cooldownMs, probeLeaseUntilMs: 0 };
    });
  }

  private rollWindow(current: CircuitSnapshot, nowMs: number): CircuitSnapshot {
    const windowMs = this.failureRate?.windowMs ?? Number.POSITIVE_INFINITY;
    if (nowMs - current.windowStartMs < windowMs) return current;
    return { ...current, windowStartMs: nowMs, windowRequests: 0, windowFailures: 0 };
  }

  /** Read-modify-write through the store's compare-and-set; `change` returns undefined to write nothing. */
  private async mutate(change: (current: CircuitSnapshot, nowMs: number) => CircuitSnapshot | undefined) {
    for (let round = 0; round < maxCasRounds; round++) {
      const stored = await this.store.read(this.name);
      const nowMs = this.clock.now();
      const current = stored ?? closedSnapshot(nowMs);
      const next = change(current, nowMs);
      if (next === undefined) return;
      const written = await this.store.compareAndSet(this.name, stored?.version ?? 0, {
        ...next,
        version: (stored?.version ?? 0) + 1,
      });
      if (written) {
        if (current.state !== next.state)
          this.onStateChange?.({ name: this.name, from: current.state, to: next.state });
        return;
      }
    }
    throw new Error(
      `CircuitBreaker "${this.name}": store kept changing under ${maxCasRounds} attempts to update it`,
    );
  }
}

function closedSnapshot(nowMs: number): CircuitSnapshot {
  return {
    state: 'closed',
    consecutiveFailures: 0,
    windowStartMs: nowMs,
    windowRequests: 0,
    windowFailures: 0,
    retryAtMs: 0,
    probeLeaseUntilMs: 0,
    version: 0,
  };
}
