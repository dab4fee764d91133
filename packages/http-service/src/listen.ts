import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on `port` (0 picks a free one) and `host` (default: every interface); resolves with the port
 * and a URL to reach the server by, or rejects with the listen error (EADDRINUSE, EACCES).
 */
export function listen(server: Server, port: number, host?: string): Promise<{ port: number; url: string }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = (): void => {
      server.off('error', reject);
      const bound = (server.address() as AddressInfo).port;
      resolve({ port: bound, url: `http://${urlHost(host)}:${bound}` });
    };
    if (host === undefined) server.listen(port, onListening);
    else server.listen(port, host, onListening);
  });
}

/** The host part of a URL for the address a server listens on: every interface is reached on loopback. */
function urlHost(host: string | undefined): string {
  if (host === undefined || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
