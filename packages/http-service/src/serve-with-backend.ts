import type { Server } from 'node:http';
import { closeServer } from './close-server.ts';
import { listen } from './listen.ts';

/** What a service must reach before it can answer (its Redis clients and what is opened on them). */
export interface Backend {
  /** Closes what `connect` opened. Never rejects. */
  close(): Promise<void>;
}

export interface ServeWithBackendOptions<B extends Backend> {
  /** The HTTP server, handed a getter of the backend that gives undefined until the backend is reached. */
  createServer(backend: () => B | undefined): Server;
  /** Reaches the backend; `signal` aborts when the service is closed before it got there. */
  connect(signal: AbortSignal): Promise<B>;
  /**
   * Listen at once and connect in the background, `ready` settling when connected (the apps' `main.ts`:
   * a process started before its Redis comes up by itself), instead of connecting first and failing to
   * start without it (tests, the demo).
   */
  connectInBackground: boolean;
  /** 0 picks a free port. */
  port: number;
  /** Default: every interface. */
  host?: string | undefined;
  /** On close, how long in-flight requests may take before their connections are cut. In ms. */
  shutdownGraceMs: number;
  logger: { warn(fields: Record<string, unknown>, message: string): void };
}

/** A listening service. */
export interface ServingWithBackend {
  server: Server;
  /** e.g. `http://127.0.0.1:3000`. */
  url: string;
  port: number;
  /** Settles once the backend is reached: resolved at once unless `connectInBackground`. */
  ready: Promise<void>;
  /** Stops accepting, waits (bounded) for in-flight requests, then closes the backend. Idempotent; never rejects. */
  close(): Promise<void>;
}

/**
 * The life of the apps' HTTP processes (the intake, the ops server): a server whose routes read a
 * backend reached before or after it listens, and a close that lets requests in flight finish first.
 * @throws unless `connectInBackground`, what `connect` throws; the listen error (EADDRINUSE).
 */
export async function serveWithBackend<B extends Backend>(
  options: ServeWithBackendOptions<B>,
): Promise<ServingWithBackend> {
  let backend: B | undefined;
  const server = options.createServer(() => backend);
  const stopConnecting = new AbortController();
  const ready = (async () => {
    backend = await options.connect(stopConnecting.signal);
  })();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const { forced } = await closeServer(server, options.shutdownGraceMs);
      if (forced) options.logger.warn({}, 'Shutdown grace ran out; cut the requests still in flight');
      stopConnecting.abort();
      await ready.catch(() => {});
      await backend?.close();
    })();
    return closing;
  };

  if (!options.connectInBackground) {
    try {
      await ready;
    } catch (error) {
      await close();
      throw error;
    }
  }
  try {
    const { port, url } = await listen(server, options.port, options.host);
    return { server, url, port, ready, close };
  } catch (error) {
    await close();
    throw error;
  }
}
