# syntax=docker/dockerfile:1

# One image for every tengine app. APP picks the app the container runs: gateway, registry,
# identity, executor, audit, or platform (the all-in-one `npm start` process). The build argument
# sets the default; the APP environment variable overrides it at run time.
#
#   docker build -t tengine:0.1.0 .
#   docker run --rm -e APP=gateway -e NATS_URL=nats://nats:4222 -p 3000:3000 tengine:0.1.0
#   docker run --rm -e DATABASE_URL=postgres://… tengine:0.1.0 node apps/platform/dist/migrate.js
#
# See docs/deploy.md. The stages are checked by apps/platform/test/deploy/dockerfile.int-spec.ts.

# Node 22 LTS: some dependencies (NATS client, fastify's cookie) declare node >= 22. For
# reproducible builds pin a digest: --build-arg NODE_IMAGE=node:22-bookworm-slim@sha256:….
ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------------------------------------
# manifests: the lockfile and every workspace's package.json, so that the dependency layers are
# rebuilt only when dependencies change. npm ci needs every workspace named in the lockfile.
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/auth/package.json libs/auth/
COPY libs/config/package.json libs/config/
COPY libs/contracts/package.json libs/contracts/
COPY libs/messaging/package.json libs/messaging/
COPY libs/persistence/package.json libs/persistence/
COPY libs/runtime/package.json libs/runtime/
COPY libs/sdk/package.json libs/sdk/
COPY libs/secrets/package.json libs/secrets/
COPY libs/telemetry/package.json libs/telemetry/
COPY libs/testing/package.json libs/testing/
COPY apps/audit/package.json apps/audit/
COPY apps/executor/package.json apps/executor/
COPY apps/gateway/package.json apps/gateway/
COPY apps/identity/package.json apps/identity/
COPY apps/platform/package.json apps/platform/
COPY apps/registry/package.json apps/registry/

# ---------------------------------------------------------------------------------------------
# deps: every dependency, dev included (TypeScript), exactly as the lockfile pins them.
# ---------------------------------------------------------------------------------------------
FROM manifests AS deps
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

# ---------------------------------------------------------------------------------------------
# build: compile every project (npm run build = tsc -b tsconfig.build.json), then gather the
# compiled output (without type declarations) under /out, in the workspace layout.
# ---------------------------------------------------------------------------------------------
FROM deps AS build
COPY tsconfig.base.json tsconfig.build.json ./
COPY libs/ libs/
COPY apps/ apps/
RUN npm run build \
    && for project in libs/* apps/*; do \
         mkdir -p "/out/$project" && cp -R "$project/dist" "/out/$project/dist"; \
       done \
    && find /out -type f \( -name '*.d.ts' -o -name '*.d.ts.map' -o -name '*.tsbuildinfo' \) -delete

# ---------------------------------------------------------------------------------------------
# prod-deps: production dependencies only, same workspace layout (node_modules/@tengine/* are
# links to libs/* and apps/*; a few workspaces keep their own node_modules).
# ---------------------------------------------------------------------------------------------
FROM manifests AS prod-deps
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# ---------------------------------------------------------------------------------------------
# runtime: Node, production dependencies and compiled JavaScript; no sources, no compiler.
# Files belong to root and are read-only for the app user (uid 1000, numeric so that Kubernetes
# can verify runAsNonRoot).
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG APP=gateway
ENV NODE_ENV=production \
    APP=${APP}
WORKDIR /app
COPY --from=prod-deps /app/ ./
COPY --from=build /out/ ./
COPY deploy/docker/healthcheck.mjs deploy/docker/healthcheck.mjs
USER 1000:1000
# gateway and platform 3000, registry 3001, identity 3002, executor 3003, audit 3004 (PORT).
EXPOSE 3000 3001 3002 3003 3004
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "deploy/docker/healthcheck.mjs", "/health/live"]
# The apps stop taking work on SIGTERM and finish in-flight work within SHUTDOWN_GRACE_MS.
STOPSIGNAL SIGTERM
# exec: node becomes PID 1 and receives the stop signal itself.
CMD ["/bin/sh", "-c", "exec node \"apps/${APP}/dist/main.js\""]
