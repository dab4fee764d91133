import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createStyle, formatFields, formatRelativeTime, formatTable, toJson, truncate } from './format.ts';

const nowMs = Date.UTC(2025, 0, 1, 12);
const plain = createStyle(false, {});

describe('formatRelativeTime', () => {
  it.each([
    [0, 'now'],
    [999, 'now'],
    [-999, 'now'],
    [12_000, 'in 12s'],
    [-12_400, '12s ago'],
    [59_900, 'in 59s'],
    [60_000, 'in 1m'],
    [-3 * 60_000 - 59_000, '3m ago'],
    [5 * 3_600_000, 'in 5h'],
    [-47 * 3_600_000, '47h ago'],
    [-48 * 3_600_000, '2d ago'],
    [7 * 86_400_000, 'in 7d'],
  ])('%d ms from now reads %j', (offsetMs, text) => {
    expect(formatRelativeTime(nowMs + offsetMs, nowMs)).toBe(text);
  });
});

describe('createStyle', () => {
  it('colours only a terminal, and never with NO_COLOR set', () => {
    expect(createStyle(true, {}).red('x')).toBe('\x1b[31mx\x1b[39m');
    expect(createStyle(false, {}).red('x')).toBe('x');
    expect(createStyle(true, { NO_COLOR: '1' }).red('x')).toBe('x');
    // no-color.org: an empty NO_COLOR does not count.
    expect(createStyle(true, { NO_COLOR: '' }).enabled).toBe(true);
  });
});

describe('formatTable', () => {
  it('pads columns to their widest cell, numbers to the right, colour outside the widths', () => {
    const style = createStyle(true, {});
    const lines = formatTable(
      style,
      ['Name', 'N'],
      [
        ['a', '1'],
        [{ text: 'longer', paint: style.red }, '100'],
      ],
      { alignRight: [1] },
    );
    const stripped = lines.map(stripVTControlCharacters);
    expect(stripped).toEqual(['Name      N', 'a         1', 'longer  100']);
  });

  it('shrinks the chosen column to fit the width, with an ellipsis', () => {
    const lines = formatTable(plain, ['Id', 'Error'], [['1', 'x'.repeat(100)]], { shrink: 1, maxWidth: 30 });
    expect(lines[1]).toBe(`1   ${'x'.repeat(25)}…`);
    expect(lines[1]).toHaveLength(30);
  });
});

describe('formatFields and truncate', () => {
  it('puts values in one column', () => {
    expect(
      formatFields(plain, [
        ['A', '1'],
        ['Longer', '2'],
      ]),
    ).toEqual(['A       1', 'Longer  2']);
  });

  it('keeps the first line only, cut with an ellipsis', () => {
    expect(truncate('first\nsecond', 10)).toBe('first');
    expect(truncate('abcdef', 4)).toBe('abc…');
  });
});

describe('toJson', () => {
  it('writes absent values as null so every key is there', () => {
    expect(toJson({ a: undefined, b: [undefined], c: 1 })).toBe('{"a":null,"b":[null],"c":1}');
  });
});
