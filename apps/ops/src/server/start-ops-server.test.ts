import { FleetStats } from '@runner/queue';
import { RetriesExhaustedError } from '@runner/retry';
import { type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpsLogger } from './ops-logger.ts';
import { OpsTokenRequiredError } from './ops-token-required-error.ts';
import { startOpsServer } from './start-ops-server.ts';
import {
  basic,
  bearer,
  call,
  captureStream,
  deleteKeys,
  opsConfig,
  retryEvent,
  sample,
  silentLogger,
  startQueueWithWorker,
  token,
  within,
} from './test-helpers.ts';
import { parseXml } from './well-formed-xml.ts';

const hostileReason = '<script>alert("x")</script>';

let redisServer: RedisHandle;
let redis: Redis;
beforeAll(async () => {
  redisServer = await startRedis();
  redis = new Redis(redisServer.url);
});
afterAll(async () => {
  redis?.disconnect();
  await redisServer?.stop();
});

/**
 * Jobs whose id says what they do: `retries-*` retry at the request and tool layers, then are requeued
 * once and complete; `hostile-*` record a retry whose reason is markup; `poison-*` fail until `healthy`.
 */
function jobHandler(state: { healthy: boolean }) {
  return async (jobId: string, context: Parameters<Parameters<typeof startQueueWithWorker>[2]>[1]) => {
    if (jobId.startsWith('retries') && context.run === 1) {
      context.onRetry(retryEvent('request', 'llm', 429, 1_000, 2));
      context.onRetry(retryEvent('request', 'llm', 429, 2_000, 3));
      context.onRetry(retryEvent('tool', 'comment_on_issue', 502, 1_000, 2));
      throw new RetriesExhaustedError({
        attempts: 4,
        reason: 'HTTP 502',
        status: 502,
        cause: new Error('bad gateway'),
      });
    }
    if (jobId.startsWith('hostile')) {
      const { status: _status, ...event } = retryEvent('request', 'llm', 500, 1_000);
      context.onRetry({ ...event, reason: hostileReason });
    }
    if (jobId.startsWith('poison') && !state.healthy) {
      throw new RetriesExhaustedError({
        attempts: 4,
        reason: 'HTTP 503',
        status: 503,
        cause: new Error('down'),
      });
    }
    return 'ok';
  };
}

describe('startOpsServer', () => {
  it('asks for the token everywhere but the health checks, as Bearer or as a Basic password, and never logs it', {
    timeout: 30_000,
  }, async () => {
    const prefix = uniquePrefix('ops-auth');
    const queue = await startQueueWithWorker(redisServer.url, prefix, jobHandler({ healthy: true }));
    const log = captureStream();
    const ops = await startOpsServer(
      opsConfig(redisServer.url, prefix, { OPS_TOKEN: token }),
      createOpsLogger('trace', log.stream),
    );
    try {
      await queue.run('retries-auth');

      expect((await call(`${ops.url}/healthz`)).status).toBe(200);
      expect(await (await call(`${ops.url}/readyz`)).json()).toEqual({ ready: true });

      for (const path of ['/admin/queues', '/jobs/retries-auth', '/jobs/retries-auth.svg', '/metrics', '/']) {
        const anonymous = await call(`${ops.url}${path}`);
        expect(anonymous.status, path).toBe(401);
        expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="runner-ops"');
        expect((await call(`${ops.url}${path}`, bearer(`${token}x`))).status, path).toBe(401);
        expect((await call(`${ops.url}${path}`, basic('admin', 'wrong-password-123456'))).status, path).toBe(
          401,
        );
        expect((await call(`${ops.url}${path}`, bearer(token))).status, path).toBe(200);
        expect((await call(`${ops.url}${path}`, basic('anyone', token))).status, path).toBe(200);
      }

      const dashboard = await call(`${ops.url}/admin/queues`, basic('anyone', token));
      expect(dashboard.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await dashboard.text()).toContain('/admin/queues/');
      const api = await call(
        `${ops.url}/admin/queues/api/queues?activeQueue=agent-jobs&status=completed`,
        bearer(token),
      );
      const { queues } = (await api.json()) as {
        queues: Array<{ name: string; jobs: Array<{ id: string; externalUrl?: unknown }> }>;
      };
      expect(queues.map((q) => q.name)).toEqual(['agent-jobs']);
      expect(queues[0]?.jobs.find((job) => job.id === 'retries-auth')?.externalUrl).toEqual({
        displayText: 'Retry timeline',
        href: '/jobs/retries-auth',
      });

      const logged = log.text();
      expect(logged).toContain('"path":"/admin/queues"');
      expect(logged).not.toContain(token);
      expect(logged).not.toContain(Buffer.from(`anyone:${token}`).toString('base64'));
    } finally {
      await ops.close();
      await queue.close();
      await deleteKeys(redisServer.url, prefix);
    }
  });

  it('serves fleet metrics from Redis: the retry counter grows after a job that retried at every layer', {
    timeout: 30_000,
  }, async () => {
    const prefix = uniquePrefix('ops-metrics');
    const queue = await startQueueWithWorker(redisServer.url, prefix, jobHandler({ healthy: true }));
    const ops = await startOpsServer(opsConfig(redisServer.url, prefix, { OPS_TOKEN: token }), silentLogger);
    const scrape = async () => {
      const response = await call(`${ops.url}/metrics`, bearer(token));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return response.text();
    };
    const llm429 = 'runner_retries_total{layer="request",target="llm",reason="HTTP 429"}';
    const tool502 = 'runner_retries_total{layer="tool",target="comment_on_issue",reason="HTTP 502"}';
    try {
      const before = await scrape();
      for (const name of [
        'runner_retries_total counter',
        'runner_jobs_total counter',
        'runner_queue_jobs gauge',
        'runner_queue_workers gauge',
        'runner_circuit_state gauge',
        'runner_ops_process_cpu_user_seconds_total counter',
      ]) {
        expect(before).toContain(`# TYPE ${name}`);
      }
      // Measured by each worker on its own /metrics; not faked here.
      expect(before).not.toContain('runner_upstream_request_duration_seconds');
      expect(sample(before, llm429)).toBe(0);

      await queue.run('retries-metrics');
      await new FleetStats(redis, prefix).reportCircuit({
        name: 'llm',
        state: 'open',
        updatedAtMs: Date.now(),
      });

      const after = await scrape();
      expect(sample(after, llm429)).toBe(2);
      expect(sample(after, tool502)).toBe(1);
      const jobRetries = after
        .split('\n')
        .filter((line) => line.startsWith('runner_retries_total{layer="job"'));
      expect(jobRetries).toHaveLength(1);
      expect(sample(after, 'runner_jobs_total{outcome="requeued"}')).toBe(1);
      expect(sample(after, 'runner_jobs_total{outcome="completed"}')).toBe(1);
      expect(sample(after, 'runner_queue_jobs{state="completed"}')).toBe(1);
      expect(sample(after, 'runner_queue_jobs{state="dead-lettered"}')).toBe(0);
      expect(sample(after, 'runner_queue_workers')).toBe(1);
      expect(sample(after, 'runner_circuit_state{target="llm"}')).toBe(2);
      // Scraping again reads the same stored totals: the counters do not double.
      expect(sample(await scrape(), llm429)).toBe(2);
    } finally {
      await ops.close();
      await queue.close();
      await deleteKeys(redisServer.url, prefix);
    }
  });

  it('draws a job’s timeline: one mark per recorded retry and job event, reasons escaped; 404 for no job', {
    timeout: 30_000,
  }, async () => {
    const prefix = uniquePrefix('ops-timeline');
    const queue = await startQueueWithWorker(redisServer.url, prefix, jobHandler({ healthy: true }));
    const ops = await startOpsServer(opsConfig(redisServer.url, prefix, { OPS_TOKEN: token }), silentLogger);
    try {
      const timeline = await queue.run('retries-timeline');
      expect(new Set(timeline.filter((e) => e.kind === 'retry').map((e) => e.layer))).toEqual(
        new Set(['request', 'tool']),
      );
      expect(timeline.map((e) => e.kind)).toContain('job_requeued');

      const details = await call(`${ops.url}/jobs/retries-timeline.json`, bearer(token));
      expect(details.status).toBe(200);
      expect(await details.json()).toMatchObject({ id: 'retries-timeline', state: 'completed', timeline });

      const response = await call(`${ops.url}/jobs/retries-timeline.svg`, bearer(token));
      expect(response.headers.get('content-type')).toBe('image/svg+xml');
      const elements = parseXml(await response.text());
      const marks = elements.filter((element) => element.attributes['data-kind'] !== undefined);
      expect(marks.map((mark) => mark.attributes['data-kind'])).toEqual(timeline.map((e) => e.kind));
      for (const layer of ['request', 'tool', 'job'] as const) {
        const retries = timeline.filter((e) => e.kind === 'retry' && e.layer === layer).length;
        const drawn = marks.filter(
          (m) => m.attributes['data-kind'] === 'retry' && m.attributes['data-layer'] === layer,
        );
        expect(drawn, layer).toHaveLength(retries);
      }
      for (const kind of ['job_started', 'job_requeued', 'job_completed']) {
        const events = timeline.filter((e) => e.kind === kind).length;
        expect(
          marks.filter((m) => m.attributes['data-kind'] === kind),
          kind,
        ).toHaveLength(events);
      }

      const page = await call(`${ops.url}/jobs/retries-timeline`, bearer(token));
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      const html = await page.text();
      expect(html).toContain('<svg');
      expect(html).toContain('LLM API call failed (429), retrying in 1.0s (attempt 2/6)');

      await queue.run('hostile-timeline');
      const hostile = await (await call(`${ops.url}/jobs/hostile-timeline`, bearer(token))).text();
      expect(hostile).not.toContain('<script');
      expect(hostile).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
      const hostileSvg = await (await call(`${ops.url}/jobs/hostile-timeline.svg`, bearer(token))).text();
      expect(parseXml(hostileSvg).some((element) => element.text.includes(hostileReason))).toBe(true);

      const missing = await call(`${ops.url}/jobs/no-such-job`, bearer(token));
      expect(missing.status).toBe(404);
      expect(await missing.text()).toContain('There is no job no-such-job');
      expect((await call(`${ops.url}/jobs/no-such-job.json`, bearer(token))).status).toBe(404);
      expect((await call(`${ops.url}/jobs/no-such-job.svg`, bearer(token))).status).toBe(404);
    } finally {
      await ops.close();
      await queue.close();
      await deleteKeys(redisServer.url, prefix);
    }
  });

  it('retries a dead-lettered job from the dashboard as `runner-ops retry` does, history kept', {
    timeout: 30_000,
  }, async () => {
    const prefix = uniquePrefix('ops-dashboard-retry');
    const state = { healthy: false };
    const queue = await startQueueWithWorker(redisServer.url, prefix, jobHandler(state));
    const ops = await startOpsServer(opsConfig(redisServer.url, prefix, { OPS_TOKEN: token }), silentLogger);
    try {
      await queue.run('poison-dashboard');
      expect((await queue.inspector.job('poison-dashboard'))?.state).toBe('dead-lettered');

      state.healthy = true;
      const retried = await call(
        `${ops.url}/admin/queues/api/queues/agent-jobs/poison-dashboard/retry`,
        bearer(token),
        {
          method: 'PUT',
        },
      );
      expect(retried.status).toBe(204);
      await queue.finished('poison-dashboard');
      const revived = await queue.inspector.job('poison-dashboard');
      expect(revived).toMatchObject({ state: 'completed', deadLettered: false });
      expect(revived?.timeline.map((e) => e.kind).slice(-3)).toEqual([
        'job_retried_by_ops',
        'job_started',
        'job_completed',
      ]);
    } finally {
      await ops.close();
      await queue.close();
      await deleteKeys(redisServer.url, prefix);
    }
  });

  it('refuses to listen beyond loopback without a token, before touching Redis', async () => {
    const config = opsConfig('redis://127.0.0.1:1', 'unused', { OPS_HOST: '0.0.0.0' });
    const start = startOpsServer(config, silentLogger);
    await expect(start).rejects.toBeInstanceOf(OpsTokenRequiredError);
    await expect(start).rejects.toThrow(/Set OPS_TOKEN .* or bind to 127\.0\.0\.1/);
  });

  it('answers without a token on loopback, after a warning', { timeout: 20_000 }, async () => {
    const prefix = uniquePrefix('ops-open');
    const warnings: string[] = [];
    const ops = await startOpsServer(opsConfig(redisServer.url, prefix), {
      ...silentLogger,
      warn: (_fields, message) => warnings.push(message),
    });
    try {
      expect(warnings.some((message) => message.startsWith('OPS_TOKEN is not set'))).toBe(true);
      expect((await call(`${ops.url}/metrics`)).status).toBe(200);
      expect((await call(`${ops.url}/admin/queues`)).status).toBe(200);
    } finally {
      await ops.close();
    }
  });

  it('answers 503 at once while Redis is down, and still closes', { timeout: 30_000 }, async () => {
    const privateRedis = await startRedis({ forcePrivate: true });
    const prefix = uniquePrefix('ops-down');
    let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;
    try {
      ops = await startOpsServer(opsConfig(privateRedis.url, prefix, { OPS_TOKEN: token }), silentLogger);
      expect((await call(`${ops.url}/readyz`)).status).toBe(200);

      await privateRedis.stop();
      const notReady = await call(`${ops.url}/readyz`, {}, { timeoutMs: 3_000 });
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ ready: false });
      for (const path of [
        '/metrics',
        '/jobs/any',
        '/jobs/any.svg',
        '/',
        '/admin/queues',
        '/admin/queues/api/queues',
      ]) {
        const response = await call(`${ops.url}${path}`, bearer(token), { timeoutMs: 3_000 });
        expect(response.status, path).toBe(503);
        expect(await response.text(), path).toMatch(/^Redis is unavailable/);
      }
      expect((await call(`${ops.url}/healthz`)).status).toBe(200);
      // Without the token it is still a 401: the outage is nobody else's business.
      expect((await call(`${ops.url}/metrics`, {}, { timeoutMs: 3_000 })).status).toBe(401);
    } finally {
      await ops?.close();
      await privateRedis.stop();
    }
  });

  it('answers /readyz 503 once readyTimeoutMs has passed when Redis holds its PING', {
    timeout: 30_000,
  }, async () => {
    const privateRedis = await startRedis({ forcePrivate: true });
    const admin = new Redis(privateRedis.url);
    const ops = await startOpsServer(
      opsConfig(privateRedis.url, uniquePrefix('ops-paused'), { OPS_TOKEN: token }),
      silentLogger,
      { readyTimeoutMs: 200 },
    );
    try {
      expect((await call(`${ops.url}/readyz`)).status).toBe(200);
      // Connected, but every command is held: the probe's PING gets no answer.
      await admin.call('CLIENT', 'PAUSE', '2000', 'ALL');
      // Given up on before the pause ends: the answer can only come from the probe's timeout.
      const notReady = await call(`${ops.url}/readyz`, {}, { timeoutMs: 1_500 });
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ ready: false });
      await admin.ping();
      expect((await call(`${ops.url}/readyz`)).status).toBe(200);
    } finally {
      admin.disconnect();
      await ops.close();
      await privateRedis.stop();
    }
  });

  it('started before its Redis with waitForRedis: listens, answers 503 until Redis is up, then serves', {
    timeout: 30_000,
  }, async () => {
    const privateRedis = await startRedis({ forcePrivate: true });
    await privateRedis.shutdown();
    const prefix = uniquePrefix('ops-wait');
    const lines: string[] = [];
    const ops = await startOpsServer(
      opsConfig(privateRedis.url, prefix, { OPS_TOKEN: token }),
      { ...silentLogger, warn: (_fields, message) => lines.push(message), info: (_f, m) => lines.push(m) },
      { waitForRedis: true },
    );
    try {
      expect((await call(`${ops.url}/healthz`)).status).toBe(200);
      expect((await call(`${ops.url}/readyz`)).status).toBe(503);
      const page = await call(`${ops.url}/metrics`, bearer(token));
      expect(page.status).toBe(503);
      expect(await page.text()).toMatch(/^Redis is unavailable/);
      // The token is still asked for while it waits.
      expect((await call(`${ops.url}/metrics`)).status).toBe(401);
      expect(lines.some((line) => /does not answer \(ECONNREFUSED\); trying again/.test(line))).toBe(true);

      await privateRedis.start();
      await within(20_000, 'the ops server reaching Redis', ops.ready);
      expect(lines).toContain('Ready: reading the queue');
      expect((await call(`${ops.url}/readyz`)).status).toBe(200);
      expect((await call(`${ops.url}/metrics`, bearer(token))).status).toBe(200);
    } finally {
      await ops.close();
      await privateRedis.stop();
    }
  });
});
