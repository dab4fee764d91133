import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { findFreePort } from '@runner/testkit';
import { describe, expect, it } from 'vitest';
import { runCaptured } from './cli-test-harness.ts';

// Mistakes that must be caught before any Redis is needed, and a Redis that is not there.
describe('runner-ops errors', () => {
  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['status', '--verbose'], /unknown option --verbose/],
    [['jobs', '--state'], /option --state needs a value/],
    [['jobs', '--limit', '0'], /invalid --limit "0"/],
    [['jobs', '--limit', 'ten'], /invalid --limit "ten"/],
    [['jobs', '--state', 'sleeping'], /invalid --state "sleeping"; expected one of waiting, active/],
    [['job'], /job: give a job id/],
    [['status', '--failed'], /status does not take --failed/],
    [['clean', '--state', 'completed', '--older-than', '1 hour'], /invalid duration "1 hour"/],
    [['clean', '--state', 'active', '--older-than', '1h'], /expected one of completed, failed/],
    [['retry'], /retry: give a job id, or --failed/],
  ])('%j: exit 2, one line, before touching Redis', async (argv, message) => {
    // No Redis here at all: a usage error must not need one.
    const result = await runCaptured(argv, { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^runner-ops: [^\n]+\(see runner-ops --help\)\n$/);
  });

  it('Redis unreachable: exit 1 within seconds, one line, no stack, no password', async () => {
    const port = await findFreePort('127.0.0.1');
    const startedAt = Date.now();
    const result = await runCaptured(['status'], { REDIS_URL: `redis://ops:hunter2@127.0.0.1:${port}` });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `runner-ops: cannot reach Redis at redis://127.0.0.1:${port} (ECONNREFUSED); is it running? Set REDIS_URL.\n`,
    });
  });

  it('a Redis that accepts but never answers: exit 1 once the connect timeout passes', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as AddressInfo;
    try {
      const result = await runCaptured(
        ['jobs'],
        { REDIS_URL: `redis://127.0.0.1:${port}` },
        { connectTimeoutMs: 300 },
      );
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: `runner-ops: cannot reach Redis at redis://127.0.0.1:${port} (no answer within 0.3s); is it running? Set REDIS_URL.\n`,
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('a bad configuration: exit 1 with what to fix', async () => {
    const result = await runCaptured(['status'], { QUEUE_PREFIX: 'no spaces allowed' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^runner-ops: Invalid configuration \(1 problem\):\n {2}- QUEUE_PREFIX: /);
  });

  it('--help and <command> --help print usage without Redis', async () => {
    const main = await runCaptured(['--help'], {});
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/^Usage: runner-ops <command> \[options\]/);
    const jobs = await runCaptured(['jobs', '--help'], {});
    expect(jobs.stdout).toMatch(/^Usage: runner-ops jobs \[--state S\] \[--limit N\]/);
    expect(jobs.stdout).toContain('dead-lettered');
  });
});
