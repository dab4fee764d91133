import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeUpstream,
  FakeUpstreamClosedError,
  InvalidScriptError,
  startFakeUpstream,
  type UpstreamScript,
  WaitForRequestsTimeoutError,
} from './fake-upstream.ts';
import { malformedJsonBody, reply } from './fake-upstream-steps.ts';
import { InvalidRouteError } from './route-matcher.ts';

const started: FakeUpstream[] = [];

async function upstream(script: UpstreamScript): Promise<FakeUpstream> {
  const server = await startFakeUpstream(script);
  started.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.close()));
});

describe('startFakeUpstream scripting', () => {
  it('answers call N with step N and repeats the last step once the script runs out', async () => {
    const server = await upstream({
      'GET /v1/models': [reply.status(503), reply.status(502), reply.json(200, { data: [] })],
    });
    const statuses: number[] = [];
    for (let call = 0; call < 5; call += 1) {
      const res = await fetch(`${server.url}/v1/models`);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses).toEqual([503, 502, 200, 200, 200]);
    expect(server.requestsTo('GET /v1/models').map((r) => r.callNumber)).toEqual([1, 2, 3, 4, 5]);
    expect(server.callCount('GET /v1/models')).toBe(5);
  });

  it('lets a step function echo the request, with route params', async () => {
    const server = await upstream({
      'POST /repos/:owner/:repo/issues/:number/comments': [
        (req) =>
          reply.json(201, { id: 1, body: (req.json as { body: string }).body, issue: req.params.number }),
      ],
    });
    const res = await fetch(`${server.url}/repos/acme/widgets/issues/42/comments`, {
      method: 'POST',
      body: JSON.stringify({ body: 'Looks good' }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: 1, body: 'Looks good', issue: '42' });
  });

  it('accepts a function as a whole route script, called for every request', async () => {
    const server = await upstream({
      'POST /app/installations/:id/access_tokens': async (req) =>
        reply.json(201, { token: `ghs_${req.params.id}_${req.callNumber}` }),
    });
    const tokens: unknown[] = [];
    for (let call = 0; call < 2; call += 1) {
      const res = await fetch(`${server.url}/app/installations/7/access_tokens`, { method: 'POST' });
      tokens.push(await res.json());
    }
    expect(tokens).toEqual([{ token: 'ghs_7_1' }, { token: 'ghs_7_2' }]);
  });

  it('setScript replaces a route and restarts its call numbering', async () => {
    const server = await upstream({ 'GET /a': [reply.status(500)] });
    expect((await fetch(`${server.url}/a`)).status).toBe(500);
    server.setScript('GET /a', [reply.text(200, 'first'), reply.text(200, 'again')]);
    expect(await (await fetch(`${server.url}/a`)).text()).toBe('first');
    expect(await (await fetch(`${server.url}/a`)).text()).toBe('again');
    expect(server.requests.map((r) => r.callNumber)).toEqual([1, 1, 2]);
    expect(server.callCount('GET /a')).toBe(3);
  });

  it('answers 500 with the reason when a step function throws', async () => {
    const server = await upstream({
      'GET /boom': [
        () => {
          throw new Error('script bug');
        },
      ],
    });
    const res = await fetch(`${server.url}/boom`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { message: string }).message).toContain('script bug');
  });

  it('rejects malformed route keys and empty scripts up front', async () => {
    await expect(startFakeUpstream({ '/no-method': [reply.status(200)] })).rejects.toBeInstanceOf(
      InvalidRouteError,
    );
    await expect(startFakeUpstream({ 'GET /empty': [] })).rejects.toBeInstanceOf(InvalidScriptError);
  });
});

describe('startFakeUpstream replies', () => {
  it('sends rate-limit hints as retry-after seconds, HTTP-date and retry-after-ms', async () => {
    const date = new Date('2030-01-02T03:04:05Z');
    const server = await upstream({
      'POST /v1/chat/completions': [
        reply.rateLimited({ retryAfterSeconds: 7 }),
        reply.rateLimited({ retryAfterDate: date }),
        reply.rateLimited({ retryAfterMs: 1500, status: 403 }),
      ],
    });
    const call = () => fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{}' });

    const seconds = await call();
    expect(seconds.status).toBe(429);
    expect(seconds.headers.get('retry-after')).toBe('7');
    expect(seconds.headers.get('retry-after-ms')).toBeNull();
    expect(await seconds.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });

    const httpDate = await call();
    expect(httpDate.headers.get('retry-after')).toBe('Wed, 02 Jan 2030 03:04:05 GMT');
    await httpDate.arrayBuffer();

    const ms = await call();
    expect(ms.status).toBe(403);
    expect(ms.headers.get('retry-after-ms')).toBe('1500');
    expect(ms.headers.get('retry-after')).toBeNull();
    await ms.arrayBuffer();
  });

  it('sends error statuses with a body both OpenAI and GitHub clients can read', async () => {
    const server = await upstream({ 'GET /x': [reply.status(422)] });
    const res = await fetch(`${server.url}/x`);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { message: string; error: { message: string; type: string } };
    expect(body.message).toContain('422');
    expect(body.error).toMatchObject({ message: body.message, type: 'invalid_request_error' });
  });

  it('hang is seen by the client as its own timeout', async () => {
    const server = await upstream({ 'POST /v1/chat/completions': [reply.hang()] });
    const error = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      signal: AbortSignal.timeout(200),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('TimeoutError');
  });

  it('hang with ms answers 200 after the delay, and delay waits before its step', async () => {
    const server = await upstream({
      'GET /slow': [reply.hang({ ms: 30 }), reply.delay(30, reply.status(503))],
    });
    const startedAtMs = performance.now();
    const first = await fetch(`${server.url}/slow`);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({});
    const second = await fetch(`${server.url}/slow`);
    await second.arrayBuffer();
    expect(second.status).toBe(503);
    // Node timers may fire up to ~1ms early against performance.now(); leave slack for that.
    expect(performance.now() - startedAtMs).toBeGreaterThanOrEqual(55);
  });

  it('reset makes fetch reject with an ECONNRESET cause', async () => {
    const server = await upstream({ 'GET /reset': [reply.reset()] });
    const error = await fetch(`${server.url}/reset`).catch((caught: unknown) => caught);
    // undici (Node 20): TypeError "fetch failed", cause Error "read ECONNRESET".
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect((error as TypeError).cause).toMatchObject({ code: 'ECONNRESET' });
  });

  it('resetMidBody delivers headers, then the body read fails with "terminated"', async () => {
    const server = await upstream({ 'GET /cut': [reply.resetMidBody({ body: { text: 'x'.repeat(400) } })] });
    const res = await fetch(`${server.url}/cut`);
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(JSON.stringify({ text: 'x'.repeat(400) }).length);
    const error = await res.text().catch((caught: unknown) => caught);
    // undici sees the cut as EOF before content-length: TypeError "terminated",
    // cause SocketError "other side closed" (code UND_ERR_SOCKET).
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('terminated');
    expect((error as TypeError).cause).toMatchObject({ code: 'UND_ERR_SOCKET' });
  });

  it('malformedJson makes res.json() throw SyntaxError', async () => {
    const server = await upstream({ 'POST /v1/chat/completions': [reply.malformedJson()] });
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const error = await res.json().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyntaxError);
    expect(malformedJsonBody.startsWith('{"id"')).toBe(true);
  });
});

describe('startFakeUpstream request log', () => {
  it('records method, path, query, headers, body, route, params and call number', async () => {
    const server = await upstream({ 'POST /repos/:owner/:repo/issues': [reply.json(201, { number: 1 })] });
    const before = Date.now();
    await fetch(`${server.url}/repos/acme/my%20repo/issues?labels=bug`, {
      method: 'POST',
      headers: { Authorization: 'Bearer t0ken', 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Broken' }),
    }).then((res) => res.arrayBuffer());

    const [recorded] = server.requests;
    expect(recorded).toMatchObject({
      method: 'POST',
      path: '/repos/acme/my%20repo/issues',
      url: '/repos/acme/my%20repo/issues?labels=bug',
      body: '{"title":"Broken"}',
      json: { title: 'Broken' },
      route: 'POST /repos/:owner/:repo/issues',
      params: { owner: 'acme', repo: 'my repo' },
      callNumber: 1,
    });
    expect(recorded?.query.get('labels')).toBe('bug');
    expect(recorded?.headers.authorization).toBe('Bearer t0ken');
    expect(recorded?.headers['content-type']).toBe('application/json');
    expect(recorded?.receivedAtMs).toBeGreaterThanOrEqual(0);
    expect(recorded?.at.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('answers unmatched requests with a JSON 404 and still records them', async () => {
    const server = await upstream({ 'GET /known': [reply.status(204)] });
    const res = await fetch(`${server.url}/unknown`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: 'Not Found (no scripted route for DELETE /unknown)' });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'DELETE', path: '/unknown', route: undefined });
  });

  it('waitForRequests resolves when requests arrive', async () => {
    const server = await upstream({ 'GET /ping': [reply.hang()] });
    const waiting = server.waitForRequests(2, { route: 'GET /ping' });
    const controller = new AbortController();
    const inFlight = [1, 2].map(() =>
      fetch(`${server.url}/ping`, { signal: controller.signal }).catch(() => undefined),
    );
    const seen = await waiting;
    expect(seen.map((r) => r.callNumber)).toEqual([1, 2]);
    controller.abort();
    await Promise.all(inFlight);
  });

  it('waitForRequests rejects after its bound, naming what it saw', async () => {
    const server = await upstream({ 'GET /ping': [reply.status(204)] });
    await fetch(`${server.url}/other`).then((res) => res.arrayBuffer());
    const error = await server
      .waitForRequests(1, { route: 'GET /ping', timeoutMs: 50 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WaitForRequestsTimeoutError);
    expect((error as Error).message).toContain('GET /other');
  });
});

describe('FakeUpstream.close', () => {
  it('ends hanging requests and pending waits, and is idempotent', async () => {
    const server = await upstream({ 'GET /hang': [reply.hang(), reply.delay(60_000, reply.status(200))] });
    const hanging = fetch(`${server.url}/hang`).catch((caught: unknown) => caught);
    const delayed = fetch(`${server.url}/hang`).catch((caught: unknown) => caught);
    await server.waitForRequests(2);
    const waiting = server.waitForRequests(5).catch((caught: unknown) => caught);

    await Promise.all([server.close(), server.close()]);

    const error = await hanging;
    // undici reports the server closing the socket as TypeError "fetch failed", cause "other side closed".
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).cause).toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(await delayed).toBeInstanceOf(TypeError);
    expect(await waiting).toBeInstanceOf(FakeUpstreamClosedError);
    await expect(fetch(`${server.url}/hang`)).rejects.toThrow('fetch failed');
  });
});
