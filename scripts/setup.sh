#!/bin/sh
# Sets up a fresh machine for the demo and the tests: redis-server (from the OS packages) and npm packages.
set -eu
cd "$(dirname "$0")/.."

# redis-server (with redis-cli) for the demo and the tests; openssl makes the TLS test's certificate.
missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "Installing$missing with apt-get..."
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
    # The Debian package starts a system service; the runner starts its own private servers instead.
  elif command -v brew >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    brew install $(echo "$missing" | sed 's/redis-server/redis/')
  else
    echo "Missing:$missing. Install Redis 7 (https://redis.io/docs/latest/operate/oss_and_stack/install/)" >&2
    echo "and OpenSSL, or run 'docker compose up -d redis' and set REDIS_URL=redis://127.0.0.1:6379." >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
echo "Set up: $(node --version), $(redis-server --version | cut -d' ' -f1-3)"
