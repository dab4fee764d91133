# One image for the three apps; the command picks one: runner-webhooks, runner-worker, runner-ops-server
# (and runner-ops for the CLI). `docker compose up` runs them all; see docs/operations.md.

# --- install: production dependencies only, from the lockfile -------------------------------------------------
FROM node:22-bookworm-slim AS install
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
COPY apps ./apps
# npm ci wants every workspace the lockfile lists; the test workspaces need only their manifests.
COPY tests/e2e/package.json ./tests/e2e/package.json
COPY tests/deploy/package.json ./tests/deploy/package.json
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- run -------------------------------------------------------------------------------------------------------
FROM node:22-bookworm-slim
# tini as PID 1 passes SIGTERM on to Node, so workers finish their jobs and the intake its requests.
RUN apt-get update && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PATH=/app/node_modules/.bin:$PATH
WORKDIR /app
COPY --from=install --chown=root:root /app /app
COPY deploy/healthcheck.mjs /app/deploy/healthcheck.mjs
# The image's own user, without write access to the code.
USER node
EXPOSE 3000 3001 9464
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["runner-worker"]
# The intake's port by default; compose sets each service's own.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/deploy/healthcheck.mjs", "http://127.0.0.1:3000/healthz"]
