import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';

/** Thrown when the OS keeps handing back ports the caller asked to avoid. */
export class NoFreePortError extends Error {
  override readonly name = 'NoFreePortError';
}

// The OS may hand the same ephemeral port to two back-to-back callers once the first
// probe socket is closed, so callers pass the ports they have claimed but not yet bound.
const maxPortProbes = 20;

/**
 * Finds a TCP port that is free on `host` right now by listening on port 0 and closing.
 * Another process can still take it before the caller binds, so callers must retry on
 * "address in use".
 */
export async function findFreePort(host: string, avoid: ReadonlySet<number> = new Set()): Promise<number> {
  for (let probe = 0; probe < maxPortProbes; probe += 1) {
    const server = createServer();
    server.listen(0, host);
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (!avoid.has(port)) return port;
  }
  throw new NoFreePortError(`No free port on ${host} after ${maxPortProbes} probes`);
}
