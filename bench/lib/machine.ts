import { execFile } from 'node:child_process';
import { cpus, platform, release, totalmem } from 'node:os';
import { promisify } from 'node:util';

/** What the figures were measured on; every benchmark prints it, as absolute figures mean little without it. */
export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  os: string;
  node: string;
  /** `redis-server --version`, e.g. `7.0.15`. */
  redis: string;
}

export async function describeMachine(redisServerBinary = 'redis-server'): Promise<Machine> {
  const { stdout } = await promisify(execFile)(redisServerBinary, ['--version']);
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    redis: /v=(\S+)/.exec(stdout)?.[1] ?? stdout.trim(),
  };
}

export function formatMachine(machine: Machine): string {
  return `${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node}, Redis ${machine.redis}`;
}
