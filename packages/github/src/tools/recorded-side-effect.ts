import { idempotencyKey } from './idempotency.ts';
import type { IssueToolContext } from './tool.ts';
import { toolFailure } from './tool-failure.ts';

/**
 * Runs a mutating tool call at most once per idempotency key: a rerun of the job gets the result
 * recorded the first time, without a request. `act` gets the key (a comment carries it as a marker)
 * and returns the tool message's content; failures are sorted by `toolFailure`.
 */
export async function recordedSideEffect(
  context: IssueToolContext,
  tool: string,
  callIndex: number,
  act: (key: string) => Promise<string>,
): Promise<string> {
  const key = idempotencyKey(context.jobId, callIndex, tool);
  const recorded = await context.results.get(key);
  if (recorded !== undefined) return recorded;
  let result: string;
  try {
    result = await act(key);
  } catch (error) {
    return toolFailure(error);
  }
  await context.results.set(key, result);
  return result;
}
