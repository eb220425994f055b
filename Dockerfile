# syntax=docker/dockerfile:1.7
#
# One image recipe for every callgate service, selected with a build argument:
#   docker build --build-arg SERVICE=gateway -t callgate-gateway .
# Why one Dockerfile and not five: the services are npm workspaces of one repository that share
# @callgate/common, @callgate/protos and one lockfile, so every image needs the same install and the same
# `tsc -b` build. One recipe builds that once (the build stages are identical for every SERVICE and come
# from the cache), keeps the base, user, init and health check the same everywhere, and the images differ
# only in their last layers. The cost, production dependencies of all workspaces in every image, is a few
# MB more than a per-service prune would give.

# Node 24 (LTS): oidc-provider 9 (the auth service) supports Node 22 and later only.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: all dependencies, generate protos, compile every workspace ---------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so that source edits do not invalidate the `npm ci` layer.
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY protos/package.json protos/
COPY services/common/package.json services/common/
COPY services/sandbox/package.json services/sandbox/
COPY services/user-credit/package.json services/user-credit/
COPY services/sheets-sync/package.json services/sheets-sync/
COPY services/call/package.json services/call/
COPY services/poller/package.json services/poller/
COPY services/gateway/package.json services/gateway/
COPY services/auth/package.json services/auth/
COPY console/package.json console/
COPY scripts/gen-protos.ts scripts/
COPY protos/ protos/
# `prepare` generates protos/gen during the install; it needs the .proto files and the generator script.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY services/ services/
RUN npm run build

# --- deps: production dependencies only; scripts off because `prepare` needs dev tools ----------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/protos/package.json protos/
COPY --from=build /app/services/common/package.json services/common/
COPY --from=build /app/services/sandbox/package.json services/sandbox/
COPY --from=build /app/services/user-credit/package.json services/user-credit/
COPY --from=build /app/services/sheets-sync/package.json services/sheets-sync/
COPY --from=build /app/services/call/package.json services/call/
COPY --from=build /app/services/poller/package.json services/poller/
COPY --from=build /app/services/gateway/package.json services/gateway/
COPY --from=build /app/services/auth/package.json services/auth/
COPY --from=build /app/console/package.json console/
# Every node_modules (the root one and workspaces' nested ones, where versions differ) into /out, in place.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && mkdir /out \
  && find . -path ./node_modules -prune -o -type d -name node_modules -prune -print | xargs -r cp -a --parents -t /out \
  && cp -a node_modules /out/

# --- dist: what runs, without sources: manifests, compiled output, migrations, .proto files, catalogue --
FROM build AS dist
RUN mkdir -p /out \
  && cp package.json /out/ \
  && for dir in protos services/*; do \
       mkdir -p "/out/$dir" && cp "$dir/package.json" "/out/$dir/"; \
       for part in dist migrations catalog callgate google; do \
         if [ -e "$dir/$part" ]; then cp -a "$dir/$part" "/out/$dir/"; fi; \
       done; \
     done \
  && find /out -name '*.tsbuildinfo' -delete

# --- runtime -----------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to Node (graceful drain on ECS stop) and reaps zombies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ARG SERVICE
# Port the HEALTHCHECK probes when METRICS_PORT is not set (the sandbox serves /healthz on SANDBOX_PORT).
ARG HEALTH_PORT=9101
ENV NODE_ENV=production \
    BIND_HOST=0.0.0.0 \
    CALLGATE_SERVICE=${SERVICE} \
    HEALTH_PORT=${HEALTH_PORT} \
    DATA_DIR=/tmp/callgate
WORKDIR /app
# Files belong to root and are read-only for the runtime user; the process writes only to /tmp, so the
# container runs with a read-only root file system (ECS readonlyRootFilesystem, compose read_only).
COPY --from=dist --chown=root:root /out/ ./
COPY --from=deps --chown=root:root /out/ ./
COPY --chown=root:root docker/healthcheck.mjs /usr/local/lib/callgate/healthcheck.mjs
RUN test -f "services/${SERVICE}/dist/main.js" || { echo "SERVICE=${SERVICE}: no services/${SERVICE}/dist/main.js" >&2; exit 1; }
USER node
WORKDIR /app/services/${SERVICE}
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "/usr/local/lib/callgate/healthcheck.mjs"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
