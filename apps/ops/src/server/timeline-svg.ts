import { describeEntry, type TimelineEntry, type TimelineKind, type TimelineLayer } from '@runner/queue';
import { formatSeconds } from '@runner/retry';
import { escapeMarkup } from './escape-markup.ts';

/** Options for {@link renderTimelineSvg}. */
export interface TimelineSvgOptions {
  /** Width of the picture, in px. Default `defaultTimelineSvgOptions.width`. */
  width?: number;
  /**
   * The present, as epoch ms, for a job still in progress: the time axis reaches it and a dashed line
   * marks it. Leave it out for a finished job, whose axis ends with its last event.
   */
  now?: number;
}

export const defaultTimelineSvgOptions = {
  /** In px. */
  width: 960,
} as const;

/** Top to bottom: the three retry layers, each a lane. */
const lanes: readonly { layer: TimelineLayer; title: string; subtitle: string }[] = [
  { layer: 'request', title: 'request', subtitle: 'layer 1: one HTTP call' },
  { layer: 'tool', title: 'tool', subtitle: 'layer 2: a tool’s API call' },
  { layer: 'job', title: 'job', subtitle: 'layer 3: the whole job' },
];

const kinds: Record<TimelineKind, { color: string; legend: string }> = {
  retry: { color: '#e8590c', legend: 'retry (then waits)' },
  job_started: { color: '#1c7ed6', legend: 'job run starts' },
  job_completed: { color: '#2f9e44', legend: 'job completed' },
  job_requeued: { color: '#7048e8', legend: 'requeued (uses a retry)' },
  job_delayed: { color: '#868e96', legend: 'delayed by upstream (no retry used)' },
  job_failed: { color: '#e03131', legend: 'failed for good' },
  job_retried_by_ops: { color: '#0c8599', legend: 'put back by ops' },
};

// Layout, in px.
const margin = { left: 150, right: 24, top: 12 };
const laneHeight = 76;
/** The marks' line within a lane, from its top; labels stack above it in up to three rows. */
const markLine = 54;
const labelRowStep = 13;
const labelRows = 3;
const axisHeight = 52;
const legendRowHeight = 20;
const legendColumnWidth = 230;
/** Rough width of one character of an 11 px label, to keep labels from running into each other. */
const charWidth = 6.2;
const maxLabelChars = 28;

/**
 * A job's retry timeline as an SVG picture: one lane per layer (request, tool, job), time on the x axis in
 * seconds since the first entry, one mark per entry with its wait drawn as a bar to the next attempt, a
 * `<title>` tooltip (the sentence `runner-ops job` prints) and a short label such as `429 · 1.0s`, and a
 * legend. Each mark is a `<g>` carrying `data-kind`, `data-layer` and `data-target`. All text is
 * escaped: reasons come from upstream error messages.
 */
export function renderTimelineSvg(
  entries: readonly TimelineEntry[],
  options: TimelineSvgOptions = {},
): string {
  const width = Math.max(480, options.width ?? defaultTimelineSvgOptions.width);
  const plotLeft = margin.left;
  const plotRight = width - margin.right;
  const lanesTop = margin.top;
  const lanesBottom = lanesTop + lanes.length * laneHeight;
  const legendTop = lanesBottom + axisHeight;
  const legendColumns = Math.max(1, Math.floor((width - plotLeft) / legendColumnWidth));
  const legendItems = Object.keys(kinds).length + 1;
  const height = legendTop + Math.ceil(legendItems / legendColumns) * legendRowHeight + 8;

  const timed = entries.filter((entry) => Number.isFinite(entry.atMs));
  const startMs = timed.length === 0 ? 0 : Math.min(...timed.map((entry) => entry.atMs));
  const lastMs = Math.max(startMs, ...timed.map((entry) => entry.atMs + waitMs(entry)));
  const now =
    options.now !== undefined && options.now > startMs && timed.length > 0 ? options.now : undefined;
  // At least a second, so that a lone event does not sit on a zero-width axis.
  const spanMs = Math.max(1_000, Math.max(lastMs, now ?? 0) - startMs);
  const x = (atMs: number): number => plotLeft + ((atMs - startMs) / spanMs) * (plotRight - plotLeft);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="11">`,
    '<title>Retry timeline by layer</title>',
  ];

  lanes.forEach((lane, index) => {
    const top = lanesTop + index * laneHeight;
    parts.push(
      `<rect x="0" y="${top}" width="${width}" height="${laneHeight}" fill="${index % 2 === 0 ? '#f8f9fa' : '#ffffff'}"/>`,
      `<text x="12" y="${top + markLine - 4}" font-size="13" font-weight="600" fill="#212529">${lane.title}</text>`,
      `<text x="12" y="${top + markLine + 12}" fill="#868e96">${escapeMarkup(lane.subtitle)}</text>`,
      `<line x1="${plotLeft}" y1="${top + markLine}" x2="${plotRight}" y2="${top + markLine}" stroke="#dee2e6"/>`,
    );
  });

  parts.push(...axis(spanMs, plotLeft, plotRight, lanesTop, lanesBottom, x, startMs));

  if (timed.length === 0) {
    parts.push(
      `<text x="${(plotLeft + plotRight) / 2}" y="${lanesTop + laneHeight * 1.5}" text-anchor="middle" fill="#868e96">No retries or job events recorded</text>`,
    );
  }
  if (now !== undefined) {
    parts.push(
      `<line x1="${fmt(x(now))}" y1="${lanesTop}" x2="${fmt(x(now))}" y2="${lanesBottom}" stroke="#495057" stroke-dasharray="4 3"/>`,
      `<text x="${fmt(x(now) - 3)}" y="${lanesTop + 10}" text-anchor="end" fill="#495057">now</text>`,
    );
  }

  // Per lane, where each label row is taken up to, so that close labels stack instead of overlapping.
  const rowEnds = new Map<TimelineLayer, number[]>(
    lanes.map((lane) => [lane.layer, Array.from({ length: labelRows }, () => -Infinity)]),
  );
  for (const entry of timed) {
    const layer = laneOf(entry.layer);
    const top = lanesTop + lanes.findIndex((lane) => lane.layer === layer) * laneHeight;
    const ends = rowEnds.get(layer) ?? [];
    parts.push(
      mark(entry, {
        x: x(entry.atMs),
        barEnd: x(entry.atMs + waitMs(entry)),
        y: top + markLine,
        startMs,
        plotRight,
        ends,
      }),
    );
  }

  parts.push(...legend(legendTop, plotLeft, legendColumns), '</svg>');
  return parts.join('\n');
}

function mark(
  entry: TimelineEntry,
  at: { x: number; barEnd: number; y: number; startMs: number; plotRight: number; ends: number[] },
): string {
  const { color } = kinds[entry.kind];
  const seconds = (entry.atMs - at.startMs) / 1000;
  const tooltip = `T=${seconds.toFixed(1)}s [${entry.layer} · ${entry.target}] ${describeEntry(entry)}`;
  const label = shortLabel(entry);
  const labelWidth = label.length * charWidth;
  const anchorEnd = at.x + labelWidth > at.plotRight;
  const left = anchorEnd ? at.x - labelWidth : at.x - 4;
  const free = at.ends.findIndex((end) => left >= end + 6);
  const row = free === -1 ? at.ends.indexOf(Math.min(...at.ends)) : free;
  at.ends[row] = left + labelWidth;

  const attributes = [
    'class="mark"',
    `data-kind="${escapeMarkup(entry.kind)}"`,
    `data-layer="${escapeMarkup(entry.layer)}"`,
    `data-target="${escapeMarkup(entry.target)}"`,
  ].join(' ');
  const body = [`<title>${escapeMarkup(tooltip)}</title>`];
  if (at.barEnd > at.x) {
    body.push(
      `<rect x="${fmt(at.x)}" y="${at.y - 3}" width="${fmt(at.barEnd - at.x)}" height="6" rx="2" fill="${color}" fill-opacity="0.3"/>`,
    );
  }
  body.push(
    shape(entry.kind, at.x, at.y, color),
    `<text x="${fmt(anchorEnd ? at.x : at.x - 4)}" y="${at.y - 10 - row * labelRowStep}"${anchorEnd ? ' text-anchor="end"' : ''} fill="#343a40">${escapeMarkup(label)}</text>`,
  );
  return `<g ${attributes}>${body.join('')}</g>`;
}

/** `429 · 1.0s`: what failed and how long the wait was; the tooltip has the whole sentence. */
function shortLabel(entry: TimelineEntry): string {
  const why = truncate(entry.status === undefined ? (entry.reason ?? 'error') : String(entry.status));
  const wait = entry.delayMs === undefined ? '' : ` · ${formatSeconds(entry.delayMs)}`;
  switch (entry.kind) {
    case 'retry':
    case 'job_requeued':
    case 'job_delayed':
      return `${why}${wait}`;
    case 'job_started':
      return entry.attempt === undefined ? 'start' : `start ${entry.attempt}/${entry.maxAttempts ?? '?'}`;
    case 'job_completed':
      return 'completed';
    case 'job_failed':
      return truncate(`failed: ${entry.reason ?? why}`);
    case 'job_retried_by_ops':
      return 'put back by ops';
  }
}

function shape(kind: TimelineKind, x: number, y: number, color: string): string {
  const [cx, cy] = [fmt(x), fmt(y)];
  switch (kind) {
    case 'retry':
      return `<circle cx="${cx}" cy="${cy}" r="5" fill="${color}"/>`;
    case 'job_started':
      return `<polygon points="${fmt(x - 4)},${fmt(y - 6)} ${fmt(x + 6)},${cy} ${fmt(x - 4)},${fmt(y + 6)}" fill="${color}"/>`;
    case 'job_completed':
      return `<rect x="${fmt(x - 5)}" y="${fmt(y - 5)}" width="10" height="10" fill="${color}"/>`;
    case 'job_requeued':
      return `<polygon points="${cx},${fmt(y - 6)} ${fmt(x + 6)},${cy} ${cx},${fmt(y + 6)} ${fmt(x - 6)},${cy}" fill="${color}"/>`;
    case 'job_delayed':
      return `<polygon points="${cx},${fmt(y - 6)} ${fmt(x + 6)},${cy} ${cx},${fmt(y + 6)} ${fmt(x - 6)},${cy}" fill="#ffffff" stroke="${color}" stroke-width="2"/>`;
    case 'job_failed':
      return `<path d="M${fmt(x - 5)},${fmt(y - 5)} L${fmt(x + 5)},${fmt(y + 5)} M${fmt(x + 5)},${fmt(y - 5)} L${fmt(x - 5)},${fmt(y + 5)}" stroke="${color}" stroke-width="2.5"/>`;
    case 'job_retried_by_ops':
      return `<circle cx="${cx}" cy="${cy}" r="5" fill="#ffffff" stroke="${color}" stroke-width="2"/>`;
  }
}

function axis(
  spanMs: number,
  left: number,
  right: number,
  top: number,
  bottom: number,
  x: (atMs: number) => number,
  startMs: number,
): string[] {
  const maxTicks = Math.max(2, Math.floor((right - left) / 70));
  const stepS =
    tickSteps.find((step) => spanMs / 1000 / step <= maxTicks) ?? Math.ceil(spanMs / 1000 / maxTicks);
  const parts = [`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#adb5bd"/>`];
  for (let s = 0; s * 1000 <= spanMs + 1e-6; s += stepS) {
    const tickX = fmt(x(startMs + s * 1000));
    parts.push(
      `<line x1="${tickX}" y1="${top}" x2="${tickX}" y2="${bottom}" stroke="#e9ecef"/>`,
      `<line x1="${tickX}" y1="${bottom}" x2="${tickX}" y2="${bottom + 4}" stroke="#adb5bd"/>`,
      `<text x="${tickX}" y="${bottom + 16}" text-anchor="middle" fill="#495057">${tickLabel(s, stepS)}</text>`,
    );
  }
  parts.push(`<text x="${left}" y="${bottom + 30}" fill="#868e96">seconds since the first entry</text>`);
  return parts;
}

const tickSteps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

function tickLabel(seconds: number, stepS: number): string {
  return `${stepS < 1 ? seconds.toFixed(1) : String(Math.round(seconds))}s`;
}

function legend(top: number, left: number, columns: number): string[] {
  const items: Array<{ key: string; draw: (x: number, y: number) => string; text: string }> = [
    ...(Object.entries(kinds) as Array<[TimelineKind, { color: string; legend: string }]>).map(
      ([kind, { color, legend: text }]) => ({
        key: kind,
        draw: (x: number, y: number) => shape(kind, x, y, color),
        text,
      }),
    ),
    {
      key: 'wait',
      draw: (x: number, y: number) =>
        `<rect x="${fmt(x - 8)}" y="${fmt(y - 3)}" width="18" height="6" rx="2" fill="${kinds.retry.color}" fill-opacity="0.3"/>`,
      text: 'wait before the next attempt',
    },
  ];
  return items.map((item, index) => {
    const x = left + 8 + (index % columns) * legendColumnWidth;
    const y = top + Math.floor(index / columns) * legendRowHeight;
    return `<g class="legend" data-legend="${item.key}">${item.draw(x, y)}<text x="${x + 16}" y="${y + 4}" fill="#495057">${escapeMarkup(item.text)}</text></g>`;
  });
}

/** The wait an entry starts (a retry's backoff, a requeue's delay); 0 for the job's own marks. */
function waitMs(entry: TimelineEntry): number {
  return entry.delayMs !== undefined && Number.isFinite(entry.delayMs) && entry.delayMs > 0
    ? entry.delayMs
    : 0;
}

/** Entries read from Redis are typed, but an older or foreign writer may have used another layer name. */
function laneOf(layer: string): TimelineLayer {
  return layer === 'tool' || layer === 'job' ? layer : 'request';
}

function truncate(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > maxLabelChars ? `${line.slice(0, maxLabelChars - 1)}…` : line;
}

/** Coordinates with at most one decimal: smaller SVG, same picture. */
function fmt(value: number): string {
  return String(Math.round(value * 10) / 10);
}
