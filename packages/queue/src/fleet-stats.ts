import { agentQueueName } from './agent-queue.ts';
import type { RedisClient } from './redis-client.ts';

export type JobOutcome = 'completed' | 'failed' | 'requeued' | 'delayed' | 'dead_lettered';

export interface CircuitReport {
  name: string;
  state: 'closed' | 'open' | 'half-open';
  /** While open: when a probe may go through. Epoch ms. */
  retryAtMs?: number;
  updatedAtMs: number;
}

/** Circuit states as gauge values, the same on the ops server and on each worker: 0 closed, 1 half-open, 2 open. */
export const circuitStateValue: Readonly<Record<CircuitReport['state'], number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

const minuteMs = 60_000;

/**
 * Counters the whole fleet shares in Redis, so that ops see one picture however many workers run:
 * retries by layer, target and reason; job outcomes; retries per minute for "retried in the last hour";
 * and the last reported state of each upstream's circuit.
 */
export class FleetStats {
  private readonly redis: RedisClient;
  private readonly prefix: string;

  constructor(redis: RedisClient, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  async countRetry(layer: string, target: string, reason: string, atMs = Date.now()): Promise<void> {
    const bucket = `${this.prefix}:stats:retries:${layer}:${Math.floor(atMs / minuteMs)}`;
    await this.redis
      .multi()
      .hincrby(`${this.prefix}:stats:retries-total`, `${layer}|${target}|${reason}`, 1)
      .incr(bucket)
      .pexpire(bucket, 2 * 60 * minuteMs)
      .exec();
  }

  /** Counts an outcome other than `completed`, which BullMQ's metrics count (`jobsTotal`). */
  async countJob(outcome: Exclude<JobOutcome, 'completed'>): Promise<void> {
    await this.redis.hincrby(this.jobsTotalKey(), outcome, 1);
  }

  /** The hash of job outcome counts, by outcome. */
  jobsTotalKey(): string {
    return `${this.prefix}:stats:jobs-total`;
  }

  /** BullMQ's metrics of completed jobs (`count`, and a list of counts per minute), which workers keep. */
  completedMetricsKey(): string {
    return `${this.prefix}:${agentQueueName}:metrics:completed`;
  }

  async reportCircuit(report: CircuitReport): Promise<void> {
    await this.redis.hset(`${this.prefix}:stats:circuits`, report.name, JSON.stringify(report));
  }

  /** Retries counted since the stats began, by `layer|target|reason`. */
  async retriesTotal(): Promise<Array<{ layer: string; target: string; reason: string; count: number }>> {
    const hash = await this.redis.hgetall(`${this.prefix}:stats:retries-total`);
    return Object.entries(hash).map(([key, count]) => {
      const [layer = '', target = '', reason = ''] = key.split('|');
      return { layer, target, reason, count: Number(count) };
    });
  }

  /**
   * Job outcomes since the stats began. `completed` is BullMQ's count, kept in its completion script by
   * every worker (`createAgentWorker` turns its metrics on), plus the completions that workers of an
   * earlier version counted in the hash themselves.
   */
  async jobsTotal(): Promise<Record<JobOutcome, number>> {
    const [hash, bullCompleted] = await Promise.all([
      this.redis.hgetall(this.jobsTotalKey()),
      this.redis.hget(this.completedMetricsKey(), 'count'),
    ]);
    return {
      completed: Number(hash.completed ?? 0) + Number(bullCompleted ?? 0),
      failed: Number(hash.failed ?? 0),
      requeued: Number(hash.requeued ?? 0),
      delayed: Number(hash.delayed ?? 0),
      dead_lettered: Number(hash.dead_lettered ?? 0),
    };
  }

  /** Retries in the last 60 minutes, per layer. */
  async retriedLastHour(nowMs = Date.now()): Promise<Record<'request' | 'tool' | 'job', number>> {
    const current = Math.floor(nowMs / minuteMs);
    const result = { request: 0, tool: 0, job: 0 };
    for (const layer of ['request', 'tool', 'job'] as const) {
      const keys = Array.from(
        { length: 60 },
        (_, i) => `${this.prefix}:stats:retries:${layer}:${current - i}`,
      );
      const values = await this.redis.mget(...keys);
      result[layer] = values.reduce((sum, value) => sum + Number(value ?? 0), 0);
    }
    return result;
  }

  async circuits(): Promise<CircuitReport[]> {
    const hash = await this.redis.hgetall(`${this.prefix}:stats:circuits`);
    return Object.values(hash).map((value) => JSON.parse(value) as CircuitReport);
  }
}
