/** Colours for human output; every function is the identity when colour is off. */
export interface Style {
  enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const sgr =
  (open: number, close: number) =>
  (text: string): string =>
    `\x1b[${open}m${text}\x1b[${close}m`;
const same = (text: string): string => text;

/**
 * Colour only on a terminal, and never when `NO_COLOR` is set to anything but empty (no-color.org):
 * escape codes in a pipe or a log file are noise a script must strip.
 */
export function createStyle(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): Style {
  const enabled = isTTY && !env.NO_COLOR;
  if (!enabled) {
    return { enabled, bold: same, dim: same, red: same, green: same, yellow: same, cyan: same };
  }
  return {
    enabled,
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
  };
}

/** The colour of a job's or a circuit's state: red needs a person, yellow waits, green is done. */
export function stateColour(style: Style, state: string): (text: string) => string {
  switch (state) {
    case 'completed':
    case 'closed':
      return style.green;
    case 'failed':
    case 'dead-lettered':
    case 'open':
      return style.red;
    case 'delayed':
    case 'paused':
    case 'half-open':
      return style.yellow;
    case 'active':
      return style.cyan;
    default:
      return same;
  }
}

/** A table cell showing a state in its colour. */
export function stateCell(style: Style, state: string): Cell {
  return { text: state, paint: stateColour(style, state) };
}

const secondMs = 1_000;
const minuteMs = 60 * secondMs;
const hourMs = 60 * minuteMs;
const dayMs = 24 * hourMs;

/**
 * `atMs` relative to `nowMs` in its largest whole unit: `in 12s`, `3m ago`, `5h ago`, `in 2d`; `now`
 * within a second. Rounded down, so a job due in 59.9 s reads `in 59s`, never a minute early.
 */
export function formatRelativeTime(atMs: number, nowMs: number): string {
  const diffMs = atMs - nowMs;
  const absMs = Math.abs(diffMs);
  if (absMs < secondMs) return 'now';
  const amount =
    absMs < minuteMs
      ? `${Math.floor(absMs / secondMs)}s`
      : absMs < hourMs
        ? `${Math.floor(absMs / minuteMs)}m`
        : absMs < 2 * dayMs
          ? `${Math.floor(absMs / hourMs)}h`
          : `${Math.floor(absMs / dayMs)}d`;
  return diffMs > 0 ? `in ${amount}` : `${amount} ago`;
}

/** The first line of `text`, cut to `width` characters with an ellipsis. */
export function truncate(text: string, width: number): string {
  const line = text.split('\n', 1)[0] ?? '';
  if (line.length <= width) return line;
  if (width <= 1) return line.slice(0, Math.max(width, 0));
  return `${line.slice(0, width - 1)}…`;
}

/** A table cell: plain text, or text with the colour to paint it once it is padded. */
export type Cell = string | { text: string; paint: (text: string) => string };

export interface TableOptions {
  /** Columns aligned to the right (numbers). */
  alignRight?: readonly number[];
  /** The column that gives up characters (truncated) when the table is wider than `maxWidth`. */
  shrink?: number;
  /** Terminal width to fit in; no limit when absent. */
  maxWidth?: number;
}

const gap = '  ';

/**
 * Rows under a bold header, columns padded to their widest cell. Widths are measured before colour
 * is applied, so escape codes never break the alignment.
 */
export function formatTable(
  style: Style,
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
  options: TableOptions = {},
): string[] {
  const text = (cell: Cell | undefined): string => (typeof cell === 'string' ? cell : (cell?.text ?? ''));
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => text(row[column]).length)),
  );
  const { shrink, maxWidth } = options;
  if (shrink !== undefined && maxWidth !== undefined) {
    const total = widths.reduce((sum, width) => sum + width, 0) + gap.length * (widths.length - 1);
    const current = widths[shrink] ?? 0;
    // Never narrower than its title, nor so narrow that nothing useful is left.
    const least = Math.min(current, Math.max(header[shrink]?.length ?? 0, 12));
    if (total > maxWidth) widths[shrink] = Math.max(least, current - (total - maxWidth));
  }
  const right = new Set(options.alignRight);
  const line = (cells: readonly Cell[], isHeader: boolean): string =>
    widths
      .map((width, column) => {
        const cell = cells[column];
        const raw = truncate(text(cell), width);
        const padded = right.has(column) ? raw.padStart(width) : raw.padEnd(width);
        if (isHeader) return style.bold(padded);
        return typeof cell === 'object' ? cell.paint(padded) : padded;
      })
      .join(gap)
      .trimEnd();
  return [line(header, true), ...rows.map((row) => line(row, false))];
}

/** `label  value` lines with the values in one column, labels padded to at least `minWidth`. */
export function formatFields(
  style: Style,
  fields: ReadonlyArray<readonly [string, string]>,
  minWidth = 0,
): string[] {
  const width = Math.max(minWidth, ...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${style.bold(label.padEnd(width))}  ${value}`.trimEnd());
}

/**
 * One JSON document for scripts. Absent values are written as `null` rather than left out, so every
 * key is always there and `jq .lastError` never has to guess.
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, field: unknown) => (field === undefined ? null : field), indent);
}
