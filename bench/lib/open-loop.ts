/** Sends request `index` and resolves with the HTTP status once the whole response has arrived. */
export type SendRequest = (index: number, signal: AbortSignal) => Promise<number>;

export interface OpenLoopOptions {
  /** Requests per second, sent at fixed intervals. */
  ratePerSec: number;
  /** How long the schedule runs, warm-up included. In ms. */
  durationMs: number;
  /** Requests scheduled in the first `warmupMs` are sent but not counted. In ms. */
  warmupMs: number;
  /** A response later than this after its scheduled time is given up on (GitHub's 10 s). In ms. */
  deadlineMs: number;
  send: SendRequest;
  now?: () => number;
}

export interface OpenLoopResult {
  /** Requests counted (scheduled after the warm-up). */
  counted: number;
  /** For each counted request that got an answer: from its scheduled send time to the end of the answer. In ms. */
  latenciesMs: number[];
  /** Counted requests with no answer within `deadlineMs` of their scheduled time. */
  overDeadline: number;
  /** Counted answers by status; `error` for a transport failure. */
  statuses: Record<string, number>;
  /** How late the generator itself sent, scheduled to actual, p99 and max. In ms. */
  sendLagP99Ms: number;
  sendLagMaxMs: number;
}

/** How many requests an open loop schedules: indexes 0 to this − 1. */
export function openLoopRequests(options: Pick<OpenLoopOptions, 'ratePerSec' | 'durationMs'>): number {
  return Math.floor(options.durationMs / (1000 / options.ratePerSec));
}

/**
 * An open-loop load generator (wrk2's model): request `i` is due at `start + i / rate` whether or not
 * earlier ones have been answered, and its latency is measured from that scheduled time. A server that
 * stalls is charged for every request that should have been sent meanwhile, so there is no
 * coordinated omission. Bounded: every request is abandoned `deadlineMs` after its scheduled time.
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const now = options.now ?? (() => performance.now());
  const intervalMs = 1000 / options.ratePerSec;
  const total = openLoopRequests(options);
  const warmupCount = Math.ceil(options.warmupMs / intervalMs);
  const result: OpenLoopResult = {
    counted: Math.max(0, total - warmupCount),
    latenciesMs: [],
    overDeadline: 0,
    statuses: {},
    sendLagP99Ms: 0,
    sendLagMaxMs: 0,
  };
  const lags: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const startMs = now() + 5;

  const fire = (index: number, scheduledMs: number) => {
    const counted = index >= warmupCount;
    const lagMs = now() - scheduledMs;
    if (counted) lags.push(lagMs);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.max(0, options.deadlineMs - lagMs));
    const request = options.send(index, controller.signal).then(
      (status) => {
        if (!counted) return;
        const latencyMs = now() - scheduledMs;
        if (latencyMs > options.deadlineMs) result.overDeadline += 1;
        else result.latenciesMs.push(latencyMs);
        result.statuses[String(status)] = (result.statuses[String(status)] ?? 0) + 1;
      },
      () => {
        if (!counted) return;
        if (controller.signal.aborted) result.overDeadline += 1;
        else result.statuses.error = (result.statuses.error ?? 0) + 1;
      },
    );
    const tracked = request.finally(() => {
      clearTimeout(timer);
      inFlight.delete(tracked);
    });
    inFlight.add(tracked);
  };

  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const t = now();
      // Every request that is due goes now, however many: falling behind must not thin the load.
      while (next < total && startMs + next * intervalMs <= t) {
        fire(next, startMs + next * intervalMs);
        next += 1;
      }
      if (next >= total) resolve();
      else setTimeout(tick, Math.min(1, Math.max(0, startMs + next * intervalMs - now())));
    };
    tick();
  });
  await Promise.all(inFlight);
  if (lags.length > 0) {
    lags.sort((x, y) => x - y);
    result.sendLagP99Ms = lags[Math.ceil(0.99 * lags.length) - 1] as number;
    result.sendLagMaxMs = lags[lags.length - 1] as number;
  }
  return result;
}
