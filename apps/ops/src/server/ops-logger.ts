import type { LogLevel } from '@runner/config';
import type { Logger } from '@runner/retry';
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

/** The logger the ops server takes: the packages' structural `Logger`. */
export type OpsLogger = Logger;

/**
 * Paths pino blanks out wherever they are logged: the ops token and any Authorization or Cookie header, at
 * the top level and a level or two down (a request's headers, an error's request). Configured once here;
 * the server never logs headers or the config in the first place.
 */
export const redactPaths: readonly string[] = [
  'authorization',
  'token',
  'cookie',
  '*.authorization',
  '*.token',
  '*.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.*.headers.authorization',
  'config.ops.token',
];

/** The ops server's pino logger, JSON lines to `destination` (stdout by default), with {@link redactPaths}. */
export function createOpsLogger(level: LogLevel, destination?: DestinationStream): PinoLogger {
  const options = { name: 'ops', level, redact: { paths: [...redactPaths], censor: '[redacted]' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}
