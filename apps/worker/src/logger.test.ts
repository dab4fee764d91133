import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

describe('createLogger', () => {
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
