// pnpm bench [--quick]
// Runs every scenario for every implementation, interleaved (poll, epoll, net, C, poll, …), each
// measurement in a fresh process, 5 repetitions; prints medians, min–max and ratios computed per
// repetition. Writes docs/bench/results.json and docs/bench/chart.svg. --quick is the CI smoke
// test: one short repetition that checks every scenario runs and delivers every event.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { runInSim } from '@poll/gpio-sim';
import { machineName, renderChart } from './src/chart.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const quick = process.argv.includes('--quick');
const REPS = quick ? 1 : 5;
const BUDGET_MS = quick ? 40 : 1000;
const IDLE = quick ? 1000 : 10000;
const IMPLS = ['poll', 'thread', 'napi', 'dropin', 'epoll', 'net', 'fs', 'c', 'cnest', 'bun-poll', 'bun-net', 'deno-poll', 'deno-net'];
const SCENARIOS = ['pingpong', 'chain', 'idle', 'fanin', 'churn', 'memory', 'latency', 'stream', 'gpio'];
const LABEL = {
  poll: 'poll',
  thread: 'poll, waiter thread',
  napi: 'poll, Node-API loop',
  dropin: '@poll/epoll (drop-in)',
  epoll: 'epoll package 4.0.2',
  net: 'net.Socket',
  fs: 'fs.createReadStream',
  c: 'raw C (epoll_wait)',
  cnest: 'raw C, set nested',
  'bun-poll': 'Bun: poll',
  'bun-net': 'Bun: net.Socket',
  'deno-poll': 'Deno: poll',
  'deno-net': 'Deno: net.Socket',
};
// Bun and Deno (tooling/runtimes, from the npm registry) run the same scenario program.
const { bun, deno } = await import('@poll/runtimes');
const RUNTIME = { bun: bun && [bun], deno: deno && [deno, 'run', '-A'] };
// Latency compares the times of two processes: both read CLOCK_MONOTONIC through the test kit,
// since those runtimes' process.hrtime is not the same clock as Node's (Bun's medians came out
// ~43 ms when it was).
const OTHER_RUNTIME_SCENARIOS = ['pingpong', 'fanin', 'idle', 'latency'];
// What those runtimes' own net.Socket({ fd }) cannot do on these pipes (Bun 1.4.4, Deno 2.9.6).
const CANNOT = {
  'bun-net': () => "Bun's net.Socket({ fd }) on a pipe delivers nothing: the scenario never completes",
  'deno-net': (scenario) => (scenario === 'idle' ? "Deno's net.Socket({ fd }) fails with 'open EEXIST' beside a thousand others" : undefined),
};

if (process.platform !== 'linux') {
  console.log('bench: the comparison (epoll package, raw epoll) runs on Linux only');
  process.exit(0);
}

// Streams read; the rest watch. Each implementation runs where it can.
const STREAMS = ['poll', 'thread', 'net', 'fs'];

// cnest: the raw C loop with its epoll set watched by an outer one and drained with zero-timeout
// waits, the system calls poll's uv_poll loop makes inside libuv's own epoll: its floor.
const NESTED = ['pingpong', 'chain', 'idle', 'fanin'];

// gpio: interrupts through onoff on simulated pins (tooling/gpio-sim), the epoll package's
// biggest user, with our drop-in or the original underneath. Each gets a project holding a copy
// of onoff, so that its require('epoll') finds the one that project installed.
const GPIO = ['dropin', 'epoll'];
const gpioProjects = {};
function gpioProject(impl) {
  if (gpioProjects[impl]) return gpioProjects[impl];
  const require = createRequire(import.meta.url);
  const onoff = fs.realpathSync(path.dirname(require.resolve('onoff/package.json')));
  const epoll = fs.realpathSync(path.dirname(require.resolve(impl === 'dropin' ? '@poll/epoll/package.json' : 'epoll/package.json')));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `poll-bench-onoff-${impl}-`));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.cpSync(onoff, path.join(dir, 'node_modules', 'onoff'), { recursive: true, dereference: true });
  fs.symlinkSync(path.join(path.dirname(onoff), 'lodash.debounce'), path.join(dir, 'node_modules', 'lodash.debounce'));
  fs.symlinkSync(epoll, path.join(dir, 'node_modules', 'epoll'));
  fs.copyFileSync(path.join(here, 'src', 'onoff-edges.cjs'), path.join(dir, 'onoff-edges.cjs'));
  return (gpioProjects[impl] = dir);
}

function measureGpio(impl) {
  if (!GPIO.includes(impl)) return { skipped: "GPIO edges through onoff: the epoll package and its drop-in only" };
  const run = spawnSync(runInSim, ['--wire', '27:4', '--stats', '--', process.execPath, 'onoff-edges.cjs', String(BUDGET_MS)], {
    cwd: gpioProject(impl),
    encoding: 'utf8',
    timeout: quick ? 30_000 : 120_000,
  });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0) throw new Error(`${impl} gpio failed (${run.status ?? run.signal}):\n${run.stderr || line}`);
  // What the simulator served: a poll() there is a round trip to a FUSE daemon (in sysfs, a few
  // instructions in the kernel), so polls per edge is what the simulator costs each program.
  const stats = JSON.parse(/gpio-sim stats: (\{.*\})/.exec(run.stderr)?.[1] ?? '{}');
  const result = JSON.parse(line);
  return { ...result, pollsPerEdge: stats.poll / result.ops, readsPerEdge: stats.read / result.ops };
}

function measure(impl, scenario) {
  if (scenario === 'gpio') return measureGpio(impl);
  const [runtime, runtimeImpl] = impl.includes('-') ? impl.split('-') : ['node', impl];
  if (runtime !== 'node' && !OTHER_RUNTIME_SCENARIOS.includes(scenario)) return { skipped: 'measured on Node only' };
  const cannot = CANNOT[impl]?.(scenario);
  if (cannot) return { skipped: cannot };
  if (runtime !== 'node' && !RUNTIME[runtime]) return { skipped: `${runtime} is not installed here (tooling/runtimes has its linux-x64 build)` };
  if (impl === 'cnest' && !NESTED.includes(scenario)) return { skipped: 'the nesting matters only where events are waited for' };
  if (scenario === 'stream' && !STREAMS.includes(impl)) return { skipped: 'no stream of its own' };
  if (impl === 'fs' && scenario !== 'stream') return { skipped: 'streams only' };
  if (impl === 'c' && scenario === 'memory') return { skipped: 'kernel memory only' };
  if (impl === 'c' && scenario === 'latency') return { skipped: 'measured in JavaScript callbacks' };
  const args =
    impl === 'c' || impl === 'cnest'
      ? [path.join(here, 'native', 'build', 'raw-epoll'), [scenario, String(BUDGET_MS), String(IDLE), quick ? 'quick' : 'full']]
      : [
          runtime === 'node' ? process.execPath : RUNTIME[runtime][0],
          [
            ...(runtime === 'node' ? [] : RUNTIME[runtime].slice(1)),
            ...(scenario === 'memory' ? ['--expose-gc'] : []),
            path.join(here, 'src', 'run-js.mjs'),
            runtimeImpl,
            scenario,
            String(BUDGET_MS),
            String(IDLE),
            ...(quick ? ['quick'] : []),
          ],
        ];
  // A lost event stalls pingpong and fanin: a short deadline turns that into a failure.
  const env = { ...process.env, POLL_BENCH_NODE: process.execPath, ...(impl === 'cnest' ? { RAW_EPOLL_NESTED: '1' } : {}) };
  const run = spawnSync(args[0], args[1], { encoding: 'utf8', env, timeout: quick ? 30_000 : 120_000 });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0) throw new Error(`${impl} ${scenario} failed (${run.status ?? run.signal}):\n${run.stderr || line}`);
  return JSON.parse(line);
}

const runs = []; // { rep, scenario, impl, result }
const started = Date.now();
for (let rep = 1; rep <= REPS; rep++) {
  // Interleaved, and the order rotates each repetition so no implementation always goes first.
  const order = IMPLS.map((_, i) => IMPLS[(i + rep - 1) % IMPLS.length]);
  for (const scenario of SCENARIOS) {
    for (const impl of order) {
      const result = measure(impl, scenario);
      runs.push({ rep, scenario, impl, result });
      if (!quick) process.stderr.write(`\rrep ${rep}/${REPS} ${scenario.padEnd(8)} ${impl.padEnd(6)}   `);
    }
  }
}
if (!quick) process.stderr.write('\n');

// Every run must have delivered every event it caused.
const broken = runs.filter(({ result }) => !result.skipped && (result.delivered !== result.expected || result.spurious > 0));
if (broken.length > 0) {
  for (const b of broken) {
    console.error(`${b.impl} ${b.scenario}: read ${b.result.delivered} of ${b.result.expected} bytes written, ${b.result.spurious} empty wakeups`);
  }
  process.exit(1);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const value = (r, scenario) => (scenario === 'memory' ? r.bytesPerWatch : scenario === 'latency' ? r.median : r.rate);
const get = (rep, scenario, impl) => {
  const r = runs.find((x) => x.rep === rep && x.scenario === scenario && x.impl === impl)?.result;
  return r && !r.skipped ? value(r, scenario) : undefined;
};
const stat = (xs) => (xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : null);
const reps = [...Array(REPS).keys()].map((i) => i + 1);
const series = (fn) => stat(reps.map(fn).filter((x) => x !== undefined && Number.isFinite(x)));

const summary = {};
for (const scenario of SCENARIOS) {
  summary[scenario] = {};
  for (const impl of IMPLS) summary[scenario][impl] = series((rep) => get(rep, scenario, impl));
}
// Ratios are taken per repetition (the runs of one repetition ran side by side), then summarised.
const ratios = {};
for (const scenario of ['pingpong', 'chain', 'fanin', 'idle', 'churn', 'memory']) {
  ratios[scenario] = {
    vsEpoll: series((rep) => get(rep, scenario, 'poll') / get(rep, scenario, 'epoll')),
    vsC: scenario === 'memory' ? null : series((rep) => get(rep, scenario, 'poll') / get(rep, scenario, 'c')),
    vsNet: series((rep) => get(rep, scenario, 'poll') / get(rep, scenario, 'net')),
  };
}
// The waiter-thread loop (macOS and the BSDs) against the uv_poll loop, on the same kernel.
const threadRatio = {};
for (const scenario of ['pingpong', 'chain', 'fanin', 'idle']) threadRatio[scenario] = series((rep) => get(rep, scenario, 'thread') / get(rep, scenario, 'poll'));
// The uv_poll loop against the same system calls in C, nested as it is (its floor).
const nestRatio = {};
for (const scenario of NESTED) nestRatio[scenario] = series((rep) => get(rep, scenario, 'poll') / get(rep, scenario, 'cnest'));
// The drop-in against the package it replaces, on the same scenarios.
const dropinRatio = {};
for (const scenario of ['pingpong', 'chain', 'fanin', 'idle', 'churn', 'memory', 'gpio']) dropinRatio[scenario] = series((rep) => get(rep, scenario, 'dropin') / get(rep, scenario, 'epoll'));
// Streams: poll's against Node's own on the same pipe.
// The Node-API loop (Bun, Deno) against the uv_poll loop, on Node.
const napiRatio = {};
for (const scenario of ['pingpong', 'chain', 'fanin', 'idle']) napiRatio[scenario] = series((rep) => get(rep, scenario, 'napi') / get(rep, scenario, 'poll'));
// On Bun and on Deno: poll against the runtime's own net.Socket on the same pipes.
const runtimeRatio = {};
for (const runtime of ['bun', 'deno']) {
  runtimeRatio[runtime] = {};
  for (const scenario of ['pingpong', 'fanin', 'idle']) runtimeRatio[runtime][scenario] = series((rep) => get(rep, scenario, `${runtime}-poll`) / get(rep, scenario, `${runtime}-net`));
}
const streamRatio = {
  vsNet: series((rep) => get(rep, 'stream', 'poll') / get(rep, 'stream', 'net')),
  vsFs: series((rep) => get(rep, 'stream', 'poll') / get(rep, 'stream', 'fs')),
  thread: series((rep) => get(rep, 'stream', 'thread') / get(rep, 'stream', 'poll')),
};
const p99 = {};
for (const impl of IMPLS) {
  p99[impl] = series((rep) => runs.find((x) => x.rep === rep && x.scenario === 'latency' && x.impl === impl)?.result.p99);
}
const idleRatio = {};
for (const impl of IMPLS) idleRatio[impl] = series((rep) => get(rep, 'idle', impl) / get(rep, 'pingpong', impl));

const targets = [
  ['pingpong ≥ 5× the epoll package', ratios.pingpong.vsEpoll, 5],
  ['pingpong ≥ 0.45× raw C', ratios.pingpong.vsC, 0.45],
  ['fanin ≥ 15× the epoll package', ratios.fanin.vsEpoll, 15],
  ['fanin ≥ 0.65× raw C', ratios.fanin.vsC, 0.65],
  ['idle ≥ 0.95 of pingpong', idleRatio.poll, 0.95],
  ['churn ≥ 1× the epoll package', ratios.churn.vsEpoll, 1],
  ['@poll/epoll pingpong ≥ 5× the epoll package', dropinRatio.pingpong, 5],
  ['stream MB/s ≥ net.Socket', streamRatio.vsNet, 1],
  ['waiter-thread loop pingpong ≥ 0.8× the uv_poll loop', threadRatio.pingpong, 0.8],
  ['waiter-thread loop fanin ≥ 0.8× the uv_poll loop', threadRatio.fanin, 0.8],
  ['Node-API loop pingpong ≥ 0.8× the uv_poll loop (on Node)', napiRatio.pingpong, 0.8],
  ['Node-API loop fanin ≥ 0.8× the uv_poll loop (on Node)', napiRatio.fanin, 0.8],
  ['Bun: poll pingpong ≥ its net.Socket', runtimeRatio.bun.pingpong, 1],
  ['Bun: poll fanin > its net.Socket', runtimeRatio.bun.fanin, 1],
  ['Deno: poll pingpong ≥ its net.Socket', runtimeRatio.deno.pingpong, 1],
  ['Deno: poll fanin > its net.Socket', runtimeRatio.deno.fanin, 1],
].map(([name, s, goal]) => ({ name, median: s?.median ?? null, goal, met: s !== null && s.median >= goal }));

const fmt = (x, scenario) =>
  x === undefined || x === null ? '–' : scenario === 'memory' ? `${x.toFixed(0)} B` : scenario === 'latency' ? `${x.toFixed(0)} µs` : scenario === 'stream' ? `${x.toFixed(0)} MB/s` : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`;
const unit = {
  pingpong: 'round trips/s',
  chain: 'events/s, each callback re-arming its own pipe',
  idle: 'round trips/s, 10,000 idle fds',
  fanin: 'events/s, 256 ready at once',
  churn: 'add+remove pairs/s',
  memory: 'JS heap+external bytes per watch',
  latency: 'median µs from another process writing to the callback; lower is better',
  stream: 'MB/s read from a pipe another process fills',
  gpio: 'GPIO interrupts/s through onoff, simulated pins (gpio-sim, FUSE)',
};

// A virtual machine's CPUs carry the hypervisor flag (Linux: /proc/cpuinfo).
const virtual = process.platform === 'linux' && /^flags\s*:.*\bhypervisor\b/m.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, virtual, memory: os.totalmem(), kernel: os.release(), node: process.version };

if (quick) {
  const count = runs.filter((r) => !r.result.skipped).length;
  console.log(`bench --quick: ${count} measurements of ${SCENARIOS.length} scenarios × ${IMPLS.length} implementations ran; every event delivered (too short to mean anything about speed)`);
  process.exit(0);
}
console.log(`\npoll benchmarks — ${REPS} repetitions, interleaved, ${BUDGET_MS} ms per measurement`);
console.log(`${machineName(machine)}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
for (const scenario of SCENARIOS) {
  console.log(`${scenario} (${unit[scenario]})`);
  for (const impl of IMPLS) {
    const s = summary[scenario][impl];
    const tail = scenario === 'latency' && p99[impl] ? `  p99 ${fmt(p99[impl].median, scenario)}` : '';
    console.log(`  ${LABEL[impl].padEnd(22)} ${s ? `${fmt(s.median, scenario).padStart(8)}  (${fmt(s.min, scenario)}–${fmt(s.max, scenario)})${tail}` : '       –  (cannot run this scenario)'}`);
  }
  if (scenario === 'latency') continue;
  if (scenario === 'gpio') {
    const per = (impl, key) => series((rep) => runs.find((x) => x.rep === rep && x.scenario === 'gpio' && x.impl === impl)?.result[key])?.median?.toFixed(1) ?? '–';
    const r = dropinRatio.gpio;
    console.log(`  @poll/epoll vs epoll package: ${r ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : '–'}`);
    console.log(`  simulator round trips per edge: poll() ${GPIO.map((i) => `${LABEL[i]} ${per(i, 'pollsPerEdge')}`).join(', ')}; read() ${GPIO.map((i) => `${LABEL[i]} ${per(i, 'readsPerEdge')}`).join(', ')}`);
    continue;
  }
  if (scenario === 'stream') {
    const show = (x) => (x ? `${x.median.toFixed(2)}× (${x.min.toFixed(2)}–${x.max.toFixed(2)})` : '–');
    console.log(`  poll vs net.Socket: ${show(streamRatio.vsNet)}   vs fs.createReadStream: ${show(streamRatio.vsFs)}   waiter thread vs uv_poll: ${show(streamRatio.thread)}`);
    continue;
  }
  const r = ratios[scenario];
  const show = (s) => (s ? `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : '–');
  console.log(`  poll vs epoll package: ${show(r.vsEpoll)}   vs raw C: ${show(r.vsC)}   vs net.Socket: ${show(r.vsNet)}`);
}
const perRep = (scenario) => reps.map((rep) => (get(rep, scenario, 'thread') / get(rep, scenario, 'poll')).toFixed(2)).join(' ');
console.log(
  `waiter-thread loop ÷ uv_poll loop: ${Object.entries(threadRatio)
    .map(([sc, r]) => `${sc} ${r ? r.median.toFixed(2) : '–'}× (per repetition ${perRep(sc)})`)
    .join('; ')}`,
);
console.log(
  `Node-API loop ÷ uv_poll loop (on Node): ${Object.entries(napiRatio)
    .map(([sc, r]) => `${sc} ${r ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : '–'}`)
    .join('; ')}`,
);
for (const runtime of ['bun', 'deno']) {
  console.log(
    `${runtime === 'bun' ? 'Bun' : 'Deno'}: poll ÷ its net.Socket: ${Object.entries(runtimeRatio[runtime])
      .map(([sc, r]) => `${sc} ${r ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : '–'}`)
      .join('; ')}`,
  );
}
console.log(
  `uv_poll loop ÷ raw C nested the same way (the design's floor): ${Object.entries(nestRatio)
    .map(([sc, r]) => `${sc} ${r ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : '–'}`)
    .join('; ')}`,
);
console.log(
  `@poll/epoll ÷ epoll package: ${Object.entries(dropinRatio)
    .map(([sc, r]) => `${sc} ${r ? r.median.toFixed(2) : '–'}×`)
    .join('; ')} (memory: bytes per watch, lower is better)`,
);
console.log(`idle / pingpong: ${IMPLS.map((i) => `${i} ${idleRatio[i] ? idleRatio[i].median.toFixed(2) : '–'}`).join(', ')}\n`);
for (const t of targets) console.log(`${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.median === null ? '–' : t.median.toFixed(2)}`);

const total = runs.length;
console.log(`\n${total} measurements in ${((Date.now() - started) / 1000).toFixed(0)} s; every event delivered.`);
const out = path.join(root, 'docs', 'bench');
fs.mkdirSync(out, { recursive: true });
const report = {
  date: new Date().toISOString(),
  machine,
  settings: { repetitions: REPS, budgetMs: BUDGET_MS, idle: IDLE },
  summary,
  ratios,
  threadRatio,
  napiRatio,
  runtimeRatio,
  dropinRatio,
  nestRatio,
  streamRatio,
  p99,
  idleRatio,
  targets,
  runs,
};
fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(report, null, 2) + '\n');
fs.writeFileSync(path.join(out, 'chart.svg'), renderChart(report, LABEL));
console.log(`wrote docs/bench/results.json and docs/bench/chart.svg`);
