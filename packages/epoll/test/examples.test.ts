// The epoll package's two example programs, unchanged, against @poll/epoll installed under the
// name `epoll` (as the alias "epoll": "npm:@poll/epoll@…" installs it), on simulated sysfs
// GPIOs: @poll/gpio-sim serves /sys/class/gpio from FUSE, with poll() reporting an edge as
// POLLPRI | POLLERR until the value file is read again, as sysfs does. The examples' own
// export/unexport scripts set the pins up. Needs /dev/fuse and a mount namespace (root here).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runInSim } from '@poll/gpio-sim';
import { brokenDropIn, capture } from './helpers.js';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const ours = path.resolve(here, '..');
const original = path.dirname(require.resolve('epoll/package.json'));

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-epoll-examples-'));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

/** A project whose node_modules/epoll is `pkg`, holding a copy of the original's examples. */
function project(name: string, pkg: string): string {
  const dir = path.join(temp, name);
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  fs.symlinkSync(pkg, path.join(dir, 'node_modules', 'epoll'));
  fs.cpSync(path.join(original, 'example'), path.join(dir, 'example'), { recursive: true });
  // interrupts-per-second requires '../../', the package root in the original's repository;
  // in a project that root is the project, which hands on its `epoll`.
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, main: 'index.js' }));
  fs.writeFileSync(path.join(dir, 'index.js'), "module.exports = require('epoll');\n");
  return dir;
}

// The program's output, then what is left in /sys/class/gpio once both pins are unexported.
const PRESSED_THRICE = ['pressed', 'released', 'pressed', 'released', 'pressed', 'released', 'export', 'gpiochip0', 'unexport'];

const sim = (wires: string[], script: string, cwd: string) =>
  capture(runInSim, [...wires.flatMap((w) => ['--wire', w]), '--', 'bash', '-c', script], { cwd });

// watch-button reads GPIO4 (an input, interrupts on both edges); GPIO17 is wired to it as the
// button: the script presses and releases it three times once the program has the value file
// open (an edge after that open is never lost: sysfs counts it until the next read).
const WATCH_BUTTON = `
  set -euo pipefail
  cd example/watch-button
  sh export
  echo 17 > /sys/class/gpio/export
  echo low > /sys/class/gpio/gpio17/direction
  node watch-button.js > out.txt &
  pid=$!
  for _ in $(seq 200); do ls -l /proc/$pid/fd 2>/dev/null | grep -q gpio4/value && break; sleep 0.05; done
  sleep 0.5
  for _ in 1 2 3; do
    echo 1 > /sys/class/gpio/gpio17/value; sleep 0.2
    echo 0 > /sys/class/gpio/gpio17/value; sleep 0.2
  done
  kill $pid
  wait $pid || true
  cat out.txt
  echo 17 > /sys/class/gpio/unexport
  sh unexport
  ls /sys/class/gpio
`;

// interrupts-per-second toggles GPIO8, wired to GPIO7, on every interrupt from GPIO7, for five
// seconds, then prints the rate, removes its watch and closes: the process must then exit.
const INTERRUPTS_PER_SECOND = `
  set -euo pipefail
  cd example/interrupts-per-second
  sh export
  node interrupts-per-second.js
  sh unexport
`;

describe("the epoll package's examples, unchanged, on @poll/epoll under the name epoll", () => {
  it('watch-button: pressed and released, three times', async () => {
    const r = await sim(['17:4'], WATCH_BUTTON, project('watch-button', ours));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(PRESSED_THRICE);
  }, 60000);

  it('interrupts-per-second: runs its five seconds, reports a rate and exits by itself, as with the original', async () => {
    const [mine, theirs] = await Promise.all([
      sim(['8:7'], INTERRUPTS_PER_SECOND, project('ips-ours', ours)),
      sim(['8:7'], INTERRUPTS_PER_SECOND, project('ips-theirs', original)),
    ]);
    for (const r of [mine, theirs]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const rate = /^(\d+) interrupts per second$/.exec(r.stdout.trim());
      expect(rate).not.toBeNull();
      expect(Number(rate![1])).toBeGreaterThan(0);
    }
  }, 60000);

  it('catches a button nobody watches (the control: without EPOLLPRI support nothing is printed)', async () => {
    // The same run against a drop-in that watches for EPOLLIN where EPOLLPRI is asked: it would
    // print on every turn, not on the edges.
    const broken = brokenDropIn(path.join(temp, 'broken-epoll'), ours);
    const r = await sim(['17:4'], WATCH_BUTTON, project('watch-button-broken', broken));
    expect(r.stdout.trim().split('\n')).not.toEqual(PRESSED_THRICE);
  }, 60000);
});
