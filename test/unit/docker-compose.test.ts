import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '../..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const service = (name: string): Service => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const healthcheckOf = (name: string): string => (service(name).healthcheck?.test ?? []).join(' ');

describe('docker-compose.yml', () => {
  it('has eventstore, redis and app, and a projector only under the scale profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'eventstore', 'projector', 'redis']);
    expect(service('projector').profiles).toEqual(['scale']);
    for (const name of ['eventstore', 'redis', 'app']) expect(service(name).profiles).toBeUndefined();
  });

  it('runs a single insecure EventStoreDB 24.10 without server projections, UI on 2113, data in a volume', () => {
    const eventstore = service('eventstore');
    expect(eventstore.image).toBe('eventstore/eventstore:24.10');
    expect(eventstore.ports).toEqual(['2113:2113']);
    expect(eventstore.environment).toMatchObject({
      EVENTSTORE_INSECURE: 'true',
      EVENTSTORE_CLUSTER_SIZE: '1',
      EVENTSTORE_RUN_PROJECTIONS: 'None',
      EVENTSTORE_ENABLE_ATOM_PUB_OVER_HTTP: 'true',
    });
    expect(eventstore.volumes).toEqual(['eventstore-data:/var/lib/eventstore']);
    expect(healthcheckOf('eventstore')).toContain('curl -f http://localhost:2113/health/live');
  });

  it('runs Redis 7 with the append-only file, a ping health check and a volume', () => {
    const redis = service('redis');
    expect(redis.image).toBe('redis:7-alpine');
    expect(redis.command).toEqual(['redis-server', '--appendonly', 'yes']);
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(healthcheckOf('redis')).toBe('CMD redis-cli ping');
  });

  it('declares the named volumes it mounts', () => {
    expect(Object.keys(compose.volumes).sort()).toEqual(['eventstore-data', 'redis-data']);
  });

  it('builds the app, points it at both stores by service name and publishes 3000', () => {
    const app = service('app');
    expect(app.build).toBe('.');
    expect(app.ports).toEqual(['3000:3000']);
    expect(app.environment).toEqual({
      HOST: '0.0.0.0',
      PORT: '3000',
      EVENTSTORE_URL: 'esdb://eventstore:2113?tls=false',
      REDIS_URL: 'redis://redis:6379',
      ROLE: 'all',
    });
    expect(healthcheckOf('app')).toContain('http://127.0.0.1:3000/health');
  });

  it.each(['app', 'projector'])('starts %s only once EventStoreDB and Redis are healthy', (name) => {
    expect(service(name).depends_on).toEqual({
      eventstore: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
  });

  it('runs the projector from the same image with ROLE=projector and the same stores', () => {
    const projector = service('projector');
    expect(projector.image).toBe(service('app').image);
    expect(projector.environment).toMatchObject({
      ROLE: 'projector',
      EVENTSTORE_URL: service('app').environment?.EVENTSTORE_URL,
      REDIS_URL: service('app').environment?.REDIS_URL,
    });
    expect(projector.ports).toBeUndefined();
  });
});

describe('Dockerfile', () => {
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)\s+AS\s+(\S+)/gim)].map((m) => [m[1], m[2]]);
  const runtime = dockerfile.slice(dockerfile.search(/^FROM\s+\S+\s+AS\s+runtime/im));

  it('has a build stage and a runtime stage, both on node:20-bookworm-slim', () => {
    expect(stages).toEqual([
      ['node:20-bookworm-slim', 'build'],
      ['node:20-bookworm-slim', 'runtime'],
    ]);
  });

  it('builds native modules and compiles in the build stage, then drops dev dependencies', () => {
    const build = dockerfile.slice(0, dockerfile.indexOf(runtime));
    expect(build).toMatch(/apt-get install[^\n]*python3 make g\+\+/);
    expect(build).toContain('npm ci');
    expect(build).toContain('npm run build');
    expect(build.indexOf('npm prune --omit=dev')).toBeGreaterThan(build.indexOf('npm run build'));
  });

  it('copies only what runs into the runtime stage (compiled dist/, no sources, no tsx), and runs as node', () => {
    expect(runtime).toContain('COPY --from=build --chown=node:node /app/node_modules ./node_modules');
    expect(runtime).toContain('COPY --from=build --chown=node:node /app/dist ./dist');
    expect(runtime).toMatch(/COPY .*package\.json/);
    expect(runtime).not.toMatch(/COPY .*\bsrc\b|tsx|g\+\+|npm ci/);
    expect(runtime).toMatch(/^USER node$/m);
  });

  it('listens on 0.0.0.0:3000, checks /health with node fetch, and starts dist/main.js with the flags of `npm start`', () => {
    expect(runtime).toMatch(/HOST=0\.0\.0\.0/);
    expect(runtime).toMatch(/^EXPOSE 3000$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*fetch\(.*\/health/m);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    const cmd = /^CMD (\[.*\])$/m.exec(runtime)?.[1];
    expect(cmd).toBeDefined();
    // npm start execs node (so npm's SIGTERM reaches it, not a shell in between) on the build-if-stale
    // runner; the image runs the compiled entry itself. Both with the same node flags.
    const start = /^exec node (.*) scripts\/run-built\.mjs main$/.exec(pkg.scripts.start);
    expect(start).not.toBeNull();
    expect((JSON.parse(cmd!) as string[]).join(' ')).toBe(`node ${start![1]} dist/main.js`);
  });

  it('keeps tsx a dev dependency: production runs compiled JavaScript', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.devDependencies.tsx).toBeDefined();
  });
});
