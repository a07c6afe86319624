// Every fenced code block of the documentation (README.md, CONTRIBUTING.md, RELEASING.md,
// docs/*.md, packages/*/README.md) is verified, so that no example can rot: each block is looked
// up in COVERAGE by its file and its first line, which says how. JavaScript is run as written
// (hardware paths swapped for real stand-ins: a pty for a serial port, a FIFO fed real
// `struct input_event`s for a keyboard, simulated sysfs GPIOs for a Pi's pins), and its output
// is asserted; a shell command is run, or is run by the test or script the entry names, which
// must contain it. A block no entry lists, and an entry whose block is gone, fail the test.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runInSim } from '@poll/gpio-sim';
import { faultsLibrary, sys } from '@poll/testkit';
import * as poller from '@poll/poller';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const at = (...parts: string[]) => path.join(root, ...parts);
const text = (file: string) => fs.readFileSync(at(file), 'utf8');

// ---------------------------------------------------------------------------------------------
// The blocks

export interface Block {
  file: string;
  line: number; // of the opening fence, from 1
  lang: string;
  first: string; // the first line of the code, trimmed
  code: string;
}

/** Every fenced block of a Markdown text (``` or ~~~, indented inside a list item or not). */
export function extractBlocks(file: string, markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^ *${fence![0]}{${fence!.length},}\\s*$`).test(lines[j]!); j++) {
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!.trimStart());
    }
    if (j === lines.length) throw new Error(`${file}:${i + 1}: a code fence that is never closed`);
    const code = body.join('\n') + '\n';
    blocks.push({ file, line: i + 1, lang: lang ?? '', first: (body.find((l) => l.trim() !== '') ?? '').trim(), code });
    i = j;
  }
  return blocks;
}

export const keyOf = (b: Pick<Block, 'file' | 'first'>) => `${b.file} :: ${b.first}`;

/** Which blocks an entry covers, which blocks none does, and which entries cover nothing. */
export function classify(blocks: Block[], coverage: Record<string, unknown>) {
  const keys = blocks.map(keyOf);
  return {
    covered: blocks.filter((b) => keyOf(b) in coverage),
    unlisted: blocks.filter((b) => !(keyOf(b) in coverage)),
    stale: Object.keys(coverage).filter((k) => !keys.includes(k)),
    ambiguous: [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))],
  };
}

const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  'RELEASING.md',
  ...fs.readdirSync(at('docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`),
  ...fs
    .readdirSync(at('packages'))
    .sort()
    .map((p) => `packages/${p}/README.md`)
    .filter((f) => fs.existsSync(at(f))),
];
const blocks = DOCS.flatMap((file) => extractBlocks(file, text(file)));

// ---------------------------------------------------------------------------------------------
// Running a block

const scratch: string[] = [];
afterAll(() => {
  for (const f of scratch) fs.rmSync(f, { recursive: true, force: true });
});

/**
 * The block as a module file inside this package (so `@poll/poller` and `@poll/testkit` resolve),
 * with code before and after it, and declared substitutions, each of which must match.
 */
function moduleOf(b: Block, o: { ext?: 'mjs' | 'cjs'; before?: string; after?: string; replace?: Array<[string, string]> } = {}) {
  let code = b.code;
  for (const [from, to] of o.replace ?? []) {
    expect(code, `${keyOf(b)}: the substitution of ${JSON.stringify(from)} no longer matches`).toContain(from);
    code = code.split(from).join(to);
  }
  const file = path.join(here, `.docs-${scratch.length}-${path.basename(b.file, '.md')}-${b.line}.${o.ext ?? 'mjs'}`);
  fs.writeFileSync(file, `${o.before ?? ''}${code}${o.after ?? ''}`);
  scratch.push(file);
  return file;
}

function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-docs-'));
  scratch.push(dir);
  return dir;
}

/** A new FIFO, in a directory of its own. */
function makeFifo(name: string) {
  const fifo = path.join(tempDir(), name);
  execFileSync('mkfifo', [fifo]);
  return fifo;
}

/** A node process whose output can be waited for. */
function start(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const child: ChildProcess = spawn(process.execPath, [file, ...args], { env: { ...process.env, NODE_DEBUG: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiting = new Set<() => void>();
  const poke = () => waiting.forEach((f) => f());
  child.stdout!.setEncoding('utf8').on('data', (c: string) => ((out += c), poke()));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => ((err += c), poke()));
  const done = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => (poke(), resolve({ code, signal }))));
  let exited = false;
  void done.then(() => (exited = true));
  return {
    child,
    done,
    get out() {
      return out;
    },
    get err() {
      return err;
    },
    /** Resolves once stdout matches; rejects if the process ends first. */
    until(re: RegExp) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (re.test(out)) (waiting.delete(check), resolve());
          else if (exited) (waiting.delete(check), reject(new Error(`ended before ${re}: stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`)));
        };
        waiting.add(check);
        check();
      });
    },
  };
}

async function run(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const p = start(file, args, env);
  const { code } = await p.done;
  return { code, out: p.out, err: p.err };
}

/**
 * A program run where /sys/class/gpio is simulated (tooling/gpio-sim): `setup` (shell) first,
 * then the program in the background; once it holds `held` open, `finger` (an output wired to
 * its input) is pressed and released `presses` times. Its output, then `after`'s.
 */
function pressInSim(o: { sim: string[]; setup: string; file: string; held: string; finger: number; presses: number; after?: string }) {
  const cwd = tempDir();
  const pin = `/sys/class/gpio/gpio${o.finger}/value`;
  const script = `
    set -euo pipefail
    ${o.setup}
    node ${JSON.stringify(o.file)} > out.txt 2> err.txt &
    pid=$!
    for _ in $(seq 200); do ls -l /proc/$pid/fd 2>/dev/null | grep -q ${o.held} && break; sleep 0.05; done
    sleep 0.3
    for _ in $(seq ${o.presses}); do echo 1 > ${pin}; sleep 0.15; echo 0 > ${pin}; sleep 0.15; done
    kill $pid; wait $pid || true
    cat out.txt; cat err.txt >&2
    ${o.after ?? ''}
  `;
  return new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
    const child = spawn(runInSim, [...o.sim, '--', 'bash', '-c', script], { cwd, timeout: 60000 });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** A run that ended by itself, wrote nothing on stderr and printed exactly `out`. */
function expectClean(r: { code: number | null; out: string; err: string }, out: string) {
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out).toBe(out);
}

/** A shell command the block shows is run by `file`, which must contain each piece of evidence. */
function ranBy(file: string, ...evidence: string[]) {
  const source = text(file);
  for (const e of evidence) expect(source, `${file} should contain ${JSON.stringify(e)}`).toContain(e);
}

const rootPackage = JSON.parse(text('package.json'));
const commands = (b: Block) =>
  b.code
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);

/** Each `pnpm <script>` the block runs is one of the root package.json's scripts. */
function pnpmScriptsExist(b: Block) {
  const used = [...commands(b).join('\n').matchAll(/\bpnpm ([\w:-]+)/g)].map((m) => m[1]!).filter((s) => !['install', 'add', '--filter'].includes(s));
  for (const s of used) expect(rootPackage.scripts, `${keyOf(b)}: \`pnpm ${s}\` is not a script of package.json`).toHaveProperty([s]);
  return used;
}

/** What a hand-made FIFO needs: its path, and a writer opened once a reader holds it. */
async function openWriterWhenRead(fifo: string, p: { done: Promise<unknown> }) {
  let ended = false;
  void p.done.then(() => (ended = true));
  for (;;) {
    try {
      return fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || ended) throw err;
      await sleep(20); // no reader yet
    }
  }
}

/** A `struct input_event` as the kernel writes it on this architecture. */
function inputEvent(type: number, code: number, value: number) {
  const size = process.arch === 'arm' || process.arch === 'ia32' ? 16 : 24;
  const b = Buffer.alloc(size);
  const now = Date.now();
  if (size === 24) (b.writeBigInt64LE(BigInt(Math.floor(now / 1000))), b.writeBigInt64LE(BigInt((now % 1000) * 1000), 8));
  else (b.writeInt32LE(Math.floor(now / 1000)), b.writeInt32LE((now % 1000) * 1000, 4));
  b.writeUInt16LE(type, size - 8);
  b.writeUInt16LE(code, size - 6);
  b.writeInt32LE(value, size - 4);
  return b;
}

// The README's and CONTRIBUTING's set-up commands: what a fresh machine runs.
async function setupCommands(b: Block) {
  expect(commands(b)).toEqual(['npm install -g pnpm@12.4.2 && pnpm install && pnpm demo', 'pnpm test'].slice(0, commands(b).length));
  // pnpm@12.4.2 is the version the workspace pins, and .ci/run installs that one, then the workspace.
  expect(rootPackage.packageManager).toBe('pnpm@12.4.2');
  ranBy('.ci/run', `npm install -g "pnpm@$PNPM_VERSION"`, 'pnpm install --frozen-lockfile', 'pnpm test 2>&1');
  expect(rootPackage.scripts.test).toBe('node tooling/run-tests.mjs');
  // `pnpm demo` builds what is stale, then runs the demo; the demo is run here (built already).
  expect(rootPackage.scripts.demo).toBe('node tooling/demo/prepare.mjs && node tooling/demo/demo.mjs');
  const r = await run(at('tooling', 'demo', 'demo.mjs'));
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/tick 3 from pid/);
  expect(r.out).toMatch(/ok: poller fd \d+ .* is not in the child, while fd 3, handed over on purpose, is/);
}

// The epoll package's alias, as its users install it.
const aliasInstall = () => ranBy('tooling/release/rehearse.mjs', 'const alias = `epoll@npm:@poll/epoll@', "manager === 'npm' ? ['install', '--no-audit', '--no-fund', alias] : ['add', alias]");

// `npx --yes node-gyp@12 rebuild --directory node_modules/@poll/<pkg>/native`: the command the
// missing-binary error prints, which the source-build rehearsal runs as printed.
function sourceBuild(pkg: 'linux' | 'bsd') {
  return (b: Block) => {
    expect(commands(b)).toEqual([`npx --yes node-gyp@12 rebuild --directory node_modules/@poll/${pkg}/native`]);
    ranBy('packages/core/load-backend.cjs', '`npx --yes node-gyp@12 rebuild --directory ${quoted}`');
    ranBy('tooling/release/source-build.mjs', 'npx --yes node-gyp@\\d+ rebuild --directory', '// Run it as printed.');
    expect(fs.existsSync(at('packages', pkg, 'native', 'binding.gyp'))).toBe(true);
  };
}

/**
 * The GPIO17 recipe's runs, one per numbering: a Pi 4 and a Pi 5 on Linux 6.6 and later (the
 * SoC's chip at 512 or 571, found by its label among others), and a Pi on an older kernel (base
 * 0). In each a jumper from GPIO27 presses it three times. Then a machine with no Pi chip, where
 * the recipe says so.
 */
async function gpio17(b: Block) {
  const layouts = [
    { chips: ['512:58:pinctrl-bcm2711', '570:8:raspberrypi-exp-gpio'], base: 512 },
    { chips: ['512:32:gpio-brcmstb@107d508500', '544:4:gpio-brcmstb@107d508520', '571:54:pinctrl-rp1'], base: 571 },
    { chips: ['0:54:pinctrl-bcm2835'], base: 0 },
  ];
  for (const { chips, base } of layouts) {
    const [line, finger] = [base + 17, base + 27];
    const r = await pressInSim({
      sim: [...chips.flatMap((c) => ['--chip', c]), '--wire', `${finger}:${line}`, '--udev-delay', '50'],
      setup: `echo ${finger} > /sys/class/gpio/export; sleep 0.1; echo low > /sys/class/gpio/gpio${finger}/direction`, // after udev's delay
      file: moduleOf(b),
      held: `gpio${line}/value`,
      finger,
      presses: 3,
      after: 'ls /sys/class/gpio',
    });
    const listed = ['export', `gpio${line}`, `gpio${finger}`, ...chips.map((c) => `gpiochip${c.split(':')[0]}`), 'unexport'].sort();
    expectClean(r, [...Array.from({ length: 3 }, () => ['GPIO17 is now 1', 'GPIO17 is now 0']).flat(), ...listed].join('\n') + '\n');
  }
  const none = await new Promise<{ code: number | null; err: string }>((resolve, reject) => {
    const child = spawn(runInSim, ['--chip', '0:32:gpio-mockup-A', '--', 'node', moduleOf(b)], { cwd: tempDir(), timeout: 60000 });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, err }));
  });
  expect(none.code).not.toBe(0);
  expect(none.err).toContain('no Raspberry Pi GPIO chip in /sys/class/gpio: not a Pi, or no sysfs GPIO');
}

// ---------------------------------------------------------------------------------------------
// The table: file :: first line → how the block is verified

interface Check {
  how: string;
  verify: (b: Block) => unknown;
  timeout?: number; // ms, for the runs that start a FUSE file system or a vitest

}

const COVERAGE: Record<string, Check> = {
  // README.md ----------------------------------------------------------------------------------
  'README.md :: npm install @poll/poller': {
    how: 'ranBy tooling/release/rehearse.mjs (npm installs @poll/poller from a local registry)',
    verify: (b) => (expect(commands(b)).toEqual(['npm install @poll/poller']), ranBy('tooling/release/rehearse.mjs', "['install', '--no-audit', '--no-fund', '@poll/poller']")),
  },
  'README.md :: // Print what a child process writes into a FIFO, as it arrives.': {
    how: 'run as written; prints tick 1..3 and exits by itself',
    verify: async (b) => {
      const r = await run(moduleOf(b));
      expectClean(r, 'tick 1\ntick 2\ntick 3\n');
    },
  },
  "README.md :: // GPIO17 on a Raspberry Pi, through the sysfs interface (Raspberry Pi OS's kernels have it).": {
    how: 'run as written on gpio-sim numbered as a Pi 4 (512) and a Pi 5 (571) on Linux 6.6+ and as an older kernel (0), each chip found by label, with udev\'s delay; a jumper from GPIO27 presses it three times; with no Pi chip it fails saying so',
    verify: gpio17,
    timeout: 120000,
  },
  'README.md :: // A serial port, 115200 baud, raw: node serial.mjs /dev/ttyUSB0 (Linux), /dev/cu.usbserial-… (macOS)': {
    how: 'run as written with a pty slave (sys.openpty(), its /dev/pts path) as the port: stty set 115200 on it, "AT\\r\\n" reaches the other side, its "OK\\r\\n" is printed',
    verify: async (b) => {
      const [master, slave] = sys.openpty();
      try {
        const port = fs.readlinkSync(`/proc/self/fd/${slave}`);
        expect(port).toMatch(/^\/dev\/pts\/\d+$/);
        const p = start(moduleOf(b), [port]);
        const modem = poller.createReadStream(master, { autoClose: false });
        let heard = '';
        await new Promise<void>((resolve, reject) => {
          modem.on('data', (c: Buffer) => ((heard += c.toString('latin1')), heard.includes('AT\r\n') && resolve()));
          modem.on('error', reject);
          void p.done.then(() => reject(new Error(`ended early: ${p.err}`)));
        });
        modem.destroy();
        fs.writeSync(master, 'OK\r\n');
        await p.until(/OK\r\n/);
        const settings = execFileSync('stty', ['-a'], { stdio: [slave, 'pipe', 'pipe'], encoding: 'utf8' });
        expect(settings).toMatch(/speed 115200 baud/);
        expect(settings).toMatch(/(^|\s)-echo(\s|$)/m);
        p.child.kill();
        await p.done;
        expect(p.err).toBe('');
        expect(p.out).toBe('OK\r\n');
      } finally {
        fs.closeSync(master);
        fs.closeSync(slave);
      }
    },
  },
  'README.md :: // Key presses from an evdev device: node keys.mjs /dev/input/by-id/usb-…-event-kbd': {
    how: 'run as written with a FIFO as the device, fed real struct input_event records (a key press, its release split across two writes); ends at end of file',
    verify: async (b) => {
      const fifo = makeFifo('event-kbd');
      const feed = fs.openSync(fifo, fs.constants.O_RDWR); // so the recipe's blocking open returns
      const p = start(moduleOf(b), [fifo]);
      const KEY = 1;
      const SYN = 0;
      fs.writeSync(feed, Buffer.concat([inputEvent(KEY, 30, 1), inputEvent(SYN, 0, 0)]));
      await p.until(/key 30 down\n/);
      const release = Buffer.concat([inputEvent(KEY, 30, 0), inputEvent(SYN, 0, 0)]);
      fs.writeSync(feed, release.subarray(0, 10)); // part of a record: nothing to decode yet
      fs.writeSync(feed, release.subarray(10));
      await p.until(/key 30 up\n/);
      fs.closeSync(feed); // the last writer gone: end of file
      const { code } = await p.done;
      expect(p.err).toBe('');
      expect(code).toBe(0);
      expect(p.out).toBe('key 30 down\nkey 30 up\n');
    },
  },
  'README.md :: // A FIFO anyone may write to (mkfifo /tmp/poll-demo): node fifo.mjs /tmp/poll-demo': {
    how: 'run as written on a FIFO made here; a writer writes two lines and closes; both are printed and it exits. Again with the timeout made 50 ms (a declared substitution) and no writer: its catch says so',
    verify: async (b) => {
      const fifo = makeFifo('poll-demo');
      const p = start(moduleOf(b), [fifo]);
      const w = await openWriterWhenRead(fifo, p);
      fs.writeSync(w, 'hello\n');
      await p.until(/hello\n/);
      fs.writeSync(w, 'world\n');
      fs.closeSync(w);
      const { code } = await p.done;
      expect(p.err).toBe('');
      expect(code).toBe(0);
      expect(p.out).toBe('hello\nworld\n');
      // Its error branch: with the minute made 50 ms and nobody writing, it says so and exits.
      const quiet = makeFifo('poll-demo');
      const r = await run(moduleOf(b, { replace: [['AbortSignal.timeout(60_000)', 'AbortSignal.timeout(50)']] }), [quiet]);
      expect(r).toEqual({ code: 0, out: '', err: 'nobody wrote for a minute\n' });
    },
  },
  'README.md :: npm install epoll@npm:@poll/epoll': {
    how: "ranBy tooling/release/rehearse.mjs (npm and pnpm install the alias, then run require('epoll'))",
    verify: (b) => (expect(commands(b)).toEqual(['npm install epoll@npm:@poll/epoll']), aliasInstall()),
  },
  'README.md :: pnpm install && pnpm build && pnpm prebuilds && pnpm release:pack': {
    how: 'each pnpm script exists and .ci/run runs them (pnpm release:check); tooling/release/test-packed.mjs npm-installs core, the backend and the facade from those tarballs; their names carry the packages’ version',
    verify: (b) => {
      pnpmScriptsExist(b);
      for (const s of ['pnpm prebuilds', 'pnpm release:pack']) expect(rootPackage.scripts['release:check']).toContain(s);
      ranBy('.ci/run', 'pnpm release:check');
      ranBy('tooling/release/test-packed.mjs', "['install', '--no-audit', '--no-fund', tarballs['@poll/core'], tarballs[backend], tarballs['@poll/poller']");
      ranBy('tooling/release/pack.mjs', "path.join(repo, '.release', 'packs')");
      const [, names, version] = /poll-\{([\w,]+)\}-([\d.]+)\.tgz/.exec(b.code)!;
      for (const name of names!.split(',')) expect(JSON.parse(text(`packages/${name}/package.json`)).version, `packages/${name}`).toBe(version);
    },
  },
  'README.md :: npx --yes node-gyp@12 rebuild --directory node_modules/@poll/linux/native': {
    how: "ranBy tooling/release/source-build.mjs (runs the command the missing-binary error prints; the error's text is @poll/core's load-backend.cjs)",
    verify: sourceBuild('linux'),
  },
  'README.md :: npm install -g pnpm@12.4.2 && pnpm install && pnpm demo': {
    how: 'the pinned pnpm (package.json packageManager) that .ci/run installs, then pnpm install (.ci/run); the demo run here: it prints the ticks and that the poller fd is not in the child',
    verify: setupCommands,
    timeout: 30000,
  },
  'README.md :: pnpm test': {
    how: 'ranBy .ci/run (pnpm test, whose summary it reads); the script is tooling/run-tests.mjs',
    verify: (b) => (expect(commands(b)).toEqual(['pnpm test']), ranBy('.ci/run', 'pnpm test 2>&1'), expect(rootPackage.scripts.test).toBe('node tooling/run-tests.mjs')),
  },

  // CONTRIBUTING.md ----------------------------------------------------------------------------
  'CONTRIBUTING.md :: npm install -g pnpm@12.4.2 && pnpm install && pnpm demo   # install, build, run the demo': {
    how: "the README's two set-up commands (same checks; the demo run here)",
    verify: setupCommands,
    timeout: 30000,
  },
  'CONTRIBUTING.md :: packages/core     @poll/core    types, errors, the Poller every backend shares, backend selection': {
    how: 'a map: every path it names exists, and every package under packages/ and tooling/ is in it',
    verify: (b) => {
      const named = b.code.split('\n').map((l) => /^(\S+)\s/.exec(l)?.[1]).filter((p): p is string => !!p);
      for (const p of named) expect(fs.existsSync(at(p)), `${p} does not exist`).toBe(true);
      for (const dir of ['packages', 'tooling']) {
        for (const entry of fs.readdirSync(at(dir), { withFileTypes: true })) {
          if (entry.isDirectory() && fs.existsSync(at(dir, entry.name, 'package.json'))) expect(named, `${dir}/${entry.name} is missing from the map`).toContain(`${dir}/${entry.name}`);
        }
      }
    },
  },
  'CONTRIBUTING.md :: pnpm test -- --filter=@poll/linux          # builds what it needs, then its tests, quietly': {
    how: "the third line run here (vitest on one file, -t); the first two: run-tests.mjs passes what follows -- to turbo, and @poll/linux has a test script",
    verify: (b) => {
      ranBy('tooling/run-tests.mjs', "process.argv.slice(2).filter((a) => a !== '--')");
      expect(JSON.parse(text('packages/linux/package.json')).scripts.test).toMatch(/^vitest run/);
      const third = commands(b)[2]!;
      expect(third).toBe('cd packages/core && npx vitest run test/poller.test.ts -t "once"');
      const r = spawnSync('bash', ['-c', third], { cwd: root, encoding: 'utf8', timeout: 60000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Tests\s+[1-9]\d* passed/);
    },
    timeout: 60000,
  },
  'CONTRIBUTING.md :: POLL 4711: poller 18: made (epoll, loop uv, 1024 events per wait)': {
    how: "NODE_DEBUG=poll output: the trace of test/fixtures/trace-demo.mjs run here has the block's lines (numbers aside), and the rebuild line is core's text",
    verify: (b) => {
      const shape = (l: string) => l.replace(/^POLL \d+: /, '').replace(/\b\d+\b/g, 'N');
      const r = spawnSync(process.execPath, [path.join(here, 'fixtures', 'trace-demo.mjs')], { env: { ...process.env, NODE_DEBUG: 'poll' }, encoding: 'utf8', timeout: 30000 });
      expect(r.status).toBe(0);
      const traced = r.stderr.trim().split('\n').map(shape);
      const documented = commands(b).map(shape);
      const rebuilt = documented.filter((l) => l.includes('rebuilt as'));
      expect(rebuilt).toEqual(['poller N: rebuilt as N (fd N was closed before remove(): the kernel kept reporting it)']);
      ranBy('packages/core/src/registrations.ts', 'rebuilt as ${fresh.fd} (fd ${ghostFd} was closed before remove(): the kernel kept reporting it)');
      expect(documented.filter((l) => !rebuilt.includes(l))).toEqual(traced.map((l) => l.replace(/\((epoll|kqueue), loop (uv|thread|napi)/, '(epoll, loop uv')));
    },
  },
  "CONTRIBUTING.md :: import { faults } from '@poll/testkit';": {
    how: "run with the injector preloaded (LD_PRELOAD), after a Poller and a pipe are made: the armed epoll_ctl add fails with ENOMEM and count() says so",
    verify: async (b) => {
      const file = moduleOf(b, {
        before: "import { Poller } from '@poll/poller';\nimport { sys } from '@poll/testkit';\nconst poller = new Poller();\nconst [r] = sys.pipe();\n",
        after: [
          'try { poller.add(r, { readable: true }, () => {}); console.log("added"); } catch (err) { console.log(err.code, err.syscall); }',
          'console.log(JSON.stringify(faults.count("epoll_ctl")));',
          'poller.add(r, { readable: true }, () => {}); console.log("then added");',
          'poller.close();',
        ].join('\n'),
      });
      const r = await run(file, [], { LD_PRELOAD: [process.env.LD_PRELOAD, faultsLibrary].filter(Boolean).join(':') });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out.trim().split('\n')).toEqual(['ENOMEM epoll_ctl', '{"seen":1,"failed":1}', 'then added']);
    },
  },

  // RELEASING.md -------------------------------------------------------------------------------
  'RELEASING.md :: pnpm build                 # TypeScript and the source builds the tests use': {
    how: 'each is a script of package.json, and all but build are in pnpm release:check, which .ci/run runs (after pnpm test, which builds)',
    verify: (b) => {
      const used = pnpmScriptsExist(b);
      expect(used).toEqual(['build', 'prebuilds', 'prebuilds:reproduce', 'release:pack', 'release:test', 'release:source-build', 'release:rehearse']);
      for (const s of used.slice(1)) expect(rootPackage.scripts['release:check']).toContain(`pnpm ${s}`);
      ranBy('.ci/run', 'pnpm release:check');
    },
  },
  "RELEASING.md :: git clone https://github.com/poll-js/poll && cd poll && git checkout '@poll/linux@0.1.0'": {
    how: 'not runnable before a release is published (it needs the tag and the npm tarball); what it relies on is checked: pack.mjs writes SHA256SUMS, pnpm prebuilds:reproduce (in release:check) proves the bytes independent of the path, and the binary path is the one targets.mjs builds',
    verify: (b) => {
      ranBy('tooling/release/pack.mjs', "'SHA256SUMS'");
      expect(rootPackage.scripts['release:check']).toContain('pnpm prebuilds:reproduce');
      const binary = /package\/(prebuilds\/linux-x64\/[\w.]+)/.exec(b.code)![1]!;
      ranBy('tooling/cross-check/targets.mjs', 'linux-x64', path.basename(binary).replace('node.napi.', '').replace('.node', ''));
      expect(JSON.parse(text('packages/linux/package.json')).version).toBe(/@poll\/linux@([\d.]+)/.exec(b.code)![1]);
    },
  },

  // docs ---------------------------------------------------------------------------------------
  "docs/API.md :: import { Poller, PollError } from '@poll/poller';": {
    how: 'a declaration, checked against the running package: every function and const it declares is exported by @poll/poller, and every method of class Poller and interface Watch exists on a real poller and watch; against the published types: every interface and type it declares is exported, each interface with the same members',
    verify: (b) => {
      const exported = new Set(Object.keys(poller));
      const top = [...b.code.matchAll(/^(?:function|const|class) (\w+)/gm)].map((m) => m[1]!);
      for (const name of top) expect(exported, `docs/API.md declares ${name}, which @poll/poller does not export`).toContain(name);
      const body = (name: string) => new RegExp(`^(?:class|interface) ${name}\\b[^{]*\\{([\\s\\S]*?)^\\}`, 'm').exec(b.code)![1]!;
      const members = (name: string) => [...body(name).matchAll(/^\s+(?:readonly )?(\w+)(?:\(|:|;|\?)/gm)].map((m) => m[1]!).filter((m) => m !== 'constructor');
      const p = new poller.Poller();
      const [r, w] = sys.pipe();
      try {
        for (const m of members('Poller')) expect(p, `Poller.${m}`).toHaveProperty(m);
        expect(typeof p[Symbol.dispose]).toBe('function');
        const watch = p.add(r, { readable: true }, () => {});
        for (const m of members('Watch')) expect(watch, `Watch.${m}`).toHaveProperty(m);
      } finally {
        p.close();
        fs.closeSync(r);
        fs.closeSync(w);
      }
      // The types users compile against: every interface and type it declares is in the facade's
      // published export lists, and each interface has the same members as its declaration there.
      const published = text('packages/poller/dist/index.d.ts');
      const exportedNames = new Set(
        [...published.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap((m) => m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/).at(-1)!)),
      );
      const declarations = fs
        .readdirSync(at('packages/core/dist'))
        .filter((f) => f.endsWith('.d.ts'))
        .map((f) => text(`packages/core/dist/${f}`))
        .join('\n')
        .replace(/\/\*[\s\S]*?\*\//g, '');
      const memberNames = (source: string, name: string, exported: string) => {
        const found = new RegExp(`^${exported}interface ${name}\\b[^{]*\\{([\\s\\S]*?)^\\}`, 'm').exec(source);
        expect(found, `interface ${name} in ${exported ? 'packages/core/dist' : 'docs/API.md'}`).not.toBeNull();
        const body = found![1]!.replace(/\/\/.*$/gm, '');
        const names = [...body.matchAll(/(?:^|;)\s*(?:readonly\s+)?(\w+)\??\s*[:(]/gm)].map((m) => m[1]!).sort();
        expect(names.length, `members of ${name}`).toBeGreaterThan(0);
        return names;
      };
      const declared = [...b.code.matchAll(/^(interface|type) (\w+)/gm)].map((m) => [m[1]!, m[2]!] as const);
      expect(declared.map(([, name]) => name).sort()).toEqual(
        ['AddOptions', 'DuplexOptions', 'EndReason', 'Interest', 'LibraryError', 'PollEvent', 'ReadStreamOptions', 'Watch', 'WriteStreamOptions'].sort(),
      );
      for (const [kind, name] of declared) {
        expect(exportedNames, `docs/API.md declares ${name}, which @poll/poller's types do not export`).toContain(name);
        if (kind === 'interface') expect(memberNames(b.code, name, ''), `the members of ${name}`).toEqual(memberNames(declarations, name, 'export '));
      }
    },
  },
  'docs/API.md :: const chunk = Buffer.alloc(4096);': {
    how: 'run with poller, fifoFd (a FIFO, O_NONBLOCK) and fs defined before it; a writer writes a line and closes; the line is printed and the loop ends',
    verify: async (b) => {
      const fifo = makeFifo('fifo');
      const file = moduleOf(b, {
        before: `import fs from 'node:fs';\nimport { Poller } from '@poll/poller';\nconst poller = new Poller();\nconst fifoFd = fs.openSync(${JSON.stringify(fifo)}, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);\n`,
        after: "poller.close();\nconsole.log('done');\n",
      });
      const p = start(file);
      const w = await openWriterWhenRead(fifo, p);
      fs.writeSync(w, 'a line');
      fs.closeSync(w);
      const { code } = await p.done;
      expect(p.err).toBe('');
      expect(code).toBe(0);
      expect(p.out).toBe('a line\ndone\n');
    },
  },
  'docs/DESIGN.md :: kernel  →  native backend (one batch)  →  core\'s dispatcher  →  the application\'s callback': {
    how: 'an illustration, not code: it has no language, and the stages it names are the ones the text describes',
    verify: (b) => {
      expect(b.lang).toBe('');
      const prose = text(b.file).split(b.code).join('');
      for (const stage of ['kernel', 'backend', 'dispatch', 'callback']) expect(prose).toContain(stage);
    },
  },

  // packages/*/README.md -----------------------------------------------------------------------
  "packages/bsd/README.md :: import { Poller } from '@poll/bsd';": {
    how: 'run: the import resolves to the kqueue package, which on Linux answers ERR_POLL_NO_BACKEND naming @poll/linux; Poller is in its declared exports',
    verify: async (b) => {
      const r = await run(moduleOf(b));
      if (process.platform === 'linux') {
        expect(r.code).toBe(1);
        expect(r.err).toMatch(/code: 'ERR_POLL_NO_BACKEND'/);
        expect(r.err).toMatch(/@poll\/bsd is the kqueue backend .* On Linux use @poll\/linux/);
      } else expect(r.code).toBe(0);
      expect(text('packages/bsd/dist/index.d.ts')).toMatch(/\bPoller\b/);
    },
  },
  'packages/bsd/README.md :: npx --yes node-gyp@12 rebuild --directory node_modules/@poll/bsd/native': {
    how: "the same command as @poll/linux's, for @poll/bsd's native/ (ranBy tooling/release/source-build.mjs for @poll/linux)",
    verify: sourceBuild('bsd'),
  },
  "packages/linux/README.md :: import { Poller } from '@poll/linux';": {
    how: 'run, then a Poller made from the import: an epoll one',
    verify: async (b) => {
      const r = await run(moduleOf(b, { after: 'const p = new Poller();\nconsole.log(p.backend);\np.close();\n' }));
      expect(r.err).toBe('');
      expect(r.out).toBe('epoll\n');
    },
  },
  'packages/linux/README.md :: npx --yes node-gyp@12 rebuild --directory node_modules/@poll/linux/native': {
    how: 'ranBy tooling/release/source-build.mjs, as in README.md',
    verify: sourceBuild('linux'),
  },
  'packages/poller/README.md :: npm install @poll/poller': {
    how: 'ranBy tooling/release/rehearse.mjs, as in README.md',
    verify: (b) => (expect(commands(b)).toEqual(['npm install @poll/poller']), ranBy('tooling/release/rehearse.mjs', "['install', '--no-audit', '--no-fund', '@poll/poller']")),
  },
  "packages/poller/README.md :: import { Poller } from '@poll/poller';": {
    how: "run with fd and otherFd (pipes with a byte in each) defined before it; the event once() gives has the fields the comment lists; the process exits once it closes",
    verify: async (b) => {
      const file = moduleOf(b, {
        before: "import { sys } from '@poll/testkit';\nconst [fd, w1] = sys.pipe();\nconst [otherFd, w2] = sys.pipe();\nsys.writeByte(w1);\nsys.writeByte(w2);\n",
        after: 'console.log(Object.keys(event).join(), event.fd === otherFd, event.readable);\n',
      });
      const r = await run(file);
      expectClean(r, 'fd,readable,writable,priority,hangup,error true true\n');
    },
  },
  'packages/epoll/README.md :: npm install epoll@npm:@poll/epoll    # or: pnpm add epoll@npm:@poll/epoll': {
    how: 'ranBy tooling/release/rehearse.mjs (npm install and pnpm add of the alias)',
    verify: (b) => (expect(commands(b)).toEqual(['npm install epoll@npm:@poll/epoll']), aliasInstall()),
  },
  "packages/epoll/README.md :: const { Epoll } = require('epoll');": {
    how: "run as CommonJS with require('epoll') pointed at @poll/epoll and fd a pipe: the chain of calls returns the instance, closed is true, and the process exits",
    verify: async (b) => {
      const file = moduleOf(b, {
        ext: 'cjs',
        replace: [["require('epoll')", `require(${JSON.stringify(at('packages', 'epoll'))})`]],
        before: "const { sys } = require('@poll/testkit');\nconst [fd] = sys.pipe();\n",
        after: 'console.log(poller.closed);\n',
      });
      const r = await run(file);
      expectClean(r, 'true\n');
    },
  },
  'packages/epoll/README.md :: echo 4 > /sys/class/gpio/export': {
    how: "run as written on gpio-sim (see the next entry, which runs with it)",
    verify: (b) => expect(b.lang).toBe('sh'),
  },
  "packages/epoll/README.md :: const valuefd = fs.openSync('/sys/class/gpio/gpio4/value', 'r');": {
    how: 'run on gpio-sim after the export block above, as CommonJS with fs and @poll/epoll required before it; a jumper from GPIO5 presses and releases: "pressed", "released"',
    verify: async (b) => {
      const exportBlock = blocks.find((x) => x.file === b.file && x.first === 'echo 4 > /sys/class/gpio/export')!;
      const file = moduleOf(b, { ext: 'cjs', before: `const fs = require('fs');\nconst { Epoll } = require(${JSON.stringify(at('packages', 'epoll'))});\n` });
      const r = await pressInSim({
        sim: ['--wire', '5:4'],
        setup: `${exportBlock.code}\necho 5 > /sys/class/gpio/export; echo low > /sys/class/gpio/gpio5/direction`,
        file,
        held: 'gpio4/value',
        finger: 5,
        presses: 1,
      });
      expectClean(r, 'pressed\nreleased\n');
    },
    timeout: 60000,
  },
};

// ---------------------------------------------------------------------------------------------

describe('the table of code blocks', () => {
  it('lists every block of the documentation, each once, and nothing else', () => {
    const { unlisted, stale, ambiguous } = classify(blocks, COVERAGE);
    expect(unlisted.map((b) => `${b.file}:${b.line} ${keyOf(b)}`), 'blocks no entry verifies').toEqual([]);
    expect(stale, 'entries whose block is gone').toEqual([]);
    expect(ambiguous, 'blocks sharing a file and a first line').toEqual([]);
    expect(blocks.length).toBe(Object.keys(COVERAGE).length);
  });

  it('finds a block no entry lists (negative control)', () => {
    const markdown = ['# t', '', '```js', "import { Poller } from '@poll/poller';", '```', '', '  ~~~sh', '  rm -rf /nowhere', '  ~~~', ''].join('\n');
    const found = extractBlocks('synthetic.md', markdown);
    expect(found.map((b) => [b.lang, b.first])).toEqual([
      ['js', "import { Poller } from '@poll/poller';"],
      ['sh', 'rm -rf /nowhere'],
    ]);
    const { unlisted, covered, stale } = classify(found, { "synthetic.md :: import { Poller } from '@poll/poller';": {}, 'synthetic.md :: gone': {} });
    expect(covered.map(keyOf)).toEqual(["synthetic.md :: import { Poller } from '@poll/poller';"]);
    expect(unlisted.map(keyOf)).toEqual(['synthetic.md :: rm -rf /nowhere']);
    expect(stale).toEqual(['synthetic.md :: gone']);
    expect(() => extractBlocks('open.md', '```js\nno end\n')).toThrow(/never closed/);
  });

  it('has every relative link and #anchor of these files resolve', () => {
    const slug = (heading: string) =>
      heading
        .trim()
        .toLowerCase()
        .replace(/[`*]/g, '')
        .replace(/[^\p{L}\p{N}_ -]/gu, '') // GitHub keeps underscores
        .replace(/ /g, '-');
    const anchors = (file: string) => new Set(text(file).split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => slug(l.replace(/^#+ /, ''))));
    const broken: string[] = [];
    for (const file of DOCS) {
      const prose = text(file).replace(/^( *)(```|~~~)[\s\S]*?^\1\2\s*$/gm, '');
      for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        // The repository's own pages by their GitHub address (the packages' READMEs, read on npm).
        const own = /^https:\/\/github\.com\/poll-js\/poll(?:\/blob\/main\/([^#]+))?(?:#(.*))?$/.exec(target!);
        if (own === null && /^[a-z]+:/.test(target!)) continue;
        // #readme is the anchor GitHub gives a repository's README on its front page.
        const [rel, anchor] = own === null ? target!.split('#') : [undefined, own[1] === undefined && own[2] === 'readme' ? undefined : own[2]];
        const dest = own !== null ? (own[1] ?? 'README.md') : rel ? path.posix.normalize(path.posix.join(path.posix.dirname(file), rel)) : file;
        if (!fs.existsSync(at(dest))) broken.push(`${file}: ${target} (no ${dest})`);
        else if (anchor && dest.endsWith('.md') && !anchors(dest).has(anchor)) broken.push(`${file}: ${target} (no heading #${anchor} in ${dest})`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe.runIf(process.platform === 'linux')('every code block does what its documentation says', () => {
  for (const b of blocks) {
    const entry = COVERAGE[keyOf(b)];
    if (!entry) continue; // reported by the table's own test
    it(`${b.file}:${b.line} (${b.lang || 'text'}) ${b.first.slice(0, 60)} — ${entry.how}`, () => entry.verify(b) as Promise<void>, entry.timeout ?? 20000);
  }
});
