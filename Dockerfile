# syntax=docker/dockerfile:1
# Sluice: one image for every role (ROLE=all | api | projector). The build stage compiles src/ to dist/ with
# tsc; the runtime stage runs that JavaScript with the production dependencies only (no tsx, no compiler).

# ── build: install with the toolchain better-sqlite3 needs when no prebuilt binary fits, compile ──────
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Compile, then drop the dev dependencies (typescript, tsx, the test tools) before they reach the image.
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund

# ── runtime: compiled JavaScript, production dependencies, not root ─────────────────────────────────
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node console ./console
COPY --chown=node:node package.json ./
# The default EVENTSTORE_URL (sqlite:./data/events.sqlite) writes here.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--max-semi-space-size=64", "--enable-source-maps", "dist/main.js"]
