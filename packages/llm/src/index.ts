export type {
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
export { classifyLlmError } from './classify-llm-error.ts';
export {
  type ChatRequest,
  type ChatResult,
  LlmClient,
  type LlmClientOptions,
  type TokenUsage,
} from './llm-client.ts';
export { isLlmError, LlmError, type LlmErrorCode } from './llm-error.ts';
