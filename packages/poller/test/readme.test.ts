// README's GPIO recipe, extracted from README.md and run as it stands on simulated sysfs GPIOs
// (@poll/gpio-sim) numbered as on Raspberry Pi OS Bookworm (a Pi 4's chip at base 512, with a
// second chip beside it, as a Pi has), with udev's delay before a new line is writable. A
// jumper from GPIO27 (an output the test drives) to GPIO17 presses the button.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runInSim } from '@poll/gpio-sim';

const here = path.dirname(fileURLToPath(import.meta.url));
const readme = fs.readFileSync(path.join(here, '..', '..', '..', 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
const recipe = blocks.find((b) => b.startsWith('// GPIO17 on a Raspberry Pi'));
// Inside this package, so that the recipe's import of @poll/poller resolves to it.
const file = path.join(here, '.readme-gpio.mjs');
afterAll(() => fs.rmSync(file, { force: true }));

describe.runIf(process.platform === 'linux')("README's GPIO recipe", () => {
  it('runs as written on Bookworm numbering: three presses and releases are six lines', async () => {
    expect(recipe, 'README.md has no block starting "// GPIO17 on a Raspberry Pi"').toBeDefined();
    fs.writeFileSync(file, recipe!);
    // The shell exports GPIO27 (512 + 27) as the finger, starts the recipe, waits for it to
    // hold the value file, then presses three times.
    const script = `
      set -euo pipefail
      echo 539 > /sys/class/gpio/export
      sleep 0.1 # udev's delay, as the recipe meets it
      echo low > /sys/class/gpio/gpio539/direction
      node ${JSON.stringify(file)} > out.txt 2> err.txt &
      pid=$!
      for _ in $(seq 200); do ls -l /proc/$pid/fd 2>/dev/null | grep -q gpio529/value && break; sleep 0.05; done
      sleep 0.3
      for _ in 1 2 3; do
        echo 1 > /sys/class/gpio/gpio539/value; sleep 0.15
        echo 0 > /sys/class/gpio/gpio539/value; sleep 0.15
      done
      kill $pid; wait $pid || true
      cat out.txt; cat err.txt >&2
      ls /sys/class/gpio
    `;
    const cwd = fs.mkdtempSync(path.join(here, '.readme-run-'));
    try {
      const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
        const child = spawn(runInSim, ['--chip', '512:58:pinctrl-bcm2711', '--chip', '570:8:raspberrypi-exp-gpio', '--wire', '539:529', '--udev-delay', '50', '--', 'bash', '-c', script], { cwd, timeout: 60000 });
        let out = '';
        let err = '';
        child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
        child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, out, err }));
      });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out.trim().split('\n')).toEqual([
        ...Array.from({ length: 3 }, () => ['GPIO17 is now 1', 'GPIO17 is now 0']).flat(),
        'export',
        'gpio529',
        'gpio539',
        'gpiochip512',
        'gpiochip570',
        'unexport',
      ]);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  }, 60000);
});
