export type { AgentTool, AgentToolDefinition } from './agent-tool.ts';
export { MaxTurnsError } from './max-turns-error.ts';
export {
  type AgentRunResult,
  type AgentToolCall,
  defaultAgentOptions,
  type RunAgentOptions,
  runAgent,
} from './run-agent.ts';
export { defaultSystemPrompt } from './system-prompt.ts';
export { type AgentTask, taskCommentMaxChars, taskPrompt } from './task-prompt.ts';
