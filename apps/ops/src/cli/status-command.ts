import { agentQueueName, type CircuitReport, inspectableStates, type QueueStatus } from '@runner/queue';
import { type CliContext, printJson, printLines } from './cli-context.ts';
import { formatFields, formatRelativeTime, formatTable, type Style, stateCell } from './format.ts';

/** `runner-ops status --json`: the document scripts read. Keys are always present. */
export interface StatusJson {
  queue: string;
  prefix: string;
  counts: QueueStatus['counts'];
  isPaused: boolean;
  workers: number;
  circuits: Array<{
    name: string;
    state: CircuitReport['state'];
    retryAtMs: number | null;
    updatedAtMs: number;
  }>;
  /** Fleet-wide cooldowns: none exist yet, so always empty; the key is here so scripts need not change. */
  cooldowns: never[];
  retriedLastHour: QueueStatus['retriedLastHour'];
}

export function statusJson(status: QueueStatus, prefix: string): StatusJson {
  return {
    queue: agentQueueName,
    prefix,
    counts: status.counts,
    isPaused: status.isPaused,
    workers: status.workers,
    circuits: status.circuits.map((circuit) => ({
      name: circuit.name,
      state: circuit.state,
      retryAtMs: circuit.retryAtMs ?? null,
      updatedAtMs: circuit.updatedAtMs,
    })),
    cooldowns: [],
    retriedLastHour: status.retriedLastHour,
  };
}

/** `runner-ops status`. */
export async function runStatus(context: CliContext): Promise<void> {
  const status = await context.inspector.status();
  if (context.json) printJson(context, statusJson(status, context.prefix));
  else printLines(context, renderStatus(status, context));
}

/** The human view of a status, also the top of `watch`. */
export function renderStatus(
  status: QueueStatus,
  context: Pick<CliContext, 'style' | 'prefix' | 'nowMs'>,
): string[] {
  const { style } = context;
  const nowMs = context.nowMs();
  const fields = formatFields(style, [
    ['Queue', `${agentQueueName} (prefix ${JSON.stringify(context.prefix)})`],
    ['Paused', status.isPaused ? style.yellow('yes: workers take no new jobs (runner-ops resume)') : 'no'],
    ['Workers', workersText(style, status.workers)],
    ['Circuits', status.circuits.length === 0 ? 'none reported' : `${status.circuits.length} reported`],
    ['Cooldown', 'none'],
  ]);
  const counts = formatTable(
    style,
    ['State', 'Jobs'],
    inspectableStates.map((state) => {
      const count = status.counts[state];
      // Only states that hold jobs get their colour, so a red "failed 0" never draws the eye.
      return [count > 0 ? stateCell(style, state) : state, String(count)];
    }),
    { alignRight: [1] },
  );
  const lines = [...fields, '', ...counts];
  if (status.circuits.length > 0) {
    lines.push('', ...renderCircuits(status.circuits, style, nowMs));
  }
  const retried = status.retriedLastHour;
  lines.push(
    '',
    style.bold('Retried in the last hour'),
    ...formatTable(
      style,
      ['Layer', 'Retries'],
      [
        ['request', String(retried.request)],
        ['tool', String(retried.tool)],
        ['job', String(retried.job)],
      ],
      { alignRight: [1] },
    ),
  );
  return lines;
}

function workersText(style: Style, workers: number): string {
  const text = `${workers} connected`;
  // Jobs pile up unseen when no worker runs; say so where it is read.
  return workers === 0 ? style.red(`${text}: nothing is taking jobs`) : text;
}

function renderCircuits(circuits: readonly CircuitReport[], style: Style, nowMs: number): string[] {
  const sorted = [...circuits].sort((a, b) => a.name.localeCompare(b.name));
  return formatTable(
    style,
    ['Upstream', 'Circuit', 'Probe', 'Reported'],
    sorted.map((circuit) => [
      circuit.name,
      stateCell(style, circuit.state),
      circuit.state !== 'closed' && circuit.retryAtMs !== undefined
        ? formatRelativeTime(circuit.retryAtMs, nowMs)
        : '-',
      formatRelativeTime(circuit.updatedAtMs, nowMs),
    ]),
  );
}
