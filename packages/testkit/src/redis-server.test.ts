import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidRedisUrlError,
  RedisPortTakenError,
  RedisServerNotFoundError,
  RedisServerStartError,
  redisInstallHint,
} from './redis-errors.ts';
import { type RedisHandle, startRedis } from './redis-server.ts';
import { uniquePrefix } from './unique-prefix.ts';

const handles: RedisHandle[] = [];
const clients: Redis[] = [];

// These tests own the process (they stop it), so they always spawn, even with REDIS_URL set.
async function privateRedis(): Promise<RedisHandle> {
  const handle = await startRedis({ forcePrivate: true });
  handles.push(handle);
  return handle;
}

function client(handle: RedisHandle): Redis {
  const redis = new Redis(handle.url, { maxRetriesPerRequest: 1, lazyConnect: false });
  clients.push(redis);
  return redis;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((redis) => redis.quit().catch(() => redis.disconnect())));
  await Promise.all(handles.splice(0).map((handle) => handle.stop()));
});

/** Resolves with the socket error code of a connection attempt, or 'connected'. */
function connectOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.connect(port, host);
  });
}

describe('startRedis (private server)', () => {
  it('serves a real client, with persistence off and noeviction', async () => {
    const handle = await privateRedis();
    expect(handle).toMatchObject({ host: '127.0.0.1', external: false });
    expect(handle.url).toBe(`redis://127.0.0.1:${handle.port}`);
    const redis = client(handle);
    const key = `${uniquePrefix('set-get')}:greeting`;

    await redis.set(key, 'hello');
    expect(await redis.get(key)).toBe('hello');
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await redis.config('GET', 'save')).toEqual(['save', '']);
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
  });

  it('stop() makes the port refuse connections, removes the temp dir and is idempotent', async () => {
    const handle = await privateRedis();
    const redis = client(handle);
    const [, dir] = (await redis.config('GET', 'dir')) as [string, string];
    expect(existsSync(dir)).toBe(true);
    await redis.quit();

    await Promise.all([handle.stop(), handle.stop()]);
    await handle.stop();

    expect(await connectOutcome(handle.host, handle.port)).toBe('ECONNREFUSED');
    expect(existsSync(dir)).toBe(false);
  });

  it('shutdown() takes the server down and start() brings it back on its port with what it persisted', async () => {
    const handle = await startRedis({
      forcePrivate: true,
      args: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    handles.push(handle);
    const key = `${uniquePrefix('restart')}:kept`;
    const before = client(handle);
    await before.set(key, 'across the restart');
    await before.quit();

    await handle.shutdown();
    expect(await connectOutcome(handle.host, handle.port)).toBe('ECONNREFUSED');
    await handle.start();

    expect(await client(handle).get(key)).toBe('across the restart');
  });

  it("shutdown({ signal: 'SIGKILL' }) is a crash: Redis writes nothing on the way down, unlike SIGTERM", async () => {
    // With a save point set, a clean shutdown writes a snapshot; a killed Redis cannot.
    const handle = await startRedis({ forcePrivate: true, args: ['--save', '3600 1'] });
    handles.push(handle);
    const key = `${uniquePrefix('crash')}:snapshot`;
    const before = client(handle);
    await before.set(key, 'only in memory');
    await before.quit();

    await handle.shutdown();
    await handle.start();
    const afterTerm = client(handle);
    expect(await afterTerm.get(key)).toBe('only in memory');
    await afterTerm.set(key, 'changed after the snapshot');
    await afterTerm.quit();

    await handle.shutdown({ signal: 'SIGKILL' });
    expect(await connectOutcome(handle.host, handle.port)).toBe('ECONNREFUSED');
    await handle.start();
    expect(await client(handle).get(key)).toBe('only in memory');
  });

  it('gives concurrent servers different ports', async () => {
    const [a, b] = await Promise.all([privateRedis(), privateRedis()]);
    expect(a?.port).not.toBe(b?.port);
    const [pongA, pongB] = await Promise.all([client(a!).ping(), client(b!).ping()]);
    expect([pongA, pongB]).toEqual(['PONG', 'PONG']);
  });

  it('fails with install instructions when the binary does not exist', async () => {
    const error = await startRedis({ forcePrivate: true, binary: '/nonexistent/redis-server' }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(RedisServerNotFoundError);
    const message = (error as Error).message;
    expect(message).toContain(redisInstallHint);
    expect(message).toContain('sudo apt-get install -y redis-server');
    expect(message).toContain('brew install redis');
    expect(message).toContain('REDIS_URL=redis://127.0.0.1:6379');
    expect(message).toContain('REDIS_SERVER_BIN');
  });

  it('reports redis-server output when it exits during startup', async () => {
    const error = await startRedis({ forcePrivate: true, args: ['--no-such-directive', 'yes'] }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(RedisServerStartError);
    expect((error as RedisServerStartError).output).toMatch(/no-such-directive/i);
  });
});

describe('startRedis (port already taken)', () => {
  it('never mistakes another server on the port for its own, and says why it gave up', async () => {
    const first = await privateRedis();
    // Extra args come last, so this forces every attempt onto the taken port.
    const error = await startRedis({ forcePrivate: true, args: ['--port', String(first.port)] }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(RedisPortTakenError);
    expect((error as RedisServerStartError).output).toMatch(/address already in use/i);
    expect(await client(first).ping()).toBe('PONG');
  });
});

describe('startRedis (external server)', () => {
  it('uses options.url without spawning anything, and stop() is a no-op', async () => {
    const handle = await startRedis({ url: 'redis://10.0.0.9:6390/2' });
    expect(handle).toMatchObject({
      url: 'redis://10.0.0.9:6390/2',
      host: '10.0.0.9',
      port: 6390,
      external: true,
    });
    await handle.stop();
    await expect(handle.shutdown()).rejects.toThrow(/external server/);
  });

  it('defaults the port to 6379 and rejects non-redis URLs', async () => {
    expect((await startRedis({ url: 'redis://localhost' })).port).toBe(6379);
    await expect(startRedis({ url: 'http://localhost:6379' })).rejects.toBeInstanceOf(InvalidRedisUrlError);
  });
});

describe('uniquePrefix', () => {
  it('includes the label and differs per call', () => {
    const a = uniquePrefix('jobs');
    expect(a).toMatch(/^test:jobs:[0-9a-f]{12}$/);
    expect(uniquePrefix('jobs')).not.toBe(a);
    expect(uniquePrefix()).toMatch(/^test:[0-9a-f]{12}$/);
  });
});
