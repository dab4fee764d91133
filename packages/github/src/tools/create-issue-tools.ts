import { addLabelsTool } from './add-labels.ts';
import { commentOnIssueTool } from './comment-on-issue.ts';
import { getIssueTool } from './get-issue.ts';
import type { IssueTool, IssueToolContext } from './tool.ts';

/** The agent's GitHub tools, bound to one job's issue: `get_issue`, `comment_on_issue`, `add_labels`. */
export function createIssueTools(context: IssueToolContext): IssueTool[] {
  return [getIssueTool(context), commentOnIssueTool(context), addLabelsTool(context)];
}
