import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Bits } from '../src/index.js';

const loadBackend = createRequire(import.meta.url)('../load-backend.cjs') as (o: object) => { backend: any; loops: any };

/** An addon's exports as the glue makes them: the chosen class under className and every loop's under loops. */
const addon = (Native: unknown, extra: object = {}) => ({ Native, loop: 'uv', loops: { uv: Native }, ...extra });

const base = {
  pkg: '@poll/example',
  dir: '/nowhere',
  name: 'epoll',
  className: 'Native',
  platforms: [process.platform],
  serves: 'this platform',
};

describe('loading a platform package\'s addon', () => {
  it('wraps the native class as a backend', () => {
    class Native {
      constructor(readonly buffer: Int32Array, readonly onBatch: () => void) {}
    }
    const { backend } = loadBackend({ ...base, load: () => addon(Native, { supported: 7, bits: Bits }) });
    expect(backend).toMatchObject({ name: 'epoll', loop: 'uv', supported: 7, bits: Bits });
    const made = backend.create(new Int32Array(3), () => {});
    expect(made).toBeInstanceOf(Native);
    expect(Object.isFrozen(backend)).toBe(true);
  });

  it('offers the backend on every loop the addon exports, the chosen one as `backend`', () => {
    class OnThread {}
    class OnNapi {}
    const { backend, loops } = loadBackend({
      ...base,
      load: () => ({ Native: OnNapi, loop: 'napi', loops: { thread: OnThread, napi: OnNapi }, supported: 3 }),
    });
    expect(backend.loop).toBe('napi');
    expect(Object.keys(loops)).toEqual(['thread', 'napi']);
    expect(loops.napi).toBe(backend);
    expect(loops.thread).toMatchObject({ name: 'epoll', loop: 'thread', supported: 3 });
    expect(loops.thread.create(new Int32Array(3), () => {})).toBeInstanceOf(OnThread);
    expect(Object.isFrozen(loops)).toBe(true);
  });

  it('another platform gets ERR_POLL_NO_BACKEND naming the package, what it serves and this platform', () => {
    const load = () => {
      throw new Error('must not be loaded');
    };
    expect(() => loadBackend({ ...base, load, platforms: ['plan9'], serves: 'Plan 9', instead: 'Use the other one.' })).toThrow(
      expect.objectContaining({
        code: 'ERR_POLL_NO_BACKEND',
        message: expect.stringMatching(new RegExp(`@poll/example is the epoll backend for Plan 9; this is ${process.platform}\\. Use the other one\\. Install @poll/poller`)),
      }),
    );
  });

  it('no binary at all: ERR_POLL_NO_BACKEND with how to build, keeping node-gyp-build\'s error as cause', () => {
    const missing = new Error('No native build was found for platform=linux arch=x64 runtime=node abi=115');
    let caught: any;
    try {
      loadBackend({ ...base, load: () => { throw missing; } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'ERR_POLL_NO_BACKEND', cause: missing });
    expect(caught.message).toContain(`no prebuilt binary for ${process.platform}-${process.arch}`);
    expect(caught.message).toContain('npx --yes node-gyp@12 rebuild --directory /nowhere/native');
  });

  it('a build from source in native/ wins over a prebuilt binary; prebuilds/ is the fallback', () => {
    class FromSource {}
    class Prebuilt {}
    const missing = () => new Error('No native build was found for platform=linux arch=x64');
    const tried: string[] = [];
    const both = loadBackend({
      ...base,
      load: (dir: string) => (tried.push(dir), dir.endsWith('native') ? addon(FromSource) : addon(Prebuilt)),
    });
    expect(both.backend.create(new Int32Array(3), () => {})).toBeInstanceOf(FromSource);
    expect(tried).toEqual(['/nowhere/native']);
    tried.length = 0;
    const onlyPrebuilt = loadBackend({
      ...base,
      load: (dir: string) => {
        tried.push(dir);
        if (dir.endsWith('native')) throw missing();
        return addon(Prebuilt);
      },
    });
    expect(onlyPrebuilt.backend.create(new Int32Array(3), () => {})).toBeInstanceOf(Prebuilt);
    expect(tried).toEqual(['/nowhere/native', '/nowhere']);
  });

  it('a source build that exists but cannot load is the real error, not a reason to fall back', () => {
    const real = Object.assign(new Error('/nowhere/native/build/Release/x.node: invalid ELF header'), { code: 'ERR_DLOPEN_FAILED' });
    expect(() => loadBackend({ ...base, load: (dir: string) => { if (dir.endsWith('native')) throw real; return {}; } })).toThrow(real);
  });

  it('a prebuilt binary this system cannot load: ERR_POLL_NO_BACKEND with the build command, the load error as cause', () => {
    const real = Object.assign(new Error('/x/prebuilds/freebsd-x64/node.napi.node: version FBSD_1.7 required not found'), { code: 'ERR_DLOPEN_FAILED' });
    const missing = new Error('No native build was found for platform=freebsd arch=x64');
    let caught: any;
    try {
      loadBackend({ ...base, load: (dir: string) => { throw dir.endsWith('native') ? missing : real; } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'ERR_POLL_NO_BACKEND', cause: real });
    expect(caught.message).toContain('prebuilt binary');
    expect(caught.message).toContain('does not load on this system');
    expect(caught.message).toContain('npx --yes node-gyp@12 rebuild --directory /nowhere/native');
  });

  it('any other failure to load passes through as it is', () => {
    const real = Object.assign(new Error('boom'), { code: 'EACCES' });
    expect(() => loadBackend({ ...base, load: (dir: string) => { if (dir.endsWith('native')) throw new Error('No native build was found'); throw real; } })).toThrow(real);
  });
});
