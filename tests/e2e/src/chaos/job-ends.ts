import type { Harness } from '../harness.ts';

/** How one acknowledged delivery's job ended; 'missing' when Redis no longer has the job at all. */
export interface JobEnd {
  state: string;
  /** `Date.now()` at which it finished, when it did. */
  finishedOn: number | undefined;
}

/** Waits, bounded by `timeoutMs` each, for every job in `ids` to finish, and says how each ended. */
export async function jobEnds(
  h: Harness,
  ids: readonly string[],
  timeoutMs: number,
): Promise<Map<string, JobEnd>> {
  const ends = await Promise.all(
    ids.map(async (id): Promise<[string, JobEnd]> => {
      // A job Redis lost (a crash before its write reached the disk) has nothing to wait on.
      if (!(await h.queue.getJob(id))) return [id, { state: 'missing', finishedOn: undefined }];
      const { job } = await h.waitForJob(id, timeoutMs);
      return [id, { state: await job.getState(), finishedOn: job.finishedOn }];
    }),
  );
  return new Map(ends);
}

/** Completed, dead-lettered, and lost (neither: gone from Redis or still unfinished) among `ends`. */
export function countEnds(ends: ReadonlyMap<string, JobEnd>): {
  completed: number;
  deadLettered: number;
  lost: number;
} {
  const states = [...ends.values()].map((end) => end.state);
  const completed = states.filter((state) => state === 'completed').length;
  const deadLettered = states.filter((state) => state === 'failed').length;
  return { completed, deadLettered, lost: states.length - completed - deadLettered };
}
