import { describe, expect, it } from 'vitest';
import { createOpsLogger } from './ops-logger.ts';
import { captureStream } from './test-helpers.ts';

describe('createOpsLogger', () => {
  it('blanks out tokens and Authorization headers wherever they are logged', () => {
    const log = captureStream();
    const logger = createOpsLogger('info', log.stream);
    logger.info({ req: { headers: { authorization: 'Bearer secret-1', cookie: 'c=secret-2' } } }, 'request');
    logger.info({ token: 'secret-3', ops: { token: 'secret-4' } }, 'config');
    logger.info({ headers: { authorization: 'Basic secret-5' } }, 'headers');
    logger.info({ err: { request: { headers: { authorization: 'Bearer secret-6' } } } }, 'error');
    expect(log.text()).not.toMatch(/secret-\d/);
    expect(log.text().match(/\[redacted\]/g)).toHaveLength(6);
  });
});
