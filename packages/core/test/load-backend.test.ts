import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Bits } from '../src/index.js';

const loadBackend = createRequire(import.meta.url)('../load-backend.cjs') as (o: object) => { backend: any };

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
    const { backend } = loadBackend({ ...base, load: () => ({ Native, supported: 7, bits: Bits }) });
    expect(backend).toMatchObject({ name: 'epoll', supported: 7, bits: Bits });
    const made = backend.create(new Int32Array(3), () => {});
    expect(made).toBeInstanceOf(Native);
    expect(Object.isFrozen(backend)).toBe(true);
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
    expect(caught.message).toContain('pnpm build');
  });

  it('a binary that exists but cannot load (wrong libc, no permission) passes through as it is', () => {
    const real = Object.assign(new Error('/x/node.napi.node: cannot open shared object file'), { code: 'ERR_DLOPEN_FAILED' });
    expect(() => loadBackend({ ...base, load: () => { throw real; } })).toThrow(real);
  });
});
