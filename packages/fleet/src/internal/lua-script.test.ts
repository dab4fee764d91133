import { type RedisHandle, startRedis, uniquePrefix } from '@runner/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuaScript } from './lua-script.ts';

let server: RedisHandle;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('LuaScript', () => {
  it('runs by SHA1, and sends the source when the server has forgotten it', async () => {
    const key = `${uniquePrefix('lua')}:counter`;
    const script = new LuaScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`);
    expect(await script.run(redis, [key], [2])).toBe(2);
    // Only on a server of our own: on a shared one this would pull scripts from under other tests.
    if (!server.external) await redis.script('FLUSH');
    expect(await script.run(redis, [key], [3])).toBe(5);
    expect(await redis.script('EXISTS', script.sha1)).toEqual([1]);
    await redis.del(key);
  });
});
