import { once } from 'node:events';
import type { Logger } from '@runner/retry';
import { startRedis, uniquePrefix } from '@runner/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/**
 * A client set up as the fleet's should be: a dead Redis fails a command at once (no offline queue, one
 * try) and a slow one within `commandTimeoutMs` (200 ms, as the fallback tests want; the sharing tests
 * give more, so that a busy test machine does not turn a shared test into a fallback one).
 */
export async function connectFleetClient(url: string, commandTimeoutMs = 200): Promise<Redis> {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
  });
  // Reconnect errors while a test has stopped the server are expected; ioredis would print each one.
  client.on('error', () => {});
  if (client.status !== 'ready') await once(client, 'ready');
  return client;
}

/** Deletes every key under `prefix`, so a test on a shared server leaves nothing behind. */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** A `Logger` that keeps its lines, for asserting what was said once. */
export function recordingLogger(): Logger & { lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  const at =
    (level: string) =>
    (_fields: Record<string, unknown>, message: string): void => {
      lines.push({ level, message });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A clock a test moves by hand. */
export function manualClock(t: number): { t: number; now(): number } {
  return {
    t,
    now() {
      return this.t;
    },
  };
}

/** Options for the sharing tests: generous bounds, so only a real outage falls back. */
export const patientRedis = { commandTimeoutMs: 5_000, operationTimeoutMs: 5_000 } as const;

/**
 * The set-up every sharing test needs: one Redis for the file, two clients on it (two "processes"),
 * a fresh key prefix per test and its keys deleted after. Hands the clients and each prefix over
 * through the callbacks, so that tests keep plain `first`, `second` and `prefix` variables.
 */
export function useTwoFleetClients(
  label: string,
  onClients: (clients: { first: Redis; second: Redis }) => void,
  onPrefix: (prefix: string) => void,
): void {
  let server: { url: string; stop(): Promise<void> };
  let first: Redis;
  let second: Redis;
  let prefix: string;
  beforeAll(async () => {
    server = await startRedis();
    first = await connectFleetClient(server.url, patientRedis.commandTimeoutMs);
    second = await connectFleetClient(server.url, patientRedis.commandTimeoutMs);
    onClients({ first, second });
  });
  beforeEach(() => {
    prefix = uniquePrefix(label);
    onPrefix(prefix);
  });
  afterEach(async () => {
    await deleteKeys(first, prefix);
  });
  afterAll(async () => {
    first.disconnect();
    second.disconnect();
    await server.stop();
  });
}
