import type { TimelineEntry } from '@runner/queue';
import { describe, expect, it } from 'vitest';
import { renderTimelineSvg } from './timeline-svg.ts';
import { parseXml, type XmlElement } from './well-formed-xml.ts';

const t0 = Date.UTC(2025, 0, 1, 12, 0, 0);

/** A job that retried at every layer: two LLM 429s, one tool 502, a requeue, then success. */
const entries: TimelineEntry[] = [
  { kind: 'job_started', layer: 'job', target: 'agent', atMs: t0, attempt: 1, maxAttempts: 6 },
  {
    kind: 'retry',
    layer: 'request',
    target: 'llm',
    atMs: t0 + 500,
    attempt: 2,
    maxAttempts: 6,
    delayMs: 1_000,
    reason: 'HTTP 429',
    status: 429,
  },
  {
    kind: 'retry',
    layer: 'request',
    target: 'llm',
    atMs: t0 + 1_500,
    attempt: 3,
    maxAttempts: 6,
    delayMs: 2_000,
    reason: 'HTTP 429',
    status: 429,
  },
  {
    kind: 'retry',
    layer: 'tool',
    target: 'comment_on_issue',
    atMs: t0 + 4_000,
    attempt: 2,
    maxAttempts: 4,
    delayMs: 1_000,
    reason: 'HTTP 502',
    status: 502,
  },
  {
    kind: 'job_requeued',
    layer: 'job',
    target: 'agent',
    atMs: t0 + 6_000,
    attempt: 1,
    maxAttempts: 5,
    delayMs: 2_000,
    reason: 'HTTP 502',
    status: 502,
  },
  { kind: 'job_started', layer: 'job', target: 'agent', atMs: t0 + 8_000, attempt: 2, maxAttempts: 6 },
  { kind: 'job_completed', layer: 'job', target: 'agent', atMs: t0 + 9_000 },
];

function marks(svg: string): XmlElement[] {
  return parseXml(svg).filter((element) => element.attributes['data-kind'] !== undefined);
}

/** What a mark draws: the elements after its `<g>`, up to the next `<g>`. */
function drawingOf(all: XmlElement[], mark: XmlElement): XmlElement[] {
  const start = all.indexOf(mark);
  const next = all.findIndex((element, index) => index > start && element.name === 'g');
  return all.slice(start + 1, next === -1 ? undefined : next);
}

describe('renderTimelineSvg', () => {
  it('draws one mark per entry, on its layer’s lane, as well-formed SVG', () => {
    const svg = renderTimelineSvg(entries);
    const [root] = parseXml(svg);
    expect(root?.name).toBe('svg');
    expect(root?.attributes.xmlns).toBe('http://www.w3.org/2000/svg');

    const drawn = marks(svg);
    expect(drawn).toHaveLength(entries.length);
    expect(drawn.map((mark) => mark.attributes['data-kind'])).toEqual(entries.map((entry) => entry.kind));
    expect(drawn.map((mark) => mark.attributes['data-layer'])).toEqual(entries.map((entry) => entry.layer));
    expect(drawn.filter((mark) => mark.attributes['data-kind'] === 'retry')).toHaveLength(3);
    expect(
      drawn.filter(
        (mark) => mark.attributes['data-kind'] === 'retry' && mark.attributes['data-layer'] === 'request',
      ),
    ).toHaveLength(2);
    // The legend's samples are not marks.
    expect(parseXml(svg).filter((element) => element.attributes['data-legend'] !== undefined)).toHaveLength(
      8,
    );
  });

  it('labels a retry with its status and wait, and gives the whole sentence as a tooltip', () => {
    const svg = renderTimelineSvg(entries);
    const all = parseXml(svg);
    const texts = all.filter((element) => element.name === 'text').map((element) => element.text);
    expect(texts).toContain('429 · 1.0s');
    expect(texts).toContain('429 · 2.0s');
    expect(texts).toContain('502 · 1.0s');
    expect(texts).toContain('completed');
    const titles = all.filter((element) => element.name === 'title').map((element) => element.text);
    expect(titles).toContain(
      'T=0.5s [request · llm] LLM API call failed (429), retrying in 1.0s (attempt 2/6)',
    );
    expect(titles).toContain(
      'T=6.0s [job · agent] All retries exhausted (HTTP 502), job re-queued (attempt 1/5) after 2.0s',
    );
  });

  it('draws each wait as a bar that ends where the next attempt starts', () => {
    const all = parseXml(renderTimelineSvg(entries));
    const [first, second] = all.filter((element) => element.attributes['data-target'] === 'llm');
    const bar = drawingOf(all, first!).find((element) => element.name === 'rect');
    const nextDot = drawingOf(all, second!).find((element) => element.name === 'circle');
    const barEnd = Number(bar?.attributes.x) + Number(bar?.attributes.width);
    expect(barEnd).toBeCloseTo(Number(nextDot?.attributes.cx), 0);
    // A job event that starts no wait has no bar: a completed job's mark is its square alone.
    const completed = all.find((element) => element.attributes['data-kind'] === 'job_completed');
    expect(drawingOf(all, completed!).map((element) => element.name)).toEqual(['title', 'rect', 'text']);
    expect(drawingOf(all, completed!)[1]?.attributes.width).toBe('10');
  });

  it('escapes every text it draws: reasons and targets come from upstream errors', () => {
    const hostile: TimelineEntry[] = [
      {
        kind: 'retry',
        layer: 'request',
        target: 'llm"><script>alert(1)</script>',
        atMs: t0,
        attempt: 2,
        maxAttempts: 6,
        delayMs: 1_000,
        reason: '<script>alert("x")</script> & \u001b[31mred\u001b[0m',
      },
      {
        kind: 'job_failed',
        layer: 'job',
        target: 'agent',
        atMs: t0 + 1_000,
        reason: "</svg><img src=x onerror='1'>",
      },
    ];
    const svg = renderTimelineSvg(hostile);
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('<img');
    expect(svg).not.toContain('\u001b');
    const all = parseXml(svg);
    expect(all.filter((element) => element.name === 'script' || element.name === 'img')).toEqual([]);
    expect(marks(svg)[0]?.attributes['data-target']).toBe('llm"><script>alert(1)</script>');
    const titles = all.filter((element) => element.name === 'title').map((element) => element.text);
    expect(titles.some((title) => title.includes('<script>alert("x")</script> & \uFFFD[31mred'))).toBe(true);
  });

  it('draws empty lanes and says so when nothing was recorded', () => {
    const svg = renderTimelineSvg([]);
    expect(marks(svg)).toEqual([]);
    expect(parseXml(svg).some((element) => element.text === 'No retries or job events recorded')).toBe(true);
  });

  it('runs the axis to now for a job in progress, and takes the width asked for', () => {
    const svg = renderTimelineSvg(entries.slice(0, 3), { width: 1200, now: t0 + 30_000 });
    const all = parseXml(svg);
    expect(all[0]?.attributes.width).toBe('1200');
    const ticks = all.filter((element) => element.name === 'text' && /^\d+(\.\d)?s$/.test(element.text));
    expect(ticks.at(-1)?.text).toBe('30s');
    expect(all.some((element) => element.text === 'now')).toBe(true);
    expect(parseXml(renderTimelineSvg(entries.slice(0, 3))).some((element) => element.text === 'now')).toBe(
      false,
    );
  });
});
