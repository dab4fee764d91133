import type { AgentJobData } from './agent-job.ts';

/** A valid job for `octo-org/octo-repo#1`, for tests of the queue and of what builds on it. */
export function exampleJobData(deliveryId: string, overrides: Partial<AgentJobData> = {}): AgentJobData {
  return {
    deliveryId,
    event: 'issues.opened',
    installationId: 1,
    repository: { owner: 'octo-org', name: 'octo-repo' },
    issueNumber: 1,
    isPullRequest: false,
    sender: { login: 'octocat', type: 'User' },
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}
