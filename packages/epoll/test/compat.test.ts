// @poll/epoll against the `epoll` package itself: the same scenario scripts on real
// descriptors, run on both, must print the same thing; and the original's own test scripts,
// unchanged, must pass against ours.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from '@poll/testkit';
import { capture } from './helpers.js';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const ours = path.resolve(here, '..');
const original = path.dirname(require.resolve('epoll/package.json'));
const scenario = path.join(here, 'fixtures', 'scenario.cjs');

// What each scenario prints; the original must print the same (its behaviour is the spec),
// and so must ours on both loops.
const EPOLLIN = 1;
const EPOLLHUP = 16;
const EPOLLRDHUP = 0x2000;
const expected: Record<string, unknown> = {
  level: [1, 2, 3].map(() => ({ err: null, fd: true, events: EPOLLIN })),
  oneshot: ['event 1', 'after 150 ms: 1', 'event 1', 'after modify: 2'],
  edge: ['event 1', 'after first write: 1', 'event 1', 'after second write: 2'],
  'pipe-hangup': [EPOLLHUP],
  // A unix socket whose peer closed: EPOLLRDHUP only when asked for, as epoll gives it.
  'socket-hangup': [EPOLLIN | EPOLLHUP, EPOLLIN | EPOLLHUP | EPOLLRDHUP],
  writable: ['event 4', 'while full: 1', 'event 4', 'after draining: 2'],
  priority: [2],
  throws: ['uncaught: from the callback', 'event 2'],
  misuse: [
    'constructor without a callback: threw',
    'add a closed fd: threw',
    'add a regular file: threw',
    'add: ok',
    'add again: threw',
    'modify an fd not added: threw',
    'remove an fd not added: threw',
    'add with events not a number: threw',
    'every constant alone, chained: ok',
    'closed before close(): false',
    'closed after close(): true',
    'add after close: threw',
    'modify after close: threw',
    'remove after close: threw',
  ],
  exits: ['removed'],
  reuse: ['same number: true', 'add the new pipe under the old number: ok', 'event new 1'],
};

const run = (module: string, name: string, loop?: 'threaded') =>
  runNode(scenario, [module, name, ...(loop ? [loop] : [])], { timeout: 15000 });

describe('@poll/epoll behaves as the epoll package does', () => {
  for (const [name, want] of Object.entries(expected)) {
    it(name, async () => {
      const [theirs, mine, threaded] = await Promise.all([run(original, name), run(ours, name), run(ours, name, 'threaded')]);
      for (const r of [theirs, mine, threaded]) {
        expect(r.stderr).not.toMatch(/Error(?!: from the callback)/);
        expect(r.code).toBe(0);
      }
      expect(theirs.json).toEqual(want);
      expect(mine.json).toEqual(want);
      expect(threaded.json).toEqual(want);
    });
  }

  it('close() twice: ours does nothing the second time, where the original throws', async () => {
    const [theirs, mine] = await Promise.all([run(original, 'close-twice'), run(ours, 'close-twice')]);
    expect(theirs.json).toEqual(['second close(): threw']);
    expect(mine.json).toEqual(['second close(): ok']);
  });

  it('a watch that stays keeps the process alive (the control for "exits")', async () => {
    for (const module of [original, ours]) {
      const r = await runNode(scenario, [module, 'held'], { aliveFor: 500 });
      expect(r.alive).toBe(true);
    }
  });
});

describe("the epoll package's own test scripts, unchanged, against @poll/epoll", () => {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-epoll-own-tests-'));
  afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

  // Its scripts live in <package>/test and require('../') or require('../epoll'): a copy of
  // them in a directory laid out the same way, whose package is `entry`.
  function layout(name: string, entry: string): string {
    const dir = path.join(temp, name);
    fs.mkdirSync(path.join(dir, 'test'), { recursive: true });
    for (const file of fs.readdirSync(path.join(original, 'test'))) {
      if (file.endsWith('.js')) fs.copyFileSync(path.join(original, 'test', file), path.join(dir, 'test', file));
    }
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ main: 'epoll.js' }));
    fs.writeFileSync(path.join(dir, 'epoll.js'), entry);
    return path.join(dir, 'test');
  }

  // As its run-tests does: `echo | node x` for the scripts that read stdin, a quiet stdin for
  // the others (a pipe nobody writes to: its own runner leaves them the terminal).
  const runScript = (dir: string, script: string, echo: boolean) =>
    capture(process.execPath, [script], { cwd: dir, timeout: 20000, ...(echo ? { input: '\n' } : {}) });

  const scripts: Array<[string, boolean]> = [
    ['closed', false],
    ['do-almost-nothing', false],
    ['do-nothing', false],
    ['no-gc-allowed', true],
    ['one-shot', true],
    ['two-shot', true],
    ['performance-check', true],
    ['verify-events', false],
  ];
  const oursDir = layout('ours', `module.exports = require(${JSON.stringify(ours)});\n`);
  const theirsDir = layout('theirs', `module.exports = require(${JSON.stringify(original)});\n`);

  for (const [script, echo] of scripts) {
    it(`${script} passes against ours, as against the original`, async () => {
      const [mine, theirs] = await Promise.all([runScript(oursDir, script, echo), runScript(theirsDir, script, echo)]);
      for (const r of [mine, theirs]) {
        expect(r.stdout).not.toContain('*** Error');
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
    }, 30000);
  }

  it('catches a drop-in that does not honour EPOLLONESHOT (the control)', async () => {
    const broken = layout(
      'broken',
      `const { Epoll } = require(${JSON.stringify(ours)});\n` +
        'class Broken extends Epoll { add(fd, events) { return super.add(fd, events & ~Epoll.EPOLLONESHOT); } }\n' +
        'module.exports = { Epoll: Broken };\n',
    );
    const r = await runScript(broken, 'one-shot', true);
    expect(r.stdout).toContain('*** Error: unexpected event');
  });
});
