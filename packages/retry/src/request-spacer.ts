import { type Clock, sleep as realSleep, type Sleep } from './clock.ts';

export interface RequestSpacerOptions {
  /** Least time between two releases. Default 100 ms (the design notes' LLM spacing). In ms. */
  minIntervalMs?: number;
  /** Default: a monotonic clock with sub-millisecond resolution. */
  clock?: Clock;
  sleep?: Sleep;
}

export const defaultRequestSpacerOptions = { minIntervalMs: 100 } as const;

/** Spacing is about intervals, not wall time: a monotonic clock does not jump when NTP corrects the system clock. */
const monotonicClock: Clock = { now: () => performance.timeOrigin + performance.now() };

/**
 * Keeps at least `minIntervalMs` between calls from one process. Callers are released one after another,
 * each measured from the moment the previous one was actually released, so a timer that fires late never
 * squeezes the next gap, and one that fires early is waited out.
 */
export class RequestSpacer {
  readonly minIntervalMs: number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private lastReleaseMs = Number.NEGATIVE_INFINITY;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: RequestSpacerOptions = {}) {
    this.minIntervalMs = options.minIntervalMs ?? defaultRequestSpacerOptions.minIntervalMs;
    if (!(Number.isFinite(this.minIntervalMs) && this.minIntervalMs >= 0)) {
      throw new RangeError(
        `RequestSpacer: minIntervalMs must be a finite number >= 0, got ${this.minIntervalMs}`,
      );
    }
    this.clock = options.clock ?? monotonicClock;
    this.sleep = options.sleep ?? realSleep;
  }

  /** Resolves when this caller's turn comes; rejects at once with the signal's reason on abort. */
  wait(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const turn = this.queue.then(() => this.release(signal));
    this.queue = turn.catch(() => {});
    if (!signal) return turn;
    // A caller that gives up leaves the line at once; its turn, when it comes, releases nobody.
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      turn.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Waits for a turn, then calls `fn`. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.wait(signal);
    return fn();
  }

  private async release(signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const waitMs = this.lastReleaseMs + this.minIntervalMs - this.clock.now();
      if (waitMs <= 0) break;
      await this.sleep(waitMs, signal);
    }
    this.lastReleaseMs = this.clock.now();
  }
}
