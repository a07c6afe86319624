// onoff (6.0.3, from the npm registry), the largest user of the epoll package, run unchanged on
// simulated sysfs GPIOs (@poll/gpio-sim) with `epoll` resolved to @poll/epoll, side by side
// with the same program on the original epoll package. Each project holds a copy of onoff's
// own files, so that its require('epoll') resolves inside the project, to the epoll that project
// installed, as an override makes it for onoff's users (the release rehearsal installs it that
// way from the packed tarballs). The program (fixtures/onoff-user.cjs) follows onoff's README.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInSim } from '@poll/gpio-sim';
import { brokenDropIn, capture } from './helpers.js';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const ours = path.resolve(here, '..');
const onoff = fs.realpathSync(path.dirname(require.resolve('onoff/package.json')));
const original = fs.realpathSync(path.dirname(require.resolve('epoll/package.json')));
// onoff's other dependency, beside it in pnpm's store.
const debounce = path.join(path.dirname(onoff), 'lodash.debounce');
const EDGES = 2000;

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-onoff-'));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

/** A project with onoff installed and `epoll` being `epollDir`. */
function project(name: string, epollDir: string): string {
  const dir = path.join(temp, name);
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  fs.cpSync(onoff, path.join(dir, 'node_modules', 'onoff'), { recursive: true, dereference: true });
  fs.symlinkSync(debounce, path.join(dir, 'node_modules', 'lodash.debounce'));
  fs.symlinkSync(epollDir, path.join(dir, 'node_modules', 'epoll'));
  fs.copyFileSync(path.join(here, 'fixtures', 'onoff-user.cjs'), path.join(dir, 'onoff-user.cjs'));
  return dir;
}

type Part = { part: string; [key: string]: unknown };
/** Runs the program in its own simulator; every part it printed, by name. */
async function run(dir: string, deadlineSeconds = 30, worker = false) {
  // Pins are exported by onoff itself; udev takes 20 ms to let a new pin be written, as on a Pi
  // (onoff's wait for permission is exercised).
  const r = await capture(runInSim, ['--wire', '17:22', '--wire', '27:4', '--udev-delay', '20', '--', process.execPath, 'onoff-user.cjs', String(EDGES), String(deadlineSeconds), ...(worker ? ['worker'] : [])], { cwd: dir, timeout: 120000 });
  const parts = Object.fromEntries(
    r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Part).map((p) => [p.part, p]),
  );
  return { ...r, parts };
}

/** What onoff's README program must see, on any epoll that works. */
function expectWorking(parts: Record<string, Part>) {
  expect(parts.constants).toMatchObject({ accessible: true, HIGH: 1, LOW: 0 });
  // Three presses and releases, then the bounce settles high: one call for it, not five.
  expect(parts.button).toMatchObject({ seen: [1, 0, 1, 0, 1, 0, 1], led: 1, edge: 'both', direction: 'in' });
  expect(parts.readwrite).toMatchObject({ promised: [1, 0, 1], called: [0, 1, 0], synced: [1, 1] });
  expect(parts.edges).toMatchObject({ count: EDGES, inOrder: true });
  expect(parts.unwatch).toMatchObject({ calls: { a: 1, b: 2 } });
  expect(parts.activeLow).toMatchObject({ before: 0, seen: [1], activeLow: true });
}

describe('onoff on @poll/epoll, beside onoff on the original epoll package', () => {
  let mine: Awaited<ReturnType<typeof run>>;
  let theirs: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    [mine, theirs] = await Promise.all([run(project('onoff-ours', ours), 30, true), run(project('onoff-theirs', original))]);
  }, 180000);

  it("onoff's require('epoll') gets each project's epoll", () => {
    expect(mine.parts.epoll.resolved).toBe(fs.realpathSync(path.join(ours, 'epoll.js')));
    expect(String(theirs.parts.epoll.resolved)).toContain(original);
  });

  it("does everything onoff's README shows, and exits by itself once every pin is unexported", () => {
    expect(mine.stderr).toBe('');
    expect(mine.code).toBe(0);
    expectWorking(mine.parts);
  });

  it('onoff in a worker thread: the worker watches, gets the press, unexports and ends by itself', () => {
    expect(mine.parts.worker).toEqual({ part: 'worker', messages: ['watching', { err: null, value: 1 }], code: 0 });
  });

  it('the original does the same on the same simulated pins (the simulator is not what passes)', () => {
    expect(theirs.stderr).toBe('');
    expect(theirs.code).toBe(0);
    expectWorking(theirs.parts);
    const { perSecond: a, ...restMine } = mine.parts.edges;
    const { perSecond: b, ...restTheirs } = theirs.parts.edges;
    expect(restMine).toEqual(restTheirs);
    expect([a, b].every((x) => Number(x) > 0)).toBe(true);
  });

  it('the control: a drop-in that watches EPOLLIN where onoff asks for EPOLLPRI is caught', async () => {
    // Such a drop-in calls onoff's handler on every turn, not on the edges.
    const broken = brokenDropIn(path.join(temp, 'broken-epoll'), ours);
    const r = await run(project('onoff-broken', broken), 5);
    expect(() => expectWorking(r.parts)).toThrow();
  }, 60000);
});
