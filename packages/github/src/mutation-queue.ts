import { type Clock, sleep as realSleep, type Sleep } from '@runner/retry';

export interface MutationQueueOptions {
  /** Least time from the end of one mutating request to the start of the next, per installation. Default 1 000 ms. */
  minIntervalMs?: number;
  /** Default: a monotonic clock. */
  clock?: Clock;
  sleep?: Sleep;
}

export const defaultMutationQueueOptions = { minIntervalMs: 1_000 } as const;

/** Methods that change something on GitHub. */
export const mutatingMethods: ReadonlySet<string> = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

const monotonicClock: Clock = { now: () => performance.timeOrigin + performance.now() };

interface Line {
  tail: Promise<void>;
  lastEndMs: number;
}

/**
 * GitHub asks integrators to send mutating requests for one user or installation serially, waiting at
 * least one second between them, or secondary rate limits follow
 * (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api).
 * One queue per process keeps a line per installation: a write starts only after the previous one has
 * finished, and `minIntervalMs` after that. Measured from the end, the gap holds at GitHub's side too,
 * whatever the network does to the timing. Reads never wait here.
 */
export class MutationQueue {
  private readonly minIntervalMs: number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly lines = new Map<string, Line>();

  constructor(options: MutationQueueOptions = {}) {
    this.minIntervalMs = options.minIntervalMs ?? defaultMutationQueueOptions.minIntervalMs;
    this.clock = options.clock ?? monotonicClock;
    this.sleep = options.sleep ?? realSleep;
  }

  /** Runs `fn` when it is the installation's turn; a caller that aborts leaves the line at once. */
  run<T>(installationId: number | string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const line = this.line(String(installationId));
    const turn = line.tail.then(async () => {
      signal?.throwIfAborted();
      const waitMs = line.lastEndMs + this.minIntervalMs - this.clock.now();
      if (waitMs > 0) await this.sleep(waitMs, signal);
      try {
        return await fn();
      } finally {
        line.lastEndMs = this.clock.now();
      }
    });
    line.tail = turn.then(
      () => {},
      () => {},
    );
    if (!signal) return turn;
    // Leave the line at once on abort; when the turn comes, it sees the abort and skips `fn`.
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      turn.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private line(key: string): Line {
    let line = this.lines.get(key);
    if (!line) {
      line = { tail: Promise.resolve(), lastEndMs: Number.NEGATIVE_INFINITY };
      this.lines.set(key, line);
    }
    return line;
  }
}
