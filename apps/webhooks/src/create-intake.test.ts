import { createHash, createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import { waitForJobStart } from '@runner/queue';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIntake } from './create-intake.ts';
import {
  appSlug,
  captureLogger,
  commentPayload,
  type EnqueueCall,
  issuesPayload,
  listenLocal,
  postWebhook,
  rawPost,
  recordingEnqueue,
  secret,
  within,
} from './test-helpers.ts';
import { signBody } from './verify-signature.ts';

const receivedAt = new Date('2025-01-02T03:04:05.000Z');
const maxBodyBytes = 1024;
const bodyTimeoutMs = 300;

let server: Server;
let url: string;
let ready = true;
let enqueueFails = false;
const log = captureLogger();
const fake = recordingEnqueue((call: EnqueueCall) =>
  enqueueFails
    ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'))
    : Promise.resolve({ outcome: 'enqueued', jobId: call.data.deliveryId }),
);

beforeAll(async () => {
  server = createIntake({
    secret,
    appSlug,
    maxBodyBytes,
    bodyTimeoutMs,
    enqueue: fake.enqueue,
    isReady: () => Promise.resolve(ready),
    logger: log.logger,
    now: () => receivedAt,
  });
  url = await listenLocal(server);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  fake.calls.length = 0;
  ready = true;
  enqueueFails = false;
});

describe('POST /webhooks', () => {
  it('answers 202 with the job id for a signed issues.opened, and enqueues its job once', async () => {
    const payload = issuesPayload();
    const response = await postWebhook(url, payload, { event: 'issues', deliveryId: 'delivery-1' });

    expect(response).toMatchObject({ status: 202, body: { jobId: 'delivery-1' } });
    expect(fake.calls).toEqual([
      {
        data: {
          deliveryId: 'delivery-1',
          event: 'issues.opened',
          installationId: 4242,
          repository: { owner: 'octo-org', name: 'hello-world' },
          issueNumber: 7,
          isPullRequest: false,
          sender: { login: 'octocat', type: 'User' },
          receivedAt: receivedAt.toISOString(),
        },
        // The body's HMAC, hashed once more: one per body, and never a valid signature.
        bodyDigest: createHash('sha256')
          .update(createHmac('sha256', secret).update(JSON.stringify(payload)).digest())
          .digest('hex'),
      },
    ]);
    expect(fake.calls[0]?.bodyDigest).not.toBe(
      signBody(JSON.stringify(payload), secret).slice('sha256='.length),
    );
  });

  it('logs the outcome with the delivery id and event, and never the signature or the secret', async () => {
    await postWebhook(url, issuesPayload(), { deliveryId: 'delivery-logged' });
    const forged = signBody('something else', secret);
    await postWebhook(url, issuesPayload(), { deliveryId: 'delivery-forged', signature: forged });

    expect(log.lines).toContainEqual(
      expect.objectContaining({
        deliveryId: 'delivery-logged',
        event: 'issues',
        jobId: 'delivery-logged',
        status: 202,
      }),
    );
    const refused = log.lines.find((line) => line.deliveryId === 'delivery-forged');
    expect(refused).toMatchObject({ status: 401, req: { headers: { 'x-hub-signature-256': '[Redacted]' } } });
    expect(log.text()).not.toContain(forged.slice('sha256='.length));
    expect(log.text()).not.toContain(secret);
  });

  it.each([
    ['a forged signature', signBody('{"other":"body"}', secret)],
    ['a signature made with another secret', signBody(JSON.stringify(issuesPayload()), 'not-the-secret')],
    ['no signature', null],
    ['a malformed header', 'sha256=not-hex'],
    ['a sha1 header', 'sha1=0123456789abcdef0123456789abcdef01234567'],
    ['a truncated digest', signBody(JSON.stringify(issuesPayload()), secret).slice(0, -2)],
  ])('answers 401 to %s and enqueues nothing', async (_, signature) => {
    const response = await postWebhook(url, issuesPayload(), { signature });

    expect(response.status).toBe(401);
    expect(response.body.error).toMatch(/X-Hub-Signature-256/);
    expect(fake.calls).toEqual([]);
  });

  it('answers 400 to a correctly signed body that is not JSON', async () => {
    const response = await postWebhook(url, '{"action": "opened",');

    expect(response).toMatchObject({ status: 400, body: { error: 'the body is not valid JSON' } });
    expect(fake.calls).toEqual([]);
  });

  it.each([
    ['X-GitHub-Event', { event: undefined }],
    ['X-GitHub-Delivery', { deliveryId: undefined }],
  ])('answers 400 naming %s when it is missing', async (header, options) => {
    const response = await postWebhook(url, issuesPayload(), options);

    expect(response).toMatchObject({ status: 400, body: { error: `${header} header is missing` } });
    expect(fake.calls).toEqual([]);
  });

  it('answers 400 naming the field when the payload lacks installation.id', async () => {
    const response = await postWebhook(url, issuesPayload({ installation: undefined }));

    expect(response).toMatchObject({ status: 400, body: { error: 'payload.installation.id is missing' } });
    expect(fake.calls).toEqual([]);
  });

  it('answers 400 when the event header does not match the payload (a replayed body)', async () => {
    const asIssues = await postWebhook(url, commentPayload('@runner-app fix this'), { event: 'issues' });
    const asComment = await postWebhook(url, issuesPayload(), { event: 'issue_comment' });

    expect(asIssues).toMatchObject({
      status: 400,
      body: { error: 'X-GitHub-Event says issues but the payload is not an issues event' },
    });
    expect(asComment).toMatchObject({
      status: 400,
      body: { error: 'X-GitHub-Event says issue_comment but the payload is not an issue_comment event' },
    });
    expect(fake.calls).toEqual([]);
  });

  it.each([
    ['ping', { zen: 'Keep it logically awesome.', hook_id: 1 }, 'ping'],
    ['issues', issuesPayload({ action: 'closed' }), 'issues.closed does not start a job'],
    ['push', { ref: 'refs/heads/main' }, 'event push does not start a job'],
  ])('answers 200 ignored to %s', async (event, payload, reason) => {
    const response = await postWebhook(url, payload, { event });

    expect(response).toMatchObject({ status: 200, body: { ignored: reason } });
    expect(fake.calls).toEqual([]);
  });

  it('enqueues a comment that mentions @runner-app, written by a person', async () => {
    const response = await postWebhook(url, commentPayload('Hey @Runner-App, can you look?'), {
      event: 'issue_comment',
      deliveryId: 'delivery-comment',
    });

    expect(response).toMatchObject({ status: 202, body: { jobId: 'delivery-comment' } });
    expect(fake.calls[0]?.data).toMatchObject({
      event: 'issue_comment.created',
      comment: { id: 9001, body: 'Hey @Runner-App, can you look?', author: 'octocat' },
    });
  });

  it.each([
    [
      'by the App itself',
      commentPayload('@runner-app done', { login: 'runner-app[bot]', type: 'Bot' }),
      'comment by a bot (runner-app[bot])',
    ],
    [
      'by another bot',
      commentPayload('@runner-app hi', { login: 'renovate', type: 'Bot' }),
      'comment by a bot (renovate)',
    ],
    ['without a mention', commentPayload('Looks good to me'), 'comment does not mention @runner-app'],
    ['mentioning another app', commentPayload('@runner-apps please'), 'comment does not mention @runner-app'],
    [
      'edited',
      { ...commentPayload('@runner-app go'), action: 'edited' },
      'issue_comment.edited does not start a job',
    ],
  ])('ignores a comment %s', async (_, payload, reason) => {
    const response = await postWebhook(url, payload, { event: 'issue_comment' });

    expect(response).toMatchObject({ status: 200, body: { ignored: reason } });
    expect(fake.calls).toEqual([]);
  });

  it('answers 200 duplicate when the queue has seen the delivery', async () => {
    const duplicate = recordingEnqueue(() =>
      Promise.resolve({ outcome: 'duplicate', jobId: 'delivery-seen' }),
    );
    const other = createIntake({
      secret,
      appSlug,
      maxBodyBytes,
      enqueue: duplicate.enqueue,
      isReady: () => Promise.resolve(true),
      logger: log.logger,
    });
    const otherUrl = await listenLocal(other);
    try {
      const response = await postWebhook(otherUrl, issuesPayload(), { deliveryId: 'delivery-seen' });
      expect(response).toMatchObject({ status: 200, body: { duplicate: true, jobId: 'delivery-seen' } });
    } finally {
      other.closeAllConnections();
      other.close();
    }
  });

  it('answers 503 when the job cannot be stored, never a 2xx', async () => {
    enqueueFails = true;
    const response = await postWebhook(url, issuesPayload(), { deliveryId: 'delivery-redis-down' });

    expect(fake.calls).toHaveLength(1);
    expectQueueUnavailable(response, 'delivery-redis-down', 'connect ECONNREFUSED 127.0.0.1:6379');
  });
});

/** A 503 for a job that could not be stored, logged with the delivery and the reason. */
function expectQueueUnavailable(
  response: { status: number; body: unknown },
  deliveryId: string,
  cause: string,
) {
  expect(response).toMatchObject({ status: 503, body: { error: 'queue unavailable, retry later' } });
  expect(log.lines).toContainEqual(expect.objectContaining({ deliveryId, status: 503, cause }));
}

describe('POST /webhooks bounds the wait for Redis', () => {
  it('answers 503 once the enqueue timeout has passed, when Redis holds the commands', async () => {
    // A paused Redis: the commands are sent, and nothing comes back.
    const held = recordingEnqueue(() => new Promise(() => {}));
    const slow = createIntake({
      secret,
      appSlug,
      maxBodyBytes,
      enqueue: held.enqueue,
      enqueueTimeoutMs: 200,
      isReady: () => Promise.resolve(true),
      logger: log.logger,
    });
    const slowUrl = await listenLocal(slow);
    try {
      const response = await within(
        2_000,
        '503 after the enqueue timeout',
        postWebhook(slowUrl, issuesPayload(), { deliveryId: 'delivery-held' }),
      );
      expect(held.calls).toHaveLength(1);
      expectQueueUnavailable(response, 'delivery-held', 'no answer from Redis within 200 ms');
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });
});

describe('a worker in the same process', () => {
  it('starts no job while a delivery is being answered, and starts it once the answer is out', async () => {
    let store: () => void = () => {};
    const stored = new Promise<void>((resolve) => {
      store = resolve;
    });
    let enqueued: () => void = () => {};
    const enqueueCalled = new Promise<void>((resolve) => {
      enqueued = resolve;
    });
    const gated = recordingEnqueue(async (call) => {
      enqueued();
      await stored;
      return { outcome: 'enqueued', jobId: call.data.deliveryId };
    });
    const intake = createIntake({
      secret,
      appSlug,
      maxBodyBytes,
      enqueue: gated.enqueue,
      isReady: () => Promise.resolve(true),
      logger: log.logger,
    });
    const intakeUrl = await listenLocal(intake);
    try {
      const answer = postWebhook(intakeUrl, issuesPayload(), { deliveryId: 'delivery-held-job' });
      await within(2_000, 'the enqueue call', enqueueCalled);
      let jobStarted = false;
      const jobStart = waitForJobStart().then(() => {
        jobStarted = true;
      });
      // Well under maxJobStartDeferMs of turns: the delivery still holds job starts.
      for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
      expect(jobStarted).toBe(false);
      store();
      expect(await answer).toMatchObject({ status: 202 });
      await within(2_000, 'the job start', jobStart);
    } finally {
      store();
      intake.closeAllConnections();
      intake.close();
    }
  });
});

describe('POST /webhooks bounds the body', () => {
  it('answers 413 to a Content-Length over the limit before reading a byte of the body', async () => {
    // Announces 10 MB and sends nothing: an answer can only come from the header.
    const req = rawPost(url, {
      'content-type': 'application/json',
      'content-length': String(10 * 1024 * 1024),
      'x-github-event': 'issues',
      'x-github-delivery': 'delivery-huge',
    });
    const response = await within(2_000, '413 for Content-Length', req.response);
    req.destroy();

    expect(response.status).toBe(413);
    expect(response.headers.connection).toBe('close');
    expect(JSON.parse(response.text)).toEqual({ error: `body is larger than ${maxBodyBytes} bytes` });
    expect(fake.calls).toEqual([]);
  });

  it('answers 413 with fetch too, for a body just over the limit', async () => {
    const body = JSON.stringify(issuesPayload({ padding: 'x'.repeat(maxBodyBytes) }));
    const response = await postWebhook(url, body);

    expect(response.status).toBe(413);
    expect(fake.calls).toEqual([]);
  });

  it('answers 413 as soon as a chunked body without Content-Length passes the limit', async () => {
    const req = rawPost(url, {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
      'x-github-event': 'issues',
      'x-github-delivery': 'delivery-chunked',
    });
    // Never ended: the answer must come from counting, not from the end of the body.
    req.write('x'.repeat(600));
    req.write('x'.repeat(600));
    const response = await within(2_000, '413 for a chunked body', req.response);
    req.destroy();

    expect(response.status).toBe(413);
    expect(fake.calls).toEqual([]);
  });

  it('answers 408 and closes the connection when the body stalls', async () => {
    const body = JSON.stringify(issuesPayload());
    const req = rawPost(url, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-github-event': 'issues',
      'x-github-delivery': 'delivery-slow',
      'x-hub-signature-256': signBody(body, secret),
    });
    req.write(body.slice(0, body.length / 2));
    const response = await within(bodyTimeoutMs + 2_000, '408 for a stalled body', req.response);
    req.destroy();

    expect(response.status).toBe(408);
    expect(response.headers.connection).toBe('close');
    expect(fake.calls).toEqual([]);
  });
});

describe('health and routing', () => {
  it('GET /healthz answers 200 while the process runs, ready or not', async () => {
    ready = false;
    const response = await fetch(`${url}/healthz`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it('GET /readyz follows isReady', async () => {
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    ready = false;
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
  });

  it('GET /readyz answers 503 when isReady hangs past its timeout', async () => {
    const hanging = createIntake({
      secret,
      appSlug,
      maxBodyBytes,
      enqueue: fake.enqueue,
      isReady: () => new Promise<boolean>(() => {}),
      logger: log.logger,
      readyTimeoutMs: 50,
    });
    const hangingUrl = await listenLocal(hanging);
    try {
      expect((await fetch(`${hangingUrl}/readyz`)).status).toBe(503);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  it('answers 404 to unknown paths and 405 to wrong methods', async () => {
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/constructor`)).status).toBe(404);
    const get = await fetch(`${url}/webhooks`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${url}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('ignores a query string when routing', async () => {
    expect((await fetch(`${url}/healthz?probe=1`)).status).toBe(200);
    expect((await fetch(`${url}/webhooks?x=1`)).status).toBe(405);
  });
});
