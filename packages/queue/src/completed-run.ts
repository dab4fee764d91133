import type { RedisClient } from 'bullmq';
import { maxTimelineEntries } from './retry-tracker.ts';
import { writeTogetherUntilTick } from './socket-writes.ts';
import type { TimelineEntry } from './timeline.ts';

/** What a completed run that met trouble leaves in Redis: its timeline entries. */
export interface CompletedRun {
  /** `<prefix>:job:retry:<id>:timeline` (`RetryTracker.timelineKey`). */
  timelineKey: string;
  /** The timeline's time to live, renewed by every write. In ms. */
  ttlMs: number;
  entries: readonly TimelineEntry[];
}

const commandName = 'runnerRecordCompletedRun';

// One script instead of RPUSH, LTRIM and PEXPIRE: one command for the client to send, and the trim only
// once the list is over its cap.
const lua = `
local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
local cap = tonumber(ARGV[1])
if length > cap then redis.call('LTRIM', KEYS[1], -cap, -1) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

const defined = new WeakSet<RedisClient>();

/**
 * Records the timeline entries of a completed run on `client`, BullMQ's own connection of the worker that
 * ran it. Redis runs one connection's commands in order, so sent before BullMQ completes the job they are
 * in Redis before anyone can see the job completed, and the run need not wait for the reply. They go out
 * in the same socket write as BullMQ's completion: BullMQ sends `moveToFinished` on this connection in the
 * same turn of the event loop, once the processor's promise settles. (The completion is counted by
 * BullMQ's own metrics, in `moveToFinished`: `FleetStats.jobsTotal`.)
 */
export function recordCompletedRun(client: RedisClient, run: CompletedRun): Promise<unknown> {
  writeTogetherUntilTick(client);
  if (!defined.has(client)) {
    client.defineCommand(commandName, { numberOfKeys: 1, lua });
    defined.add(client);
  }
  return client.runCommand(commandName, [
    run.timelineKey,
    maxTimelineEntries,
    run.ttlMs,
    ...run.entries.map((entry) => JSON.stringify(entry)),
  ]);
}
