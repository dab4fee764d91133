import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { deliver, issuesOpenedBody } from '../deliveries.ts';
import { webhookSecret } from '../harness.ts';

/** GitHub gives up on a delivery after 10 s and shows it as failed. */
export const githubDeliveryTimeoutMs = 10_000;

/** One delivery and how the intake answered it. */
export interface Delivery {
  deliveryId: string;
  /** The issue (and installation) it is about: one each, so that no comment waits behind another's. */
  number: number;
  /** The status, or 'no answer' when the intake did not answer within GitHub's 10 s (or the socket failed). */
  status: number | 'no answer';
  /** `Date.now()` when it was sent and when the answer came (or the wait gave up). */
  sentAt: number;
  answeredAt: number;
  latencyMs: number;
}

/** Sends one delivery for issue `number` and records the answer; never rejects. */
export async function send(
  intakeUrl: string,
  number: number,
  deliveryId: string = randomUUID(),
): Promise<Delivery> {
  const sentAt = Date.now();
  const started = performance.now();
  const status = await deliver(intakeUrl, issuesOpenedBody(number, number), webhookSecret, {
    deliveryId,
    timeoutMs: githubDeliveryTimeoutMs,
  }).then(
    (response) => response.status,
    () => 'no answer' as const,
  );
  return {
    deliveryId,
    number,
    status,
    sentAt,
    answeredAt: Date.now(),
    latencyMs: performance.now() - started,
  };
}

/**
 * Sends a delivery for each of `numbers` at `perSec`, open loop: each leaves at its own time, whatever
 * happened to the ones before, as GitHub's do. Resolves with every answer once the last has come.
 */
export async function sendAtRate(
  intakeUrl: string,
  numbers: readonly number[],
  perSec: number,
): Promise<Delivery[]> {
  const startedAtMs = performance.now();
  const sends: Array<Promise<Delivery>> = [];
  for (const [i, number] of numbers.entries()) {
    const waitMs = startedAtMs + (i * 1_000) / perSec - performance.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    sends.push(send(intakeUrl, number));
  }
  return Promise.all(sends);
}

/** 2xx: GitHub counts the delivery as delivered. */
export function acknowledged(delivery: Delivery): boolean {
  return typeof delivery.status === 'number' && delivery.status >= 200 && delivery.status < 300;
}
