import { type AgentQueue, exampleJobData } from '@runner/queue';

/** Adds `count` issues.opened jobs with ids `<idPrefix>-0`, `<idPrefix>-1`, ..., in bulks of 1 000. */
export async function fillQueue(queue: AgentQueue, count: number, idPrefix: string): Promise<void> {
  for (let first = 0; first < count; first += 1_000) {
    const ids = Array.from({ length: Math.min(1_000, count - first) }, (_, i) => `${idPrefix}-${first + i}`);
    await queue.addBulk(
      ids.map((id) => ({ name: 'issues.opened', data: exampleJobData(id), opts: { jobId: id } })),
    );
  }
}
