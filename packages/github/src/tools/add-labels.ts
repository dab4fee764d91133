import { z } from 'zod';
import { callGitHub } from '../tool-call.ts';
import { issueParams } from './get-issue.ts';
import { recordedSideEffect } from './recorded-side-effect.ts';
import type { IssueTool, IssueToolContext } from './tool.ts';
import { parseToolArguments, toolError, toParameters } from './tool-arguments.ts';

const name = 'add_labels';

const schema = z.strictObject({
  labels: z
    .array(z.string().trim().min(1, 'a label must not be empty').max(50, 'a label has at most 50 characters'))
    .min(1, 'give at least one label')
    .max(20, 'at most 20 labels at once'),
});

/**
 * `add_labels { labels }`: adds labels to the job's issue. Adding a label twice changes nothing on
 * GitHub, but the call is still recorded under its idempotency key so that a rerun makes no request.
 */
export function addLabelsTool(context: IssueToolContext): IssueTool {
  return {
    mutates: true,
    definition: {
      type: 'function',
      function: {
        name,
        description:
          'Add labels to the issue or pull request this job is about. Labels that do not exist yet are created.',
        parameters: toParameters(schema),
      },
    },
    async run(rawArguments, callIndex) {
      const parsed = parseToolArguments(name, schema, rawArguments);
      if (!parsed.ok) return toolError(parsed.error);
      return recordedSideEffect(context, name, callIndex, async () => {
        const response = await callGitHub(
          name,
          (_attempt, signal) =>
            context.octokit.rest.issues.addLabels({
              ...issueParams(context),
              labels: parsed.value.labels,
              request: { signal },
            }),
          context,
        );
        return JSON.stringify({ labels: response.data.map((label) => label.name) });
      });
    },
  };
}
