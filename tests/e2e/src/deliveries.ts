import { randomUUID } from 'node:crypto';
import { signBody } from '@runner/webhooks';
import { issue } from './harness.ts';

/** The body of an `issues.opened` delivery, as GitHub sends it (the fields we read); the test issue by default. */
export function issuesOpenedBody(number: number = issue.number, installationId = 42): string {
  return JSON.stringify({
    action: 'opened',
    issue: {
      number,
      title: 'Crash on start',
      body: '...',
      user: { login: 'octocat', type: 'User' },
    },
    repository: {
      name: issue.repo,
      full_name: `${issue.owner}/${issue.repo}`,
      owner: { login: issue.owner },
    },
    sender: { login: 'octocat', type: 'User' },
    installation: { id: installationId },
  });
}

export interface DeliveryOptions {
  /** Default: a fresh UUID, as GitHub gives each delivery. */
  deliveryId?: string;
  /** Default: the body signed with `secret`. */
  signature?: string;
  /** Gives up (the promise rejects) when no answer came within this, in ms. Default: waits. */
  timeoutMs?: number;
}

/** POSTs a delivery to an intake at `baseUrl` the way GitHub does. */
export function deliver(baseUrl: string, body: string, secret: string, options: DeliveryOptions = {}) {
  return fetch(`${baseUrl}/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': options.deliveryId ?? randomUUID(),
      'x-hub-signature-256': options.signature ?? signBody(body, secret),
    },
    body,
    ...(options.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.timeoutMs) }),
  });
}
