import type { ChildProcess } from 'node:child_process';
import type { ClosedLoopResult } from './lib/closed-loop.ts';
import type { OpenLoopResult } from './lib/open-loop.ts';
import { forkTsx, stopProcess } from './lib/processes.ts';
import type { LoadReply, LoadRequest } from './load-generator.ts';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The load generator process (`load-generator.ts`), one phase at a time over IPC. */
export class LoadGeneratorProcess {
  private readonly child: ChildProcess;
  private nextId = 0;
  private readonly waiting = new Map<number, (reply: LoadReply) => void>();

  constructor(repoRoot: string) {
    this.child = forkTsx('bench/load-generator.ts', [], {
      cwd: repoRoot,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (reply: LoadReply) => {
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  open(request: WithoutId<Extract<LoadRequest, { mode: 'open' }>>): Promise<OpenLoopResult> {
    return this.send(request).then((reply) => {
      if ('error' in reply) throw new Error(`load generator: ${reply.error}`);
      if (reply.mode !== 'open') throw new Error('load generator: expected an open-loop result');
      return reply.result;
    });
  }

  closed(request: WithoutId<Extract<LoadRequest, { mode: 'closed' }>>): Promise<ClosedLoopResult> {
    return this.send(request).then((reply) => {
      if ('error' in reply) throw new Error(`load generator: ${reply.error}`);
      if (reply.mode !== 'closed') throw new Error('load generator: expected a closed-loop result');
      return reply.result;
    });
  }

  close(): Promise<void> {
    this.child.disconnect();
    return stopProcess(this.child);
  }

  private send(request: WithoutId<LoadRequest>): Promise<LoadReply> {
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      const onExit = () =>
        reject(new Error(`load generator exited (${this.child.exitCode ?? this.child.signalCode})`));
      this.child.once('exit', onExit);
      this.waiting.set(id, (reply) => {
        this.child.off('exit', onExit);
        resolve(reply);
      });
      this.child.send({ ...request, id });
    });
  }
}
