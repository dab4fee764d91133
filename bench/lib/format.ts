import type { Summary } from './stats.ts';

/** 18234.4 → `18 234`, 812.3 → `812`, 3.456 → `3.46`, 0.01234 → `0.0123`: three significant figures or whole. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString('en-US').replaceAll(',', ' ');
  if (magnitude === 0) return '0';
  return Number(value.toPrecision(3)).toString();
}

/** `812 (790–845)`: the median, then the spread over repetitions. */
export function formatSummary(summary: Summary, unit = ''): string {
  const suffix = unit === '' ? '' : ` ${unit}`;
  if (summary.min === summary.max) return `${formatNumber(summary.median)}${suffix}`;
  return `${formatNumber(summary.median)}${suffix} (${formatNumber(summary.min)}–${formatNumber(summary.max)})`;
}

/** A ratio always with two decimals, so that 0.85 and 0.9 line up: `0.31 (0.29–0.33)`. */
export function formatRatio(summary: Summary): string {
  const two = (value: number) => value.toFixed(2);
  if (summary.min === summary.max) return two(summary.median);
  return `${two(summary.median)} (${two(summary.min)}–${two(summary.max)})`;
}
