import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appSlug, deleteKeys, secret, within } from './test-helpers.ts';

const appDir = fileURLToPath(new URL('..', import.meta.url));

interface MainProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stdout JSON line for which `match` is true. */
  line: (match: (line: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** `tsx src/main.ts` as `npm run webhooks` starts it, with only `env` as its environment. */
function runMain(env: Record<string, string>): MainProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: appDir, env });
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

describe('main', () => {
  let redis: RedisHandle;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('exits 1 with the ConfigError message and no stack when the config is wrong', async () => {
    // Malformed on purpose: a .env at the repository root cannot make this config valid.
    const main = runMain({ WEBHOOKS_PORT: 'eighty', LOG_LEVEL: 'loud' });

    expect(await within(30_000, 'main exiting', main.exited)).toBe(1);
    expect(main.stderr()).toMatch(/^Invalid configuration \(\d+ problems\):\n {2}- /);
    expect(main.stderr()).toContain('WEBHOOKS_PORT');
    expect(main.stderr()).not.toMatch(/^\s+at /m);
  });

  it('listens, answers, and on SIGTERM closes and exits 0', async () => {
    const prefix = uniquePrefix('webhooks-main');
    const main = runMain({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      GITHUB_WEBHOOK_SECRET: secret,
      GITHUB_APP_SLUG: appSlug,
      WEBHOOKS_PORT: '0',
      LOG_LEVEL: 'info',
    });
    try {
      const listening = await within(
        30_000,
        'the listening line',
        main.line((line) => line.port !== undefined),
      );
      expect(listening.msg).toBe(`listening on :${String(listening.port)}`);
      expect((await fetch(`http://127.0.0.1:${String(listening.port)}/healthz`)).status).toBe(200);

      main.child.kill('SIGTERM');

      expect(await within(15_000, 'main exiting after SIGTERM', main.exited)).toBe(0);
      expect(main.stdout()).toContain('"msg":"Stopped"');
    } finally {
      main.child.kill('SIGKILL');
      await deleteKeys(redis.url, prefix);
    }
  });
});
