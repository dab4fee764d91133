import type { RedisClient } from 'bullmq';
import type { Redis } from 'ioredis';
import { maxTimelineEntries } from './retry-tracker.ts';
import { writeTogetherUntilTick } from './socket-writes.ts';
import type { TimelineEntry } from './timeline.ts';

/** What a completed run leaves in Redis: its timeline entries (if any) and one count of the outcome. */
export interface CompletedRun {
  /** `<prefix>:job:retry:<id>:timeline` (`RetryTracker.timelineKey`). */
  timelineKey: string;
  /** The fleet's job outcome counters (`FleetStats.jobsTotalKey`). */
  jobsTotalKey: string;
  /** The timeline's time to live, renewed by every write. In ms. */
  ttlMs: number;
  /** None for a clean first run: then only the count is written. */
  entries: readonly TimelineEntry[];
}

const commandName = 'runnerRecordCompletedRun';

// One script instead of RPUSH, LTRIM, PEXPIRE and HINCRBY: one command for the client to send, and the
// trim only once the list is over its cap. Both keys carry the queue prefix, so a hash-tag prefix keeps
// them in one cluster slot as BullMQ's own scripts need.
const lua = `
if #ARGV > 2 then
  local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
  local cap = tonumber(ARGV[1])
  if length > cap then redis.call('LTRIM', KEYS[1], -cap, -1) end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('HINCRBY', KEYS[2], 'completed', 1)`;

const defined = new WeakSet<RedisClient>();

/**
 * Records a completed run on `client`, BullMQ's own connection of the worker that ran it. Redis runs one
 * connection's commands in order, so sent before BullMQ completes the job it is in Redis before anyone
 * can see the job completed, and the run need not wait for its reply. It goes out in the same socket
 * write as BullMQ's completion: BullMQ sends `moveToFinished` on this connection in the same turn of the
 * event loop, once the processor's promise settles.
 */
export function recordCompletedRun(client: RedisClient, run: CompletedRun): Promise<unknown> {
  writeTogetherUntilTick(client);
  // A clean first run has only its count to write: no script to run.
  if (run.entries.length === 0) {
    // BullMQ's client is its proxy of our ioredis client, which forwards every command ioredis has.
    return (client as unknown as Pick<Redis, 'hincrby'>).hincrby(run.jobsTotalKey, 'completed', 1);
  }
  if (!defined.has(client)) {
    client.defineCommand(commandName, { numberOfKeys: 2, lua });
    defined.add(client);
  }
  return client.runCommand(commandName, [
    run.timelineKey,
    run.jobsTotalKey,
    maxTimelineEntries,
    run.ttlMs,
    ...run.entries.map((entry) => JSON.stringify(entry)),
  ]);
}
