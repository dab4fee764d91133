// One of benchmark 2's worker processes (forked by `rate-limit.ts`): `clients` callers in a closed loop
// under one policy for a fixed window, each starting its next logical call as soon as the last one
// succeeded. Answers each `ClientsRun` message with its `ClientsResult`.
import { seededRandom } from '@runner/retry';
import { serveIpc } from './lib/ipc-child.ts';
import { type AttemptCounts, type CallerSetup, createCallers } from './rate-limit-policies.ts';

/** The callers' setup (the counts and randomness are the process's own), and the window. */
export interface ClientsRun extends Omit<CallerSetup, 'counts' | 'random'> {
  id: number;
  clients: number;
  /** When the window starts and ends, epoch ms: the same for every process. */
  startAtMs: number;
  endAtMs: number;
  seed: number;
}

export interface ClientsResult {
  /** Logical calls that succeeded within the window, per caller. */
  successes: number[];
  counts: AttemptCounts;
  /** From each successful call's start to its success. In ms. */
  latenciesMs: number[];
  /** Calls still unfinished when the window closed: their age then, a lower bound on their latency. In ms. */
  unfinishedAgesMs: number[];
}

async function run(message: ClientsRun): Promise<ClientsResult> {
  const counts: AttemptCounts = { attempts: 0, throttled: 0 };
  const callers = createCallers({ ...message, counts, random: seededRandom(message.seed) });
  const result: ClientsResult = {
    successes: Array.from({ length: message.clients }, () => 0),
    counts,
    latenciesMs: [],
    unfinishedAgesMs: [],
  };
  const window = AbortSignal.timeout(Math.max(0, message.endAtMs - Date.now()));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, message.startAtMs - Date.now())));
  const caller = async (index: number) => {
    const random = seededRandom(message.seed * 1_000 + index);
    while (!window.aborted) {
      const startedAtMs = Date.now();
      try {
        await callers.call(random, window);
      } catch {
        if (window.aborted) {
          result.unfinishedAgesMs.push(Date.now() - startedAtMs);
          return;
        }
        continue;
      }
      if (Date.now() > message.endAtMs) return;
      result.successes[index] = (result.successes[index] ?? 0) + 1;
      result.latenciesMs.push(Date.now() - startedAtMs);
    }
  };
  try {
    await Promise.all(Array.from({ length: message.clients }, (_, i) => caller(i)));
  } finally {
    callers.close();
  }
  return result;
}

serveIpc(run);
