import { idempotencyKey } from './idempotency.ts';
import type { IssueToolContext } from './tool.ts';
import { toolFailure } from './tool-failure.ts';

/** What {@link recordedSideEffect} needs of a job's tool context. */
export type RecordedSideEffectContext = Pick<
  IssueToolContext,
  'jobId' | 'results' | 'earlierRunsSinceMs' | 'logger'
>;

/**
 * Runs a mutating tool call at most once per idempotency key: a rerun of the job gets the result
 * recorded the first time, without a request. `act` gets the key (a comment carries it as a marker)
 * and returns the tool message's content; failures are sorted by `toolFailure`. The result is recorded
 * without waiting for Redis; a failed record is logged.
 *
 * A job's first run (no `earlierRunsSinceMs`) looks nothing up: no earlier run can have recorded
 * anything, and a run numbers its calls uniquely, so the look-up would be a Redis round trip every clean
 * job waits for and that never finds a record.
 */
export async function recordedSideEffect(
  context: RecordedSideEffectContext,
  tool: string,
  callIndex: number,
  act: (key: string) => Promise<string>,
): Promise<string> {
  const key = idempotencyKey(context.jobId, callIndex, tool);
  if (context.earlierRunsSinceMs !== undefined) {
    const recorded = await context.results.get(key);
    if (recorded !== undefined) return recorded;
  }
  let result: string;
  try {
    result = await act(key);
  } catch (error) {
    return toolFailure(error);
  }
  // Not awaited: the record spares a rerun its requests, but a rerun does not count on it. A rerun with
  // no record looks for the comment by its marker first (an earlier run may as well have died between
  // the POST and the record), and adds labels again, which changes nothing. So a clean run waits no round
  // trip for it.
  context.results
    .set(key, result)
    .catch((error: unknown) =>
      context.logger?.warn(
        { layer: 'tool', target: tool, idempotencyKey: key, err: error },
        `Could not record the result of ${tool}; a rerun of the job will look for it on GitHub`,
      ),
    );
  return result;
}
