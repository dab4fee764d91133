import { maxCommentChars } from '@runner/queue';
import { describe, expect, it } from 'vitest';
import { deliveryToJob, truncate } from './delivery-to-job.ts';
import { BadDeliveryError } from './intake-error.ts';
import { appSlug, commentPayload, issuesPayload } from './test-helpers.ts';

const receivedAt = new Date('2025-01-02T03:04:05.000Z');
const options = { appSlug, receivedAt };

function decide(event: string, payload: unknown, deliveryId = 'delivery-1') {
  return deliveryToJob({ event, deliveryId, payload }, options);
}

/** The 400 message `deliveryToJob` throws for this delivery. */
function problem(event: string, payload: unknown): string {
  try {
    decide(event, payload);
  } catch (error) {
    if (error instanceof BadDeliveryError) return error.message;
    throw error;
  }
  throw new Error('expected a BadDeliveryError');
}

describe('deliveryToJob', () => {
  it('makes an issues.opened job from the fields it needs, and nothing else', () => {
    expect(decide('issues', issuesPayload())).toEqual({
      kind: 'job',
      data: {
        deliveryId: 'delivery-1',
        event: 'issues.opened',
        installationId: 4242,
        repository: { owner: 'octo-org', name: 'hello-world' },
        issueNumber: 7,
        isPullRequest: false,
        sender: { login: 'octocat', type: 'User' },
        receivedAt: '2025-01-02T03:04:05.000Z',
      },
    });
  });

  it('marks a pull request by issue.pull_request', () => {
    const payload = issuesPayload({
      issue: { number: 8, pull_request: { url: 'https://api.github.com/x' } },
    });
    expect(
      decide('issue_comment', {
        ...payload,
        action: 'created',
        comment: commentPayload('@runner-app hi').comment,
      }),
    ).toMatchObject({ kind: 'job', data: { issueNumber: 8, isPullRequest: true } });
  });

  it('makes an issue_comment.created job carrying the comment', () => {
    expect(decide('issue_comment', commentPayload('@runner-app summarise this'))).toMatchObject({
      kind: 'job',
      data: {
        event: 'issue_comment.created',
        comment: { id: 9001, body: '@runner-app summarise this', author: 'octocat' },
      },
    });
  });

  it(`trims a long comment to ${maxCommentChars} characters`, () => {
    const body = `@runner-app ${'a'.repeat(maxCommentChars * 2)}`;
    const decision = decide('issue_comment', commentPayload(body));
    expect(decision.kind === 'job' && decision.data.comment?.body).toBe(body.slice(0, maxCommentChars));
  });

  it.each([
    ['ping', { zen: 'Design for failure.' }, 'ping'],
    ['installation', { action: 'created' }, 'event installation does not start a job'],
    ['issues', issuesPayload({ action: 'labeled' }), 'issues.labeled does not start a job'],
    [
      'issue_comment',
      { ...commentPayload('@runner-app'), action: 'deleted' },
      'issue_comment.deleted does not start a job',
    ],
    ['issue_comment', commentPayload('thanks!'), 'comment does not mention @runner-app'],
    [
      'issue_comment',
      commentPayload('@runner-app done', { login: 'runner-app[bot]', type: 'Bot' }),
      'comment by a bot (runner-app[bot])',
    ],
  ])('ignores %s: %s', (event, payload, reason) => {
    expect(decide(event, payload)).toEqual({ kind: 'ignored', reason });
  });

  it('refuses a body that is not an object', () => {
    expect(problem('issues', [1, 2])).toBe('the body is not a JSON object');
    expect(problem('ping', null)).toBe('the body is not a JSON object');
  });

  it('refuses an event header that does not match the payload', () => {
    expect(problem('issues', commentPayload('@runner-app'))).toBe(
      'X-GitHub-Event says issues but the payload is not an issues event',
    );
    expect(problem('issue_comment', issuesPayload())).toBe(
      'X-GitHub-Event says issue_comment but the payload is not an issue_comment event',
    );
    expect(problem('issues', { action: 'opened' })).toBe(
      'X-GitHub-Event says issues but the payload is not an issues event',
    );
  });

  it.each([
    [{ installation: undefined }, 'payload.installation.id is missing'],
    [{ installation: { id: '4242' } }, 'payload.installation.id must be a positive integer, got a string'],
    [{ installation: { id: 0 } }, 'payload.installation.id must be a positive integer, got a number'],
    [{ repository: { name: 'x' } }, 'payload.repository.owner.login is missing'],
    [
      { repository: { owner: { login: 'o' }, name: '' } },
      'payload.repository.name must be a non-empty string, got a string',
    ],
    [{ issue: { number: null } }, 'payload.issue.number must be a positive integer, got null'],
    [{ sender: ['octocat'] }, 'payload.sender.login is missing'],
    [{ action: 42 }, 'payload.action must be a non-empty string, got a number'],
  ])('refuses an issues payload with %j, naming the field', (overrides, message) => {
    expect(problem('issues', issuesPayload(overrides))).toBe(message);
  });

  it('refuses a comment without the fields its job needs', () => {
    const payload = commentPayload('@runner-app go');
    expect(
      problem('issue_comment', {
        ...payload,
        comment: { body: '@runner-app go', user: { login: 'a', type: 'User' } },
      }),
    ).toBe('payload.comment.id is missing');
    expect(problem('issue_comment', { ...payload, comment: { id: 1, body: 'x', user: {} } })).toBe(
      'payload.comment.user.login is missing',
    );
  });

  it('refuses what the job schema would refuse, saying why', () => {
    expect(
      problem('issues', issuesPayload({ repository: { owner: { login: 'o'.repeat(101) }, name: 'r' } })),
    ).toMatch(/^the delivery does not fit a job: repository\.owner: /);
    expect(() =>
      deliveryToJob({ event: 'issues', deliveryId: 'd'.repeat(101), payload: issuesPayload() }, options),
    ).toThrow(/deliveryId/);
  });
});

describe('truncate', () => {
  it('keeps short text as it is', () => {
    expect(truncate('abc', 5)).toBe('abc');
  });

  it('does not cut an emoji in half', () => {
    expect(truncate('ab😀c', 3)).toBe('ab');
    expect(truncate('ab😀c', 4)).toBe('ab😀');
  });
});
