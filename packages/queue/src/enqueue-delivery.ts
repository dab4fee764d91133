import { createHash } from 'node:crypto';
import { type AgentJobData, type ParsedJobData, parseAgentJobData } from './agent-job.ts';
import { type AgentQueue, agentQueueName } from './agent-queue.ts';
import type { RedisClient } from './redis-client.ts';

/**
 * Deliveries can be redelivered (by hand or by API) for three days; one seen within that is not enqueued
 * again while its job is kept (ops may remove it).
 */
export const deliveryDedupeTtlMs = 72 * 60 * 60_000;

export type EnqueueResult = { outcome: 'enqueued'; jobId: string } | { outcome: 'duplicate'; jobId: string };

export interface EnqueueDeliveryOptions {
  queue: AgentQueue;
  /** A plain ioredis client on the same Redis as the queue, for the dedupe marks. */
  redis: RedisClient;
  /** The queue prefix: dedupe marks live beside the queue's keys (same hash tag on a cluster). */
  prefix: string;
  data: AgentJobData;
  /**
   * A fingerprint of the raw body, hex, the same for the same bytes and different for any other. GitHub
   * signs only the body, so a captured body and signature could be replayed under a new delivery id: the
   * body is deduplicated as well as the id. The intake uses a hash of the body's verified HMAC, which it
   * has computed already; a sha256 of the body would do as well.
   */
  bodyDigest: string;
}

// Job data objects that came out of validateJobData: frozen, so still valid when they reach enqueueDelivery.
const validated = new WeakSet<object>();

/**
 * `parseAgentJobData`, remembering its result: {@link enqueueDelivery} does not check the same object a
 * second time (the intake validates a delivery's job to answer 400, then enqueues it). The data it
 * returns is frozen.
 */
export function validateJobData(data: unknown): ParsedJobData {
  const parsed = parseAgentJobData(data);
  if (parsed.ok) validated.add(deepFreeze(parsed.data));
  return parsed;
}

// Both marks, or neither: checked and set in one step so that two intakes cannot both win. On a
// duplicate it returns the delivery id that came first (a replayed body arrives under a new id).
// A mark of this very delivery with no job behind it was left by an attempt that stored nothing (Redis
// ran the mark after the intake had given up on it and answered 503, or the intake died before the add):
// the redelivery carries on instead of being answered "duplicate" for a job that does not exist. Were
// that attempt still running, both adds carry the same job id, and BullMQ stores one job. The marks get
// their whole 72 hours at once: no second command once the job is stored. (Marks of an older intake
// read `pending:<id>` for their first minutes; they count as `<id>`.)
const markScript = `
local first = redis.call('GET', KEYS[1]) or redis.call('GET', KEYS[2])
if first then
  first = string.match(first, '^pending:(.*)$') or first
  if first ~= ARGV[1] or redis.call('EXISTS', KEYS[3]) == 1 then return first end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return false`;

/**
 * Adds the job for a delivery unless the delivery (by id or by body) was seen in the last 72 hours;
 * a duplicate's `jobId` is the job of the delivery that came first. The job id is the delivery id.
 * Two Redis round trips: mark, add (one for a duplicate). A delivery whose job ops removed is let
 * through again, as a new job: GitHub redelivers only when someone asks it to.
 * Throws when Redis cannot store it: the intake then answers 503, never 2xx for a job that was not
 * stored, so the delivery shows as failed in GitHub and can be redelivered (GitHub does not redeliver
 * on its own; the app's "Recent Deliveries" page or its API does).
 * @throws TypeError when the data does not fit the job schema (a bug in the intake: nothing is stored).
 */
export async function enqueueDelivery(options: EnqueueDeliveryOptions): Promise<EnqueueResult> {
  const { queue, redis, prefix, bodyDigest } = options;
  const data = validated.has(options.data) ? options.data : checked(options.data);

  const keys = [`${prefix}:delivery:${data.deliveryId}`, `${prefix}:delivery-body:${bodyDigest}`] as const;
  const jobKey = `${prefix}:${agentQueueName}:${data.deliveryId}`;
  const first = await runScript(redis, markScript, [...keys, jobKey], [data.deliveryId, deliveryDedupeTtlMs]);
  if (typeof first === 'string') return { outcome: 'duplicate', jobId: first };

  try {
    await queue.add(data.event, data, { jobId: data.deliveryId });
  } catch (error) {
    // Not stored: let GitHub's redelivery through.
    await redis.del(...keys).catch(() => {});
    throw error;
  }
  return { outcome: 'enqueued', jobId: data.deliveryId };
}

function checked(data: AgentJobData): AgentJobData {
  const parsed = parseAgentJobData(data);
  if (!parsed.ok)
    throw new TypeError(`Job data for delivery ${data.deliveryId} is invalid: ${parsed.problems.join('; ')}`);
  return parsed.data;
}

function deepFreeze<T extends object>(value: T): T {
  for (const field of Object.values(value))
    if (typeof field === 'object' && field !== null) deepFreeze(field as object);
  return Object.freeze(value);
}

const scriptSha1 = new Map<string, string>();

/**
 * EVALSHA, falling back to EVAL when Redis does not have the script yet (after a restart or a SCRIPT
 * FLUSH): the script's text crosses the wire once, not with every delivery.
 */
async function runScript(
  redis: RedisClient,
  script: string,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  let sha1 = scriptSha1.get(script);
  if (sha1 === undefined) {
    sha1 = createHash('sha1').update(script).digest('hex');
    scriptSha1.set(script, sha1);
  }
  try {
    return await redis.evalsha(sha1, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return redis.eval(script, keys.length, ...keys, ...args);
  }
}
