import {
  AttemptTimeoutError,
  allRetryHooks,
  CircuitBreaker,
  type Clock,
  defaultPolicies,
  type FleetGuard,
  type Logger,
  type Random,
  RequestSpacer,
  type RetryEvent,
  type RetryPolicy,
  retryWithBackoff,
  type Sleep,
  silentLogger,
} from '@runner/retry';
import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import { classifyLlmError } from './classify-llm-error.ts';
import { LlmError } from './llm-error.ts';

export interface LlmClientOptions {
  /** Any OpenAI-compatible endpoint: Ollama Turbo `https://ollama.com/v1`, OpenAI, local Ollama `http://localhost:11434/v1`. */
  baseUrl: string;
  /** Sent as a bearer token; local Ollama needs none. */
  apiKey?: string | undefined;
  model: string;
  /** Default: the `llm` policy (5 retries, 1 s to 60 s, full jitter, 30 s per attempt). */
  policy?: RetryPolicy;
  /** Least time between two requests from this process. Default 100 ms. */
  minIntervalMs?: number;
  /** Default: one breaker per client, named after the endpoint, opening after 5 consecutive failures for 30 s. */
  breaker?: CircuitBreaker;
  logger?: Logger;
  /** The fetch the SDK sends with, after our spacing; e.g. one with a proxy agent. Default: global `fetch`. */
  fetch?: typeof fetch;
  /**
   * Cooperation with the other workers on this endpoint: a shared cooldown, rate limit and retry
   * budget (target `llm`). Absent: this process decides alone.
   */
  fleet?: FleetGuard;
  /** Every retry of layer 1, for metrics and the job's timeline. */
  onRetry?: (event: RetryEvent) => void;
  clock?: Clock;
  sleep?: Sleep;
  random?: Random;
}

export interface ChatRequest {
  messages: ChatCompletionMessageParam[];
  tools?: ChatCompletionTool[];
  toolChoice?: ChatCompletionToolChoiceOption;
  /** The caller's cancellation (a worker shutting down). */
  signal?: AbortSignal;
  /** What is left of the job's deadline: no retry is started that would cross it. In ms. */
  deadlineMs?: number;
  /**
   * This call's retries, besides the client's own `onRetry`: the job that made the call records them in
   * its timeline. The client is shared by every job of the process, so the call names its job.
   */
  onRetry?: (event: RetryEvent) => void;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatResult {
  /** The assistant's message, with any tool calls. */
  message: ChatCompletionMessage;
  finishReason: ChatCompletion.Choice['finish_reason'] | undefined;
  usage: TokenUsage | undefined;
  model: string;
  /** Requests made for this result, counting retries. */
  attempts: number;
}

/** The fleet's name for this upstream, in cooldowns, budgets and rate limits. */
export const fleetTarget = 'llm';

/** Added to the interval at the wire, so that gaps stay at least `minIntervalMs` where they arrive. In ms. */
const wireMarginMs = 5;

/**
 * Layer 1 for the LLM: one chat-completions call at a time, retried under our `llm` policy.
 * The SDK's own retries are off (`maxRetries: 0`): it would sleep through a `Retry-After` of up to 60 s
 * without seeing our abort, ignore longer hints, and not retry a reset mid-response. We own all of that.
 */
export class LlmClient {
  readonly model: string;
  readonly breaker: CircuitBreaker;
  private readonly sdk: OpenAI;
  private readonly policy: RetryPolicy;
  private readonly spacer: RequestSpacer;
  private readonly options: LlmClientOptions;
  private readonly logger: Logger;

  constructor(options: LlmClientOptions) {
    this.options = options;
    this.model = options.model;
    this.policy = options.policy ?? defaultPolicies.llm;
    this.logger = options.logger ?? silentLogger;
    const minIntervalMs = options.minIntervalMs ?? 100;
    this.spacer = new RequestSpacer({ minIntervalMs, ...pick(options, ['sleep']) });
    // The spacer above admits calls before their timeout starts; between admission and the socket the
    // SDK does a few milliseconds of async work, more when the process is busy, which can bring two
    // requests closer than the interval. This second gate sits at the SDK's fetch, the last step before
    // the wire, and tops such a gap up. Its margin covers what still varies after it (dispatch, the
    // network, the receiving server): on loopback, a few milliseconds (llm-client.test.ts measures it).
    // It rarely waits, and never long, so it hardly eats into the attempt's timeout.
    const send = options.fetch ?? fetch;
    const wireGate = new RequestSpacer({
      minIntervalMs: minIntervalMs === 0 ? 0 : minIntervalMs + wireMarginMs,
      ...pick(options, ['sleep']),
    });
    this.sdk = new OpenAI({
      fetch: async (url, init) => {
        await wireGate.wait(init?.signal ?? undefined);
        return send(url, init);
      },
      baseURL: options.baseUrl,
      // The SDK refuses to start without a key; servers that need none ignore it.
      apiKey: options.apiKey ?? 'no-key',
      maxRetries: 0,
      // A backstop only: our per-attempt timeout aborts first and is what gets classified.
      timeout: (this.policy.timeoutMs ?? 600_000) + 5_000,
      logLevel: 'off',
    });
    this.breaker =
      options.breaker ??
      new CircuitBreaker({
        name: `llm:${options.baseUrl}`,
        ...(options.clock ? { clock: options.clock } : {}),
      });
  }

  /** Sends the conversation and returns the assistant's next message. @throws LlmError */
  async chat(request: ChatRequest): Promise<ChatResult> {
    let attempts = 0;
    const startedAtMs = performance.now();
    let completion: ChatCompletion;
    const onRetry = allRetryHooks(this.options.onRetry, request.onRetry);
    try {
      const fleet = await this.options.fleet?.forCall<ChatCompletion>(fleetTarget, this.policy.maxDelayMs);
      completion = await retryWithBackoff(
        (attempt, signal) => {
          attempts = attempt;
          const send = () =>
            this.breaker.execute(() =>
              this.sdk.chat.completions
                .create(
                  {
                    model: this.model,
                    messages: request.messages,
                    ...(request.tools && request.tools.length > 0 ? { tools: request.tools } : {}),
                    ...(request.toolChoice ? { tool_choice: request.toolChoice } : {}),
                  },
                  { signal, maxRetries: 0 },
                )
                .catch((error: unknown) => {
                  // The SDK reports our per-attempt timeout as a caller's abort, which the breaker would not
                  // count: a hanging upstream would never open the circuit. It is the timeout it is.
                  throw signal.aborted && signal.reason instanceof AttemptTimeoutError
                    ? signal.reason
                    : error;
                }),
            );
          return fleet ? fleet.observe(send) : send();
        },
        {
          policy: this.policy,
          // Waits for admission come before the attempt's timeout starts: queueing behind a cooldown, a
          // shared rate limit or our own calls is not a slow upstream.
          pace: async (signal) => {
            await fleet?.pace(signal);
            await this.spacer.wait(signal);
          },
          ...(fleet ? { beforeRetry: fleet.beforeRetry } : {}),
          classify: classifyLlmError,
          layer: 'request',
          target: 'llm',
          logger: this.logger,
          ...pick(this.options, ['clock', 'sleep', 'random']),
          ...(onRetry ? { onRetry } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
          ...(request.deadlineMs === undefined ? {} : { deadlineMs: request.deadlineMs }),
        },
      );
    } catch (error) {
      throw LlmError.from(error);
    }

    const choice = completion.choices[0];
    if (!choice) {
      throw new Error(
        `LLM answered without a choice (model ${completion.model}); the endpoint is not OpenAI-compatible?`,
      );
    }
    const usage = completion.usage && {
      promptTokens: completion.usage.prompt_tokens,
      completionTokens: completion.usage.completion_tokens,
      totalTokens: completion.usage.total_tokens,
    };
    this.logger.info(
      {
        layer: 'request',
        target: 'llm',
        model: completion.model,
        attempts,
        durationMs: Math.round(performance.now() - startedAtMs),
        toolCalls: choice.message.tool_calls?.length ?? 0,
        ...usage,
      },
      'LLM call completed',
    );
    return {
      message: choice.message,
      finishReason: choice.finish_reason,
      usage,
      model: completion.model,
      attempts,
    };
  }
}

function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
