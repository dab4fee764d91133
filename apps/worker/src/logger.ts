import { type DestinationStream, type Logger, pino } from 'pino';

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * Secrets are redacted once, here, whatever a log call passes: fields with these names (tokens, keys,
 * signatures, authorization headers) at the top level and nested down to {@link maxRedactDepth} (an
 * error's request headers).
 */
export const redactedKeys: ReadonlySet<string> = new Set([
  'authorization',
  'token',
  'privateKey',
  'apiKey',
  'secret',
  'x-hub-signature-256',
]);

/** How deep below the logged object redaction looks: `err.request.headers.authorization` is 3. */
export const maxRedactDepth = 4;

const censor = '[redacted]';

function holdsSecret(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null || depth > maxRedactDepth) return false;
  for (const [key, inner] of Object.entries(value)) {
    if (redactedKeys.has(key) || holdsSecret(inner, depth + 1)) return true;
  }
  return false;
}

function redacted(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > maxRedactDepth) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => redacted(item, depth + 1));
  // Their state is in internal slots, which a copy would lose; and they hold no named fields.
  if (value instanceof Date || value instanceof Map || value instanceof Set || ArrayBuffer.isView(value))
    return value;
  // Same prototype and own properties: an error stays an error for pino's serializer, with its class,
  // message and stack (not enumerable, so a plain copy would drop them).
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  Object.defineProperties(copy, Object.getOwnPropertyDescriptors(value));
  for (const [key, inner] of Object.entries(value)) {
    Object.defineProperty(copy, key, {
      value: redactedKeys.has(key) ? censor : redacted(inner, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/**
 * The logged object with every secret blanked out; the object itself when it holds none, which is
 * nearly always. Cheaper than pino's `redact` with wildcard paths, which clones every field of every
 * line (about 15 µs a line).
 */
export function redactSecrets(object: Record<string, unknown>): Record<string, unknown> {
  return holdsSecret(object, 0) ? (redacted(object, 0) as Record<string, unknown>) : object;
}

/** Lines wait in memory until this many bytes of them have gathered, or {@link logFlushIntervalMs}. */
export const logBufferBytes = 4_096;

/** Longest a line waits in memory before it is written. In ms. */
export const logFlushIntervalMs = 100;

let stdout: SonicBoom | undefined;

/**
 * Where the worker's lines go, stdout by default or a file: written synchronously, a few KB at a time
 * ({@link logBufferBytes}), and at the latest {@link logFlushIntervalMs} after a line, and at exit (an
 * uncaught error or `process.exit` included; a SIGKILL loses the last 100 ms). A `write(2)` per line cost
 * a no-op job about 25 µs of the event loop on loopback (bench/README.md, "Where the time goes"), a
 * seventh of all it costs; pino's default asynchronous stdout costs a thread-pool round trip per line
 * instead, and loses the lines of a crash.
 */
export function logDestination(dest: 1 | string = 1): DestinationStream {
  if (dest === 1 && stdout) return stdout;
  const destination = pino.destination({ dest, sync: true, minLength: logBufferBytes });
  setInterval(() => destination.flush(), logFlushIntervalMs).unref();
  // Not done by pino for a synchronous destination.
  process.on('exit', () => {
    try {
      destination.flushSync();
    } catch {
      // Ended or closed already: nothing is left to write.
    }
  });
  if (dest === 1) stdout = destination;
  return destination;
}

/**
 * The worker's pino logger, JSON lines to `destination` ({@link logDestination}: stdout by default);
 * `fields` (the worker's id) go on every line.
 */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  fields: Record<string, string> = {},
): Logger {
  const options = {
    level,
    base: { app: 'worker', ...fields },
    formatters: { log: redactSecrets, bindings: redactSecrets },
  };
  return pino(options, destination ?? logDestination());
}
