import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findFreePort, type RedisHandle, startRedis } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnApp } from './app-process.ts';
import { startHarness } from './harness.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

let redis: RedisHandle;
let certDir: string;
let tlsPort: number;
beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'runner-tls-'));
  // A self-signed certificate for 127.0.0.1; `npm run setup` installs openssl where it is missing.
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(certDir, 'key.pem'),
    '-out',
    join(certDir, 'cert.pem'),
  ]);
  tlsPort = await findFreePort('127.0.0.1');
  // Plain on its port for the test's own clients, TLS on `tlsPort` for the apps.
  redis = await startRedis({
    forcePrivate: true,
    args: [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      join(certDir, 'cert.pem'),
      '--tls-key-file',
      join(certDir, 'key.pem'),
      '--tls-auth-clients',
      'no',
    ],
  });
});
afterAll(async () => {
  await redis?.stop();
  await rm(certDir, { recursive: true, force: true });
});

describe('Redis over TLS (rediss://)', () => {
  it('carries the worker and ops when REDIS_URL is rediss:// and the CA is trusted', async () => {
    const h = await startHarness({ redisUrl: redis.url, noWorker: true });
    // How an operator trusts a private CA: Node reads it for every TLS connection of the process.
    const tlsEnv = {
      ...h.env,
      REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
      NODE_EXTRA_CA_CERTS: join(certDir, 'cert.pem'),
    };
    const worker = spawnApp('worker', { ...tlsEnv, LOG_LEVEL: 'info' });
    try {
      await worker.logged('Worker ready');
      await h.queue.add('issues.opened', h.jobData('tls-1'), { jobId: 'tls-1' });
      const { completed } = await h.waitForJob('tls-1', 30_000);
      expect(completed).toBe(true);
      expect(h.botComments()).toHaveLength(1);

      const ops = await run(process.execPath, ['apps/ops/bin/runner-ops.js', 'status', '--json'], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', ...tlsEnv },
      });
      expect(JSON.parse(ops.stdout)).toMatchObject({ counts: { completed: 1 } });
    } finally {
      await worker.kill();
      await h.close();
    }
  }, 60_000);

  it('refuses a server whose certificate it cannot verify, saying so', async () => {
    const ops = await run(process.execPath, ['apps/ops/bin/runner-ops.js', 'status'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', REDIS_URL: `rediss://127.0.0.1:${tlsPort}` },
    }).catch((error: unknown) => error as { code: number; stderr: string });
    expect(ops).toMatchObject({ code: 1 });
    expect((ops as { stderr: string }).stderr).toMatch(/certificate/i);
  }, 30_000);
});
