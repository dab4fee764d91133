/**
 * The ops server was asked to listen beyond loopback without `OPS_TOKEN`: a setup error, whose message says
 * what to change.
 */
export class OpsTokenRequiredError extends Error {
  override name = 'OpsTokenRequiredError';
  readonly code = 'ops_token_required';
  /** The interface it was asked to listen on (`OPS_HOST`). */
  readonly host: string;

  constructor(host: string) {
    super(
      `OPS_TOKEN is not set, and OPS_HOST=${host} is not a loopback address: anyone who can reach it could ` +
        'read and change the queue. Set OPS_TOKEN (e.g. `openssl rand -hex 24`) or bind to 127.0.0.1 (OPS_HOST=127.0.0.1)',
    );
    this.host = host;
  }
}
