import type {
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  LlmClient,
  TokenUsage,
} from '@runner/llm';
import { type Clock, type Logger, type RetryEvent, silentLogger, systemClock } from '@runner/retry';
import type { AgentTool } from './agent-tool.ts';
import { defaultSystemPrompt } from './system-prompt.ts';
import { type AgentTask, taskPrompt } from './task-prompt.ts';

export interface RunAgentOptions {
  /** Layer 1 for the LLM; an `LlmClient` in production. */
  llm: Pick<LlmClient, 'chat'>;
  /** The tools the model may call, already bound to the job's issue (`createIssueTools`). */
  tools: AgentTool[];
  task: AgentTask;
  /** Model turns (LLM requests) before the run stops with `max_turns`. Default 8 (`AGENT_MAX_TURNS`). */
  maxTurns?: number;
  /** Default: {@link defaultSystemPrompt}. */
  systemPrompt?: string;
  logger?: Logger;
  /** The job's cancellation (a worker shutting down): passed to the LLM, checked before each tool call. */
  signal?: AbortSignal;
  /** When the job's deadline passes, epoch ms: each LLM call gets what is left of it. Default: none. */
  deadlineAtMs?: number;
  /** The LLM calls' retries, for the job's timeline (the client is shared by the process's jobs). */
  onRetry?: (event: RetryEvent) => void;
  /** Reads the time for `deadlineAtMs`. Default: the system clock. */
  clock?: Clock;
}

/** Defaults of {@link RunAgentOptions}. */
export const defaultAgentOptions = {
  /** Model turns per run. */
  maxTurns: 8,
  systemPrompt: defaultSystemPrompt,
} as const;

/** One tool call the model made, in the order it made them. */
export interface AgentToolCall {
  /** The name the model asked for (an unknown one included), cut to 64 characters. */
  name: string;
  /** Its position in the run, as passed to `AgentTool.run`. */
  callIndex: number;
  /** False when the content sent back to the model was `{ "error": ... }`. */
  ok: boolean;
}

export interface AgentRunResult {
  /** `answered`: the model ended with a message without tool calls. `max_turns`: it ran out of turns. */
  reason: 'answered' | 'max_turns';
  /** The model's closing answer; null when it ran out of turns or answered with no text. */
  finalMessage: string | null;
  /** LLM requests made, each counted once however many retries layer 1 needed. */
  turns: number;
  toolCalls: AgentToolCall[];
  /** Summed over all turns. */
  usage: TokenUsage;
}

/** OpenAI allows function names up to 64 characters; a longer "name" is not one, and must not flood logs. */
const maxNameChars = 64;

/**
 * The bounded agent loop. Each turn sends the conversation to the LLM; a reply without tool calls ends
 * the run (`answered`); otherwise every tool call runs, in the order the model gave them, and its result
 * goes back as a `tool` message. After `maxTurns` turns the run stops (`max_turns`), which is no error.
 *
 * The tool calls of a run are numbered 0, 1, 2, ... across turns: a rerun of the job that gets the same
 * answers from the model passes the same `callIndex` to the same call, so its side effects happen once.
 * A call the model got wrong (an unknown tool, arguments that are not JSON) comes back to it as a tool
 * error and the loop goes on.
 *
 * @throws what `llm.chat` throws (`LlmError`) and what a tool throws (`GitHubError` when only time fixes
 *   it), unchanged, for the job level to decide; the signal's reason when the signal aborts.
 */
export async function runAgent(options: RunAgentOptions): Promise<AgentRunResult> {
  const maxTurns = options.maxTurns ?? defaultAgentOptions.maxTurns;
  if (!Number.isInteger(maxTurns) || maxTurns < 1) {
    throw new RangeError(`maxTurns must be a whole number of at least 1, got ${maxTurns}`);
  }
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const tools = toolsByName(options.tools);
  const definitions = options.tools.map((tool) => tool.definition);
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: options.systemPrompt ?? defaultAgentOptions.systemPrompt },
    { role: 'user', content: taskPrompt(options.task) },
  ];
  const toolCalls: AgentToolCall[] = [];
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

  for (let turn = 1; turn <= maxTurns; turn++) {
    const result = await options.llm.chat({
      messages,
      tools: definitions,
      ...(options.signal && { signal: options.signal }),
      ...(options.onRetry && { onRetry: options.onRetry }),
      ...(options.deadlineAtMs !== undefined && {
        deadlineMs: Math.max(0, options.deadlineAtMs - clock.now()),
      }),
    });
    if (result.usage) {
      usage.promptTokens += result.usage.promptTokens;
      usage.completionTokens += result.usage.completionTokens;
      usage.totalTokens += result.usage.totalTokens;
    }
    const calls = result.message.tool_calls ?? [];
    const names = calls.map(nameOf);
    logger.info(
      { layer: 'agent', turn, toolCalls: names },
      `Agent turn ${turn}/${maxTurns}: ${names.length > 0 ? `calls ${names.join(', ')}` : 'final answer'}`,
    );
    messages.push(assistantMessage(result.message, calls));
    if (calls.length === 0) {
      return { reason: 'answered', finalMessage: result.message.content, turns: turn, toolCalls, usage };
    }

    for (const call of calls) {
      options.signal?.throwIfAborted();
      const callIndex = toolCalls.length;
      const name = nameOf(call);
      const tool = call.type === 'function' ? tools.get(name) : undefined;
      // A tool that throws ends the run here: its recorded side effects make the rerun safe.
      const content = tool
        ? await tool.run(argumentsOf(call), callIndex)
        : JSON.stringify({ error: `unknown tool ${name}; available: ${[...tools.keys()].join(', ')}` });
      messages.push({ role: 'tool', tool_call_id: call.id, content });
      toolCalls.push({ name, callIndex, ok: tool !== undefined && !isToolError(content) });
    }
  }

  logger.warn(
    { layer: 'agent', turn: maxTurns, maxTurns, toolCalls: toolCalls.length },
    `Agent stopped after ${maxTurns} turns without a final answer`,
  );
  return { reason: 'max_turns', finalMessage: null, turns: maxTurns, toolCalls, usage };
}

function toolsByName(tools: readonly AgentTool[]): Map<string, AgentTool> {
  const byName = new Map<string, AgentTool>();
  for (const tool of tools) {
    const { name } = tool.definition.function;
    if (byName.has(name)) throw new Error(`Two agent tools are named ${name}; tool names must be unique`);
    byName.set(name, tool);
  }
  return byName;
}

/** We only offer function tools; a custom tool call is answered as an unknown tool, under its name. */
function nameOf(call: ChatCompletionMessageToolCall): string {
  const name = call.type === 'function' ? call.function.name : call.custom.name;
  return name.slice(0, maxNameChars);
}

function argumentsOf(call: ChatCompletionMessageToolCall): string {
  return call.type === 'function' ? call.function.arguments : call.custom.input;
}

/**
 * The assistant's turn as it goes back into the conversation: role, content and tool calls only.
 * The SDK's message may carry provider extras (`refusal`, `annotations`, `reasoning`) that some
 * OpenAI-compatible servers refuse in a request; an empty `tool_calls` array OpenAI refuses too.
 */
function assistantMessage(
  message: ChatCompletionMessage,
  calls: ChatCompletionMessageToolCall[],
): ChatCompletionMessageParam {
  return {
    role: 'assistant',
    content: message.content,
    ...(calls.length > 0 && {
      tool_calls: calls.map((call) =>
        call.type === 'function'
          ? {
              id: call.id,
              type: 'function',
              function: { name: call.function.name, arguments: call.function.arguments },
            }
          : { id: call.id, type: 'custom', custom: { name: call.custom.name, input: call.custom.input } },
      ),
    }),
  };
}

/** Tools answer problems the model can fix with `{ "error": ... }`. */
function isToolError(content: string): boolean {
  try {
    const parsed: unknown = JSON.parse(content);
    return typeof parsed === 'object' && parsed !== null && 'error' in parsed;
  } catch {
    return false;
  }
}
