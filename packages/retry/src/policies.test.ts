import { describe, expect, it } from 'vitest';
import {
  defaultPolicies,
  PolicyConfigError,
  policyEnvPrefix,
  policyEnvVariables,
  resolvePolicies,
} from './policies.ts';

describe('defaultPolicies', () => {
  it('has the design notes’ numbers', () => {
    expect(defaultPolicies.llm).toMatchObject({
      maxRetries: 5,
      initialDelayMs: 1_000,
      maxDelayMs: 60_000,
      multiplier: 2,
    });
    expect(defaultPolicies.llm.timeoutMs).toBe(30_000);
    expect(defaultPolicies.githubToken).toMatchObject({
      maxRetries: 5,
      maxDelayMs: 30_000,
      timeoutMs: 10_000,
    });
    expect(defaultPolicies.githubTools).toMatchObject({
      maxRetries: 3,
      initialDelayMs: 1_000,
      maxDelayMs: 30_000,
    });
    expect(defaultPolicies.job).toMatchObject({ maxRetries: 5, initialDelayMs: 1_000, maxDelayMs: 60_000 });
    for (const policy of Object.values(defaultPolicies)) expect(policy.jitter).toBe('full');
  });
});

describe('resolvePolicies', () => {
  it('names variables after the policy in upper snake case', () => {
    expect(policyEnvPrefix('githubTools')).toBe('RETRY_GITHUB_TOOLS_');
    expect(policyEnvVariables()).toContain('RETRY_LLM_MAX_RETRIES');
    expect(policyEnvVariables()).toContain('RETRY_GITHUB_TOKEN_TIMEOUT_MS');
    expect(policyEnvVariables()).toHaveLength(16);
  });

  it('overrides only what the environment sets', () => {
    const policies = resolvePolicies({ RETRY_LLM_MAX_RETRIES: '3', RETRY_JOB_MAX_DELAY_MS: ' 120000 ' });
    expect(policies.llm).toEqual({ ...defaultPolicies.llm, maxRetries: 3 });
    expect(policies.job.maxDelayMs).toBe(120_000);
    expect(policies.githubTools).toEqual(defaultPolicies.githubTools);
  });

  it('allows zero retries', () => {
    expect(resolvePolicies({ RETRY_GITHUB_TOOLS_MAX_RETRIES: '0' }).githubTools.maxRetries).toBe(0);
  });

  it('lists every malformed variable at once, with what it expects and what it got', () => {
    let thrown: unknown;
    try {
      resolvePolicies({
        RETRY_LLM_MAX_RETRIES: 'five',
        RETRY_GITHUB_TOKEN_TIMEOUT_MS: '-1',
        RETRY_JOB_INITIAL_DELAY_MS: '1.5',
        RETRY_GITHUB_TOOLS_INITIAL_DELAY_MS: '90000',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PolicyConfigError);
    const problems = (thrown as PolicyConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems[0]).toBe('RETRY_LLM_MAX_RETRIES: expected a whole number from 0 to 100, got "five"');
    expect(problems[1]).toContain('RETRY_GITHUB_TOKEN_TIMEOUT_MS: expected a whole number from 1');
    expect(problems[2]).toContain('RETRY_GITHUB_TOOLS_INITIAL_DELAY_MS (90000) must not exceed');
    expect(problems[3]).toContain('RETRY_JOB_INITIAL_DELAY_MS: expected a whole number');
    expect((thrown as Error).message).toContain('Invalid retry policy configuration');
  });
});
