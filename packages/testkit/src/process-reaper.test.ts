import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

// Runs in a separate Node process that we SIGKILL, so no exit hook of it can run.
const childCode = (args: readonly string[]) => `
import { startRedis } from ${JSON.stringify(new URL('./redis-server.ts', import.meta.url).href)};
const redis = await startRedis({ forcePrivate: true, args: ${JSON.stringify(args)} });
process.stdout.write(redis.port + '\\n');
process.stdin.once('data', () => process.kill(process.pid, 'SIGKILL'));
`;

/** Asks redis for its working dir over a raw connection that stays open afterwards. */
async function configDir(socket: Socket): Promise<string> {
  socket.write('CONFIG GET dir\r\n');
  let reply = '';
  for (;;) {
    const [chunk] = (await once(socket, 'data', { signal: AbortSignal.timeout(5_000) })) as [Buffer];
    reply += chunk.toString('utf8');
    // *2 $3 dir $<n> <path>: complete once the fifth line has ended.
    const lines = reply.split('\r\n');
    if (lines.length > 5) return lines[4] ?? '';
  }
}

/** Starts a private redis-server with `args` in a child process, SIGKILLs the child, and returns the dir. */
async function killParentOf(
  args: readonly string[],
  before: (dir: string) => void = () => {},
): Promise<{ dir: string; filesBefore: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childCode(args)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const childExited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const [portLine] = (await once(lines, 'line', { signal: AbortSignal.timeout(15_000) })) as [string];
  const port = Number(portLine);

  const socket = new Socket();
  socket.on('error', () => {}); // The reset when redis dies is the point, not a failure.
  socket.connect(port, '127.0.0.1');
  await once(socket, 'connect', { signal: AbortSignal.timeout(5_000) });
  const dir = await configDir(socket);
  expect(existsSync(dir)).toBe(true);
  before(dir);
  const filesBefore = readdirSync(dir);
  const redisGone = once(socket, 'close', { signal: AbortSignal.timeout(5_000) });

  child.stdin.write('die\n');
  const [, signal] = (await childExited) as [number | null, string | null];
  expect(signal).toBe('SIGKILL');
  await redisGone.catch(() => {
    throw new Error(`redis-server on port ${port} was still alive 5s after its parent was SIGKILLed`);
  });
  return { dir, filesBefore };
}

describe('process reaper', () => {
  it('removes the files a cluster node with AOF leaves (nodes.conf, appendonlydir) and then its dir', async () => {
    const { dir, filesBefore } = await killParentOf(['--appendonly', 'yes', '--cluster-enabled', 'yes']);
    expect(filesBefore).toEqual(expect.arrayContaining(['nodes.conf', 'appendonlydir']));
    // The reaper empties and removes the dir before it kills, so by now it is gone.
    expect(existsSync(dir)).toBe(false);
  }, 30_000);

  it('kills a private redis-server and removes its dir when its parent is SIGKILLed', async () => {
    const { dir } = await killParentOf([]);
    // The reaper removes the dir before it kills, so by now it is gone.
    expect(existsSync(dir)).toBe(false);
  }, 30_000);

  it('leaves a dir that holds a file redis-server did not write, and that file', async () => {
    const { dir } = await killParentOf([], (dir) => writeFileSync(join(dir, 'notes.txt'), 'data'));
    try {
      expect(readdirSync(dir)).toEqual(['notes.txt']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
