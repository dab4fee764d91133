import { Socket } from 'node:net';

/** Outcome of one {@link probeRedis} attempt. */
export type RedisProbeResult =
  | { readonly ok: true; readonly pid: number }
  | { readonly ok: false; readonly reason: string };

const pidPattern = /process_id:(\d+)\r\n/;

/**
 * Connects, sends `PING` and `INFO server`, and reports whether the server answered `+PONG`
 * and which process it is. The pid lets the caller tell its own redis-server from another
 * one that grabbed the same port first. Never rejects.
 */
export function probeRedis(host: string, port: number, timeoutMs: number): Promise<RedisProbeResult> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let received = '';
    let settled = false;
    const finish = (result: RedisProbeResult): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish({ ok: false, reason: `no answer within ${timeoutMs}ms` }));
    socket.once('error', (error) => finish({ ok: false, reason: error.message }));
    socket.once('close', () => finish({ ok: false, reason: `closed after ${JSON.stringify(received)}` }));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.startsWith('-')) {
        // e.g. "-LOADING ..." while the server is still starting up.
        finish({ ok: false, reason: received.split('\r\n', 1)[0] ?? received });
        return;
      }
      if (!received.startsWith('+PONG\r\n') && received.length >= '+PONG\r\n'.length) {
        finish({ ok: false, reason: `unexpected reply ${JSON.stringify(received.slice(0, 40))}` });
        return;
      }
      const pid = pidPattern.exec(received)?.[1];
      if (pid !== undefined) finish({ ok: true, pid: Number(pid) });
    });
    socket.connect(port, host, () => socket.write('PING\r\nINFO server\r\n'));
  });
}
