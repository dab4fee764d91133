import { once } from 'node:events';
import type { Server } from 'node:http';
import { closeServer } from '@runner/http-service';
import { afterEach, describe, expect, it } from 'vitest';
import { createIntake } from './create-intake.ts';
import {
  appSlug,
  captureLogger,
  issuesPayload,
  listenLocal,
  rawPost,
  recordingEnqueue,
  secret,
  within,
} from './test-helpers.ts';
import { signBody } from './verify-signature.ts';

let server: Server | undefined;

afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

async function startServer(): Promise<{ url: string; server: Server; calls: unknown[] }> {
  const fake = recordingEnqueue();
  server = createIntake({
    secret,
    appSlug,
    maxBodyBytes: 64 * 1024,
    enqueue: fake.enqueue,
    isReady: () => Promise.resolve(true),
    logger: captureLogger().logger,
  });
  return { url: await listenLocal(server), server, calls: fake.calls };
}

/** A signed delivery whose body the test sends in two halves, the first one now. */
async function halfSentDelivery(url: string, running: Server) {
  const body = JSON.stringify(issuesPayload());
  const arrived = once(running, 'request');
  const req = rawPost(url, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-github-event': 'issues',
    'x-github-delivery': 'delivery-in-flight',
    'x-hub-signature-256': signBody(body, secret),
  });
  req.write(body.slice(0, 20));
  await within(2_000, 'the request reaching the server', arrived);
  return { req, rest: body.slice(20) };
}

describe('closeServer', () => {
  it('stops accepting, lets a request in flight finish, then resolves', async () => {
    const { url, server: running, calls } = await startServer();
    const { req, rest } = await halfSentDelivery(url, running);

    const closing = closeServer(running, 5_000);
    expect(running.listening).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    req.end(rest);
    const response = await within(2_000, 'the in-flight answer', req.response);
    expect(response.status).toBe(202);
    // Keep-alive would hold the shutdown: the answer closes its connection.
    expect(response.headers.connection).toBe('close');
    expect(calls).toHaveLength(1);
    expect(await within(2_000, 'closeServer', closing)).toEqual({ forced: false });
  });

  it('closes idle keep-alive connections at once', async () => {
    const { url, server: running } = await startServer();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    expect(await within(1_000, 'closeServer with an idle connection', closeServer(running, 30_000))).toEqual({
      forced: false,
    });
  });

  it('cuts what is still in flight when the grace runs out', async () => {
    const { url, server: running, calls } = await startServer();
    const { req } = await halfSentDelivery(url, running);

    expect(await within(2_000, 'closeServer', closeServer(running, 50))).toEqual({ forced: true });
    await expect(req.response).rejects.toThrow();
    expect(calls).toEqual([]);
  });
});
