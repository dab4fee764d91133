import type { Redis } from 'ioredis';
import { type AgentJobData, parseAgentJobData } from './agent-job.ts';
import type { AgentQueue } from './agent-queue.ts';

/** Deliveries can be redelivered (by hand or by API) for three days; one seen within that is never enqueued twice. */
export const deliveryDedupeTtlMs = 72 * 60 * 60_000;

/**
 * While the job is being added, the dedupe marks live only this long, so that a crash between marking
 * and adding does not block GitHub's redelivery for three days.
 */
const pendingMarkTtlMs = 5 * 60_000;

export type EnqueueResult = { outcome: 'enqueued'; jobId: string } | { outcome: 'duplicate'; jobId: string };

export interface EnqueueDeliveryOptions {
  queue: AgentQueue;
  /** A plain ioredis client on the same Redis as the queue, for the dedupe marks. */
  redis: Redis;
  /** The queue prefix: dedupe marks live beside the queue's keys (same hash tag on a cluster). */
  prefix: string;
  data: AgentJobData;
  /**
   * sha256 of the raw body, hex. GitHub signs only the body, so a captured body and signature could be
   * replayed under a new delivery id: the body's hash is deduplicated as well as the id.
   */
  bodySha256: string;
}

// Both marks, or neither: checked and set in one step so that two intakes cannot both win. On a
// duplicate it returns the delivery id that came first (a replayed body arrives under a new id).
const markScript = `
local first = redis.call('GET', KEYS[1]) or redis.call('GET', KEYS[2])
if first then return first end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return false`;

/**
 * Adds the job for a delivery unless the delivery (by id or by body) was seen in the last 72 hours;
 * a duplicate's `jobId` is the job of the delivery that came first. The job id is the delivery id.
 * Throws when Redis cannot store it: the intake then answers 503, never 2xx for a job that was not
 * stored, so the delivery shows as failed in GitHub and can be redelivered (GitHub does not redeliver
 * on its own; the app's "Recent Deliveries" page or its API does).
 * @throws TypeError when the data does not fit the job schema (a bug in the intake: nothing is stored).
 */
export async function enqueueDelivery(options: EnqueueDeliveryOptions): Promise<EnqueueResult> {
  const { queue, redis, prefix, data, bodySha256 } = options;
  const parsed = parseAgentJobData(data);
  if (!parsed.ok)
    throw new TypeError(`Job data for delivery ${data.deliveryId} is invalid: ${parsed.problems.join('; ')}`);

  const keys = [`${prefix}:delivery:${data.deliveryId}`, `${prefix}:delivery-body:${bodySha256}`] as const;
  const first = await redis.eval(markScript, 2, keys[0], keys[1], data.deliveryId, pendingMarkTtlMs);
  if (typeof first === 'string') return { outcome: 'duplicate', jobId: first };

  try {
    await queue.add(data.event, parsed.data, { jobId: data.deliveryId });
  } catch (error) {
    // Not stored: let GitHub's redelivery through.
    await redis.del(...keys).catch(() => {});
    throw error;
  }
  await redis.pexpire(keys[0], deliveryDedupeTtlMs);
  await redis.pexpire(keys[1], deliveryDedupeTtlMs);
  return { outcome: 'enqueued', jobId: data.deliveryId };
}
