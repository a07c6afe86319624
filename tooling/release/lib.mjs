// What the release scripts share: the published packages, running commands, fresh projects.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const binDir = path.join(here, 'node_modules', '.bin');

/** packages/<dir> of every package a release publishes, dependencies first. */
export const PUBLISHED = ['core', 'linux', 'bsd', 'poller', 'epoll'];

/** Runs a command and returns its stdout; a failure throws with everything it printed. */
export function run(cmd, args, { cwd, env, quiet = false, input } = {}) {
  const result = spawnSync(cmd, args, { cwd, env: env ?? process.env, encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (result.error || result.status !== 0) {
    const printed = `${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd();
    throw new Error(`${cmd} ${args.join(' ')} failed (${result.error ?? `exit ${result.status}`})${cwd ? ` in ${cwd}` : ''}${printed ? `:\n${printed}` : ''}`);
  }
  if (!quiet && result.stdout) process.stdout.write(result.stdout);
  return result.stdout;
}

/** A new, empty project directory outside the workspace, as a user starts one. */
export function freshProject(label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `poll-${label}-`));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `try-${label}`, private: true, type: 'module' }, null, 2));
  fs.copyFileSync(path.join(here, 'smoke.mjs'), path.join(dir, 'smoke.mjs'));
  fs.copyFileSync(path.join(here, 'smoke-epoll.cjs'), path.join(dir, 'smoke-epoll.cjs'));
  return dir;
}

/** Packed tarballs from release:pack, by package name. */
export function packs(dir = path.join(root, '.release', 'packs')) {
  const file = path.join(dir, 'packs.json');
  if (!fs.existsSync(file)) throw new Error(`no packed tarballs in ${dir}: run pnpm release:pack first`);
  return Object.fromEntries(Object.entries(JSON.parse(fs.readFileSync(file, 'utf8'))).map(([name, f]) => [name, path.join(dir, f)]));
}

/** An environment whose PATH has node and nothing that compiles. */
export function noCompilerEnv(nodeBin) {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-nocc-'));
  fs.symlinkSync(nodeBin, path.join(bin, 'node'));
  return { ...process.env, PATH: bin };
}
