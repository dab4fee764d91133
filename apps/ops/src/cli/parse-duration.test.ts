import { describe, expect, it } from 'vitest';
import { DurationError, parseDuration } from './parse-duration.ts';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['500ms', 500],
    ['0s', 0],
    ['1h30m', 5_400_000],
    [' 2m ', 120_000],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 'h', '1.5h', '-1h', '1 h', '1w', '1hour', '1h 30m', 's30', '1e3s'])(
    '%j is refused with a message that shows what is expected',
    (text) => {
      expect(() => parseDuration(text)).toThrow(DurationError);
      expect(() => parseDuration(text)).toThrow(
        `invalid duration ${JSON.stringify(text)}: expected a whole number and a unit (ms, s, m, h, d), e.g. 30s, 15m, 1h, 7d`,
      );
    },
  );

  it('refuses a duration too long to count in milliseconds', () => {
    expect(() => parseDuration('99999999999999999d')).toThrow('too long');
  });
});
