import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { envVariables } from '@runner/config';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string;
  deploy?: { replicas?: number };
  healthcheck?: { test: string[] };
  ports?: string[];
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const dockerfile = read('Dockerfile');
const appServices = Object.entries(compose.services).filter(([name]) => name !== 'redis');

/** Every command the apps install (`bin` in their package.json), with its file. */
const appCommands = new Map(
  readdirSync(`${root}apps`).flatMap((app) => {
    const manifest = JSON.parse(read(`apps/${app}/package.json`)) as { bin?: Record<string, string> };
    return Object.entries(manifest.bin ?? {}).map(
      ([command, file]) => [command, `apps/${app}/${file}`] as const,
    );
  }),
);

describe('docker-compose.yml', () => {
  it('runs Redis with AOF, noeviction and a volume, and the three apps from one image and one .env', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['ops', 'redis', 'webhooks', 'worker']);
    const redis = compose.services.redis;
    expect(redis?.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']),
    );
    expect(JSON.stringify(redis)).toContain('redis-data:/data');
    for (const [, service] of appServices) {
      expect(service).toMatchObject({ build: '.', image: 'github-agent-runner', env_file: '.env' });
      expect(service.environment?.REDIS_URL).toBe('redis://redis:6379');
    }
    expect(compose.services.worker?.deploy?.replicas).toBe(2);
  });

  it.each(appServices)('%s runs a command the apps install', (_, service) => {
    const command = service.command?.[0] ?? '';
    expect([...appCommands.keys()], `no app has a "${command}" bin`).toContain(command);
    expect(existsSync(`${root}${appCommands.get(command)}`)).toBe(true);
  });

  it.each(appServices)('%s sets only variables the apps read', (_, service) => {
    const known = new Set(envVariables.map(({ name }) => name));
    expect(Object.keys(service.environment ?? {}).filter((name) => !known.has(name))).toEqual([]);
  });

  it.each(appServices)('%s checks its health on the port it listens on', (_, service) => {
    const env = service.environment ?? {};
    const port = env.WEBHOOKS_PORT ?? env.OPS_PORT ?? env.METRICS_PORT;
    expect(port).toBeDefined();
    expect(service.healthcheck?.test).toEqual([
      'CMD',
      'node',
      '/app/deploy/healthcheck.mjs',
      `http://127.0.0.1:${port}/healthz`,
    ]);
  });

  it('publishes the ops server only on the host loopback, since it serves job data', () => {
    expect(compose.services.ops?.ports).toEqual(['127.0.0.1:3001:3001']);
    expect(compose.services.ops?.environment?.OPS_HOST).toBe('0.0.0.0');
  });
});

describe('Dockerfile', () => {
  it('builds on Node 22 slim, installs production dependencies from the lockfile, runs as node under tini', () => {
    expect(dockerfile).toMatch(/^FROM node:22-bookworm-slim AS install$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n\s+CMD \["node", "\/app\/deploy\/healthcheck.mjs"/m);
  });

  it("copies the manifest of every workspace, since npm ci refuses a lockfile's workspace that is missing", () => {
    const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
    for (const pattern of workspaces) {
      const parent = pattern.replace(/\/\*$/, '');
      const copiedWhole = new RegExp(`^COPY ${parent} \\./${parent}$`, 'm').test(dockerfile);
      for (const dir of readdirSync(`${root}${parent}`)) {
        if (!existsSync(`${root}${parent}/${dir}/package.json`) || copiedWhole) continue;
        expect(dockerfile).toContain(`COPY ${parent}/${dir}/package.json ./${parent}/${dir}/package.json`);
      }
    }
  });
});

describe('deploy/healthcheck.mjs', () => {
  let status = 200;
  const server: Server = createServer((_, res) => {
    res.writeHead(status).end();
  });
  afterAll(() => {
    server.close();
  });
  const check = async () => {
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return promisify(execFile)(process.execPath, [
      `${root}deploy/healthcheck.mjs`,
      `http://127.0.0.1:${port}/healthz`,
    ]).then(
      () => 0,
      (error: { code: number }) => error.code,
    );
  };

  it('exits 0 on a 200 and 1 on anything else', async () => {
    expect(await check()).toBe(0);
    status = 503;
    expect(await check()).toBe(1);
  });
});
