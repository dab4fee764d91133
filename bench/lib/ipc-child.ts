import type { ChildProcess } from 'node:child_process';
import { forkTsx, stopProcess } from './processes.ts';

/**
 * A forked `node --import tsx` process driven by request/reply messages over IPC: each request carries an
 * `id`, and the child answers with `{ id, result }` or `{ id, error }`. A child that exits fails what it
 * still owed.
 */
export class IpcChild<Request extends object, Result> {
  private readonly child: ChildProcess;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void }>();

  constructor(repoRoot: string, file: string, args: readonly string[] = []) {
    this.child = forkTsx(file, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (reply: { id: number; result?: Result; error?: string }) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.error !== undefined) waiter?.reject(new Error(`${file}: ${reply.error}`));
      else waiter?.resolve(reply.result as Result);
    });
    this.child.once('exit', (code, signal) => {
      for (const waiter of this.waiting.values())
        waiter.reject(new Error(`${file} exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  request(message: Request): Promise<Result> {
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...message, id });
    });
  }

  close(): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    return stopProcess(this.child);
  }
}

/** The child's side: answers every request with `handle`'s result or its error. */
export function serveIpc<Request extends { id: number }, Result>(
  handle: (request: Request) => Promise<Result>,
): void {
  process.on('message', (request: Request) => {
    handle(request).then(
      (result) => process.send?.({ id: request.id, result }),
      (error: unknown) => process.send?.({ id: request.id, error: String(error) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
