import {
  type Clock,
  formatSeconds,
  type Logger,
  silentLogger,
  systemClock,
  withTimeout,
} from '@runner/retry';

export interface RedisFallbackOptions {
  /** Longest wait for Redis in one operation before that operation uses per-process state. Default 200 ms. In ms. */
  operationTimeoutMs?: number;
  /** After Redis failed, how long operations go straight to per-process state before Redis is tried again. Default 1 000 ms. In ms. */
  retryRedisAfterMs?: number;
  /** Told once when an outage starts and once when Redis answers again. Default: silent. */
  logger?: Logger;
  clock?: Clock;
}

export const defaultRedisFallbackOptions = {
  operationTimeoutMs: 200,
  retryRedisAfterMs: 1_000,
} as const;

/** Redis did not answer one operation in time. */
export class RedisOperationTimeoutError extends Error {
  override name = 'RedisOperationTimeoutError';
  readonly timeoutMs: number;
  constructor(operation: string, timeoutMs: number) {
    super(`Redis did not answer ${operation} within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Runs each operation on Redis within a bounded time and, on an error or a timeout, runs it on the
 * matching per-process state instead, so a call to an upstream never waits on a slow or dead Redis:
 * the fleet's politeness degrades to one process's politeness, it does not stop the work. After a
 * failure Redis is left alone for `retryRedisAfterMs` (each operation would otherwise pay the timeout),
 * then tried again; the first answer ends the outage. One warning per outage, one note when it ends.
 */
export class RedisFallback {
  readonly component: string;
  readonly operationTimeoutMs: number;
  readonly retryRedisAfterMs: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private outage: { sinceMs: number; nextTryMs: number } | undefined;

  /** `component` names the user in log lines, e.g. `circuit store`. */
  constructor(component: string, options: RedisFallbackOptions = {}) {
    this.component = component;
    this.operationTimeoutMs = options.operationTimeoutMs ?? defaultRedisFallbackOptions.operationTimeoutMs;
    this.retryRedisAfterMs = options.retryRedisAfterMs ?? defaultRedisFallbackOptions.retryRedisAfterMs;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    for (const [name, value] of [
      ['operationTimeoutMs', this.operationTimeoutMs],
      ['retryRedisAfterMs', this.retryRedisAfterMs],
    ] as const) {
      if (!(Number.isFinite(value) && value >= 0)) {
        throw new RangeError(`RedisFallback: ${name} must be a finite number >= 0, got ${value}`);
      }
    }
  }

  /** True while operations use per-process state. */
  get degraded(): boolean {
    return this.outage !== undefined;
  }

  /** `remote` on Redis, or `local` when Redis fails, is too slow, or failed less than `retryRedisAfterMs` ago. */
  async run<T>(operation: string, remote: () => Promise<T>, local: () => T | Promise<T>): Promise<T> {
    if (this.outage !== undefined && this.clock.now() < this.outage.nextTryMs) return local();
    let result: T;
    try {
      result = await withTimeout(
        remote(),
        this.operationTimeoutMs,
        () => new RedisOperationTimeoutError(operation, this.operationTimeoutMs),
      );
    } catch (error) {
      this.failed(operation, error);
      return local();
    }
    this.answered();
    return result;
  }

  private failed(operation: string, error: unknown): void {
    const nowMs = this.clock.now();
    if (this.outage !== undefined) {
      this.outage.nextTryMs = nowMs + this.retryRedisAfterMs;
      return;
    }
    this.outage = { sinceMs: nowMs, nextTryMs: nowMs + this.retryRedisAfterMs };
    this.logger.warn(
      { component: this.component, operation, err: error, timeoutMs: this.operationTimeoutMs },
      `Redis unavailable for the fleet ${this.component} (${messageOf(error)}); using this process's state until it answers`,
    );
  }

  private answered(): void {
    if (this.outage === undefined) return;
    const outageMs = this.clock.now() - this.outage.sinceMs;
    this.outage = undefined;
    this.logger.info(
      { component: this.component, outageMs },
      `Redis answers again after ${formatSeconds(outageMs)}; the fleet ${this.component} is shared again`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
