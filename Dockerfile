# telehub container image: multi-stage build on the official Node.js 20 image.
#
#   docker build -t telehub .
#   docker compose up -d          # hub + TimescaleDB, see docker-compose.yml
#
# Admin tokens from inside the container (the CLI talks to the database, no API needed):
#   docker compose exec hub node dist/apps/hub/src/cli/admin.js token create --name me --role admin
#
# The hub needs DATABASE_URL at runtime. Without it, it would try to start the
# embedded PostgreSQL it uses for local development, which is not meant for
# containers.

############################
# Build stage: install every dependency (dev included), compile, build the dashboard
############################
FROM node:20-bookworm-slim AS build

WORKDIR /app

# Do not let @scarf/scarf (pulled in by swagger-ui-dist) send install analytics.
ENV SCARF_ANALYTICS=false

# Copy only the manifests first so the install layer stays cached until they change. `npm install`, not
# `npm ci`, as in the README: the lock file cannot list every platform's optional binaries (biome, swc).
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund

COPY . .

# `npm run build` compiles the hub and libs/ with SWC into dist/; `build:admin` builds the dashboard with Vite
# into apps/admin/dist.
RUN npm run build \
 && npm run build:admin

############################
# Runtime stage: production dependencies and compiled output only
############################
FROM node:20-bookworm-slim AS runtime

ENV NODE_ENV=production \
    SCARF_ANALYTICS=false \
    TELEHUB_DATA_DIR=/var/lib/telehub

WORKDIR /app

# Production dependencies only. The platform's @embedded-postgres binary package
# still gets installed (embedded-postgres is a regular dependency). It is unused
# here because DATABASE_URL is always set.
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# Application files stay owned by root, so the `node` user can read them but not
# change them.
COPY --from=build /app/dist ./dist
# The migration runner reads the SQL files relative to the working directory (/app).
COPY --from=build /app/migrations ./migrations
# The dashboard's built assets (the hub serves them at /).
COPY --from=build /app/apps/admin/dist ./apps/admin/dist

# The writable data directory belongs to the unprivileged `node` user from the
# base image. It is created and chowned before VOLUME, because changes made
# after a VOLUME instruction are discarded. An empty named volume gets this
# ownership on first use.
RUN mkdir -p /var/lib/telehub \
 && chown node:node /var/lib/telehub
VOLUME ["/var/lib/telehub"]

USER node

# 8080 HTTP API, WebSocket ingest, dashboard, /healthz and /metrics (bearer token by default; see README)
# 1883 MQTT, 8883 MQTT over TLS
EXPOSE 8080 1883 8883

# The hub handles SIGTERM by flushing buffered telemetry and closing connections.
# Give it time: docker stop -t 30, or stop_grace_period in compose.
STOPSIGNAL SIGTERM

# Slim images have no curl/wget, so use Node's built-in fetch (Node >= 18).
# Any non-2xx response, connection error or timeout counts as unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.TELEHUB_HTTP_PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# A larger young generation: messages in flight outlive V8's default 16 MiB semi-space and would be copied and
# promoted (measured in bench/: about 22 % less CPU per message at full load).
CMD ["node", "--enable-source-maps", "--max-semi-space-size=64", "dist/apps/hub/src/main.js"]
