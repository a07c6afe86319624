import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { backendPackageFor, selectBackend } from '../src/index.js';
import { FakeBackend } from './fake-backend.js';
import { thrown } from './helpers.js';

function moduleNotFound(specifier: string, requireStack: string[] = ['/app/node_modules/@poll/poller/dist/index.js']): Error {
  const err = new Error(`Cannot find module '${specifier}'\nRequire stack:\n${requireStack.map((p) => `- ${p}`).join('\n')}`);
  Object.assign(err, { code: 'MODULE_NOT_FOUND', requireStack });
  return err;
}

function requireThrowing(err: unknown) {
  return vi.fn((_id: string): unknown => {
    throw err;
  });
}

describe('backendPackageFor', () => {
  it.each([
    ['linux', '@poll/linux'],
    ['android', '@poll/linux'],
    ['darwin', '@poll/bsd'],
    ['freebsd', '@poll/bsd'],
    ['openbsd', '@poll/bsd'],
    ['netbsd', '@poll/bsd'],
  ])('%s is served by %s', (platform, pkg) => {
    expect(backendPackageFor(platform)).toBe(pkg);
  });

  it.each(['win32', 'aix', 'sunos', 'cygwin', '', 'constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    '%o has no package',
    (platform) => {
      expect(backendPackageFor(platform)).toBeUndefined();
    },
  );
});

describe('selectBackend', () => {
  it.each(['win32', 'aix', 'sunos', 'constructor', '__proto__'])(
    'an unsupported platform (%o) throws ERR_POLL_NO_BACKEND naming it, without requiring anything',
    (platform) => {
      const require = vi.fn();
      const err = thrown(() => selectBackend(require, platform, 'x64'));
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe('ERR_POLL_NO_BACKEND');
      expect(err.message).toContain(`${platform}-x64`);
      expect(require).not.toHaveBeenCalled();
    },
  );

  it.each([
    ['linux', '@poll/linux'],
    ['android', '@poll/linux'],
    ['darwin', '@poll/bsd'],
    ['freebsd', '@poll/bsd'],
  ])('on %s, a missing %s becomes ERR_POLL_NO_BACKEND with the package, platform, an install hint and the cause', (platform, pkg) => {
    const missing = moduleNotFound(`${pkg}/backend`);
    const require = requireThrowing(missing);
    const err = thrown(() => selectBackend(require, platform, 'arm64'));
    expect(require).toHaveBeenCalledExactlyOnceWith(`${pkg}/backend`);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_POLL_NO_BACKEND');
    expect(err.message).toContain(`"${pkg}"`);
    expect(err.message).toContain(`${platform}-arm64`);
    expect(err.message).toContain(`npm install ${pkg}`);
    expect(err.message).toMatch(/--omit=optional|--no-optional/);
    expect(err.cause).toBe(missing);
  });

  it("Node's own MODULE_NOT_FOUND error for the package is recognised", () => {
    // Get the error a real require() throws where @poll/linux is not installed. It is made in a
    // child process because the test runner's NODE_PATH reaches pnpm's hoisted store, where
    // this workspace's @poll/linux is found.
    const script = `
      const { createRequire } = require('node:module');
      try { createRequire(${JSON.stringify(join(tmpdir(), 'poll-core-test', 'x.js'))})('@poll/linux/backend'); }
      catch (e) { process.stdout.write(JSON.stringify({ code: e.code, message: e.message })); }`;
    const env = { ...process.env };
    delete env.NODE_PATH;
    const out = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 5000 });
    const { code, message } = JSON.parse(out.stdout) as { code: string; message: string };
    expect(code).toBe('MODULE_NOT_FOUND');
    const real = Object.assign(new Error(message), { code });
    const err = thrown(() => selectBackend(requireThrowing(real), 'linux', 'x64'));
    expect(err.code).toBe('ERR_POLL_NO_BACKEND');
    expect(err.cause).toBe(real);
  });

  it('MODULE_NOT_FOUND for one of the backend\'s own dependencies passes through unchanged', () => {
    const nested = moduleNotFound('node-gyp-build', [
      '/app/node_modules/.pnpm/@poll+linux@0.1.0/node_modules/@poll/linux/backend.cjs',
      '/app/node_modules/@poll/poller/dist/index.js',
    ]);
    const require = requireThrowing(nested);
    expect(thrown(() => selectBackend(require, 'linux', 'x64'))).toBe(nested);
  });

  it('MODULE_NOT_FOUND for the other platform package passes through unchanged', () => {
    const other = moduleNotFound('@poll/bsd/backend');
    expect(thrown(() => selectBackend(requireThrowing(other), 'linux', 'x64'))).toBe(other);
  });

  it('MODULE_NOT_FOUND for @poll/core (a dependency of the backend) passes through unchanged', () => {
    const core = moduleNotFound('@poll/core', ['/app/node_modules/@poll/linux/backend.cjs']);
    expect(thrown(() => selectBackend(requireThrowing(core), 'linux', 'x64'))).toBe(core);
  });

  it.each([
    ['an ERR_POLL_NO_BACKEND from the package itself (no prebuilt binary)', Object.assign(new Error('no binary'), { code: 'ERR_POLL_NO_BACKEND' })],
    ['a plain Error', new Error('dlopen failed: wrong ELF class')],
    ['a SyntaxError', new SyntaxError('Unexpected token')],
    ['ERR_PACKAGE_PATH_NOT_EXPORTED', Object.assign(new Error("Package subpath './backend' is not defined by \"exports\""), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' })],
    ['a thrown string', 'boom'],
    ['a thrown null', null],
  ])('any other failure (%s) passes through unchanged', (_what, failure) => {
    const require = requireThrowing(failure);
    let caught: unknown = Symbol('not thrown');
    try {
      selectBackend(require, 'linux', 'x64');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(failure);
  });

  it('a good require returns the backend it exports', () => {
    const backend = new FakeBackend();
    const require = vi.fn(() => ({ backend }));
    expect(selectBackend(require, 'linux', 'x64')).toBe(backend);
    expect(require).toHaveBeenCalledExactlyOnceWith('@poll/linux/backend');
    expect(selectBackend(require, 'darwin', 'arm64')).toBe(backend);
    expect(require).toHaveBeenLastCalledWith('@poll/bsd/backend');
  });

  it('defaults to process.platform and process.arch', () => {
    const backend = new FakeBackend();
    const pkg = backendPackageFor(process.platform);
    if (pkg === undefined) {
      expect(thrown(() => selectBackend(vi.fn())).message).toContain(`${process.platform}-${process.arch}`);
    } else {
      const require = vi.fn(() => ({ backend }));
      expect(selectBackend(require)).toBe(backend);
      expect(require).toHaveBeenCalledWith(`${pkg}/backend`);
    }
  });

  it.each([
    ['an empty module', {}],
    ['a backend without create()', { backend: { name: 'epoll' } }],
    ['undefined', undefined],
    ['null', null],
    ['a null backend', { backend: null }],
  ])('a module that does not export a backend (%s) is refused with a clear Error', (_what, exported) => {
    const err = thrown(() => selectBackend(() => exported, 'linux', 'x64'));
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('@poll/linux/backend does not export a poll backend');
  });
});
