import { startRedis } from '@runner/testkit';
import { describe, expect, it } from 'vitest';
import { waitForRedis } from './wait-for-redis.ts';

function recordingLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, fields, message });
  };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('waitForRedis', () => {
  it('tries again with growing delays, a line each, until Redis answers', async () => {
    const server = await startRedis({ forcePrivate: true });
    await server.shutdown();
    const { lines, logger } = recordingLogger();
    const delays: number[] = [];
    try {
      await waitForRedis(server.url, logger, {
        sleep: async (ms) => {
          delays.push(ms);
          if (delays.length === 3) await server.start();
        },
      });
    } finally {
      await server.stop();
    }
    expect(delays).toHaveLength(3);
    // Equal jitter: at least half of 0.5 s, 1 s, 2 s.
    expect(delays[0]).toBeGreaterThanOrEqual(250);
    expect(delays[1]).toBeGreaterThanOrEqual(500);
    expect(delays[2]).toBeGreaterThanOrEqual(1_000);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      expect.stringMatching(
        /^Redis at 127\.0\.0\.1:\d+ does not answer \(ECONNREFUSED\); trying again in \d\.\ds \(attempt 1\)$/,
      ),
      expect.stringMatching(/attempt 2\)$/),
      expect.stringMatching(/attempt 3\)$/),
    ]);
    expect(lines.at(-1)?.message).toMatch(/answers; starting$/);
  });

  it('stops waiting when its signal aborts', async () => {
    const server = await startRedis({ forcePrivate: true });
    await server.stop();
    const stop = new AbortController();
    const { logger } = recordingLogger();
    const waiting = waitForRedis(server.url, logger, { signal: stop.signal });
    stop.abort(new Error('SIGTERM'));
    await expect(waiting).rejects.toThrow('SIGTERM');
  });
});
