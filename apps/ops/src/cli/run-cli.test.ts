import { EventEmitter } from 'node:events';
import { exampleJobData } from '@runner/queue';
import { RetriesExhaustedError, RetryAfterTooLongError } from '@runner/retry';
import { type RedisHandle, startRedis } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QueueScene, runCaptured, startQueueScene } from './cli-test-harness.ts';
import { runCli } from './run-cli.ts';
import type { StatusJson } from './status-command.ts';

let server: RedisHandle;
let scene: QueueScene;
// The poison job fails (after a request-level retry) until the test makes it healthy.
let healthy = false;

beforeAll(async () => {
  server = await startRedis();
  scene = await startQueueScene(server.url, async (data, context) => {
    if (data.deliveryId === 'later') {
      throw new RetryAfterTooLongError({
        attempts: 1,
        reason: 'HTTP 429',
        status: 429,
        retryAt: new Date(Date.now() + 60_000),
        maxWaitMs: 1,
      });
    }
    if (data.deliveryId === 'poison' && !healthy) {
      context.onRetry({
        attempt: 2,
        maxAttempts: 6,
        delayMs: 1_000,
        delaySource: 'backoff',
        reason: 'HTTP 429',
        status: 429,
        error: new Error('rate limited'),
        layer: 'request',
        target: 'llm',
      });
      throw new RetriesExhaustedError({
        attempts: 4,
        reason: 'HTTP 503',
        status: 503,
        cause: new Error('upstream down'),
      });
    }
    return 'ok';
  });
  const poison = await scene.add(exampleJobData('poison'));
  expect(await scene.finished(poison)).toBe(false);
  const done = await scene.add(exampleJobData('done', { issueNumber: 7 }));
  expect(await scene.finished(done)).toBe(true);
  await scene.add(exampleJobData('later'));
  // The delayed job is in place once its worker has moved it; poll rather than race the worker.
  await until(async () => (await scene.queue.getDelayedCount()) === 1);
}, 30_000);

afterAll(async () => {
  await scene?.close();
  await server?.stop();
});

/** Polls `check` every 10 ms until it holds; fails the test after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function parse<T = Record<string, unknown>>(stdout: string): T {
  return JSON.parse(stdout) as T;
}

describe('runner-ops --json', () => {
  it('status: counts per state, workers, no circuits, no cooldowns, retries by layer', async () => {
    // The worker counts the delayed job's retry just after moving it; wait for that count, not the move.
    await until(async () => {
      const { retriedLastHour } = parse<StatusJson>((await scene.cli(['status', '--json'])).stdout);
      return retriedLastHour.job === 3;
    });
    const { code, stdout, stderr } = await scene.cli(['status', '--json']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const status = parse(stdout);
    expect(status).toMatchObject({
      queue: 'agent-jobs',
      prefix: scene.prefix,
      counts: { waiting: 0, active: 0, delayed: 1, completed: 1, failed: 1, 'dead-lettered': 1, paused: 0 },
      isPaused: false,
      circuits: [],
      cooldowns: [],
      retriedLastHour: { request: 3, tool: 0, job: 3 },
    });
    expect(status.workers).toBeGreaterThanOrEqual(1);
  });

  it('jobs --state dead-lettered: the poison job with its attempts, retries and last error', async () => {
    const { code, stdout } = await scene.cli(['--json', 'jobs', '--state', 'dead-lettered']);
    expect(code).toBe(0);
    const { state, jobs } = parse<{ state: string; jobs: Array<Record<string, unknown>> }>(stdout);
    expect(state).toBe('dead-lettered');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toEqual({
      id: 'poison',
      event: 'issues.opened',
      target: 'octo-org/octo-repo#1',
      state: 'dead-lettered',
      attempts: 3,
      retryCount: 2,
      lastError: 'Gave up after 4 attempts (HTTP 503): upstream down',
      nextRunAtMs: null,
      status: null,
      createdAtMs: expect.any(Number),
    });
  });

  it('jobs --state delayed: the next run time', async () => {
    const { stdout } = await scene.cli(['jobs', '--state', 'delayed', '--limit', '5', '--json']);
    const [later] = parse<{ jobs: Array<{ id: string; nextRunAtMs: number }> }>(stdout).jobs;
    expect(later?.id).toBe('later');
    expect(later?.nextRunAtMs).toBeGreaterThan(Date.now() + 50_000);
  });

  it('job <id>: the full details and the timeline in the design notes’ form', async () => {
    const { code, stdout } = await scene.cli(['job', 'poison', '--json']);
    expect(code).toBe(0);
    const job = parse<{
      data: unknown;
      lastErrorDetails: Record<string, unknown>;
      timeline: unknown[];
      timelineLines: string[];
    }>(stdout);
    expect(job).toMatchObject({ id: 'poison', state: 'dead-lettered', deadLettered: true, retryCount: 2 });
    expect(job.data).toMatchObject({ deliveryId: 'poison', repository: { owner: 'octo-org' } });
    expect(job.lastErrorDetails).toMatchObject({
      errorClass: 'RetriesExhaustedError',
      status: 503,
      layer: 'job',
    });
    expect(Object.keys(job.lastErrorDetails)).toEqual(
      expect.arrayContaining(['code', 'status', 'layer', 'target']),
    );
    expect(job.timelineLines).toHaveLength(job.timeline.length);
    expect(job.timelineLines[0]).toMatch(/^T=0\.0s Job starts \(attempt 1\/3\)$/);
    expect(job.timelineLines[1]).toMatch(
      /^T=0\.0s LLM API call failed \(429\), retrying in 1\.0s \(attempt 2\/6\)$/,
    );
    expect(job.timelineLines.at(-1)).toMatch(
      /^T=\d+\.\ds Job failed for good: dead-lettered after 2 requeues/,
    );
  });
});

describe('runner-ops, for people', () => {
  it('job <id>: fields in one column, the last error, the data and the timeline lines', async () => {
    const { code, stdout } = await scene.cli(['job', 'poison']);
    expect(code).toBe(0);
    expect(stdout).not.toContain('\x1b[');
    const lines = stdout.split('\n');
    const { timelineLines } = parse<{ timelineLines: string[] }>(
      (await scene.cli(['job', 'poison', '--json'])).stdout,
    );
    for (const line of timelineLines) expect(lines).toContain(line);
    // Every "Label  value" line of the summary and the last error starts its value in the same column.
    const fields = lines.filter((line) =>
      /^(Job|Event|Target|State|Attempts|Retries|Message|Class|Layer) /.test(line),
    );
    expect(fields.length).toBeGreaterThanOrEqual(9);
    const columns = new Set(fields.map((line) => line.search(/ {2}\S/) + 2));
    expect(columns.size).toBe(1);
    expect(stdout).toMatch(/^State +dead-lettered$/m);
    expect(stdout).toMatch(/^Class +RetriesExhaustedError$/m);
    expect(stdout).toContain('"deliveryId": "poison"');
  });

  it('status and jobs: aligned tables with relative times', async () => {
    const status = await scene.cli(['status']);
    expect(status.stdout).toMatch(/^Circuits +none reported$/m);
    expect(status.stdout).toMatch(/^Cooldown +none$/m);
    expect(status.stdout).toMatch(/^dead-lettered +1$/m);
    const jobs = await scene.cli(['jobs']);
    expect(jobs.code).toBe(0);
    const [header, ...rows] = jobs.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID +Event +Target +State +Attempts +Retries +Next run +Last error$/);
    expect(rows).toHaveLength(3);
    // 60 s plus the worker's spread of up to 1 s: `in 59s` or `in 1m`.
    expect(rows.find((row) => row.startsWith('later'))).toMatch(/ in (\d+s|1m) /);
    const stateColumn = header!.indexOf('State');
    expect(rows.map((row) => row.slice(stateColumn).split(' ')[0]).sort()).toEqual([
      'completed',
      'dead-lettered',
      'delayed',
    ]);
  });

  it('colours only on a terminal without NO_COLOR', async () => {
    expect((await scene.cli(['status'], { isTTY: true })).stdout).toContain('\x1b[');
    const noColor = await runCaptured(['status'], { ...scene.env, NO_COLOR: '1' }, { isTTY: true });
    expect(noColor.stdout).not.toContain('\x1b[');
  });

  it('watch: frames of status and active jobs until q; --json writes one document per line', async () => {
    let screen = '';
    const keyboard = new EventEmitter();
    const watching = runCli(['watch'], {
      env: scene.env,
      stdout: { write: (text: string) => (screen += text) },
      stderr: { write: (text: string) => (screen += text) },
      isTTY: false,
      stdin: keyboard,
      watchIntervalMs: 20,
    });
    await until(() => (screen.match(/^runner-ops watch /gm)?.length ?? 0) >= 2);
    keyboard.emit('data', 'q');
    expect(await watching).toBe(0);
    expect(screen).toMatch(/^Active jobs\nnone$/m);
    expect(keyboard.listenerCount('data')).toBe(0);

    let lines = '';
    const stop = new AbortController();
    const streaming = runCli(['watch', '--json'], {
      env: scene.env,
      stdout: { write: (text: string) => (lines += text) },
      stderr: { write: (text: string) => (lines += text) },
      isTTY: false,
      signal: stop.signal,
      watchIntervalMs: 20,
    });
    await until(() => lines.split('\n').length > 2);
    stop.abort();
    expect(await streaming).toBe(0);
    const frames = lines
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(frames[0]).toMatchObject({ status: { counts: { delayed: 1 } }, active: [], error: null });
  });
});

describe('runner-ops changes', () => {
  it('retry <id>: a dead-lettered job comes back, keeps its history and completes', {
    timeout: 20_000,
  }, async () => {
    healthy = true;
    const { code, stdout } = await scene.cli(['retry', 'poison', '--json']);
    expect(code).toBe(0);
    expect(parse(stdout)).toEqual({ id: 'poison', outcome: 'retried' });
    const job = await scene.queue.getJob('poison');
    await scene.finished(job!);
    const details = parse<{ state: string; timelineLines: string[] }>(
      (await scene.cli(['job', 'poison', '--json'])).stdout,
    );
    expect(details.state).toBe('completed');
    expect(details.timelineLines[0]).toMatch(/^T=0\.0s Job starts/);
    expect(details.timelineLines.slice(-3).map((line) => line.replace(/^T=\S+ /, ''))).toEqual([
      'Job put back in the queue by ops',
      'Job starts (attempt 1/3)',
      'Job completed',
    ]);
    const again = await scene.cli(['retry', 'poison']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'runner-ops: job "poison" is completed, not failed; only failed or dead-lettered jobs can be retried\n',
    );
    expect((await scene.cli(['retry', '--failed', '--json'])).stdout).toBe('{\n  "retried": []\n}\n');
  });

  it('remove <id>: the job is gone', async () => {
    expect(parse((await scene.cli(['remove', 'later', '--json'])).stdout)).toEqual({
      id: 'later',
      removed: true,
    });
    const again = await scene.cli(['remove', 'later']);
    expect(again).toEqual({ code: 1, stdout: '', stderr: 'runner-ops: no job with id "later"\n' });
  });

  it('pause and resume show in status', async () => {
    expect(parse((await scene.cli(['pause', '--json'])).stdout)).toEqual({
      queue: 'agent-jobs',
      isPaused: true,
    });
    expect(parse((await scene.cli(['status', '--json'])).stdout)).toMatchObject({ isPaused: true });
    expect((await scene.cli(['status'])).stdout).toMatch(/^Paused +yes/m);
    expect((await scene.cli(['resume'])).code).toBe(0);
    expect(parse((await scene.cli(['status', '--json'])).stdout)).toMatchObject({ isPaused: false });
  });

  it('clean --state completed removes completed jobs older than the duration', async () => {
    const kept = await scene.cli(['clean', '--state', 'completed', '--older-than', '1h', '--json']);
    expect(parse(kept.stdout)).toEqual({
      state: 'completed',
      olderThan: '1h',
      olderThanMs: 3_600_000,
      removed: 0,
    });
    const cleaned = await scene.cli(['clean', '--state', 'completed', '--older-than', '0s', '--json']);
    expect(parse(cleaned.stdout)).toMatchObject({ removed: 2 });
    expect(parse((await scene.cli(['status', '--json'])).stdout)).toMatchObject({ counts: { completed: 0 } });
  });
});

describe('runner-ops errors', () => {
  it('unknown job id: exit 1 and one line on stderr', async () => {
    const result = await scene.cli(['job', 'no-such-job']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'runner-ops: no job with id "no-such-job"\n' });
  });
});
