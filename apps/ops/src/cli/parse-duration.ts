/** Milliseconds per unit a duration may be written in. */
export const durationUnitsMs = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 60 * 60_000,
  d: 24 * 60 * 60_000,
} as const;

/** A duration that is not a whole number followed by a unit. The message says what is expected. */
export class DurationError extends Error {
  override name = 'DurationError';
  readonly code = 'invalid_duration';
}

// One or more whole-number parts, each with its unit: `30s`, `15m`, `1h30m`. A bare number is refused:
// `--older-than 30` could mean seconds or minutes, and a wrong guess deletes the wrong jobs.
const wholePattern = /^(?:\d+(?:ms|s|m|h|d))+$/;
const partPattern = /(\d+)(ms|s|m|h|d)/g;

/**
 * Parses `30s`, `15m`, `1h`, `7d`, `500ms` or a combination such as `1h30m` into milliseconds.
 * @throws DurationError for anything else, including a bare number, a negative or fractional value.
 * @example parseDuration('1h') // 3_600_000
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!wholePattern.test(trimmed)) {
    throw new DurationError(
      `invalid duration ${JSON.stringify(text)}: expected a whole number and a unit (ms, s, m, h, d), e.g. 30s, 15m, 1h, 7d`,
    );
  }
  let totalMs = 0;
  for (const [, amount, unit] of trimmed.matchAll(partPattern)) {
    totalMs += Number(amount) * durationUnitsMs[unit as keyof typeof durationUnitsMs];
  }
  if (!Number.isSafeInteger(totalMs)) {
    throw new DurationError(`invalid duration ${JSON.stringify(text)}: too long`);
  }
  return totalMs;
}
