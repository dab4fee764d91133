import type { Redis } from 'ioredis';

/**
 * Holds what `client` sends until the next tick, which runs once every microtask of this turn has: the
 * commands sent meanwhile (a job's tool record, its count, BullMQ's `moveToFinished`) go in one socket
 * write. On loopback each write costs tens of µs of the event loop (bench/README.md, "Where the time
 * goes"). `client` is an ioredis client, or BullMQ's proxy of one; a Cluster client has no single
 * socket, and sends them apart.
 */
export function writeTogetherUntilTick(client: object): void {
  const stream = (client as Partial<Pick<Redis, 'stream'>>).stream;
  if (!stream) return;
  stream.cork();
  process.nextTick(() => stream.uncork());
}
