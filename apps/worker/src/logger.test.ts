import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

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
