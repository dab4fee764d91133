import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/runner-ops.js', import.meta.url));

let server: RedisHandle;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

describe('bin/runner-ops.js', () => {
  it('runs the TypeScript sources through tsx: --json status exits 0 with one JSON document', {
    timeout: 30_000,
  }, async () => {
    const prefix = uniquePrefix('ops-bin');
    const child = spawn(process.execPath, [bin, '--json', 'status'], {
      // Only what it needs: nothing from the test's own environment decides the outcome.
      env: { PATH: process.env.PATH ?? '', REDIS_URL: server.url, QUEUE_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(killer);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toMatchObject({ queue: 'agent-jobs', prefix, isPaused: false });
  });
});
