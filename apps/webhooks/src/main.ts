// The intake process: parse config, wire, start, stop. `npm run webhooks` from the repository root.
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type RunnerConfig, withDotEnv } from '@runner/config';
import { EvictionPolicyError, RedisUnreachableError } from '@runner/queue';
import { createIntakeLogger } from './intake-logger.ts';
import { type RunningIntake, startIntake } from './start-intake.ts';

/** Errors that mean "fix the setup": their message says what to do, a stack trace would only hide it. */
function isSetupError(error: unknown): error is Error {
  return (
    error instanceof ConfigError ||
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

// npm runs a workspace's scripts in its own folder (apps/webhooks), but people write their .env at the
// repository root, beside .env.example; a variable set in the environment still wins.
const dotEnvPath = fileURLToPath(new URL('../../../.env', import.meta.url));

let config: RunnerConfig;
try {
  config = loadConfig(withDotEnv(undefined, dotEnvPath), { needs: ['webhooks'] });
} catch (error) {
  exitWith(error);
}

const logger = createIntakeLogger(config.logLevel);
let intake: RunningIntake;
try {
  intake = await startIntake(config, logger, { waitForRedis: true });
} catch (error) {
  exitWith(error);
}

let stopping = false;
// Until Redis answers, /readyz and deliveries get 503 (GitHub shows them as failed, to redeliver).
intake.ready.catch((error: unknown) => {
  if (!stopping) exitWith(error);
});
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) {
    logger.warn({ signal }, `Second ${signal} while shutting down; exiting now`);
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal }, `${signal}: no new requests; finishing those in flight`);
  void intake.close().then(() => {
    logger.info({}, 'Stopped');
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
