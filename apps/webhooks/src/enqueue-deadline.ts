import { withTimeout } from '@runner/retry';

/** Redis did not store the job within the intake's enqueue timeout (`WEBHOOK_ENQUEUE_TIMEOUT_MS`). */
export class EnqueueTimeoutError extends Error {
  override name = 'EnqueueTimeoutError';
  readonly code = 'enqueue_timeout';
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`no answer from Redis within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * `enqueue`, or {@link EnqueueTimeoutError} once `timeoutMs` has passed: GitHub gives up on a delivery
 * after 10 s, so a Redis that holds commands (paused, swapping, a failover) must not hold the answer.
 * The commands already sent may still run later; `enqueueDelivery`'s marks are safe against that.
 */
export function withEnqueueDeadline<T>(enqueue: Promise<T>, timeoutMs: number): Promise<T> {
  return withTimeout(enqueue, timeoutMs, () => new EnqueueTimeoutError(timeoutMs));
}
