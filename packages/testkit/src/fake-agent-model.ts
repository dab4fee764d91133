import { chatCompletion } from './chat-completion.ts';
import { reply, type StepFunction } from './fake-upstream-steps.ts';

/** One turn of a scripted model: call a tool, or answer and stop. */
export type ModelTurn = { tool: string; arguments: Record<string, unknown> } | { answer: string };

/**
 * A fake LLM's behaviour for agent runs: it plays `plan` turn by turn, where the turn is the number of
 * tool results already in the conversation. Being stateless, it plays a rerun of a job (a requeue, a
 * worker that died) the same way as the first run, as a real model given the same context would
 * mostly do, and faults injected before it (429s, resets) do not shift the plan.
 */
export function fakeAgentModel(plan: readonly ModelTurn[]): StepFunction {
  return (req) => {
    const messages = (req.json as { messages?: Array<{ role?: string }> } | undefined)?.messages ?? [];
    const turn = messages.filter((message) => message.role === 'tool').length;
    const step = plan[Math.min(turn, plan.length - 1)];
    if (step === undefined) return reply.json(200, chatCompletion('(empty plan)'));
    if ('answer' in step) return reply.json(200, chatCompletion(step.answer));
    return reply.json(
      200,
      chatCompletion(null, [{ name: step.tool, arguments: JSON.stringify(step.arguments) }]),
    );
  };
}

/** The usual run: read the issue, comment once, answer. */
export function triageModel(comment = 'Thanks for the report! I will look into the crash.'): StepFunction {
  return fakeAgentModel([
    { tool: 'get_issue', arguments: {} },
    { tool: 'comment_on_issue', arguments: { body: comment } },
    { answer: 'I read the issue and left a comment.' },
  ]);
}
