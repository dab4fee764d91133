/**
 * The model never gave a final answer within its turns: it kept calling tools. Not retryable: a rerun
 * would loop the same way (its side effects are recorded, so it would not even repeat them), so the job
 * fails at once with this reason for ops instead of burning its requeues.
 */
export class MaxTurnsError extends Error {
  override name = 'MaxTurnsError';
  readonly code = 'max_turns';
  readonly retryable = false;
  readonly reason = 'model did not finish';

  constructor(
    readonly maxTurns: number,
    readonly toolCalls: number,
  ) {
    super(
      `The model gave no final answer within ${maxTurns} turns (${toolCalls} tool calls); raise AGENT_MAX_TURNS if the task needs more, or check the model's output`,
    );
  }
}
