import type { ServerResponse } from 'node:http';
import type { Step } from './fake-upstream-steps.ts';
import type { RecordedRequest } from './recorded-request.ts';

/** Thrown when step functions keep returning functions, which is almost surely a script bug. */
export class StepNestingError extends Error {
  override readonly name = 'StepNestingError';
  constructor(readonly depth: number) {
    super(`A fake-upstream step function returned functions ${depth} levels deep; return a step object`);
  }
}

const maxStepDepth = 16;

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function writeAndFlush(res: ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    res.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Carries out one scripted step on a response. `signal` aborts when the fake upstream
 * closes, so delays end promptly instead of holding the process open.
 */
export async function performStep(
  step: Step,
  req: RecordedRequest,
  res: ServerResponse,
  signal: AbortSignal,
  depth = 0,
): Promise<void> {
  if (typeof step === 'function') {
    if (depth >= maxStepDepth) throw new StepNestingError(depth);
    await performStep(await step(req), req, res, signal, depth + 1);
    return;
  }
  switch (step.kind) {
    case 'respond':
      res.writeHead(step.status, step.headers);
      res.end(step.body);
      return;
    case 'hang':
      // Deliberately nothing: the socket stays open until the client or close() ends it.
      return;
    case 'reset':
      res.socket?.resetAndDestroy();
      return;
    case 'resetMidBody': {
      res.writeHead(step.status, {
        ...step.headers,
        'content-length': String(Buffer.byteLength(step.body)),
      });
      // Half of the characters, not bytes, so a multi-byte character is never split.
      await writeAndFlush(res, step.body.slice(0, Math.floor(step.body.length / 2)));
      res.socket?.resetAndDestroy();
      return;
    }
    case 'delay':
      await sleep(step.ms, signal);
      if (signal.aborted || res.destroyed) return;
      await performStep(step.step, req, res, signal, depth);
      return;
  }
}
