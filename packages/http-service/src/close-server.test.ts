import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { closeServer } from './close-server.ts';

/** A server that answers a request only when the test says so. */
async function heldServer(): Promise<{ server: Server; port: number; answer: () => void }> {
  const waiting: Array<() => void> = [];
  const server = createServer((_req, res) => {
    waiting.push(() => res.end('done'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    answer: () => {
      for (const send of waiting.splice(0)) send();
    },
  };
}

/** Sends a GET and resolves with its outcome: the body, or the error's code. */
function get(port: number): Promise<string> {
  return new Promise<string>((resolve) => {
    const req = request({ port, host: '127.0.0.1', path: '/' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(body)).on('error', () => resolve('cut'));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    req.end();
  });
}

describe('closeServer', () => {
  it('lets a request in flight finish within the grace period', async () => {
    const { server, port, answer } = await heldServer();
    const received = once(server, 'request');
    const inFlight = get(port);
    await received;
    const closing = closeServer(server, 5_000);
    answer();
    expect(await closing).toEqual({ forced: false });
    expect(await inFlight).toBe('done');
  });

  it('cuts a request still in flight when the grace period runs out', async () => {
    const { server, port } = await heldServer();
    const received = once(server, 'request');
    const inFlight = get(port);
    await received;
    expect(await closeServer(server, 50)).toEqual({ forced: true });
    expect(await inFlight).toBe('ECONNRESET');
  });
});
