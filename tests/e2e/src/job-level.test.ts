import { formatTimeline } from '@runner/queue';
import {
  fakeAgentModel,
  fakeGitHubRoutes,
  type RedisHandle,
  reply,
  startRedis,
  triageModel,
} from '@runner/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type HarnessOptions, startHarness } from './harness.ts';

let redis: RedisHandle;
let harness: Harness | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function setup(options: Omit<HarnessOptions, 'redisUrl'> = {}) {
  harness = await startHarness({ redisUrl: redis.url, ...options });
  return harness;
}

describe('the three layers, end to end through BullMQ', () => {
  it('runs a job: reads the issue, comments once, completes', async () => {
    const h = await setup();
    const { completed, job } = await h.runJob(h.jobData('delivery-ok'));
    expect(completed).toBe(true);
    expect(job.returnvalue).toMatchObject({ reason: 'answered', turns: 3 });
    expect(h.botComments()).toHaveLength(1);
    expect(h.botComments()[0]!.body).toContain('Thanks for the report!');
  });

  it('rides out the design notes’ timeline: LLM 429, 429, 200; GitHub 429 then 201', async () => {
    const h = await setup({
      llm: [
        reply.rateLimited({ retryAfterMs: 200 }),
        reply.rateLimited({ retryAfterMs: 300 }),
        triageModel(),
      ],
      github: { faults: { [fakeGitHubRoutes.createComment]: [reply.rateLimited({ retryAfterSeconds: 1 })] } },
    });
    const { completed } = await h.runJob(h.jobData('delivery-timeline'));
    expect(completed).toBe(true);
    expect(h.botComments()).toHaveLength(1);
    const record = await h.tracker.read('delivery-timeline');
    const retries = record.timeline.filter((e) => e.kind === 'retry');
    expect(retries.map((e) => [e.layer, e.target, e.status, e.attempt])).toEqual([
      ['request', 'llm', 429, 2],
      ['request', 'llm', 429, 3],
      ['tool', 'comment_on_issue', 429, 2],
    ]);
    expect(retries.map((e) => e.delayMs)).toEqual([200, 300, 1_000]);
    expect(record.retryCount).toBe(0);
    const lines = formatTimeline(record.timeline);
    expect(lines[0]).toMatch(/^T=0\.0s Job starts/);
    expect(lines[1]).toMatch(/LLM API call failed \(429\), retrying in 0\.2s \(attempt 2\/6\)$/);
    expect(lines.at(-1)).toMatch(/Job completed$/);
  });

  it('records the shared token client’s retry in the timeline of the job that asked for the token', async () => {
    const h = await setup({
      github: { faults: { [fakeGitHubRoutes.createInstallationToken]: [reply.status(503)] } },
    });
    const { completed } = await h.runJob(h.jobData('delivery-token-retry'));
    expect(completed).toBe(true);
    const record = await h.tracker.read('delivery-token-retry');
    expect(
      record.timeline.filter((e) => e.kind === 'retry').map((e) => [e.layer, e.target, e.status]),
    ).toEqual([['request', 'githubToken', 503]]);
  });

  it('counts every layer’s retries and times each upstream request on the worker’s /metrics', async () => {
    const h = await setup({
      env: { METRICS_PORT: '0' },
      llm: [reply.rateLimited({ retryAfterMs: 50 }), triageModel()],
      github: { faults: { [fakeGitHubRoutes.createComment]: [reply.status(502)] } },
    });
    const { completed } = await h.runJob(h.jobData('delivery-metrics'));
    expect(completed).toBe(true);
    const text = await (await fetch(`http://127.0.0.1:${h.worker?.metricsPort}/metrics`)).text();
    expect(text).toContain('runner_worker_retries_total{layer="request",target="llm",reason="HTTP 429"} 1');
    expect(text).toContain(
      'runner_worker_retries_total{layer="tool",target="comment_on_issue",reason="HTTP 502"} 1',
    );
    expect(text).toContain('runner_worker_jobs_total{outcome="completed"} 1');
    expect(text).toMatch(/runner_upstream_request_duration_seconds_count\{target="llm",status="429"\} 1/);
    expect(text).toMatch(/runner_upstream_request_duration_seconds_count\{target="llm",status="200"\} 3/);
    expect(text).toMatch(/runner_upstream_request_duration_seconds_count\{target="github",status="502"\} 1/);
    // The same port answers a container's health check.
    expect((await fetch(`http://127.0.0.1:${h.worker?.metricsPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${h.worker?.metricsPort}/readyz`)).status).toBe(200);
    expect(text).toContain('runner_circuit_state{target="llm"} 0');
  });

  it('requeues a job rate limited longer than layer 1 allows, no sooner than Retry-After, then completes', async () => {
    const h = await setup({
      env: { RETRY_LLM_MAX_RETRIES: '1' },
      llm: [
        reply.rateLimited({ retryAfterSeconds: 1 }),
        reply.rateLimited({ retryAfterSeconds: 2 }),
        triageModel(),
      ],
    });
    const { completed, job } = await h.runJob(h.jobData('delivery-rate-limited'));
    expect(completed).toBe(true);
    const [, second, third] = h.llm.requests;
    expect(third!.receivedAtMs - second!.receivedAtMs).toBeGreaterThanOrEqual(2_000);
    const record = await h.tracker.read('delivery-rate-limited');
    expect(record.retryCount).toBe(1);
    expect(record.lastError).toMatchObject({
      errorClass: 'LlmError',
      status: 429,
      layer: 'request',
      target: 'llm',
    });
    const delayed = record.timeline.find((e) => e.kind === 'job_delayed');
    expect(delayed?.delayMs).toBeGreaterThanOrEqual(1_900);
    // Waiting out the limit used up none of the job's retries.
    expect(job.attemptsMade).toBe(1);
    expect(h.botComments()).toHaveLength(1);
  });

  it('fails the job at once on a 401 from the token endpoint: no requeue, one token request', async () => {
    const h = await setup({
      github: { faults: { [fakeGitHubRoutes.createInstallationToken]: [reply.status(401)] } },
    });
    const { completed, error, job } = await h.runJob(h.jobData('delivery-401'));
    expect(completed).toBe(false);
    expect(error?.message).toContain('GITHUB_APP_ID');
    expect(job.attemptsStarted).toBe(1);
    expect(h.github.requestsTo(fakeGitHubRoutes.createInstallationToken)).toHaveLength(1);
    const record = await h.tracker.read('delivery-401');
    expect(record).toMatchObject({ retryCount: 0, deadLettered: false });
    expect(record.lastError?.status).toBe(401);
  });

  it('dead-letters a poison job (GitHub always 503) after 5 requeues, with its timeline', async () => {
    const h = await setup({
      env: {
        RETRY_GITHUB_TOOLS_MAX_RETRIES: '1',
        RETRY_GITHUB_TOOLS_MAX_DELAY_MS: '20',
        // The requeue path itself, undisturbed by the fleet's protections (their own tests are in
        // fleet-cooperation.test.ts): the circuit would open and the budget run out within a run or two.
        FLEET_CIRCUIT_FAILURE_THRESHOLD: '1000',
        FLEET_RETRY_BUDGET_MIN_RETRIES: '1000',
      },
      github: {
        faults: { [fakeGitHubRoutes.getIssue]: Array.from({ length: 50 }, () => reply.status(503)) },
      },
      llm: [fakeAgentModel([{ tool: 'get_issue', arguments: {} }, { answer: 'done' }])],
    });
    const { completed, job } = await h.runJob(h.jobData('delivery-poison'), 30_000);
    expect(completed).toBe(false);
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(6);
    const record = await h.tracker.read('delivery-poison');
    expect(record.deadLettered).toBe(true);
    expect(record.retryCount).toBe(5);
    expect(record.timeline.filter((e) => e.kind === 'job_requeued')).toHaveLength(5);
    expect(record.timeline.filter((e) => e.kind === 'retry' && e.layer === 'tool')).toHaveLength(6);
    expect(record.timeline.at(-1)).toMatchObject({ kind: 'job_failed' });
    expect(h.github.requestsTo(fakeGitHubRoutes.getIssue)).toHaveLength(12);
  });
});
