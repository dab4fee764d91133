import type { Server } from 'node:http';

/**
 * Stops accepting connections, lets in-flight requests finish for up to `graceMs`, then cuts whatever is
 * left. Idle keep-alive connections are closed at once. `forced` says whether any had to be cut.
 */
export async function closeServer(server: Server, graceMs: number): Promise<{ forced: boolean }> {
  const closed = new Promise<void>((resolve) => {
    // The callback's error is ERR_SERVER_NOT_RUNNING: closed already, which is what we want.
    server.close(() => resolve());
  });
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace_over'>((resolve) => {
    timer = setTimeout(() => resolve('grace_over'), graceMs);
  });
  const outcome = await Promise.race([closed, graceOver]);
  clearTimeout(timer);
  if (outcome !== 'grace_over') return { forced: false };
  server.closeAllConnections();
  await closed;
  return { forced: true };
}
