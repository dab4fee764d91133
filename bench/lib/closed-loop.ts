import type { SendRequest } from './open-loop.ts';

export interface ClosedLoopOptions {
  /** Requests in flight at all times: each sender sends its next request as soon as it has an answer. */
  concurrency: number;
  /** How long the senders run, warm-up included. In ms. */
  durationMs: number;
  /** Answers that arrive in the first `warmupMs` are not counted. In ms. */
  warmupMs: number;
  /** Each request is abandoned after this long. In ms. */
  timeoutMs: number;
  send: SendRequest;
  now?: () => number;
}

export interface ClosedLoopResult {
  /** 2xx answers per second in the measured window. */
  perSecond: number;
  /** Answers counted in the measured window, by status; `error` for transport failures and timeouts. */
  statuses: Record<string, number>;
  /** Every answer, warm-up included: for costs measured over the whole phase. */
  answered: number;
}

/**
 * A closed-loop, maximum-throughput load: `concurrency` senders back to back. It measures how many
 * requests per second the server completes, not latency: a closed loop waits for the server before
 * sending more, so its latencies hide queueing (coordinated omission). Latency is the open loop's job.
 */
export async function closedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const now = options.now ?? (() => performance.now());
  const startMs = now();
  const windowStartMs = startMs + options.warmupMs;
  const endMs = startMs + options.durationMs;
  const statuses: Record<string, number> = {};
  let ok = 0;
  let answered = 0;
  let next = 0;

  const sender = async () => {
    while (now() < endMs) {
      const index = next;
      next += 1;
      let status: string;
      try {
        status = String(await options.send(index, AbortSignal.timeout(options.timeoutMs)));
      } catch {
        status = 'error';
      }
      answered += 1;
      const t = now();
      if (t < windowStartMs || t > endMs) continue;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status.startsWith('2')) ok += 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, sender));
  return { perSecond: ok / ((endMs - windowStartMs) / 1000), statuses, answered };
}
