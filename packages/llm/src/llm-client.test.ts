import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CircuitBreaker, type RetryEvent, type RetryPolicy } from '@runner/retry';
import { chatCompletion, type FakeUpstream, reply, type Step, startFakeUpstream } from '@runner/testkit';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LlmClient, type LlmClientOptions } from './llm-client.ts';
import { LlmError } from './llm-error.ts';

const route = 'POST /v1/chat/completions';

const ok = reply.json(200, chatCompletion('Hello from the fake LLM'));

/** Fast numbers so retries take milliseconds; the real defaults are checked in @runner/retry. */
const fast: RetryPolicy = {
  maxRetries: 5,
  initialDelayMs: 20,
  maxDelayMs: 2_000,
  multiplier: 2,
  jitter: 'full',
  timeoutMs: 2_000,
};

let upstream: FakeUpstream | undefined;
afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
});

async function setup(steps: Step[], options: Partial<LlmClientOptions> = {}) {
  upstream = await startFakeUpstream({ [route]: steps });
  const events: RetryEvent[] = [];
  const client = new LlmClient({
    baseUrl: `${upstream.url}/v1`,
    apiKey: 'sk-test-secret-key',
    model: 'glm-4.6',
    policy: fast,
    minIntervalMs: 0,
    onRetry: (event) => events.push(event),
    ...options,
  });
  return { upstream, client, events };
}

const hello = { messages: [{ role: 'user' as const, content: 'hi' }] };

describe('LlmClient', () => {
  it('returns the assistant message with its tool calls and the token usage', async () => {
    const { client, upstream } = await setup([
      reply.json(200, chatCompletion(null, [{ name: 'get_issue', arguments: '{}' }])),
    ]);
    const tools = [
      { type: 'function' as const, function: { name: 'get_issue', parameters: { type: 'object' } } },
    ];
    const result = await client.chat({ ...hello, tools });
    expect(result.message.tool_calls?.[0]).toMatchObject({
      function: { name: 'get_issue', arguments: '{}' },
    });
    expect(result.usage).toEqual({ promptTokens: 12, completionTokens: 5, totalTokens: 17 });
    expect(result.attempts).toBe(1);
    const sent = upstream.requests[0]!;
    expect(sent.json).toMatchObject({ model: 'glm-4.6', messages: hello.messages, tools });
    expect(sent.headers.authorization).toBe('Bearer sk-test-secret-key');
  });

  it('waits out Retry-After: 2 before the second attempt', async () => {
    const { client, upstream, events } = await setup([reply.rateLimited({ retryAfterSeconds: 2 }), ok]);
    const result = await client.chat(hello);
    expect(result.attempts).toBe(2);
    const [first, second] = upstream.requests;
    expect(second!.receivedAtMs - first!.receivedAtMs).toBeGreaterThanOrEqual(2_000);
    expect(events[0]).toMatchObject({ attempt: 2, delayMs: 2_000, delaySource: 'server', status: 429 });
  });

  it('reports a call’s retries to that call’s hook too, and another call’s to its own', async () => {
    const { client, events } = await setup([reply.status(503), ok, reply.status(502), ok]);
    const first: RetryEvent[] = [];
    const second: RetryEvent[] = [];
    await client.chat({ ...hello, onRetry: (event) => first.push(event) });
    await client.chat({ ...hello, onRetry: (event) => second.push(event) });
    expect(first).toEqual([
      expect.objectContaining({ attempt: 2, status: 503, layer: 'request', target: 'llm' }),
    ]);
    expect(second).toEqual([expect.objectContaining({ attempt: 2, status: 502 })]);
    // The client's own hook (the process's metrics) still sees both.
    expect(events.map((event) => event.status)).toEqual([503, 502]);
  });

  it('waits out retry-after-ms likewise', async () => {
    const { client, upstream } = await setup([reply.rateLimited({ retryAfterMs: 300 }), ok]);
    await client.chat(hello);
    const [first, second] = upstream.requests;
    expect(second!.receivedAtMs - first!.receivedAtMs).toBeGreaterThanOrEqual(300);
  });

  it('succeeds on the third attempt after 503, 503, with jittered delays within the growing caps', async () => {
    const { client, upstream, events } = await setup([reply.status(503), reply.status(503), ok]);
    const result = await client.chat(hello);
    expect(result.attempts).toBe(3);
    expect(upstream.requests).toHaveLength(3);
    expect(events.map((e) => e.attempt)).toEqual([2, 3]);
    events.forEach((event, retry) => {
      expect(event.delayMs).toBeGreaterThanOrEqual(0);
      expect(event.delayMs).toBeLessThanOrEqual(fast.initialDelayMs * 2 ** retry);
      expect(event.reason).toBe('HTTP 503');
    });
  });

  it('retries a hang past the timeout as a timeout', async () => {
    const { client, upstream, events } = await setup([reply.hang(), ok], {
      policy: { ...fast, timeoutMs: 200 },
    });
    const result = await client.chat(hello);
    expect(result.attempts).toBe(2);
    expect(upstream.requests).toHaveLength(2);
    expect(events[0]?.reason).toBe('timeout');
  });

  it('retries a connection reset mid-response, which the SDK alone would not', async () => {
    const { client, events } = await setup([reply.resetMidBody({ body: chatCompletion('cut off') }), ok]);
    const result = await client.chat(hello);
    expect(result.message.content).toBe('Hello from the fake LLM');
    expect(events).toHaveLength(1);
    expect(events[0]?.reason).toMatch(/connection reset|ECONNRESET|UND_ERR_SOCKET/);
  });

  it('retries a connection reset before any response', async () => {
    const { client, events } = await setup([reply.reset(), ok]);
    await expect(client.chat(hello)).resolves.toMatchObject({ attempts: 2 });
    expect(events[0]?.error).toBeDefined();
  });

  it.each([400, 401, 404, 422])(
    'does not retry HTTP %i: one request, and the error says why',
    async (status) => {
      const { client, upstream } = await setup([reply.status(status), ok]);
      const error = (await client.chat(hello).catch((e: unknown) => e)) as LlmError;
      expect(upstream.requests).toHaveLength(1);
      expect(error).toBeInstanceOf(LlmError);
      expect(error).toMatchObject({
        code: 'not_retryable',
        retryable: false,
        status,
        layer: 'request',
        target: 'llm',
      });
      expect(error.message).toContain(`HTTP ${status}`);
    },
  );

  it('does not retry a 429 whose body says insufficient_quota', async () => {
    const quota = reply.json(429, {
      error: {
        message: 'You exceeded your current quota',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      },
    });
    const { client, upstream } = await setup([quota, ok]);
    const error = (await client.chat(hello).catch((e: unknown) => e)) as LlmError;
    expect(upstream.requests).toHaveLength(1);
    expect(error).toMatchObject({ code: 'insufficient_quota', retryable: false });
    expect(error.message).toContain('no quota left');
  });

  it('ends the call with the retry time when the server asks for longer than the policy waits', async () => {
    const { client, upstream } = await setup([reply.rateLimited({ retryAfterSeconds: 120 }), ok]);
    const before = Date.now();
    const error = (await client.chat(hello).catch((e: unknown) => e)) as LlmError;
    expect(upstream.requests).toHaveLength(1);
    expect(error).toMatchObject({ code: 'retry_after_too_long', retryable: true });
    expect(error.retryAt!.getTime()).toBeGreaterThanOrEqual(before + 120_000);
  });

  it('stops waiting on Retry-After as soon as the caller aborts', async () => {
    const { client, upstream } = await setup([reply.rateLimited({ retryAfterSeconds: 20 }), ok], {
      policy: { ...fast, maxDelayMs: 60_000 },
    });
    const controller = new AbortController();
    const outcome = client.chat({ ...hello, signal: controller.signal }).catch((e: unknown) => e);
    await upstream.waitForRequests(1);
    const abortedAt = performance.now();
    controller.abort(new Error('worker shutting down'));
    expect(((await outcome) as Error).message).toBe('worker shutting down');
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
    expect(upstream.requests).toHaveLength(1);
  });

  it('opens the circuit after five consecutive failures, fails fast, then lets one probe through', async () => {
    const clock = {
      t: Date.now(),
      now() {
        return this.t;
      },
    };
    const breaker = new CircuitBreaker({ name: 'llm:test', failureThreshold: 5, cooldownMs: 30_000, clock });
    const { client, upstream } = await setup(
      [reply.status(503), reply.status(503), reply.status(503), reply.status(503), reply.status(503), ok],
      {
        breaker,
        policy: { ...fast, maxRetries: 0 },
      },
    );
    for (let i = 0; i < 5; i++) await expect(client.chat(hello)).rejects.toMatchObject({ status: 503 });
    const fastFail = (await client.chat(hello).catch((e: unknown) => e)) as LlmError;
    expect(fastFail).toMatchObject({ code: 'circuit_open', retryable: true });
    expect(fastFail.retryAt!.getTime()).toBe(clock.t + 30_000);
    expect(upstream.requests).toHaveLength(5);

    clock.t += 30_000;
    await expect(client.chat(hello)).resolves.toMatchObject({ attempts: 1 });
    expect(upstream.requests).toHaveLength(6);
    expect(await breaker.state()).toBe('closed');
  });

  it('counts timed-out attempts against the circuit: a hanging upstream opens it', async () => {
    const breaker = new CircuitBreaker({ name: 'llm:test', failureThreshold: 2, cooldownMs: 30_000 });
    const { client, upstream } = await setup([reply.hang()], {
      breaker,
      policy: { ...fast, maxRetries: 0, timeoutMs: 100 },
    });
    for (let i = 0; i < 2; i++) await expect(client.chat(hello)).rejects.toMatchObject({ reason: 'timeout' });
    await expect(client.chat(hello)).rejects.toMatchObject({ code: 'circuit_open' });
    expect(upstream.requests).toHaveLength(2);
  });

  it('keeps at least 100 ms between 50 concurrent requests, at the wire and where they arrive', async () => {
    // The upstream runs in its own process, so that its arrival stamps are not held up by this one.
    const script = fileURLToPath(new URL('../test/answering-llm-process.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [url] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const sentAtMs: number[] = [];
      const recordingFetch: typeof fetch = (input, init) => {
        sentAtMs.push(performance.now());
        return fetch(input, init);
      };
      const client = new LlmClient({
        baseUrl: `${url}/v1`,
        model: 'glm-4.6',
        policy: fast,
        fetch: recordingFetch,
      });
      // The first request also opens the connection; a handshake that delays it would shorten the next gap.
      await client.chat(hello);
      await Promise.all(Array.from({ length: 50 }, () => client.chat(hello)));

      const gapsOf = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);
      // What we control, exactly: when each request is handed to fetch.
      expect(Math.min(...gapsOf(sentAtMs.slice(1)))).toBeGreaterThanOrEqual(100);
      // What the upstream sees carries the jitter of dispatch and of its own event loop: a few ms on an
      // idle machine (the wire margin absorbs it), tens on a loaded one; the allowance is for the latter.
      const arrivals = ((await (await fetch(`${url}/arrivals`)).json()) as number[]).slice(1);
      expect(arrivals).toHaveLength(50);
      const arrivalGaps = gapsOf(arrivals).sort((a, b) => a - b);
      expect(arrivalGaps[Math.floor(arrivalGaps.length / 2)]).toBeGreaterThanOrEqual(100);
      expect(arrivalGaps[0]).toBeGreaterThanOrEqual(75);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }, 20_000);

  it('logs each retry as a structured pino event, without the API key', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    const { client } = await setup([reply.rateLimited({ retryAfterMs: 50 }), ok], { logger });
    await client.chat(hello);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const retry = records.find((r) => String(r.msg).startsWith('Retrying'));
    expect(retry).toMatchObject({
      layer: 'request',
      target: 'llm',
      attempt: 2,
      maxAttempts: 6,
      delayMs: 50,
      status: 429,
      reason: 'HTTP 429',
      msg: 'Retrying in 0.1s (attempt 2/6) after HTTP 429',
    });
    expect(records.find((r) => r.msg === 'LLM call completed')).toMatchObject({
      totalTokens: 17,
      attempts: 2,
    });
    expect(lines.join('\n')).not.toContain('sk-test-secret-key');
  });
});
