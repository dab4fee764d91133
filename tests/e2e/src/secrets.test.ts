import { randomUUID } from 'node:crypto';
import {
  fakeGitHubRoutes,
  findFreePort,
  type RedisHandle,
  reply,
  startRedis,
  triageModel,
} from '@runner/testkit';
import { signBody } from '@runner/webhooks';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, spawnApp } from './app-process.ts';
import { deliver, issuesOpenedBody } from './deliveries.ts';
import { appPrivateKey, startHarness } from './harness.ts';

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

/** Distinctive values, so that any copy of one in a log line or in Redis is found. */
const canary = {
  webhookSecret: 'whsec-canary-7f3a9e0c41',
  llmApiKey: 'sk-canary-llm-51c2d8e7f0',
  opsToken: 'ops-canary-token-9b7e44aa31',
};

/** Every key under the prefix, with its value in whatever type it has, as one searchable text. */
async function redisDump(client: Redis, prefix: string): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      parts.push(key);
      const type = await client.type(key);
      if (type === 'string') parts.push((await client.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await client.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await client.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await client.zrange(key, 0, -1, 'WITHSCORES')));
      else if (type === 'stream') parts.push(JSON.stringify(await client.xrange(key, '-', '+')));
      else parts.push(`<${type}>`);
    }
  } while (cursor !== '0');
  return parts.join('\n');
}

describe('secrets', () => {
  it('never reach a log line or Redis, on the happy path or the failing ones', async () => {
    // The failures are where secrets leak: errors that carry requests, retries that log them.
    const model = triageModel();
    let limited = false;
    const h = await startHarness({
      redisUrl: redis.url,
      noWorker: true,
      llm: (req) => {
        if (limited) return model(req);
        limited = true;
        return reply.rateLimited({ retryAfterSeconds: 0 });
      },
      github: {
        faults: {
          [fakeGitHubRoutes.createInstallationToken]: [reply.status(500)],
          [fakeGitHubRoutes.createComment]: [{ afterHandling: reply.status(502) }],
        },
      },
      env: {
        GITHUB_WEBHOOK_SECRET: canary.webhookSecret,
        LLM_API_KEY: canary.llmApiKey,
        OPS_TOKEN: canary.opsToken,
        LOG_LEVEL: 'trace',
      },
    });
    const [webhooksPort, opsPort] = [await findFreePort('127.0.0.1'), await findFreePort('127.0.0.1')];
    const apps: AppProcess[] = [
      spawnApp('worker', h.env),
      spawnApp('webhooks', { ...h.env, WEBHOOKS_PORT: String(webhooksPort) }),
      spawnApp('opsServer', { ...h.env, OPS_PORT: String(opsPort) }),
    ];
    const client = new Redis(redis.url);
    try {
      await Promise.all([apps[1]!.logged('listening on'), apps[2]!.logged('ops server listening')]);
      const body = issuesOpenedBody();
      const signature = signBody(body, canary.webhookSecret);
      const intakeUrl = `http://127.0.0.1:${webhooksPort}`;
      const deliveryId = randomUUID();
      expect((await deliver(intakeUrl, body, canary.webhookSecret, { deliveryId })).status).toBe(202);
      // A forged signature, and the ops server with a right and a wrong token.
      expect((await deliver(intakeUrl, body, 'not-the-secret')).status).toBe(401);
      const ops = (token: string) =>
        fetch(`http://127.0.0.1:${opsPort}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect((await ops(canary.opsToken)).status).toBe(200);
      expect((await ops(`${canary.opsToken}x`)).status).toBe(401);

      const { completed } = await h.waitForJob(deliveryId, 30_000);
      expect(completed).toBe(true);
      expect(h.botComments()).toHaveLength(1);

      const jwt = h.github.requestsTo(fakeGitHubRoutes.createInstallationToken)[0]?.headers.authorization;
      const secrets = {
        ...canary,
        // A line from the middle of the PEM body, and the signature part of the app JWT it signed.
        privateKey: appPrivateKey().split('\n')[5] ?? 'unset',
        appJwt: jwt?.split('.')[2] ?? 'unset',
        installationToken: 'ghs_fake_',
        webhookSignature: signature.slice('sha256='.length),
      };
      expect(secrets.privateKey).toHaveLength(64);
      expect(secrets.appJwt.length).toBeGreaterThan(100);

      // Stopped, each has written every line it logged (the worker holds its lines up to 100 ms).
      await Promise.all(apps.map((app) => app.kill('SIGTERM')));
      const logs = apps.map((app) => app.output()).join('\n');
      const stored = await redisDump(client, h.config.queue.prefix);
      // The search would find them if they were there: the logs and Redis are not empty.
      expect(logs).toContain(deliveryId);
      // ... and the failure paths ran: the token request's 500, the LLM's 429, the comment's lost 201.
      expect(logs).toMatch(/HTTP 500/);
      expect(logs).toMatch(/HTTP 429/);
      expect(logs).toContain('Found the comment an earlier attempt posted');
      expect(stored).toContain(deliveryId);
      for (const [name, value] of Object.entries(secrets)) {
        expect(logs.includes(value), `${name} in the logs`).toBe(false);
        expect(stored.includes(value), `${name} in Redis`).toBe(false);
      }
    } finally {
      client.disconnect();
      await Promise.all(apps.map((app) => app.kill()));
      await h.close();
    }
  }, 60_000);
});
