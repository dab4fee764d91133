import { idempotencyKey } from './idempotency.ts';
import type { IssueToolContext } from './tool.ts';
import { toolFailure } from './tool-failure.ts';

/** What {@link recordedSideEffect} needs of a job's tool context. */
export type RecordedSideEffectContext = Pick<IssueToolContext, 'jobId' | 'results' | 'earlierRunsSinceMs'>;

/**
 * Runs a mutating tool call at most once per idempotency key: a rerun of the job gets the result
 * recorded the first time, without a request. `act` gets the key (a comment carries it as a marker)
 * and returns the tool message's content; failures are sorted by `toolFailure`.
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
  await context.results.set(key, result);
  return result;
}
