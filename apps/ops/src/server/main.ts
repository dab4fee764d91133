// The ops server process: parse config, wire, start, stop. `npm run ops-server` from the repository root.
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type RunnerConfig, withDotEnv } from '@runner/config';
import { EvictionPolicyError, RedisUnreachableError } from '@runner/queue';
import { createOpsLogger } from './ops-logger.ts';
import { OpsTokenRequiredError } from './ops-token-required-error.ts';
import { type RunningOpsServer, startOpsServer } from './start-ops-server.ts';

/** Errors that mean "fix the setup": their message says what to do, a stack trace would only hide it. */
function isSetupError(error: unknown): error is Error {
  return (
    error instanceof ConfigError ||
    error instanceof OpsTokenRequiredError ||
    error instanceof EvictionPolicyError ||
    error instanceof RedisUnreachableError
  );
}

function exitWith(error: unknown): never {
  process.stderr.write(
    `${isSetupError(error) ? error.message : error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
}

// People write their .env at the repository root, beside .env.example, whatever folder this runs from;
// a variable set in the environment still wins.
const dotEnvPath = fileURLToPath(new URL('../../../../.env', import.meta.url));

let config: RunnerConfig;
try {
  config = loadConfig(withDotEnv(undefined, dotEnvPath));
} catch (error) {
  exitWith(error);
}

const logger = createOpsLogger(config.logLevel);
let ops: RunningOpsServer;
try {
  // Started before its Redis, it listens and waits for it (a line per try), answering 503 meanwhile.
  ops = await startOpsServer(config, logger, { waitForRedis: true });
} catch (error) {
  exitWith(error);
}
let stopping = false;
// A Redis that turns out to evict keys is for people to fix; anything else was retried by the wait.
ops.ready.catch((error: unknown) => {
  if (!stopping) exitWith(error);
});
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) {
    logger.warn({ signal }, `Second ${signal} while shutting down; exiting now`);
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal }, `${signal}: no new requests; finishing those in flight`);
  void ops.close().then(() => {
    logger.info({}, 'Stopped');
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
