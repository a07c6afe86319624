import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { Poller, PollerBase, PollError, PollDuplex, backend, createDuplex } from '@poll/poller';
import * as linux from '@poll/linux';
import { closeAll, sys, write } from '@poll/testkit';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.resolve(here, '..');

describe('@poll/poller picks the backend for this platform', () => {
  it('is the epoll backend on Linux, with the same Poller behaviour as @poll/linux', async () => {
    expect(backend.name).toBe('epoll');
    using poller = new Poller();
    expect(poller).toBeInstanceOf(PollerBase);
    expect(poller.backend).toBe('epoll');
    // Both entry points share core: errors are the same class.
    expect(PollError).toBe(linux.PollError);
    const [r, w] = sys.pipe();
    try {
      const event = poller.once(r, { readable: true });
      write(w, 'x');
      await expect(event).resolves.toMatchObject({ fd: r, readable: true });
    } finally {
      closeAll(r, w);
    }
  });
});

describe('what each entry point exports', () => {
  it('@poll/linux exports what the facade does (the same objects), but the stream functions of its own pollers (and Bits)', async () => {
    const facade = await import('@poll/poller');
    const onlyFacade = ['createReadStream', 'createWriteStream', 'createDuplex', 'Bits', 'Poller', 'backend'];
    const shared = Object.keys(facade).filter((name) => !onlyFacade.includes(name));
    expect(Object.keys(linux).sort()).toEqual([...shared, 'Poller', 'backend'].sort());
    for (const name of shared) expect(linux[name as keyof typeof linux], name).toBe(facade[name as keyof typeof facade]);
    expect(linux.backend).toBe(facade.backend); // the same backend object, loaded once
  });
});

describe('module-level createDuplex()', () => {
  it("runs on a poller of this thread's own, or on options.poller, which then holds the fd", async () => {
    const [a, b] = sys.socketpair();
    const [c, d] = sys.socketpair();
    using mine = new Poller();
    try {
      const own = createDuplex(a, { autoClose: false });
      expect(own).toBeInstanceOf(PollDuplex);
      const onMine = createDuplex(c, { poller: mine, autoClose: false });
      // The control: only the poller it was given holds c.
      expect(() => mine.add(c, { readable: true }, () => {})).toThrow(expect.objectContaining({ code: 'ERR_POLL_ALREADY_WATCHED' }));
      expect(mine.size).toBe(0);
      write(b, 'one');
      write(d, 'two');
      const [first] = await once(own, 'data');
      const [second] = await once(onMine, 'data');
      expect([String(first), String(second)]).toEqual(['one', 'two']);
      own.destroy();
      onMine.destroy();
      await Promise.all([once(own, 'close'), once(onMine, 'close')]);
      expect(() => createDuplex(a, { poller: {} } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    } finally {
      closeAll(a, b, c, d);
    }
  });
});

describe('a platform without a backend, or a missing platform package', () => {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-facade-'));
  afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

  function importFacade(cwd: string, env: Record<string, string> = {}, preload?: string) {
    const args = [...(preload ? ['--import', preload] : []), '--input-type=module', '-e', "await import('@poll/poller')"];
    // pnpm's scripts set NODE_PATH to its store, where every package resolves: not a user's view.
    const { NODE_PATH: _, ...inherited } = process.env;
    return spawnSync(process.execPath, args, { cwd, env: { ...inherited, ...env }, encoding: 'utf8' });
  }

  it('an unsupported platform gets ERR_POLL_NO_BACKEND naming it and the supported ones', () => {
    const preload = path.join(here, 'fixtures', 'pretend-platform.mjs');
    const run = importFacade(pkgDir, { PRETEND_PLATFORM: 'sunos' }, preload);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('ERR_POLL_NO_BACKEND');
    expect(run.stderr).toMatch(/no backend for sunos-/);
    expect(run.stderr).toContain('Linux');
  });

  it('an install without the optional platform package explains what happened and the fix', () => {
    // A real node_modules with the facade and core but without @poll/linux, as an install
    // with --omit=optional leaves it.
    const scope = path.join(temp, 'node_modules', '@poll');
    const facade = path.join(scope, 'poller');
    fs.mkdirSync(facade, { recursive: true });
    fs.copyFileSync(path.join(pkgDir, 'package.json'), path.join(facade, 'package.json'));
    fs.cpSync(path.join(pkgDir, 'dist'), path.join(facade, 'dist'), { recursive: true });
    fs.symlinkSync(path.resolve(pkgDir, '..', 'core'), path.join(scope, 'core'));

    const run = importFacade(temp);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('ERR_POLL_NO_BACKEND');
    expect(run.stderr).toContain('"@poll/linux" could not be found');
    expect(run.stderr).toContain(`${process.platform}-${process.arch}`);
    expect(run.stderr).toContain('npm install @poll/linux');
    expect(run.stderr).toMatch(/--omit=optional/);
    // The original resolution failure is kept as the cause.
    expect(run.stderr).toMatch(/\[cause\]: Error: Cannot find module '@poll\/linux\/backend'/);
  });
});
