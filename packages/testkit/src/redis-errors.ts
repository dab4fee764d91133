/** How to get Redis; the start of {@link RedisServerNotFoundError}'s message. */
export const redisInstallHint =
  'redis-server was not found on PATH. Install it: Debian/Ubuntu `sudo apt-get install -y redis-server`; ' +
  'macOS `brew install redis`; or run `docker compose up -d redis` and set REDIS_URL=redis://127.0.0.1:6379. ' +
  'Or point REDIS_SERVER_BIN at the binary.';

/** The redis-server binary could not be spawned because it does not exist. */
export class RedisServerNotFoundError extends Error {
  override readonly name = 'RedisServerNotFoundError';
  constructor(
    readonly binary: string,
    options?: ErrorOptions,
  ) {
    super(`${redisInstallHint} (tried to run "${binary}")`, options);
  }
}

/** redis-server exited or stayed silent during startup; `output` is the tail of its logs. */
export class RedisServerStartError extends Error {
  override readonly name = 'RedisServerStartError';
  constructor(
    message: string,
    readonly output: string,
    options?: ErrorOptions,
  ) {
    super(output === '' ? message : `${message}\n--- redis-server output (tail) ---\n${output}`, options);
  }
}

/** redis-server could not bind its port (another process took it); startRedis retries these. */
export class RedisPortTakenError extends RedisServerStartError {}

/** `url` / `REDIS_URL` is not a `redis://` or `rediss://` URL. */
export class InvalidRedisUrlError extends Error {
  override readonly name = 'InvalidRedisUrlError';
}
