import type { DeliveryOptions } from './deliveries.ts';
import type { IntakeServer } from './intake-servers.ts';
import type { ClosedLoopResult } from './lib/closed-loop.ts';
import type { LoadGeneratorProcess } from './load-generator-client.ts';

/** One closed-loop phase, with the CPU time the intake's process spent per answer. */
export interface ThroughputPhase extends ClosedLoopResult {
  /** In ms; NaN where the process's CPU time cannot be read. */
  cpuMsPerRequest: number;
}

export interface ThroughputOptions {
  generator: LoadGeneratorProcess;
  target: IntakeServer;
  deliveries: DeliveryOptions;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  timeoutMs: number;
}

/** A closed-loop phase (maximum throughput) against one intake, and what it cost the intake's process. */
export async function measureThroughput(options: ThroughputOptions): Promise<ThroughputPhase> {
  const { target } = options;
  const cpuBefore = await target.cpuMs();
  const result = await options.generator.closed({
    mode: 'closed',
    url: target.webhooksUrl,
    deliveries: options.deliveries,
    concurrency: options.concurrency,
    durationMs: options.durationMs,
    warmupMs: options.warmupMs,
    timeoutMs: options.timeoutMs,
  });
  return { ...result, cpuMsPerRequest: ((await target.cpuMs()) - cpuBefore) / result.answered };
}
