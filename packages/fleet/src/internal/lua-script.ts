import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * A Lua script run by its SHA1 (`EVALSHA`), sent in full (`EVAL`) only when the server does not have it
 * yet, as ioredis's `defineCommand` and BullMQ's commands do, without adding commands to a shared client.
 * Redis runs a script atomically: no other command runs between its reads and its writes.
 */
export class LuaScript {
  readonly source: string;
  readonly sha1: string;

  constructor(source: string) {
    this.source = source;
    this.sha1 = createHash('sha1').update(source).digest('hex');
  }

  async run(
    redis: Redis | Cluster,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      // A restarted or flushed server has forgotten its scripts.
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
