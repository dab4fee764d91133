import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * Secrets are redacted once, here, whatever a log call passes: tokens, keys, signatures and
 * authorization headers, at the top level and one or two levels down (an error's request headers).
 */
export const redactPaths = [
  'authorization',
  'token',
  'privateKey',
  'apiKey',
  'secret',
  '*.authorization',
  '*.token',
  '*.privateKey',
  '*.apiKey',
  '*.secret',
  '*.headers.authorization',
  '*.*.headers.authorization',
  '*.headers["x-hub-signature-256"]',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { app: 'worker' }, redact: { paths: redactPaths, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
