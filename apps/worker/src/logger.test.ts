import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, logBufferBytes, logDestination, logFlushIntervalMs } from './logger.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

describe('createLogger', () => {
  it('redacts inside a logged error, keeping its message and stack', () => {
    const { logger, lines } = capture();
    const error = Object.assign(new Error('Bad credentials'), {
      status: 401,
      request: { headers: { authorization: 'token ghs_in_error', 'x-hub-signature-256': 'sha256=abc' } },
    });
    logger.error({ err: error, jobId: 'j1' }, 'call failed');
    const line = JSON.parse(lines.join('')) as { err: Record<string, unknown>; jobId: string };
    expect(line.err).toMatchObject({ type: 'Error', message: 'Bad credentials', status: 401 });
    expect(line.err.stack).toContain('Bad credentials');
    expect(JSON.stringify(line)).not.toContain('ghs_in_error');
    expect(JSON.stringify(line)).not.toContain('sha256=abc');
    expect(line.jobId).toBe('j1');
  });

  it('redacts tokens, keys and authorization headers wherever they are logged', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger('info', sink);
    logger.info(
      {
        token: 'ghs_top_secret',
        authorization: 'bearer eyJ.jwt',
        err: { request: { headers: { authorization: 'token ghs_nested' } } },
        config: { apiKey: 'sk-live', privateKey: '-----BEGIN RSA PRIVATE KEY-----' },
        jobId: 'kept',
      },
      'something happened',
    );
    const text = lines.join('');
    for (const secret of ['ghs_top_secret', 'eyJ.jwt', 'ghs_nested', 'sk-live', 'BEGIN RSA']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('"jobId":"kept"');
    expect(text).toContain('[redacted]');
  });
});

describe('logDestination', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.useRealTimers();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes lines a few KB at a time, and within logFlushIntervalMs of the first', () => {
    vi.useFakeTimers({ toFake: ['setInterval'] });
    dir = mkdtempSync(join(tmpdir(), 'worker-log-'));
    const file = join(dir, 'worker.log');
    const logger = createLogger('info', logDestination(file));
    const read = () => readFileSync(file, 'utf8');
    logger.info({ jobId: 'j1' }, 'first line');
    expect(read()).toBe('');
    vi.advanceTimersByTime(logFlushIntervalMs);
    expect(read()).toContain('"msg":"first line"');
    // A burst goes out each time the buffer fills, without waiting for the timer.
    const line = 'x'.repeat(200);
    for (let i = 0; i < Math.ceil((2 * logBufferBytes) / line.length); i += 1) logger.info({ i }, line);
    const written = read().split('\n').length;
    expect(written).toBeGreaterThan(logBufferBytes / line.length);
    vi.advanceTimersByTime(logFlushIntervalMs);
    expect(read().split('\n').length).toBeGreaterThan(written);
  });

  for (const [how, ending, status] of [
    ['process.exit', 'process.exit(3);', 3],
    ['an uncaught error', "throw new Error('boom');", 1],
  ] as const) {
    it(`writes the lines still in memory when the process ends by ${how}`, () => {
      const script = [
        "import { createLogger } from './apps/worker/src/logger.ts';",
        "createLogger('info').info({ jobId: 'j1' }, 'last words');",
        ending,
      ].join('\n');
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(child.status).toBe(status);
      expect(child.stdout).toContain('"msg":"last words"');
    });
  }
});
