import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, within } from './test-helpers.ts';

const appDir = fileURLToPath(new URL('../..', import.meta.url));

interface MainProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stdout JSON line for which `match` is true. */
  line: (match: (line: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** `tsx src/server/main.ts` as `npm run ops-server` starts it, with only `env` as its environment. */
function runMain(env: Record<string, string>): MainProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], { cwd: appDir, env });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const line = (match: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const look = (): boolean => {
        for (const text of out.split('\n')) {
          if (!text.startsWith('{')) continue;
          const parsed = JSON.parse(text) as Record<string, unknown>;
          if (match(parsed)) {
            resolve(parsed);
            return true;
          }
        }
        return false;
      };
      if (look()) return;
      const onData = (): void => {
        if (look()) child.stdout.off('data', onData);
      };
      child.stdout.on('data', onData);
      void exited.then(() => reject(new Error(`main exited before the line; stderr: ${err}`)));
    });
  return { child, stdout: () => out, stderr: () => err, line, exited };
}

describe('ops server main', () => {
  let redis: RedisHandle;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('exits 1 with one line, no stack, when asked to listen beyond loopback without a token', async () => {
    const main = runMain({ OPS_HOST: '0.0.0.0', REDIS_URL: redis.url });

    expect(await within(30_000, 'main exiting', main.exited)).toBe(1);
    expect(main.stderr()).toMatch(
      /^OPS_TOKEN is not set, and OPS_HOST=0\.0\.0\.0 is not a loopback address.*\n$/,
    );
    expect(main.stderr().trim().split('\n')).toHaveLength(1);
  });

  it('waits for an unreachable Redis, a line per try, /readyz 503, and exits 0 on SIGTERM while waiting', {
    timeout: 60_000,
  }, async () => {
    const main = runMain({ REDIS_URL: 'redis://127.0.0.1:1', OPS_PORT: '0', LOG_LEVEL: 'info' });
    try {
      const first = await within(
        30_000,
        'the first try',
        main.line((line) => line.attempt === 1),
      );
      expect(first.msg).toMatch(
        /^Redis at 127\.0\.0\.1:1 does not answer \(ECONNREFUSED\); trying again in \d+\.\ds \(attempt 1\)$/,
      );
      await within(
        30_000,
        'the second try',
        main.line((line) => line.attempt === 2),
      );
      // It listens meanwhile, so that an orchestrator sees it alive but not ready.
      const listening = await within(
        30_000,
        'the listening line',
        main.line((line) => typeof line.url === 'string'),
      );
      expect((await fetch(`${listening.url as string}/healthz`)).status).toBe(200);
      expect((await fetch(`${listening.url as string}/readyz`)).status).toBe(503);

      main.child.kill('SIGTERM');

      expect(await within(15_000, 'main exiting after SIGTERM', main.exited)).toBe(0);
    } finally {
      main.child.kill('SIGKILL');
    }
  });

  it('listens, warns that it has no token, answers, and on SIGTERM closes and exits 0', {
    timeout: 60_000,
  }, async () => {
    const prefix = uniquePrefix('ops-main');
    const main = runMain({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix, OPS_PORT: '0', LOG_LEVEL: 'info' });
    try {
      const listening = await within(
        30_000,
        'the listening line',
        main.line((line) => line.url !== undefined),
      );
      expect(listening.msg).toBe(`ops server listening on ${String(listening.url)}`);
      await within(
        5_000,
        'the no-token warning',
        main.line((line) => line.level === 40),
      );
      expect((await fetch(`${String(listening.url)}/healthz`)).status).toBe(200);
      await within(
        30_000,
        'the ready line',
        main.line((line) => line.msg === 'Ready: reading the queue'),
      );
      expect((await fetch(`${String(listening.url)}/readyz`)).status).toBe(200);

      main.child.kill('SIGTERM');

      expect(await within(15_000, 'main exiting after SIGTERM', main.exited)).toBe(0);
      expect(main.stdout()).toContain('"msg":"Stopped"');
    } finally {
      main.child.kill('SIGKILL');
      await deleteKeys(redis.url, prefix);
    }
  });
});
