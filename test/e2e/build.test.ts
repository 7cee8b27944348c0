// Production runs compiled JavaScript: `npm start` builds dist/ when it is missing or older than src/, and
// only then. Run on a copy of the project (its own dist/), so the suite's build is left alone.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
let copy: string;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'sluice-build-'));
  for (const path of ['src', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json'])
    cpSync(join(ROOT, path), join(copy, path), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

/** `npm start`'s command in the copy, with a PORT that stops the service right after its config is read. */
const start = () => {
  const pkg = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [, ...args] = pkg.scripts.start.replace(/^exec /, '').split(' ');
  return spawnSync(process.execPath, args, {
    cwd: copy,
    env: { ...process.env, PORT: 'not-a-port', NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 120_000,
  });
};

describe('npm start runs the compiled service', () => {
  it('given no dist/, when started, then it builds dist/ with source maps first and runs the compiled entry; started again, it does not build', () => {
    const first = start();
    expect(first.stderr).toContain('building dist/');
    expect(existsSync(join(copy, 'dist', 'main.js'))).toBe(true);
    expect(existsSync(join(copy, 'dist', 'main.js.map'))).toBe(true);
    // The compiled service read its config and refused the port: one line, exit 1.
    expect(first.status).toBe(1);
    expect(first.stderr).toMatch(/PORT/);
    expect(readFileSync(join(copy, 'dist', 'main.js'), 'utf8')).not.toMatch(/from ['"]tsx/);

    const second = start();
    expect(second.status).toBe(1);
    expect(second.stderr).not.toContain('building dist/');
  }, 180_000);

  it('given a source newer than dist/, when started, then it builds again', () => {
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(copy, 'src', 'config.ts'), later, later);
    const again = start();
    expect(again.stderr).toContain('building dist/');
    expect(again.status).toBe(1);
  }, 180_000);
});
