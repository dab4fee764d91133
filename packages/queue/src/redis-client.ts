import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

/** A client on one Redis server or on a Redis Cluster: BullMQ, our scripts and the fleet stores take either. */
export type RedisClient = Redis | Cluster;

/** One node of a Redis Cluster. */
export interface RedisClusterNode {
  host: string;
  port: number;
}

/**
 * Where Redis is, as `RunnerConfig` says it (so apps pass their config): one server at `redisUrl`, or,
 * with `redisClusterNodes`, a cluster found through those nodes and reached with `redisUrl`'s user,
 * password and TLS (its host, port and database are then unused). A bare URL stands for one server.
 */
export type RedisTarget =
  | string
  | { redisUrl: string; redisClusterNodes?: readonly RedisClusterNode[] | undefined };

/** Options of ioredis that belong to the cluster as a whole, not to each node's connection. */
const clusterWide = [
  'enableOfflineQueue',
  'lazyConnect',
  'enableAutoPipelining',
  'enableReadyCheck',
] as const;

/**
 * The one place a Redis client is made from config: a `Redis`, or a `Cluster` when the target lists
 * cluster nodes. `options` are ioredis's per-connection options; for a cluster, those that ioredis takes
 * for the cluster as a whole (offline queue, lazy connect, auto-pipelining, ready check) go to the
 * cluster, the rest (timeouts, retries per request, the connection's name) to every node's connection,
 * with the credentials and TLS of the target's URL.
 */
export function createRedisClient(target: RedisTarget, options: RedisOptions = {}): RedisClient {
  const { url, nodes } = splitTarget(target);
  if (nodes === undefined) return new Redis(url, options);
  const cluster: ClusterOptions = {};
  const perNode: RedisOptions = { ...options };
  for (const name of clusterWide) {
    if (options[name] === undefined) continue;
    Object.assign(cluster, { [name]: options[name] });
    delete perNode[name];
  }
  return new Cluster(
    nodes.map(({ host, port }) => ({ host, port })),
    { ...cluster, redisOptions: { ...nodeCredentials(url), ...perNode } },
  );
}

/** What people are told about where Redis is: `host:port`, or the cluster's nodes; never credentials. */
export function redisHost(target: RedisTarget): string {
  const { url, nodes } = splitTarget(target);
  if (nodes !== undefined)
    return `the Redis Cluster at ${nodes.map(({ host, port }) => hostPort(host, port)).join(',')}`;
  try {
    return new URL(url).host || url;
  } catch {
    return 'the configured REDIS_URL';
  }
}

/** The variable a person changes to point the apps elsewhere. */
export function redisTargetVariable(target: RedisTarget): string {
  return splitTarget(target).nodes === undefined ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES';
}

/** Every master of a cluster (each holds its own part of the keys), or the one server. */
export function redisMasters(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/**
 * Keeps why a client could not connect: a server's reason (ECONNREFUSED, ...) comes as 'error'; a
 * cluster's own 'error' only says "Failed to refresh slots cache", its node's reason comes as
 * 'node error'. Listening also keeps ioredis from printing every failed reconnect attempt.
 * @returns the most telling failure so far, or undefined.
 */
export function connectionFailures(client: RedisClient): () => unknown {
  let last: unknown;
  let fromNode: unknown;
  client.on('error', (error: unknown) => {
    last = error;
  });
  client.on('node error', (error: unknown) => {
    fromNode = error;
  });
  return () => fromNode ?? last;
}

/** Node's codes for a TLS certificate it would not accept (self-signed, unknown CA, wrong name, expired). */
const certificateCodes = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

/**
 * The part of a connection error worth a line: Node's code (ECONNREFUSED, ENOTFOUND), else its message.
 * A refused certificate gets its message and the way to trust a private CA, since its code alone
 * (DEPTH_ZERO_SELF_SIGNED_CERT) says little to most people.
 */
export function connectionReason(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    if (certificateCodes.test(error.code) && error instanceof Error) {
      return `${error.message}, ${error.code}; for a private CA set NODE_EXTRA_CA_CERTS to its PEM file`;
    }
    return error.code;
  }
  return error instanceof Error ? error.message : String(error);
}

function splitTarget(target: RedisTarget): { url: string; nodes: readonly RedisClusterNode[] | undefined } {
  if (typeof target === 'string') return { url: target, nodes: undefined };
  const nodes = target.redisClusterNodes;
  return { url: target.redisUrl, nodes: nodes !== undefined && nodes.length > 0 ? nodes : undefined };
}

/** The user, password and TLS of a `redis://` or `rediss://` URL, as ioredis options for each node. */
export function nodeCredentials(url: string): RedisOptions {
  const parsed = new URL(url);
  const options: RedisOptions = {};
  if (parsed.username !== '') options.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') options.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === 'rediss:') options.tls = {};
  return options;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
