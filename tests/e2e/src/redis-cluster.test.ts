import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  closeRedis,
  connectRedis,
  createRedisClient,
  RedisUnreachableError,
  redisMasters,
} from '@runner/queue';
import { silentLogger } from '@runner/retry';
import {
  fakeGitHubRoutes,
  findFreePort,
  type RedisClusterHandle,
  redisClusterUnavailable,
  reply,
  startRedisCluster,
  triageModel,
} from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, spawnApp } from './app-process.ts';
import { deliver, issuesOpenedBody } from './deliveries.ts';
import { startHarness, webhookSecret } from './harness.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const prefix = '{runner}';
// Every node requires it: the apps must take it from REDIS_URL to every node, and never log it.
const password = 'cluster-e2e-password';

// Skipped only where redis-cli (which creates the cluster) is missing, and never silently.
const unavailable = await redisClusterUnavailable();
if (unavailable !== undefined) console.warn(`Skipping the Redis Cluster end-to-end test: ${unavailable}`);

let cluster: RedisClusterHandle | undefined;
beforeAll(async () => {
  if (unavailable === undefined) cluster = await startRedisCluster({ password });
}, 30_000);
afterAll(async () => {
  await cluster?.stop();
});

/** `runner-ops <args> --json` as a process, on the cluster; its parsed output. */
async function ops(env: Record<string, string>, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['apps/ops/bin/runner-ops.js', ...args, '--json'],
    { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('the runner on a three-master Redis Cluster', () => {
  it.skipIf(unavailable !== undefined)(
    'takes a delivery through a retry of every kind to one comment, every key in the slot of {runner}',
    async () => {
      if (cluster === undefined) throw new Error('no cluster');
      // Without the password no client gets in: the apps below get it to every node from REDIS_URL.
      const withoutPassword = {
        redisUrl: 'redis://unused.invalid:6379',
        redisClusterNodes: [...cluster.nodes],
      };
      await expect(connectRedis(withoutPassword, silentLogger, 'no-password')).rejects.toBeInstanceOf(
        RedisUnreachableError,
      );
      const h = await startHarness({
        // In cluster mode only the URL's credentials count: its host is none of the nodes.
        redisUrl: `redis://:${password}@unused.invalid:6379`,
        redisClusterNodes: cluster.nodeList,
        prefix,
        noWorker: true,
        // Layer 1: the LLM asks for 3 s (a cooldown the fleet shares); then it answers.
        llm: [reply.rateLimited({ retryAfterSeconds: 3 }), triageModel()],
        github: {
          // Layer 3: the issue API is down for longer than the tool level's 4 attempts: a requeue.
          faults: { [fakeGitHubRoutes.getIssue]: Array.from({ length: 4 }, () => reply.status(503)) },
        },
        env: { RATE_LIMIT_LLM_PER_SEC: '50' },
      });
      const client = createRedisClient(h.config);
      const [webhooksPort, opsPort] = [await findFreePort('127.0.0.1'), await findFreePort('127.0.0.1')];
      const apps: AppProcess[] = [
        spawnApp('worker', { ...h.env, LOG_LEVEL: 'warn' }),
        spawnApp('webhooks', { ...h.env, LOG_LEVEL: 'info', WEBHOOKS_PORT: String(webhooksPort) }),
        spawnApp('opsServer', { ...h.env, LOG_LEVEL: 'info', OPS_PORT: String(opsPort) }),
      ];
      const [worker, intake, opsServer] = apps as [AppProcess, AppProcess, AppProcess];
      try {
        await Promise.all([
          intake.logged('Ready: taking deliveries'),
          opsServer.logged('Ready: reading the queue'),
        ]);
        const deliveryId = randomUUID();
        const body = issuesOpenedBody();
        const intakeUrl = `http://127.0.0.1:${webhooksPort}`;
        expect((await deliver(intakeUrl, body, webhookSecret, { deliveryId })).status).toBe(202);
        // A redelivery is known by its dedupe marks, two keys checked in one script on the cluster.
        expect((await deliver(intakeUrl, body, webhookSecret, { deliveryId })).status).toBe(200);

        // The worker logs its retry after it has told the fleet of the 429: the cooldown is in Redis
        // for the 3 s the LLM asked for.
        await worker.logged('Retrying in');
        expect(await client.exists(`${prefix}:fleet:cooldown:llm`)).toBe(1);

        const { completed } = await h.waitForJob(deliveryId, 30_000);
        expect(completed).toBe(true);
        expect(h.botComments()).toHaveLength(1);
        expect(h.github.requestsTo(fakeGitHubRoutes.getIssue).length).toBeGreaterThanOrEqual(5);

        const record = await h.tracker.read(deliveryId);
        expect(record.retryCount).toBe(1);
        expect(record.timeline.map((entry) => entry.kind)).toEqual(
          expect.arrayContaining(['retry', 'job_requeued', 'job_completed']),
        );

        // Every key the runner wrote (BullMQ's, the tracking, the idempotency records, the fleet's) sits
        // in the one slot of the hash tag, on one master; SCAN asks every master, as each has its own.
        const slot = Number(await client.cluster('KEYSLOT', prefix));
        const keys = (await Promise.all(redisMasters(client).map((node) => node.keys(`${prefix}:*`)))).flat();
        const slots = await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key)));
        expect(new Set(slots.map(Number))).toEqual(new Set([slot]));
        const kinds = [
          `${prefix}:agent-jobs:completed`,
          `${prefix}:agent-jobs:metrics:completed`,
          `${prefix}:delivery:${deliveryId}`,
          `${prefix}:job:retry:${deliveryId}`,
          `${prefix}:job:retry:${deliveryId}:timeline`,
          `${prefix}:stats:jobs-total`,
          `${prefix}:fleet:budget:llm`,
          `${prefix}:fleet:rate:llm`,
          `${prefix}:fleet:circuit:github:installation:42`,
        ];
        expect(keys).toEqual(expect.arrayContaining(kinds));
        expect(keys.some((key) => key.startsWith(`${prefix}:tool-result:${deliveryId}:`))).toBe(true);
        expect(keys.some((key) => key.startsWith(`${prefix}:delivery-body:`))).toBe(true);

        // Ops read the job and the queue from the cluster.
        const opsEnv = {
          REDIS_URL: h.env.REDIS_URL ?? '',
          REDIS_CLUSTER_NODES: cluster.nodeList,
          QUEUE_PREFIX: prefix,
        };
        expect(await ops(opsEnv, 'job', deliveryId)).toMatchObject({
          id: deliveryId,
          state: 'completed',
          retryCount: 1,
        });
        expect(await ops(opsEnv, 'status')).toMatchObject({ counts: { completed: 1 } });
        const opsUrl = `http://127.0.0.1:${opsPort}`;
        expect((await fetch(`${opsUrl}/readyz`)).status).toBe(200);
        const metrics = await (await fetch(`${opsUrl}/metrics`)).text();
        expect(metrics).toContain('runner_jobs_total{outcome="completed"} 1');
        expect(metrics).toContain('runner_jobs_total{outcome="requeued"} 1');
        expect(metrics).toContain('runner_queue_jobs{state="completed"} 1');
        // Stopped, each has written every line it logged (the worker holds its lines up to 100 ms).
        await Promise.all(apps.map((app) => app.kill('SIGTERM')));
        for (const app of apps) {
          expect(app.output()).not.toMatch(/CROSSSLOT|MOVED|NOAUTH|Redis unavailable for the fleet/);
          expect(app.output()).not.toContain(password);
        }
      } finally {
        await Promise.all(apps.map((app) => app.kill()));
        await closeRedis(client);
        await h.close();
      }
    },
    60_000,
  );
});
