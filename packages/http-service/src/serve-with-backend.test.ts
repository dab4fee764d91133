import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { type Backend, serveWithBackend } from './serve-with-backend.ts';

type NamedBackend = Backend & { name: string };

/** A backend whose arrival the test controls, counting its closes. */
function controlledBackend() {
  let arrive: (backend: NamedBackend) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const closes: string[] = [];
  const signals: AbortSignal[] = [];
  const arrival = new Promise<NamedBackend>((resolve, reject) => {
    arrive = resolve;
    fail = reject;
  });
  const make = (name: string) => ({
    name,
    close: async () => {
      closes.push(name);
    },
  });
  return {
    connect: (signal: AbortSignal) => {
      signals.push(signal);
      return arrival;
    },
    arrive: (name: string) => arrive(make(name)),
    fail,
    closes,
    signals,
  };
}

/** A server answering with the backend's name, or 503 while there is none. */
const namingServer = (backend: () => { name: string } | undefined) =>
  createServer((_req, res) => {
    const current = backend();
    res.writeHead(current ? 200 : 503).end(current?.name ?? 'not yet');
  });

/** serveWithBackend on loopback with the naming server and `backend`'s connect. */
function serve(backend: ReturnType<typeof controlledBackend>, connectInBackground: boolean, port = 0) {
  return serveWithBackend<NamedBackend>({
    createServer: namingServer,
    connect: backend.connect,
    connectInBackground,
    port,
    host: '127.0.0.1',
    shutdownGraceMs: 1_000,
    logger: { warn() {} },
  });
}

async function portIsFree(port: number): Promise<boolean> {
  const probe = createNetServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('serveWithBackend', () => {
  it('in the background: listens at once, answers without the backend, then with it', async () => {
    const backend = controlledBackend();
    const serving = await serve(backend, true);
    try {
      expect(serving.url).toBe(`http://127.0.0.1:${serving.port}`);
      expect((await fetch(serving.url)).status).toBe(503);
      backend.arrive('redis');
      await serving.ready;
      const answer = await fetch(serving.url);
      expect([answer.status, await answer.text()]).toEqual([200, 'redis']);
    } finally {
      await serving.close();
    }
    expect(backend.closes).toEqual(['redis']);
  });

  it('in the foreground: fails to start when the backend cannot be reached, and listens on nothing', async () => {
    const backend = controlledBackend();
    const probe = createNetServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => probe.once('listening', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));

    backend.fail(new Error('ECONNREFUSED'));
    await expect(serve(backend, false, port)).rejects.toThrow('ECONNREFUSED');
    expect(await portIsFree(port)).toBe(true);
  });

  it('closed before the backend arrives: tells connect to stop, and closes the backend if it comes anyway', async () => {
    const backend = controlledBackend();
    const serving = await serve(backend, true);
    const closed = serving.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(backend.signals[0]?.aborted).toBe(true);
    backend.arrive('late');
    await closed;
    expect(backend.closes).toEqual(['late']);
    // Idempotent: the second close closes nothing twice.
    await serving.close();
    expect(backend.closes).toEqual(['late']);
  });
});
