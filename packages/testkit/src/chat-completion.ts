/** A tool call as the model would return it. */
export interface FakeToolCall {
  name: string;
  /** JSON text, as the OpenAI protocol carries it (not an object). */
  arguments: string;
}

/**
 * A chat-completions response body in the OpenAI protocol, for fake LLM upstreams:
 * an assistant message with `content` and optional tool calls, and token usage.
 */
export function chatCompletion(
  content: string | null,
  toolCalls?: readonly FakeToolCall[],
  model = 'glm-4.6',
): Record<string, unknown> {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1_764_000_000,
    model,
    choices: [
      {
        index: 0,
        finish_reason: toolCalls ? 'tool_calls' : 'stop',
        message: {
          role: 'assistant',
          content,
          ...(toolCalls && {
            tool_calls: toolCalls.map((call, i) => ({ id: `call_${i}`, type: 'function', function: call })),
          }),
        },
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
  };
}
