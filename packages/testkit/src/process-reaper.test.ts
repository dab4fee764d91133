import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

// Runs in a separate Node process that we SIGKILL, so no exit hook of it can run.
const childCode = `
import { startRedis } from ${JSON.stringify(new URL('./redis-server.ts', import.meta.url).href)};
const redis = await startRedis({ forcePrivate: true });
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

describe('process reaper', () => {
  it('kills a private redis-server and removes its dir when its parent is SIGKILLed', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childCode], {
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
    const redisGone = once(socket, 'close', { signal: AbortSignal.timeout(5_000) });

    child.stdin.write('die\n');
    const [, signal] = (await childExited) as [number | null, string | null];
    expect(signal).toBe('SIGKILL');
    await redisGone.catch(() => {
      throw new Error(`redis-server on port ${port} was still alive 5s after its parent was SIGKILLed`);
    });
    // The reaper removes the dir before it kills, so by now it is gone.
    expect(existsSync(dir)).toBe(false);
  }, 30_000);
});
