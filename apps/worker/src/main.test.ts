import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRedis } from '@runner/testkit';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function runWorker(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'apps/worker/src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('npm run worker', () => {
  it('refuses to start on bad configuration, listing every problem once, without a stack trace', () => {
    const result = runWorker({ GITHUB_APP_PRIVATE_KEY: 'not a key', WORKER_CONCURRENCY: 'many' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toContain('GITHUB_APP_ID is required for githubApp');
    expect(result.stderr).toContain('WORKER_CONCURRENCY: expected a whole number');
    expect(result.stderr).toContain('GITHUB_APP_PRIVATE_KEY: expected');
    expect(result.stderr).not.toContain('not a key');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses to start on a Redis that may evict keys, saying how to fix it', async () => {
    const redis = await startRedis({ forcePrivate: true, args: ['--maxmemory-policy', 'allkeys-lru'] });
    try {
      const { generateKeyPairSync } = await import('node:crypto');
      const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const result = runWorker({
        REDIS_URL: redis.url,
        GITHUB_APP_ID: '1',
        GITHUB_APP_PRIVATE_KEY: privateKey,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('maxmemory-policy allkeys-lru');
      expect(result.stderr).toContain('noeviction');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await redis.stop();
    }
  });
});
