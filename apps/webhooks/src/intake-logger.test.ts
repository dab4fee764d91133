import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createIntakeLogger } from './intake-logger.ts';

describe('createIntakeLogger', () => {
  it('writes to stdout synchronously by default: no thread-pool round trip per line, no line lost on a crash', () => {
    const logger = createIntakeLogger('info') as unknown as Record<symbol, unknown>;
    const stream = logger[pino.symbols.streamSym] as { fd: number; sync: boolean };
    expect({ fd: stream.fd, sync: stream.sync }).toEqual({ fd: 1, sync: true });
  });
});
