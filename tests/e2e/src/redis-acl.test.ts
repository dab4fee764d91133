import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findFreePort, type RedisHandle, startRedis } from '@runner/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnApp } from './app-process.ts';
import { deliver, issuesOpenedBody } from './deliveries.ts';
import { startHarness, webhookSecret } from './harness.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The least-privilege user `docs/operations.md` documents for the runner, with the test's key
 * pattern in place of `~runner:*`: every command but the dangerous ones (CONFIG, KEYS, FLUSHALL,
 * DEBUG, ...), plus INFO (the eviction-policy check, BullMQ's version check) and CLIENT LIST (the
 * worker count ops show), on the queue's keys only.
 */
const aclRules = (keyPattern: string) => [
  'on',
  '>acl-test-password',
  'resetkeys',
  `~${keyPattern}`,
  'resetchannels',
  '-@all',
  '+@all',
  '-@dangerous',
  '+info',
  '+client|list',
];

let redis: RedisHandle;
beforeAll(async () => {
  // Its own server: the test changes its users.
  redis = await startRedis({ forcePrivate: true });
});
afterAll(async () => {
  await redis.stop();
});

describe('Redis as a least-privilege ACL user', () => {
  it('runs intake, worker, fleet and ops without a NOPERM', async () => {
    const admin = new Redis(redis.url);
    await admin.acl('SETUSER', 'runner', ...aclRules('test:e2e:*'));
    const aclUrl = `redis://runner:acl-test-password@127.0.0.1:${redis.port}`;
    // Outside its key pattern the user is refused: the rules bind.
    const asRunner = new Redis(aclUrl);
    await expect(asRunner.set('other-app:key', '1')).rejects.toThrow(/NOPERM/);
    await expect(asRunner.config('GET', 'maxmemory-policy')).rejects.toThrow(/NOPERM/);

    const h = await startHarness({ redisUrl: aclUrl, noWorker: true, env: { RATE_LIMIT_LLM_PER_SEC: '50' } });
    const webhooksPort = await findFreePort('127.0.0.1');
    const apps = [
      spawnApp('worker', { ...h.env, LOG_LEVEL: 'warn' }),
      spawnApp('webhooks', { ...h.env, LOG_LEVEL: 'info', WEBHOOKS_PORT: String(webhooksPort) }),
    ];
    try {
      await apps[1]?.logged('listening on');
      const deliveryId = randomUUID();
      const body = issuesOpenedBody();
      const intakeUrl = `http://127.0.0.1:${webhooksPort}`;
      expect((await deliver(intakeUrl, body, webhookSecret, { deliveryId })).status).toBe(202);
      // The same delivery again: its dedupe marks are keys of the queue too.
      expect((await deliver(intakeUrl, body, webhookSecret, { deliveryId })).status).toBe(200);
      const { completed } = await h.waitForJob(deliveryId, 30_000);
      expect(completed).toBe(true);
      expect(h.botComments()).toHaveLength(1);
      // The fleet's scripts ran as this user too (a refused one would fall back and log a warning).
      expect(await asRunner.exists(`${h.config.queue.prefix}:fleet:rate:llm`)).toBe(1);

      const ops = await promisify(execFile)(
        process.execPath,
        ['apps/ops/bin/runner-ops.js', 'status', '--json'],
        {
          cwd: repoRoot,
          env: { PATH: process.env.PATH ?? '', REDIS_URL: aclUrl, QUEUE_PREFIX: h.config.queue.prefix },
        },
      );
      expect(JSON.parse(ops.stdout)).toMatchObject({ counts: { completed: 1 } });
      // Stopped, each has written every line it logged (the worker holds its lines up to 100 ms).
      await Promise.all(apps.map((app) => app.kill('SIGTERM')));
      for (const app of apps) expect(app.output()).not.toMatch(/NOPERM|no permissions/i);
    } finally {
      await Promise.all(apps.map((app) => app.kill()));
      asRunner.disconnect();
      admin.disconnect();
      await h.close();
    }
  }, 60_000);
});
