import { z } from 'zod';
import { type LogLevel, logLevels, type RedisNode } from './runner-config.ts';
import type { ValueRule } from './value-rule.ts';

/** Clients join paths onto these URLs; a trailing slash would give `//repos/...`. */
function withoutTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * URLs may carry credentials (`redis://:password@host`), so a problem quotes one with everything
 * before the `@` masked.
 */
export function maskUserinfo(raw: string): string {
  return raw.replace(/^(\s*[^:/?#\s]+:\/\/)[^/?#]*@/, '$1***@');
}

// `hostname: /./` rejects host-less URLs such as `redis:foo`, which the URL parser accepts.
const httpUrl = z.url({ protocol: z.regexes.httpProtocol, hostname: /./ }).transform(withoutTrailingSlashes);

export const redisUrlRule: ValueRule<string> = {
  schema: z.url({ protocol: /^rediss?$/, hostname: /./ }),
  expects: 'a redis:// URL such as redis://127.0.0.1:6379 (rediss:// for TLS)',
  secret: false,
  show: maskUserinfo,
};

/** Masks what may be credentials in a node list entry: anything up to an `@`. */
function maskNodeCredentials(raw: string): string {
  return raw
    .split(',')
    .map((entry) => entry.replace(/^[^@]*@/, '***@'))
    .join(',');
}

/** `host:port`, `[ipv6]:port`; the defect says which entry is wrong and why. */
function parseNode(entry: string): RedisNode | string {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]+)$/.exec(entry);
  if (!match) return `has ${JSON.stringify(maskNodeCredentials(entry))}, not host:port`;
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    return `has ${JSON.stringify(entry)}, whose port is not from 1 to 65535`;
  return { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port };
}

// Node entries never carry credentials (REDIS_URL does), so an entry is quoted only masked.
export const redisClusterNodesRule: ValueRule<RedisNode[]> = {
  schema: z.string().transform((raw, context) => {
    const nodes: RedisNode[] = [];
    for (const entry of raw.split(',').map((part) => part.trim())) {
      const node = entry === '' ? 'has an empty entry' : parseNode(entry);
      if (typeof node === 'string') {
        context.addIssue({ code: 'custom', message: node });
        return z.NEVER;
      }
      nodes.push(node);
    }
    return nodes;
  }),
  expects:
    "a comma-separated list of host:port, some or all of the cluster's nodes, e.g. 10.0.0.1:6379,10.0.0.2:6379 (credentials and TLS come from REDIS_URL)",
  secret: false,
  show: maskNodeCredentials,
};

export const logLevelRule: ValueRule<LogLevel> = {
  schema: z.string().trim().toLowerCase().pipe(z.enum(logLevels)),
  expects: `one of ${logLevels.join(', ')}`,
  secret: false,
};

export const githubApiUrlRule: ValueRule<string> = {
  schema: httpUrl,
  expects:
    'an http:// or https:// URL: https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise Server',
  secret: false,
  show: maskUserinfo,
};

export const appIdRule: ValueRule<string> = {
  schema: z
    .string()
    .trim()
    .regex(/^[1-9][0-9]*$/),
  expects:
    'a positive whole number: the "App ID" on the GitHub App\'s settings page (Settings → Developer settings → GitHub Apps → Edit), not its Client ID',
  secret: false,
};

export const appSlugRule: ValueRule<string> = {
  schema: z
    .string()
    .trim()
    .regex(/^[a-z0-9]+(?:-+[a-z0-9]+)*$/),
  expects:
    "the App's slug: lowercase letters, digits and hyphens, the last part of https://github.com/apps/<slug> (not the display name, not the bot login)",
  secret: false,
};

// Kept verbatim, not trimmed: it is the HMAC key, and GitHub signs with exactly what was typed into it.
export const webhookSecretRule: ValueRule<string> = {
  schema: z.string(),
  expects: "the webhook secret entered on the GitHub App's settings page",
  secret: true,
};

export const llmBaseUrlRule: ValueRule<string> = {
  schema: httpUrl,
  expects:
    'the http:// or https:// base URL of an OpenAI-compatible API, e.g. https://ollama.com/v1 or http://127.0.0.1:11434/v1 for a local Ollama',
  secret: false,
  show: maskUserinfo,
};

// It travels in an Authorization header, where whitespace inside breaks the request.
export const llmApiKeyRule: ValueRule<string> = {
  schema: z
    .string()
    .trim()
    .refine((key) => !/\s/.test(key), 'contains whitespace'),
  expects: 'an API key without spaces (for Ollama Turbo, create one at https://ollama.com/settings/keys)',
  secret: true,
};

export const llmModelRule: ValueRule<string> = {
  schema: z.string().trim().regex(/^\S+$/),
  expects: 'a model name without spaces, as the endpoint lists it, e.g. glm-4.6 or gpt-oss:120b',
  secret: false,
};

/** A whole number in [min, max]; `unit` (e.g. "milliseconds") is said in the problem. */
export function wholeNumberRule(min: number, max: number, what: string): ValueRule<number> {
  return {
    schema: z
      .string()
      .trim()
      .regex(/^[0-9]+$/)
      .transform(Number)
      .pipe(z.number().int().min(min).max(max)),
    expects: `a whole number from ${min} to ${max}: ${what}`,
    secret: false,
  };
}

export const queuePrefixRule: ValueRule<string> = {
  schema: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_:.{}-]{1,64}$/),
  expects:
    'a Redis key prefix of letters, digits and _ : . - { } (at most 64), e.g. runner, or {runner} to keep every queue key in one Redis Cluster slot',
  secret: false,
};

export const opsHostRule: ValueRule<string> = {
  schema: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.:-]+$/),
  expects: 'an interface address or host name to listen on, e.g. 127.0.0.1, ::1 or 0.0.0.0',
  secret: false,
};

// Compared in constant time against what browsers and scripts send; too short is guessable.
export const opsTokenRule: ValueRule<string> = {
  schema: z
    .string()
    .trim()
    .refine((token) => token.length >= 16, 'is shorter than 16 characters')
    .refine((token) => !/\s/.test(token), 'contains whitespace'),
  expects: 'a random token of at least 16 characters without spaces, e.g. from `openssl rand -hex 24`',
  secret: true,
};

/**
 * A number that may have decimals, such as a rate (`0.5` per second: one call every two seconds is a
 * real quota) or a share (`0.2`). `above` excludes the minimum itself.
 */
export function decimalRule(
  bounds: { min: number; max: number; above?: boolean },
  what: string,
): ValueRule<number> {
  const { min, max, above = false } = bounds;
  const number = z.number().max(max);
  return {
    schema: z
      .string()
      .trim()
      .regex(/^[0-9]+(\.[0-9]+)?$/)
      .transform(Number)
      .pipe(above ? number.gt(min) : number.min(min)),
    expects: `a number ${above ? 'above' : 'from'} ${min} ${above ? 'and at most' : 'to'} ${max}, decimals allowed: ${what}`,
    secret: false,
  };
}

export const onOffRule: ValueRule<boolean> = {
  schema: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no']))
    .transform((value) => ['1', 'true', 'on', 'yes'].includes(value)),
  expects: '1 or 0 (also true/false, on/off, yes/no)',
  secret: false,
};

export const workerIdRule: ValueRule<string> = {
  schema: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/),
  expects:
    'a name of letters, digits and _ . : - (at most 64), e.g. the host name, unique per worker process',
  secret: false,
};
