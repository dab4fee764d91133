import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { holdJobStarts, jobStartSliceMs, maxJobStartDeferMs, waitForJobStart } from './job-starts.ts';

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy on purpose: synchronous work holds the event loop.
  }
}

async function socketPair(): Promise<{ client: Socket; server: Socket; close(): void }> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = connect(address.port, '127.0.0.1');
  await once(client, 'connect');
  const [server] = await accepted;
  return {
    client,
    server,
    close: () => {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

describe('waitForJobStart', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('lets short jobs start one after another in the same turn, in order', async () => {
    // The clock stands still: however slow the machine, the jobs stay inside the slice.
    vi.spyOn(performance, 'now').mockReturnValue(1_000);
    let turnEnded = false;
    setImmediate(() => {
      turnEnded = true;
    });
    const started: Array<{ job: number; turnEnded: boolean; othersRunning: number }> = [];
    let running = 0;
    await Promise.all(
      [1, 2, 3, 4, 5].map((job) =>
        waitForJobStart().then(async () => {
          started.push({ job, turnEnded, othersRunning: running });
          running += 1;
          // Synchronous work over several microtasks: the next job waits until it is all done.
          for (let step = 0; step < 3; step += 1) await Promise.resolve();
          running -= 1;
        }),
      ),
    );
    expect(started).toEqual([1, 2, 3, 4, 5].map((job) => ({ job, turnEnded: false, othersRunning: 0 })));
  });

  it('gives the loop a turn once the jobs started have taken jobStartSliceMs', async () => {
    let nowMs = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => nowMs);
    let turnsSeen = 0;
    const countTurns = () => {
      turnsSeen += 1;
      if (turnsSeen < 50) setImmediate(countTurns);
    };
    setImmediate(countTurns);
    const startedInTurn: number[] = [];
    await Promise.all(
      [1, 2, 3, 4].map(() =>
        waitForJobStart().then(() => {
          startedInTurn.push(turnsSeen);
          // Each job takes half the slice.
          nowMs += jobStartSliceMs / 2;
        }),
      ),
    );
    // Two jobs fill a slice: the other two wait for the next turns.
    expect(startedInTurn[0]).toBe(startedInTurn[1]);
    expect(startedInTurn[2]).toBeGreaterThan(startedInTurn[1] ?? 0);
    expect(startedInTurn[3]).toBe(startedInTurn[2]);
  });

  it('lets long jobs go one per turn, in order, with I/O handled between them', async () => {
    const { client, server, close } = await socketPair();
    // A slice that an earlier test opened ends with a check phase.
    await turns(1);
    try {
      const order: string[] = [];
      server.on('data', () => order.push('I/O'));
      const jobs = [1, 2, 3, 4, 5].map((n) =>
        waitForJobStart().then(() => {
          order.push(`job ${n}`);
          spin(5);
        }),
      );
      // Readable by the first job's end: the next turn's poll phase reads it before the next job runs.
      client.write('ping');
      await Promise.all(jobs);
      expect(order.filter((entry) => entry !== 'I/O')).toEqual(['job 1', 'job 2', 'job 3', 'job 4', 'job 5']);
      // Each job is longer than jobStartSliceMs; let go together, the five would all run before the read.
      expect(order.indexOf('I/O')).toBeGreaterThan(0);
      expect(order.indexOf('I/O')).toBeLessThan(3);
    } finally {
      close();
    }
  });

  it('keeps job starts back while a request holds them, and lets them go when it ends', async () => {
    // The clock stands still: however slow the machine, maxJobStartDeferMs never runs out.
    vi.spyOn(performance, 'now').mockReturnValue(1_000);
    const first = holdJobStarts();
    const second = holdJobStarts();
    let started = false;
    const job = waitForJobStart().then(() => {
      started = true;
    });
    try {
      await turns(5);
      expect(started).toBe(false);
      // A release called twice counts once: the other request still holds.
      first();
      first();
      await turns(5);
      expect(started).toBe(false);
    } finally {
      second();
    }
    await job;
    expect(started).toBe(true);
  });

  it('starts a job held longer than maxJobStartDeferMs all the same, one per period', async () => {
    const release = holdJobStarts();
    try {
      const heldAt = performance.now();
      const startedAfter: number[] = [];
      await Promise.all(
        [1, 2].map(() => waitForJobStart().then(() => startedAfter.push(performance.now() - heldAt))),
      );
      expect(startedAfter[0]).toBeGreaterThanOrEqual(maxJobStartDeferMs - 1);
      expect((startedAfter[1] ?? 0) - (startedAfter[0] ?? 0)).toBeGreaterThanOrEqual(maxJobStartDeferMs - 1);
    } finally {
      release();
    }
  });
});

/** Resolves after `count` turns of the event loop (check phases). */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) await new Promise((resolve) => setImmediate(resolve));
}
