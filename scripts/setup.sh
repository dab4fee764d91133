#!/bin/sh
# Sets up a fresh machine for the demo and the tests: redis-server (from the OS packages) and npm packages.
set -eu
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "Installing redis-server with apt-get..."
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
    # The Debian package starts a system service; the runner starts its own private servers instead.
  elif command -v brew >/dev/null 2>&1; then
    brew install redis
  else
    echo "redis-server is missing. Install Redis 7 (https://redis.io/docs/latest/operate/oss_and_stack/install/)," >&2
    echo "or run 'docker compose up -d redis' and set REDIS_URL=redis://127.0.0.1:6379." >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
echo "Set up: $(node --version), $(redis-server --version | cut -d' ' -f1-3)"
