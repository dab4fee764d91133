import type { CircuitBreaker } from '@runner/retry';
import { FleetGuard, type FleetGuardOptions } from '@runner/retry';
import { classifyGitHubError } from './classify-github-error.ts';

/** The fleet's name for one installation's upstream: its cooldown, retry budget, rate limit and circuit. */
export function installationTarget(installationId: number): string {
  return `github:installation:${installationId}`;
}

/**
 * A `FleetGuard` that reads GitHub's failures as GitHub means them: a rate-limit 403 holds the fleet
 * like a 429, and a secondary limit without a hint holds it for GitHub's 60 s.
 */
export function createGitHubFleetGuard(options: Omit<FleetGuardOptions, 'classify'>): FleetGuard {
  return new FleetGuard({ ...options, classify: classifyGitHubError });
}

/** How the tool calls of one job cooperate with the rest of the fleet on the job's installation. */
export interface InstallationFleet {
  /** From `createGitHubFleetGuard`, with the fleet's shared stores. */
  guard: FleetGuard;
  /** `installationTarget(installationId)`. */
  target: string;
  /**
   * The installation's circuit, shared by the fleet, with `classifyGitHubError` as its `classify`, so
   * that only GitHub in trouble (5xx, timeouts, resets) opens it, never a spent quota; absent: none.
   */
  breaker?: CircuitBreaker;
}
