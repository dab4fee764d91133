import type { Logger } from '@runner/retry';

/** A logger that adds `extra` to every line's fields, e.g. the installation id the retry core does not know. */
export function withFields(logger: Logger, extra: Record<string, unknown>): Logger {
  return {
    debug: (fields, message) => logger.debug({ ...fields, ...extra }, message),
    info: (fields, message) => logger.info({ ...fields, ...extra }, message),
    warn: (fields, message) => logger.warn({ ...fields, ...extra }, message),
    error: (fields, message) => logger.error({ ...fields, ...extra }, message),
  };
}
