import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { holdJobStarts, maxJobStartDeferMs, nextEventLoopTurn } from './event-loop-turns.ts';

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

describe('nextEventLoopTurn', () => {
  it('lets waiters go one per turn, in order, with I/O handled between them', async () => {
    const { client, server, close } = await socketPair();
    try {
      const order: string[] = [];
      server.on('data', () => order.push('I/O'));
      const jobs = [1, 2, 3, 4, 5].map((n) =>
        nextEventLoopTurn().then(() => {
          order.push(`job ${n}`);
          spin(5);
        }),
      );
      // Readable by the first job's end: the next turn's poll phase reads it before the next job runs.
      client.write('ping');
      await Promise.all(jobs);
      expect(order.filter((entry) => entry !== 'I/O')).toEqual(['job 1', 'job 2', 'job 3', 'job 4', 'job 5']);
      // Let go together (as a plain microtask would), the five jobs would all run before the read.
      expect(order.indexOf('I/O')).toBeGreaterThan(0);
      expect(order.indexOf('I/O')).toBeLessThan(3);
    } finally {
      close();
    }
  });

  it('keeps job starts back while a request holds them, and lets them go when it ends', async () => {
    const first = holdJobStarts();
    const second = holdJobStarts();
    let started = false;
    const job = nextEventLoopTurn().then(() => {
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
        [1, 2].map(() => nextEventLoopTurn().then(() => startedAfter.push(performance.now() - heldAt))),
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
