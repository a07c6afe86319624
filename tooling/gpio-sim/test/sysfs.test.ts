// gpio-sim against the kernel's sysfs GPIO interface, behaviour by behaviour (the kernel code
// each follows is cited at the top of src/gpio-sim.c). Each test runs a Python program inside
// the simulator that makes the system calls itself (test/sysfs-probe.py), so that what is
// checked is the simulated file system, not any poll library. Needs /dev/fuse and a user and
// mount namespace (unshare), as @poll/epoll's example tests do.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runInSim } from '../index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const G = '/sys/class/gpio';

type Step = (string | number)[];
type Result = { ok?: unknown; errno?: string };

/** Runs the steps in a fresh simulator started with `options`; one result per step. */
function probe(steps: Step[], options: string[] = []): Promise<Result[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(runInSim, [...options, '--', 'python3', path.join(here, 'sysfs-probe.py'), JSON.stringify(steps)], { timeout: 30000 });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`gpio-sim probe exited ${code}: ${err}`));
      const results = out.trim().split('\n').map((l) => JSON.parse(l) as Result);
      if (results.length !== steps.length) return reject(new Error(`${results.length} results for ${steps.length} steps: ${out}${err}`));
      resolve(results);
    });
  });
}

const ok = (value: unknown) => ({ ok: value });
const fails = (errno: string) => ({ errno });

describe('gpio-sim: chips and numbering', () => {
  it('has one chip by default (a Pi before Bookworm: base 0, 54 lines) with base, ngpio and label', async () => {
    expect(await probe([['ls', G], ['ls', `${G}/gpiochip0`], ['read', `${G}/gpiochip0/base`], ['read', `${G}/gpiochip0/ngpio`], ['read', `${G}/gpiochip0/label`], ['write', `${G}/gpiochip0/base`, '1']])).toEqual([
      ok(['export', 'gpiochip0', 'unexport']),
      ok(['base', 'label', 'ngpio']),
      ok('0\n'),
      ok('54\n'),
      ok('pinctrl-bcm2835\n'),
      fails('EACCES'), // 0444
    ]);
  });

  it("numbers Bookworm's way with --chip 512:58 (a Pi 4): GPIO17 is 529, and 17 itself is no line", async () => {
    expect(await probe([['ls', G], ['read', `${G}/gpiochip512/base`], ['write', `${G}/export`, '17'], ['write', `${G}/export`, '529'], ['ls', `${G}/gpio529`]], ['--chip', '512:58:pinctrl-bcm2711'])).toEqual([
      ok(['export', 'gpiochip512', 'unexport']),
      ok('512\n'),
      fails('EINVAL'),
      ok(3),
      ok(['active_low', 'direction', 'edge', 'value']),
    ]);
  });
});

describe('gpio-sim: export and unexport', () => {
  it('parse the number as kstrtol(s, 0) does: one trailing newline, hex, octal, a sign; nothing else', async () => {
    const exported = (text: string): Step[] => [['write', `${G}/export`, text], ['ls', G], ['write', `${G}/unexport`, '17']];
    const results = await probe([...exported('17\n'), ...exported('0x11'), ...exported('021'), ...exported('+17')]);
    for (let i = 0; i < 4; i++) expect(results.slice(i * 3, i * 3 + 3).map((r) => r.errno ?? 'ok')).toEqual(['ok', 'ok', 'ok']);
    expect(results[1]).toEqual(ok(['export', 'gpio17', 'gpiochip0', 'unexport']));
    expect(await probe([
      ['write', `${G}/export`, ' 17'],
      ['write', `${G}/export`, '17 '],
      ['write', `${G}/export`, '17\n\n'],
      ['write', `${G}/export`, '17x'],
      ['write', `${G}/export`, '018'],
      ['write', `${G}/export`, '-1'],
      ['write', `${G}/export`, '54'],
      ['write', `${G}/export`, '99999999999999999999'],
      ['ls', G],
    ])).toEqual([fails('EINVAL'), fails('EINVAL'), fails('EINVAL'), fails('EINVAL'), fails('EINVAL'), fails('EINVAL'), fails('EINVAL'), fails('ERANGE'), ok(['export', 'gpiochip0', 'unexport'])]);
  });

  it('refuse a second export (EBUSY) and an unexport of a line not exported (EINVAL)', async () => {
    expect(await probe([['write', `${G}/export`, '4'], ['write', `${G}/export`, '4'], ['write', `${G}/unexport`, '5'], ['write', `${G}/unexport`, '4'], ['write', `${G}/unexport`, '4']])).toEqual([
      ok(1),
      fails('EBUSY'),
      fails('EINVAL'),
      ok(1),
      fails('EINVAL'),
    ]);
  });

  it('a file open across unexport is dead (ENODEV, polls PRI|ERR), also once the number is exported again; its path is gone', async () => {
    expect(await probe([
      ['write', `${G}/export`, '4'],
      ['open', 'v', `${G}/gpio4/value`, 'r'],
      ['fdread', 'v', 0],
      ['poll', 'v'],
      ['write', `${G}/unexport`, '4'],
      ['fdread', 'v', 0],
      ['poll', 'v'],
      ['read', `${G}/gpio4/value`],
      ['write', `${G}/export`, '4'],
      ['fdread', 'v', 0],
      ['read', `${G}/gpio4/value`],
    ])).toEqual([ok(1), ok(3), ok('0\n'), ok([]), ok(1), fails('ENODEV'), ok(['PRI', 'ERR']), fails('ENOENT'), ok(1), fails('ENODEV'), ok('0\n')]);
  });

  it("export keeps the line's direction and level and resets active_low and edge", async () => {
    expect(await probe([
      ['write', `${G}/export`, '4'],
      ['write', `${G}/gpio4/direction`, 'high'],
      ['write', `${G}/gpio4/active_low`, '1'],
      ['write', `${G}/unexport`, '4'],
      ['write', `${G}/export`, '4'],
      ['read', `${G}/gpio4/direction`],
      ['read', `${G}/gpio4/active_low`],
      ['read', `${G}/gpio4/value`],
      ['write', `${G}/export`, '5'],
      ['write', `${G}/gpio5/edge`, 'both'],
      ['write', `${G}/unexport`, '5'],
      ['write', `${G}/export`, '5'],
      ['read', `${G}/gpio5/edge`],
    ])).toEqual([ok(1), ok(4), ok(1), ok(1), ok(1), ok('out\n'), ok('0\n'), ok('1\n'), ok(1), ok(4), ok(1), ok(1), ok('none\n')]);
  });

  it('a missing attribute cannot be created (EACCES, as fs.writeFileSync meets it in sysfs)', async () => {
    expect(await probe([['write', `${G}/export`, '4'], ['create', `${G}/gpio4/value`], ['create', `${G}/gpio4/nonesuch`], ['create', `${G}/gpio5/value`]])).toEqual([
      ok(1),
      ok(true),
      fails('EACCES'),
      fails('ENOENT'),
    ]);
  });

  it("--udev-delay: a new line's files refuse writers for a while, as before udev's chgrp/chmod (what onoff waits for)", async () => {
    expect(await probe([
      ['write', `${G}/export`, '4'],
      ['open', 'w', `${G}/gpio4/value`, 'rw'],
      ['open', 'r', `${G}/gpio4/value`, 'r'],
      ['sleep', 400],
      ['open', 'w2', `${G}/gpio4/value`, 'rw'],
    ], ['--udev-delay', '300'])).toEqual([ok(1), fails('EACCES'), ok(expect.any(Number)), ok(true), ok(expect.any(Number))]);
  });
});

describe('gpio-sim: direction, value, active_low, edge', () => {
  it('direction takes in, out, low, high with at most one trailing newline', async () => {
    expect(await probe([
      ['write', `${G}/export`, '4'],
      ['read', `${G}/gpio4/direction`],
      ['write', `${G}/gpio4/direction`, 'out\n'],
      ['read', `${G}/gpio4/direction`],
      ['write', `${G}/gpio4/direction`, 'out\n\n'],
      ['write', `${G}/gpio4/direction`, 'OUT'],
      ['write', `${G}/gpio4/direction`, ' in'],
      ['write', `${G}/gpio4/direction`, 'high'],
      ['read', `${G}/gpio4/value`],
      ['write', `${G}/gpio4/direction`, 'low'],
      ['read', `${G}/gpio4/value`],
    ])).toEqual([ok(1), ok('in\n'), ok(4), ok('out\n'), fails('EINVAL'), fails('EINVAL'), fails('EINVAL'), ok(4), ok('1\n'), ok(3), ok('0\n')]);
  });

  it('value: an input refuses writes (EPERM); an output takes kstrtol, any nonzero is high', async () => {
    const steps: Step[] = [['write', `${G}/export`, '4'], ['write', `${G}/gpio4/value`, '1'], ['write', `${G}/gpio4/direction`, 'out']];
    for (const text of ['1', '0\n', '2', '0', '-1', '0', '0x1', '01']) steps.push(['write', `${G}/gpio4/value`, text], ['read', `${G}/gpio4/value`]);
    steps.push(['write', `${G}/gpio4/value`, ' 1'], ['write', `${G}/gpio4/value`, '1x'], ['write', `${G}/gpio4/value`, 'high']);
    const r = await probe(steps);
    expect(r.slice(0, 3)).toEqual([ok(1), fails('EPERM'), ok(3)]);
    expect(r.slice(3, 19).filter((_, i) => i % 2 === 1)).toEqual(['1\n', '0\n', '1\n', '0\n', '1\n', '0\n', '1\n', '1\n'].map(ok));
    expect(r.slice(19)).toEqual([fails('EINVAL'), fails('EINVAL'), fails('EINVAL')]);
  });

  it('active_low inverts what value reads and writes; "high"/"low" set the physical level', async () => {
    expect(await probe([
      ['write', `${G}/export`, '17'],
      ['write', `${G}/export`, '4'],
      ['write', `${G}/gpio17/direction`, 'high'],
      ['read', `${G}/gpio4/value`],
      ['read', `${G}/gpio4/active_low`],
      ['write', `${G}/gpio4/active_low`, '2'],
      ['read', `${G}/gpio4/active_low`],
      ['read', `${G}/gpio4/value`],
      ['write', `${G}/gpio4/active_low`, ' 1'],
      ['write', `${G}/gpio17/active_low`, '1\n'],
      ['read', `${G}/gpio17/value`],
      ['write', `${G}/gpio17/value`, '1'],
      ['read', `${G}/gpio4/value`],
      ['write', `${G}/gpio4/active_low`, '0'],
      ['read', `${G}/gpio4/value`],
    ], ['--wire', '17:4'])).toEqual([
      ok(2), ok(1), ok(4),
      ok('1\n'), // the wire carries 17's high level
      ok('0\n'),
      ok(1),
      ok('1\n'),
      ok('0\n'), // inverted
      fails('EINVAL'),
      ok(2),
      ok('0\n'), // 17 is physically high, and now active-low
      ok(1), // logical 1 = physical low
      ok('1\n'), // 4 reads physical low inverted
      ok(1),
      ok('0\n'),
    ]);
  });

  it('edge: four names, EINVAL otherwise; an output refuses an interrupt edge (EIO) and is left at none', async () => {
    expect(await probe([
      ['write', `${G}/export`, '4'],
      ['write', `${G}/gpio4/edge`, 'both\n'],
      ['read', `${G}/gpio4/edge`],
      ['write', `${G}/gpio4/edge`, 'Both'],
      ['write', `${G}/gpio4/direction`, 'out'], // allowed while edge is set
      ['read', `${G}/gpio4/edge`],
      ['write', `${G}/gpio4/edge`, 'both'], // the current value: nothing to do
      ['write', `${G}/gpio4/edge`, 'rising'],
      ['read', `${G}/gpio4/edge`],
      ['write', `${G}/gpio4/edge`, 'none'],
    ])).toEqual([ok(1), ok(5), ok('both\n'), fails('EINVAL'), ok(3), ok('both\n'), ok(4), fails('EIO'), ok('none\n'), ok(4)]);
  });
});

describe('gpio-sim: interrupts', () => {
  const setup: Step[] = [
    ['write', `${G}/export`, '17'],
    ['write', `${G}/export`, '4'],
    ['write', `${G}/gpio17/direction`, 'low'],
  ];

  it('an open value file reports PRI|ERR until it reads, at any offset; then once per edge its edge asks for', async () => {
    expect(await probe([
      ...setup,
      ['write', `${G}/gpio4/edge`, 'rising'],
      ['open', 'v', `${G}/gpio4/value`, 'r'],
      ['poll', 'v'],
      ['fdread', 'v', 1],
      ['poll', 'v'],
      ['write', `${G}/gpio17/value`, '1'],
      ['poll', 'v'],
      ['fdread', 'v', 0],
      ['poll', 'v'],
      ['write', `${G}/gpio17/value`, '0'], // falling: not asked for
      ['poll', 'v'],
    ], ['--wire', '17:4'])).toEqual([...setup.map(() => expect.anything()), ok(6), ok(3), ok(['PRI', 'ERR']), ok('\n'), ok([]), ok(1), ok(['PRI', 'ERR']), ok('1\n'), ok([]), ok(1), ok([])]);
  });

  it('with active_low, edges are logical: "rising" fires on a physical fall', async () => {
    expect(await probe([
      ...setup,
      ['write', `${G}/gpio17/value`, '1'],
      ['write', `${G}/gpio4/active_low`, '1'],
      ['write', `${G}/gpio4/edge`, 'rising'],
      ['open', 'v', `${G}/gpio4/value`, 'r'],
      ['fdread', 'v', 0],
      ['write', `${G}/gpio17/value`, '0'], // physical fall = logical rise
      ['poll', 'v'],
      ['fdread', 'v', 0],
      ['write', `${G}/gpio17/value`, '1'],
      ['poll', 'v'],
    ], ['--wire', '17:4'])).toEqual([...setup.map(() => expect.anything()), ok(1), ok(1), ok(6), ok(3), ok('0\n'), ok(1), ok(['PRI', 'ERR']), ok('1\n'), ok(1), ok([])]);
  });
});
