/** Shared by this app's tests; not exported from the package. */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type RunnerConfig } from '@runner/config';
import type { AgentJobData, EnqueueResult } from '@runner/queue';
import { Redis } from 'ioredis';
import { createIntakeLogger, type IntakeLogger } from './intake-logger.ts';
import { signBody } from './verify-signature.ts';

export const secret = 'test-webhook-secret-7f3a';
export const appSlug = 'runner-app';

type Json = Record<string, unknown>;

/** The intake's config for a test: this Redis and key prefix, any port, no log output; `env` adds to it. */
export function testConfig(redisUrl: string, prefix: string, env: Record<string, string> = {}): RunnerConfig {
  return loadConfig(
    {
      REDIS_URL: redisUrl,
      GITHUB_WEBHOOK_SECRET: secret,
      GITHUB_APP_SLUG: appSlug,
      QUEUE_PREFIX: prefix,
      WEBHOOKS_PORT: '0',
      LOG_LEVEL: 'silent',
      ...env,
    },
    { needs: ['webhooks'] },
  );
}

/** GitHub's `issues` `opened` payload, cut down to what the intake reads plus a few fields it ignores. */
export function issuesPayload(overrides: Json = {}): Json {
  return {
    action: 'opened',
    issue: {
      number: 7,
      title: 'Crash on start',
      body: 'It crashes.',
      user: { login: 'octocat', type: 'User' },
    },
    repository: { name: 'hello-world', full_name: 'octo-org/hello-world', owner: { login: 'octo-org' } },
    sender: { login: 'octocat', type: 'User' },
    installation: { id: 4242 },
    ...overrides,
  };
}

/** GitHub's `issue_comment` `created` payload by `user`, saying `body`. */
export function commentPayload(body: string, user = { login: 'octocat', type: 'User' }): Json {
  return issuesPayload({
    action: 'created',
    comment: { id: 9001, body, user },
    sender: user,
  });
}

export interface PostOptions {
  event?: string | undefined;
  deliveryId?: string | undefined;
  /** The signature header; default: the right one for the body. `null` sends none. */
  signature?: string | null;
}

export interface PostResult {
  status: number;
  body: Json;
  headers: Headers;
}

/** POSTs `payload` (an object, or raw text) to `${url}/webhooks` as GitHub would, signed by default. */
export async function postWebhook(
  url: string,
  payload: Json | string,
  options: PostOptions = {},
): Promise<PostResult> {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/test',
  };
  const event = 'event' in options ? options.event : 'issues';
  const deliveryId = 'deliveryId' in options ? options.deliveryId : randomUUID();
  if (event !== undefined) headers['x-github-event'] = event;
  if (deliveryId !== undefined) headers['x-github-delivery'] = deliveryId;
  const signature = options.signature === undefined ? signBody(text, secret) : options.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const response = await fetch(`${url}/webhooks`, { method: 'POST', headers, body: text });
  return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
}

export interface EnqueueCall {
  data: AgentJobData;
  bodyDigest: string;
}

/** A fake `enqueue` that records its calls and answers 'enqueued', or what `answer` says. */
export function recordingEnqueue(answer?: (call: EnqueueCall) => Promise<EnqueueResult>): {
  enqueue: (data: AgentJobData, bodyDigest: string) => Promise<EnqueueResult>;
  calls: EnqueueCall[];
} {
  const calls: EnqueueCall[] = [];
  return {
    calls,
    enqueue: (data, bodyDigest) => {
      const call = { data, bodyDigest };
      calls.push(call);
      return answer === undefined
        ? Promise.resolve({ outcome: 'enqueued', jobId: data.deliveryId })
        : answer(call);
    },
  };
}

/** A pino logger (with the intake's redaction) whose JSON lines land in `lines`. */
export function captureLogger(): { logger: IntakeLogger; lines: Json[]; text: () => string } {
  const raw: string[] = [];
  const logger = createIntakeLogger('debug', { write: (line: string) => void raw.push(line) });
  return {
    logger,
    get lines() {
      return raw.map((line) => JSON.parse(line) as Json);
    },
    text: () => raw.join(''),
  };
}

/** Listens on 127.0.0.1 on a free port; returns the base URL. */
export async function listenLocal(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface RawRequest {
  /** Resolves with the response and its whole body as text. */
  response: Promise<{ status: number; headers: IncomingMessage['headers']; text: string }>;
  write(chunk: string | Buffer): void;
  end(chunk?: string | Buffer): void;
  destroy(): void;
}

/**
 * A POST through `node:http` that the test writes piece by piece: for bodies that stream, stall or lie
 * about their length, which `fetch` cannot send. Errors after the answer (a reset) are ignored.
 */
export function rawPost(url: string, headers: Record<string, string>): RawRequest {
  const req = request(`${url}/webhooks`, { method: 'POST', headers, agent: false });
  req.on('error', () => {});
  const response = new Promise<{ status: number; headers: IncomingMessage['headers']; text: string }>(
    (resolve, reject) => {
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', () => {});
        const done = (): void =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          });
        res.once('end', done);
        res.once('close', done);
      });
    },
  );
  req.flushHeaders();
  return {
    response,
    write: (chunk) => void req.write(chunk),
    end: (chunk) => void (chunk === undefined ? req.end() : req.end(chunk)),
    destroy: () => req.destroy(),
  };
}

/** `promise`, or a rejection naming `what` after `ms`: a bounded wait on an event. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Deletes every key under `prefix`, so tests on a shared Redis leave nothing behind. */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 })) {
      const batch = keys as string[];
      if (batch.length > 0) await redis.del(...batch);
    }
  } finally {
    await redis.quit();
  }
}
