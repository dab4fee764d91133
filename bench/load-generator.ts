// The intake benchmark's load generator, as a process of its own (forked with an IPC channel by
// `intake.ts`), so that its own work never shares an event loop with the intake or the workers it
// measures. It answers each `LoadRequest` message with a `LoadReply`.
import { Agent, request } from 'node:http';
import { type DeliveryOptions, type SignedDelivery, signedDeliveries } from './deliveries.ts';
import { type ClosedLoopResult, closedLoop } from './lib/closed-loop.ts';
import { type OpenLoopResult, openLoop, openLoopRequests } from './lib/open-loop.ts';

interface LoadCommon {
  id: number;
  /** e.g. `http://127.0.0.1:3000/webhooks` */
  url: string;
  deliveries: DeliveryOptions;
  durationMs: number;
  warmupMs: number;
}

export type LoadRequest =
  | (LoadCommon & { mode: 'open'; ratePerSec: number; deadlineMs: number })
  | (LoadCommon & { mode: 'closed'; concurrency: number; timeoutMs: number });

export type LoadReply =
  | { id: number; mode: 'open'; result: OpenLoopResult }
  | { id: number; mode: 'closed'; result: ClosedLoopResult }
  | { id: number; error: string };

/** POSTs a delivery on a keep-alive agent; resolves with the status once the whole answer is read. */
function post(agent: Agent, url: string, delivery: SignedDelivery, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: delivery.headers, signal }, (res) => {
      res.on('error', reject);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.resume();
    });
    req.on('error', reject);
    req.end(delivery.body);
  });
}

async function run(message: LoadRequest): Promise<LoadReply> {
  // A fresh agent per phase: no connection outlives the server it was opened to.
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const delivery = signedDeliveries(message.deliveries);
  const send = (index: number, signal: AbortSignal) => post(agent, message.url, delivery(index), signal);
  try {
    if (message.mode === 'open') {
      // Signed before the clock starts (a few MB): signing a 25 KB body when a request is due would make
      // the generator itself late in a burst, and that lag would count as the intake's latency.
      const signed = Array.from({ length: openLoopRequests(message) }, (_, index) => delivery(index));
      const sendSigned = (index: number, signal: AbortSignal) =>
        post(agent, message.url, signed[index] ?? delivery(index), signal);
      const result = await openLoop({ ...message, send: sendSigned });
      return { id: message.id, mode: 'open', result };
    }
    const result = await closedLoop({ ...message, send });
    return { id: message.id, mode: 'closed', result };
  } finally {
    agent.destroy();
  }
}

process.on('message', (message: LoadRequest) => {
  run(message).then(
    (reply) => process.send?.(reply),
    (error: unknown) => process.send?.({ id: message.id, error: String(error) } satisfies LoadReply),
  );
});
process.on('disconnect', () => process.exit(0));
