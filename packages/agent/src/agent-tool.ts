/**
 * An OpenAI function tool as the model sees it. The same shape as `ChatCompletionFunctionTool` in the
 * openai SDK and `FunctionToolDefinition` in `@runner/github`: the two meet here by structure.
 */
export interface AgentToolDefinition {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/**
 * A tool the agent can call; `IssueTool` from `@runner/github` is one.
 */
export interface AgentTool {
  definition: AgentToolDefinition;
  /**
   * Runs one call. `rawArguments` is the model's JSON text, as it came (the tool validates it);
   * `callIndex` is the call's position in the run, stable across reruns of the job.
   * Returns the tool message's content: a JSON result, or `{ "error": ... }` the model can act on.
   * Throws what only time fixes (rate limits, outages); the agent passes that up to the job level.
   */
  run(rawArguments: string, callIndex: number): Promise<string>;
}
