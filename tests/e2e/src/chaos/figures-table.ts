/** A two-column markdown table of a scenario's figures, as the README shows them. */
export function figuresTable(rows: ReadonlyArray<readonly [string, string | number]>): string {
  return [
    '| figure | value |',
    '| --- | --- |',
    ...rows.map(([name, value]) => `| ${name} | ${value} |`),
  ].join('\n');
}

/** `1234` ms as `1.2 s`; `n/a` when there is nothing to measure. */
export function seconds(ms: number | undefined): string {
  return ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;
}
