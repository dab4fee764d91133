import type { Redis } from 'ioredis';

/** Deletes every key under `prefix:`; a benchmark's repetition leaves nothing behind for the next. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    // DEL rather than UNLINK: freeing in Redis's background thread would overlap the next measurement.
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
