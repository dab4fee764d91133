import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPolicies } from '@runner/retry';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { envVariables } from './env-variables.ts';
import { loadConfig } from './load-config.ts';

const { privateKey: pem } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

const tempDir = mkdtempSync(join(tmpdir(), 'runner-config-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

/** The ConfigError `loadConfig` throws for `env`; fails the test when it returns instead. */
function configError(...args: Parameters<typeof loadConfig>): ConfigError {
  try {
    loadConfig(...args);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig', () => {
  it('fills in every default from an empty environment', () => {
    expect(loadConfig({})).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      redisClusterNodes: undefined,
      logLevel: 'info',
      github: {
        apiUrl: 'https://api.github.com',
        appId: undefined,
        privateKey: undefined,
        webhookSecret: undefined,
        appSlug: undefined,
      },
      llm: { baseUrl: 'https://ollama.com/v1', apiKey: undefined, model: 'glm-4.6' },
      retry: defaultPolicies,
      queue: { prefix: 'runner' },
      worker: {
        id: undefined,
        concurrency: 4,
        shutdownGraceMs: 30_000,
        lockDurationMs: 30_000,
        stalledIntervalMs: 30_000,
      },
      job: { deadlineMs: 900_000 },
      agent: { maxTurns: 8 },
      webhooks: { port: 3000, maxBodyBytes: 26_214_400, enqueueTimeoutMs: 5_000 },
      ops: { port: 3001, host: '127.0.0.1', token: undefined },
      metricsPort: undefined,
      fleet: {
        rateLimits: { llm: undefined, github: undefined },
        retryBudget: { ratio: 0.2, minRetriesPerWindow: 3 },
        circuit: { failureThreshold: 5, cooldownMs: 30_000 },
      },
    });
  });

  it('treats empty and blank values as unset', () => {
    const blank = Object.fromEntries(envVariables.map(({ name }, index) => [name, index % 2 ? '' : '  ']));
    expect(loadConfig(blank, { needs: ['llm'] })).toEqual(loadConfig({}));
  });

  it('reads every variable', () => {
    const config = loadConfig(
      {
        REDIS_URL: 'rediss://:hunter2@redis.internal:6380/1',
        LOG_LEVEL: 'DEBUG',
        GITHUB_APP_ID: ' 123456 ',
        GITHUB_APP_PRIVATE_KEY: pem,
        GITHUB_WEBHOOK_SECRET: ' webhook secret ',
        GITHUB_APP_SLUG: 'agent-runner-2',
        GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
        LLM_BASE_URL: 'http://127.0.0.1:11434/v1/',
        LLM_API_KEY: 'sk-abc123',
        LLM_MODEL: 'gpt-oss:120b',
        RETRY_LLM_MAX_RETRIES: '2',
        RETRY_JOB_TIMEOUT_MS: '600000',
      },
      { needs: ['githubApp', 'webhooks', 'llm'] },
    );
    expect(config).toEqual({
      redisUrl: 'rediss://:hunter2@redis.internal:6380/1',
      redisClusterNodes: undefined,
      logLevel: 'debug',
      github: {
        apiUrl: 'https://ghe.example.com/api/v3',
        appId: '123456',
        privateKey: pem,
        // The HMAC key is used exactly as typed.
        webhookSecret: ' webhook secret ',
        appSlug: 'agent-runner-2',
      },
      llm: { baseUrl: 'http://127.0.0.1:11434/v1', apiKey: 'sk-abc123', model: 'gpt-oss:120b' },
      retry: {
        ...defaultPolicies,
        llm: { ...defaultPolicies.llm, maxRetries: 2 },
        job: { ...defaultPolicies.job, timeoutMs: 600_000 },
      },
      queue: { prefix: 'runner' },
      worker: {
        id: undefined,
        concurrency: 4,
        shutdownGraceMs: 30_000,
        lockDurationMs: 30_000,
        stalledIntervalMs: 30_000,
      },
      job: { deadlineMs: 900_000 },
      agent: { maxTurns: 8 },
      webhooks: { port: 3000, maxBodyBytes: 26_214_400, enqueueTimeoutMs: 5_000 },
      ops: { port: 3001, host: '127.0.0.1', token: undefined },
      metricsPort: undefined,
      fleet: {
        rateLimits: { llm: undefined, github: undefined },
        retryBudget: { ratio: 0.2, minRetriesPerWindow: 3 },
        circuit: { failureThreshold: 5, cooldownMs: 30_000 },
      },
    });
  });

  describe('the GitHub App private key', () => {
    it('turns literal \\n escapes into line breaks, for keys pasted into one-line variables', () => {
      const oneLine = pem.trimEnd().replaceAll('\n', '\\n');
      expect(oneLine).not.toContain('\n');
      expect(loadConfig({ GITHUB_APP_PRIVATE_KEY: oneLine }).github.privateKey).toBe(pem);
    });

    it('reads the key from GITHUB_APP_PRIVATE_KEY_PATH', () => {
      const path = join(tempDir, 'app.private-key.pem');
      writeFileSync(path, pem);
      const config = loadConfig(
        { GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY_PATH: path },
        { needs: ['githubApp'] },
      );
      expect(config.github.privateKey).toBe(pem);
    });

    it('reads the key file through options.readFile', () => {
      const paths: string[] = [];
      const readFile = (path: string) => {
        paths.push(path);
        return pem;
      };
      const config = loadConfig({ GITHUB_APP_PRIVATE_KEY_PATH: '/keys/app.pem' }, { readFile });
      expect(config.github.privateKey).toBe(pem);
      expect(paths).toEqual(['/keys/app.pem']);
    });

    it('names the path of a file it cannot read', () => {
      const path = join(tempDir, 'missing.pem');
      const error = configError({ GITHUB_APP_PRIVATE_KEY_PATH: path });
      expect(error.problems).toEqual([expect.stringContaining(`GITHUB_APP_PRIVATE_KEY_PATH:`)]);
      expect(error.problems[0]).toContain(`"${path}", which cannot be read (ENOENT)`);
    });

    it('describes a key file that holds no key without quoting it', () => {
      const contents = 'ghp_not-a-key-but-secret-all-the-same';
      const error = configError(
        { GITHUB_APP_PRIVATE_KEY_PATH: '/keys/app.pem' },
        { readFile: () => contents },
      );
      expect(error.problems).toEqual([
        expect.stringContaining(
          `got "/keys/app.pem", a file of ${contents.length} characters that is not a PEM private key`,
        ),
      ]);
      expect(error.message).not.toContain(contents);
    });

    it('rejects setting both the key and its path', () => {
      const error = configError(
        { GITHUB_APP_PRIVATE_KEY: pem, GITHUB_APP_PRIVATE_KEY_PATH: '/keys/app.pem' },
        { readFile: () => pem },
      );
      expect(error.problems).toEqual([
        expect.stringContaining('set only one of GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_PATH'),
      ]);
    });

    it('rejects a key with PEM markers that Node cannot load', () => {
      const [first = '', ...rest] = pem.trim().split('\n');
      // Line breaks turned into spaces, as some secret forms do, and half the body missing.
      const damaged = [first, ...rest.slice(rest.length / 2)].join(' ');
      const error = configError({ GITHUB_APP_PRIVATE_KEY: damaged });
      expect(error.problems).toEqual([
        expect.stringContaining(
          `got a value of ${damaged.length} characters that has PEM markers but is not a readable private key`,
        ),
      ]);
    });
  });

  describe('the LLM variables', () => {
    it('accepts the design notes’ OLLAMA_* names, reading an /api path as the OpenAI-compatible /v1', () => {
      const config = loadConfig({
        OLLAMA_API_URL: 'https://ollama.com/api',
        OLLAMA_API_KEY: 'ollama-key',
        OLLAMA_MODEL: 'qwen3-coder:480b',
      });
      expect(config.llm).toEqual({
        baseUrl: 'https://ollama.com/v1',
        apiKey: 'ollama-key',
        model: 'qwen3-coder:480b',
      });
    });

    it('maps only a trailing /api segment, and only under the old name', () => {
      expect(loadConfig({ OLLAMA_API_URL: 'https://gpu-box:11434/api/' }).llm.baseUrl).toBe(
        'https://gpu-box:11434/v1',
      );
      expect(loadConfig({ OLLAMA_API_URL: 'https://proxy.example.com/v1' }).llm.baseUrl).toBe(
        'https://proxy.example.com/v1',
      );
      expect(loadConfig({ OLLAMA_API_URL: 'https://example.com/apis' }).llm.baseUrl).toBe(
        'https://example.com/apis',
      );
      expect(loadConfig({ LLM_BASE_URL: 'https://gateway.example.com/api' }).llm.baseUrl).toBe(
        'https://gateway.example.com/api',
      );
    });

    it('allows a setting under both names when they agree', () => {
      const config = loadConfig({
        LLM_BASE_URL: 'https://ollama.com/v1',
        OLLAMA_API_URL: 'https://ollama.com/api',
        LLM_MODEL: 'glm-4.6',
        OLLAMA_MODEL: 'glm-4.6',
      });
      expect(config.llm).toMatchObject({ baseUrl: 'https://ollama.com/v1', model: 'glm-4.6' });
    });

    it('rejects a setting under both names when they disagree, without quoting keys', () => {
      const error = configError({
        LLM_BASE_URL: 'https://api.example.com/v1',
        OLLAMA_API_URL: 'https://ollama.com/api',
        LLM_API_KEY: 'key-one-secret',
        OLLAMA_API_KEY: 'key-two-secret',
        LLM_MODEL: 'glm-4.6',
        OLLAMA_MODEL: 'llama3.3',
      });
      expect(error.problems).toEqual([
        'OLLAMA_API_URL: set only one of LLM_BASE_URL and OLLAMA_API_URL (OLLAMA_API_URL is the older name); got "https://api.example.com/v1" and "https://ollama.com/api"',
        'OLLAMA_API_KEY: set only one of LLM_API_KEY and OLLAMA_API_KEY (OLLAMA_API_KEY is the older name); both are set, to different values',
        'OLLAMA_MODEL: set only one of LLM_MODEL and OLLAMA_MODEL (OLLAMA_MODEL is the older name); got "glm-4.6" and "llama3.3"',
      ]);
      expect(error.message).not.toContain('key-one');
      expect(error.message).not.toContain('key-two');
    });

    it('checks set LLM values even when the app does not need the LLM', () => {
      const error = configError({ LLM_BASE_URL: 'ollama.com/v1', LLM_MODEL: 'glm 4.6' });
      expect(error.problems).toEqual([
        expect.stringMatching(/^LLM_BASE_URL: expected .*OpenAI-compatible API.*; got "ollama\.com\/v1"$/),
        expect.stringMatching(/^LLM_MODEL: expected a model name without spaces.*; got "glm 4\.6"$/),
      ]);
    });
  });

  describe('needs', () => {
    it('requires the App ID and a private key for githubApp', () => {
      expect(configError({}, { needs: ['githubApp'] }).problems).toEqual([
        'GITHUB_APP_ID is required for githubApp; set it in the environment or in .env (the "App ID" on the GitHub App\'s settings page)',
        'GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH is required for githubApp; set one of them in the environment or in .env (generate a key under "Private keys" on the GitHub App\'s settings page)',
      ]);
    });

    it('requires the webhook secret and the App slug for webhooks', () => {
      const error = configError({ GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: pem }, { needs: ['webhooks'] });
      expect(error.problems).toEqual([
        expect.stringMatching(
          /^GITHUB_WEBHOOK_SECRET is required for webhooks; set it in the environment or in \.env/,
        ),
        expect.stringMatching(
          /^GITHUB_APP_SLUG is required for webhooks; set it in the environment or in \.env/,
        ),
      ]);
    });

    it('requires nothing for llm, since a local Ollama needs no key', () => {
      expect(loadConfig({}, { needs: ['llm'] }).llm.apiKey).toBeUndefined();
    });

    it('reports a set but malformed required variable once, as malformed', () => {
      const error = configError(
        { GITHUB_APP_ID: 'Iv1.8a61f9b3a7aba766', GITHUB_APP_PRIVATE_KEY: pem },
        {
          needs: ['githubApp'],
        },
      );
      expect(error.problems).toEqual([
        'GITHUB_APP_ID: expected a positive whole number: the "App ID" on the GitHub App\'s settings page (Settings → Developer settings → GitHub Apps → Edit), not its Client ID; got "Iv1.8a61f9b3a7aba766"',
      ]);
    });
  });

  it('lists every problem in one ConfigError, retry policies included', () => {
    const error = configError(
      {
        REDIS_URL: 'http://127.0.0.1:6379',
        LOG_LEVEL: 'verbose',
        GITHUB_APP_ID: '0',
        GITHUB_APP_SLUG: 'My Agent',
        GITHUB_API_URL: 'api.github.com',
        RETRY_LLM_MAX_RETRIES: 'five',
        RETRY_JOB_INITIAL_DELAY_MS: '90000',
      },
      { needs: ['githubApp', 'webhooks'] },
    );
    expect(error).toMatchObject({ name: 'ConfigError', code: 'invalid_config' });
    expect(error.problems.map((problem) => problem.split(/[: ]/, 1)[0])).toEqual([
      'REDIS_URL',
      'LOG_LEVEL',
      'GITHUB_API_URL',
      'GITHUB_APP_ID',
      'GITHUB_APP_SLUG',
      'RETRY_LLM_MAX_RETRIES',
      'RETRY_JOB_INITIAL_DELAY_MS',
      'GITHUB_APP_PRIVATE_KEY',
      'GITHUB_WEBHOOK_SECRET',
    ]);
    expect(error.problems).toContain(
      'RETRY_LLM_MAX_RETRIES: expected a whole number from 0 to 100, got "five"',
    );
    expect(error.message).toBe(
      `Invalid configuration (9 problems):\n${error.problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
    expect(error.problems[0]).toBe(
      'REDIS_URL: expected a redis:// URL such as redis://127.0.0.1:6379 (rediss:// for TLS); got "http://127.0.0.1:6379"',
    );
  });

  it('never shows a secret, only its length and what is wrong with it', () => {
    const secrets = {
      GITHUB_APP_PRIVATE_KEY: 'sk-live-0123456789',
      LLM_API_KEY: 'abc def ghi',
      OLLAMA_API_KEY: 'jkl mno',
    };
    const error = configError(secrets);
    expect(error.problems).toEqual([
      expect.stringMatching(
        /^GITHUB_APP_PRIVATE_KEY: expected .*; got a value of 18 characters that is not a PEM private key$/,
      ),
      expect.stringMatching(
        /^LLM_API_KEY: expected .*; got a value of 11 characters that contains whitespace$/,
      ),
      expect.stringMatching(
        /^OLLAMA_API_KEY: expected .*; got a value of 7 characters that contains whitespace$/,
      ),
      expect.stringMatching(
        /^OLLAMA_API_KEY: set only one of LLM_API_KEY and OLLAMA_API_KEY .*; both are set/,
      ),
    ]);
    for (const secret of Object.values(secrets)) {
      for (const part of secret.split(' ')) expect(error.message).not.toContain(part);
    }
  });

  it('masks credentials in URLs it quotes', () => {
    const error = configError({
      REDIS_URL: 'http://:hunter2@redis.internal:6379',
      LLM_BASE_URL: 'ftp://user:s3cret@llm.internal/v1',
    });
    expect(error.problems).toEqual([
      expect.stringMatching(/got "http:\/\/\*\*\*@redis\.internal:6379"$/),
      expect.stringMatching(/got "ftp:\/\/\*\*\*@llm\.internal\/v1"$/),
    ]);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('s3cret');
  });

  it('says "1 problem" for one problem', () => {
    expect(configError({ LOG_LEVEL: 'loud' }).message).toMatch(
      /^Invalid configuration \(1 problem\):\n {2}- LOG_LEVEL/,
    );
  });

  it('reads only the variables envVariables documents', () => {
    const read = new Set<string>();
    const env = new Proxy<Record<string, string | undefined>>(
      {},
      {
        get: (_, name) => {
          if (typeof name === 'string') read.add(name);
          return undefined;
        },
      },
    );
    loadConfig(env);
    expect([...read].sort()).toEqual(envVariables.map(({ name }) => name).sort());
  });
});

describe('loadConfig: queue, worker, agent and intake settings', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config.queue).toEqual({ prefix: 'runner' });
    expect(config.worker).toEqual({
      id: undefined,
      concurrency: 4,
      shutdownGraceMs: 30_000,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
    });
    expect(config.job).toEqual({ deadlineMs: 900_000 });
    expect(config.agent).toEqual({ maxTurns: 8 });
    expect(config.webhooks).toEqual({ port: 3000, maxBodyBytes: 26_214_400, enqueueTimeoutMs: 5_000 });
  });

  it('reads them, hash-tagged prefixes included', () => {
    const config = loadConfig({
      QUEUE_PREFIX: '{runner}',
      WORKER_ID: 'box-1:worker-a',
      WORKER_CONCURRENCY: '10',
      JOB_DEADLINE_MS: '60000',
      AGENT_MAX_TURNS: '3',
      WEBHOOKS_PORT: '8080',
      WEBHOOK_MAX_BODY_BYTES: '1048576',
      WEBHOOK_ENQUEUE_TIMEOUT_MS: '3000',
    });
    expect(config.queue.prefix).toBe('{runner}');
    expect(config.worker.concurrency).toBe(10);
    expect(config.worker.id).toBe('box-1:worker-a');
    expect(config.job.deadlineMs).toBe(60_000);
    expect(config.agent.maxTurns).toBe(3);
    expect(config.webhooks).toEqual({ port: 8080, maxBodyBytes: 1_048_576, enqueueTimeoutMs: 3_000 });
  });

  it('refuses an enqueue timeout GitHub would not wait for', () => {
    expect(() => loadConfig({ WEBHOOK_ENQUEUE_TIMEOUT_MS: '10000' })).toThrow(
      'WEBHOOK_ENQUEUE_TIMEOUT_MS: expected a whole number from 100 to 9000',
    );
  });

  it('names each bad one with what it expects', () => {
    let thrown: unknown;
    try {
      loadConfig({ WORKER_CONCURRENCY: '0', AGENT_MAX_TURNS: 'eight', QUEUE_PREFIX: 'has space' });
    } catch (error) {
      thrown = error;
    }
    const problems = (thrown as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toContain('WORKER_CONCURRENCY: expected a whole number from 1 to 1000');
    expect(problems.join('\n')).toContain(
      'AGENT_MAX_TURNS: expected a whole number from 1 to 100: model turns; got "eight"',
    );
    expect(problems.join('\n')).toContain('QUEUE_PREFIX: expected a Redis key prefix');
  });
});

describe('loadConfig: Redis Cluster', () => {
  it('reads the nodes, and keeps REDIS_URL for the credentials and TLS', () => {
    const config = loadConfig({
      REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-2.internal:7001 ,[::1]:7002',
      REDIS_URL: 'rediss://runner:secret@ignored-host:6380',
      QUEUE_PREFIX: '{runner}',
    });
    expect(config.redisClusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-2.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.redisUrl).toBe('rediss://runner:secret@ignored-host:6380');
  });

  it.each([
    ['10.0.0.1', '"10.0.0.1", not host:port'],
    ['10.0.0.1:7000,,10.0.0.2:7000', 'an empty entry'],
    ['10.0.0.1:0', 'whose port is not from 1 to 65535'],
    ['10.0.0.1:70000', 'whose port is not from 1 to 65535'],
    ['redis://10.0.0.1:7000', 'not host:port'],
  ])('refuses %s, saying which entry is wrong', (nodes, defect) => {
    const error = configError({ REDIS_CLUSTER_NODES: nodes, QUEUE_PREFIX: '{runner}' });
    expect(error.problems).toEqual([
      expect.stringMatching(/^REDIS_CLUSTER_NODES: expected a comma-separated list of host:port/),
    ]);
    expect(error.problems[0]).toContain(defect);
  });

  it('never quotes a password written into a node entry', () => {
    const error = configError({
      REDIS_CLUSTER_NODES: 'redis://:hunter2@10.0.0.1:7000,10.0.0.2:7000',
      QUEUE_PREFIX: '{runner}',
    });
    expect(error.message).toContain('REDIS_CLUSTER_NODES');
    expect(error.message).not.toContain('hunter2');
  });

  it('requires a hash tag in QUEUE_PREFIX, the default one included, and says how to fix it', () => {
    for (const [prefix, shown] of [
      [undefined, '"runner" (the default). Set QUEUE_PREFIX={runner}'],
      ['my-app', '"my-app". Set QUEUE_PREFIX={my-app}'],
      ['{}runner', '"{}runner". Set QUEUE_PREFIX={runner}'],
    ] as const) {
      const error = configError({
        REDIS_CLUSTER_NODES: '127.0.0.1:7000',
        ...(prefix === undefined ? {} : { QUEUE_PREFIX: prefix }),
      });
      expect(error.problems).toEqual([
        `QUEUE_PREFIX: must contain a hash tag such as {runner} when REDIS_CLUSTER_NODES is set, so that every key of the queue is in one slot; got ${shown}`,
      ]);
    }
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: 'app:{q}' }).queue.prefix).toBe(
      'app:{q}',
    );
  });

  it('refuses a database number in REDIS_URL, which a cluster does not have', () => {
    const error = configError({
      REDIS_CLUSTER_NODES: '127.0.0.1:7000',
      QUEUE_PREFIX: '{runner}',
      REDIS_URL: 'redis://:pw@127.0.0.1:7000/2',
    });
    expect(error.problems).toEqual([
      expect.stringMatching(/^REDIS_URL: a Redis Cluster has only database 0/),
    ]);
    expect(error.message).not.toContain('pw@');
  });
});

describe('loadConfig: ops settings', () => {
  it('reads the ops server and metrics settings, and never quotes the token', () => {
    const config = loadConfig({
      OPS_PORT: '4001',
      OPS_HOST: '0.0.0.0',
      OPS_TOKEN: 'a'.repeat(24),
      METRICS_PORT: '9464',
    });
    expect(config.ops).toEqual({ port: 4001, host: '0.0.0.0', token: 'a'.repeat(24) });
    expect(config.metricsPort).toBe(9464);
    let thrown: unknown;
    try {
      loadConfig({ OPS_TOKEN: 'short-secret' });
    } catch (error) {
      thrown = error;
    }
    expect((thrown as ConfigError).message).toContain(
      'OPS_TOKEN: expected a random token of at least 16 characters',
    );
    expect((thrown as ConfigError).message).not.toContain('short-secret');
  });
});

describe('loadConfig: fleet settings', () => {
  it('reads a limit per upstream, decimals and adaptive mode included', () => {
    const config = loadConfig({
      RATE_LIMIT_LLM_PER_SEC: '0.5',
      RATE_LIMIT_GITHUB_PER_SEC: '10',
      RATE_LIMIT_GITHUB_BURST: '20',
      RATE_LIMIT_GITHUB_ADAPTIVE: 'true',
    });
    expect(config.fleet.rateLimits).toEqual({
      llm: { perSec: 0.5, adaptive: false },
      github: { perSec: 10, burst: 20, adaptive: true },
    });
  });

  it('says what is wrong with each bad setting, and that a burst alone does nothing', () => {
    const problems = configError({
      RATE_LIMIT_LLM_PER_SEC: '0',
      RATE_LIMIT_LLM_ADAPTIVE: 'maybe',
      RATE_LIMIT_GITHUB_BURST: '5',
    }).problems;
    expect(problems).toEqual([
      'RATE_LIMIT_LLM_PER_SEC: expected a number above 0 and at most 100000, decimals allowed: calls per second to the LLM API, across all workers; got "0"',
      'RATE_LIMIT_LLM_ADAPTIVE: expected 1 or 0 (also true/false, on/off, yes/no); got "maybe"',
      'RATE_LIMIT_GITHUB_BURST: only applies with RATE_LIMIT_GITHUB_PER_SEC; set RATE_LIMIT_GITHUB_PER_SEC too, or unset RATE_LIMIT_GITHUB_BURST',
    ]);
  });

  it('reads the retry budget and the circuit, and checks their ranges', () => {
    const config = loadConfig({
      FLEET_RETRY_BUDGET_RATIO: '0',
      FLEET_RETRY_BUDGET_MIN_RETRIES: '10',
      FLEET_CIRCUIT_FAILURE_THRESHOLD: '3',
      FLEET_CIRCUIT_COOLDOWN_MS: '5000',
    });
    expect(config.fleet.retryBudget).toEqual({ ratio: 0, minRetriesPerWindow: 10 });
    expect(config.fleet.circuit).toEqual({ failureThreshold: 3, cooldownMs: 5_000 });
    expect(
      configError({ FLEET_RETRY_BUDGET_RATIO: '20%', FLEET_CIRCUIT_FAILURE_THRESHOLD: '0' }).problems,
    ).toEqual([
      'FLEET_RETRY_BUDGET_RATIO: expected a number from 0 to 10, decimals allowed: retries allowed per request, fleet-wide (0.2 = 20 %); got "20%"',
      'FLEET_CIRCUIT_FAILURE_THRESHOLD: expected a whole number from 1 to 10000: failures in a row; got "0"',
    ]);
  });
});

describe('loadConfig: upstream transport', () => {
  it('refuses plain http to another host, since tokens and keys travel in the headers', () => {
    const problems = configError({
      GITHUB_API_URL: 'http://ghe.internal/api/v3',
      OLLAMA_API_URL: 'http://gpu-box:11434/api',
    }).problems;
    expect(problems).toEqual([
      'GITHUB_API_URL: http:// would send installation tokens and the app JWT unencrypted to ghe.internal; use https://, or set ALLOW_INSECURE_UPSTREAMS=1 if that network is trusted',
      'OLLAMA_API_URL: http:// would send the LLM API key and every prompt unencrypted to gpu-box:11434; use https://, or set ALLOW_INSECURE_UPSTREAMS=1 if that network is trusted',
    ]);
  });

  it('allows http on loopback, and elsewhere when ALLOW_INSECURE_UPSTREAMS=1', () => {
    for (const host of ['127.0.0.1:8080', 'localhost:11434', '[::1]:3000', '127.1.2.3']) {
      expect(loadConfig({ LLM_BASE_URL: `http://${host}/v1` }).llm.baseUrl).toBe(`http://${host}/v1`);
    }
    const config = loadConfig({
      ALLOW_INSECURE_UPSTREAMS: '1',
      GITHUB_API_URL: 'http://ghe.internal/api/v3',
    });
    expect(config.github.apiUrl).toBe('http://ghe.internal/api/v3');
  });
});
