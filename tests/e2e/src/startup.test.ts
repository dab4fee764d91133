import { findFreePort, startRedis } from '@runner/testkit';
import { describe, expect, it } from 'vitest';
import { spawnApp } from './app-process.ts';
import { deliver, issuesOpenedBody } from './deliveries.ts';
import { startHarness, webhookSecret } from './harness.ts';

describe('the apps started before their Redis', () => {
  it('wait for it, saying so with backoff (alive but not ready: /readyz 503), and work once it is up', async () => {
    const server = await startRedis({ forcePrivate: true, args: ['--appendonly', 'yes'] });
    const h = await startHarness({ redisUrl: server.url, noWorker: true });
    await server.shutdown();
    const [port, opsPort, metricsPort] = [
      await findFreePort('127.0.0.1'),
      await findFreePort('127.0.0.1'),
      await findFreePort('127.0.0.1'),
    ];
    const intakeUrl = `http://127.0.0.1:${port}`;
    const opsUrl = `http://127.0.0.1:${opsPort}`;
    const workerUrl = `http://127.0.0.1:${metricsPort}`;
    const apps = [
      spawnApp('worker', { ...h.env, LOG_LEVEL: 'info', METRICS_PORT: String(metricsPort) }),
      spawnApp('webhooks', { ...h.env, LOG_LEVEL: 'info', WEBHOOKS_PORT: String(port) }),
      spawnApp('opsServer', { ...h.env, LOG_LEVEL: 'info', OPS_PORT: String(opsPort) }),
    ];
    const [worker, intake, ops] = apps as [(typeof apps)[0], (typeof apps)[0], (typeof apps)[0]];
    try {
      const first = await worker.logged('Redis at');
      expect(first.msg).toMatch(/does not answer \(ECONNREFUSED\); trying again in \d+\.\ds \(attempt 1\)$/);
      expect(first.level).toBe(40);
      await worker.logged(`Redis at 127.0.0.1:${server.port} does not answer (ECONNREFUSED); trying again`);
      await intake.logged('listening on');
      await ops.logged(`Redis at 127.0.0.1:${server.port} does not answer (ECONNREFUSED); trying again`);
      await intake.logged(`Redis at 127.0.0.1:${server.port} does not answer (ECONNREFUSED); trying again`);
      expect((await fetch(`${intakeUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${intakeUrl}/readyz`)).status).toBe(503);
      await worker.logged('Metrics on');
      expect((await fetch(`${workerUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${workerUrl}/readyz`)).status).toBe(503);
      await ops.logged('ops server listening');
      expect((await fetch(`${opsUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${opsUrl}/readyz`)).status).toBe(503);
      const deliveryId = 'late-redis';
      const body = issuesOpenedBody();
      expect((await deliver(intakeUrl, body, webhookSecret, { deliveryId })).status).toBe(503);
      expect(apps.some((app) => app.exited())).toBe(false);

      await server.start();
      await Promise.all([
        worker.logged('Worker ready'),
        intake.logged('Ready: taking deliveries'),
        ops.logged('Ready: reading the queue'),
      ]);
      expect((await fetch(`${intakeUrl}/readyz`)).status).toBe(200);
      expect((await fetch(`${opsUrl}/readyz`)).status).toBe(200);
      expect((await fetch(`${workerUrl}/readyz`)).status).toBe(200);
      // GitHub's redelivery of the refused delivery goes through.
      expect((await deliver(intakeUrl, body, webhookSecret, { deliveryId })).status).toBe(202);
      const { completed } = await h.waitForJob(deliveryId, 30_000);
      expect(completed).toBe(true);
    } finally {
      await Promise.all(apps.map((app) => app.kill()));
      await h.close();
      await server.stop();
    }
  }, 60_000);
});
