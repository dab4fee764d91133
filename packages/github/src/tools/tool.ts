import type { Logger } from '@runner/retry';
import type { InstallationOctokit } from '../installation-octokit.ts';
import type { ToolCallOptions } from '../tool-call.ts';
import type { ToolResultStore } from '../tool-result-store.ts';

/**
 * An OpenAI function tool, as `chat.completions` takes it. Declared here by shape so that this package
 * never imports the LLM package: the two meet in the agent.
 */
export interface FunctionToolDefinition {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/** The job's repository and issue (or pull request). Tools act on it alone: the model never picks one. */
export interface IssueRef {
  owner: string;
  repo: string;
  /** Issue or pull-request number. */
  number: number;
}

export interface IssueToolContext extends ToolCallOptions {
  octokit: InstallationOctokit;
  issue: IssueRef;
  /** The job this run belongs to: with the call's position, it makes the idempotency key of a side effect. */
  jobId: string;
  /** Where completed side effects are recorded, so a rerun of the job does not repeat them. */
  results: ToolResultStore;
  /**
   * Set when this run is not the job's first: when the job was created, epoch ms. An earlier run may have
   * made a side effect and died before recording it, so a side effect with no record is looked for (a
   * comment by its marker, since then) before it is made again. Unset on a first run, which then looks
   * up no records either: none can exist yet.
   */
  earlierRunsSinceMs?: number;
  logger?: Logger;
}

/** A tool the agent can call. */
export interface IssueTool {
  definition: FunctionToolDefinition;
  /** True when calling it changes something on GitHub. */
  mutates: boolean;
  /**
   * Runs one call. `rawArguments` is the model's JSON text; `callIndex` is the call's position in the
   * agent run (stable across reruns of the job), used for the idempotency key.
   * Returns the tool message's content: a JSON result, or `{ "error": ... }` the model can act on
   * (bad arguments, 403, 404, 422).
   * @throws GitHubError when GitHub stays unavailable or rate limited beyond the tool level: the job level
   *   requeues the job.
   */
  run(rawArguments: string, callIndex: number): Promise<string>;
}
