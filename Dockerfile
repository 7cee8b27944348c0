# syntax=docker/dockerfile:1
# Sluice: one image for every role (ROLE=all | api | projector). TypeScript runs through tsx, so there is no
# build step: the image carries the sources and the production dependencies (tsx is one of them).

# ── deps: install with the toolchain better-sqlite3 needs when no prebuilt binary fits ──────────────
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm ci runs the native build; prune then drops dev tools (tsx stays: `npm start` and CMD use it).
RUN npm ci --no-audit --no-fund \
  && npm prune --omit=dev --no-audit --no-fund

# ── runtime: no compiler, no dev dependencies, not root ───────────────────────────────────────────
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node src ./src
COPY --chown=node:node projections ./projections
# The default EVENTSTORE_URL (sqlite:./data/events.sqlite) writes here.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--max-semi-space-size=64", "--import", "tsx", "src/main.ts"]
