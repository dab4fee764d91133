import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from '@runner/http-service';
import { circuitStateValue, type JobOutcome } from '@runner/queue';
import type { RetryEvent } from '@runner/retry';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * This worker process's own series, for Prometheus to scrape on METRICS_PORT. The fleet-wide counters
 * (all workers together, `runner_retries_total`, `runner_jobs_total`) are on the ops server's /metrics,
 * read from Redis; this process's share of them is named `runner_worker_*`, so that a query summing
 * both scrape jobs never counts a retry twice.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly retries = new Counter({
    name: 'runner_worker_retries_total',
    help: 'Retries in this process, by layer (request, tool, job), target and reason',
    labelNames: ['layer', 'target', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly jobs = new Counter({
    name: 'runner_worker_jobs_total',
    help: 'Job runs in this process by outcome: completed, failed, requeued, delayed, dead_lettered',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly circuit = new Gauge({
    name: 'runner_circuit_state',
    help: "This process's circuit for each upstream: 0 closed, 1 half-open, 2 open",
    labelNames: ['target'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'runner_upstream_request_duration_seconds',
    help: 'Duration of each HTTP request to an upstream (one attempt), by target and status (or "error")',
    labelNames: ['target', 'status'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'runner_worker_' });
  }

  retry(event: RetryEvent): void {
    this.retries.inc({
      layer: event.layer ?? 'request',
      target: event.target ?? 'unknown',
      reason: event.reason,
    });
  }

  outcome(outcome: JobOutcome, reason?: string): void {
    this.jobs.inc({ outcome });
    if ((outcome === 'requeued' || outcome === 'delayed') && reason) {
      this.retries.inc({ layer: 'job', target: 'agent', reason });
    }
  }

  circuitState(target: string, state: keyof typeof circuitStateValue): void {
    this.circuit.set({ target }, circuitStateValue[state]);
  }

  /** Starts timing one upstream request; call the result with its status (or 'error') when it ends. */
  startRequest(target: string): (status: number | 'error') => void {
    const end = this.duration.startTimer({ target });
    return (status) => {
      end({ status: String(status) });
    };
  }

  /** A fetch that times each request for the duration histogram. */
  timedFetch(target: string, send: typeof fetch = fetch): typeof fetch {
    return async (input, init) => {
      const end = this.startRequest(target);
      try {
        const response = await send(input, init);
        end(response.status);
        return response;
      } catch (error) {
        end('error');
        throw error;
      }
    };
  }

  /**
   * Serves GET /metrics, GET /healthz (200 while the process runs: what a container's health check
   * asks) and GET /readyz (200 while `isReady` says the worker is taking jobs, else 503) on `port`;
   * resolves with the server once it listens.
   */
  async serve(port: number, isReady: () => boolean, host = '0.0.0.0'): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      }
      if (req.method === 'GET' && req.url === '/readyz') {
        const ready = isReady();
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
          .end(ready ? 'ready\n' : 'not ready\n');
        return;
      }
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    await listen(server, port, host);
    return server;
  }
}

export function listeningPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
