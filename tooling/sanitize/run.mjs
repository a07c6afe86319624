// pnpm sanitize [asan|tsan|valgrind]
//
// asan: rebuilds @poll/linux's addon, its tests' probed build of it and the test helpers with
//   AddressSanitizer and UndefinedBehaviorSanitizer (-fno-sanitize-recover: any undefined
//   behaviour aborts), runs @poll/linux's tests on them (epoll, the waiter-thread loop with the
//   behaviour suite and the model-based test, the create fallback, the teardown probes) with the
//   sanitizer runtimes preloaded into Node, then rebuilds the ordinary ones. CI runs this one.
// Both also run @poll/bsd's select(2) path (descriptors kqueue refuses) through the kqueue
//   harness (tooling/libkqueue), rebuilt with the same flags: a workout of refused ptys.
// tsan: rebuilds @poll/linux's addon (whose loops include the waiter-thread loop @poll/bsd uses,
//   here on epoll) and the test helpers with ThreadSanitizer and drives that loop in plain Node
//   processes (vitest's own native threads are not ours to judge): the workout, pingpong and
//   fanin at full speed (the loop thread draining while the waiter is parked), and 100 workers
//   terminated mid-callback. Its own negative control is a planted race (testkit's plantedRace).
// valgrind: runs a workout of the ordinary addon (both loops, workers, rebuilds, close inside a
//   callback) under memcheck; any invalid read, write or use of uninitialised memory fails.
//
// Each first proves it can fail: a planted one-byte heap overflow (testkit's plantedOverflow)
// must be reported, or the run is worthless and says so.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const mode = process.argv[2] ?? 'asan';

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function capture(cmd, args, env) {
  return spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
}

function compilerFile(name) {
  return spawnSync(process.env.CXX ?? 'g++', [`-print-file-name=${name}`], { encoding: 'utf8' }).stdout.trim();
}

// vitest run by node itself: the sanitizer runtimes are preloaded into every process started
// with `env`, and pnpm's own native binary is not ours to check.
const vitest = (args, env) => sh(process.execPath, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...args], { cwd: path.join(root, 'packages', 'linux'), env });

const planted = `import('${path.join(root, 'tooling/testkit/index.js')}').then(({ sys }) => sys.plantedOverflow())`;
const rebuild = (env) => sh('pnpm', ['--filter', '@poll/linux', '--filter', '@poll/testkit', 'run', 'build'], { env });
// @poll/bsd's select(2) path (the descriptors kqueue refuses) runs on Linux only through the
// kqueue harness: its addon rebuilt with the same flags, checked for the sanitizer's
// instrumentation, then driven by a workout; `wrap` runs Node under another command.
const harness = path.dirname(createRequire(import.meta.url).resolve('@poll/libkqueue-harness/package.json'));
const rebuildHarness = (env) => sh(process.execPath, [path.join(harness, 'build.mjs')], { env });
function selectPath(buildEnv, runEnv, marker, wrap = []) {
  const status = rebuildHarness(buildEnv);
  if (status !== 0) return status;
  const addon = path.join(harness, 'build', 'poll_bsd_refusing.node');
  if (!fs.readFileSync(addon).includes(marker)) {
    console.error(`sanitize: ${addon} was not built with the sanitizer; this run proves nothing.`);
    return 1;
  }
  const workout = path.join(harness, 'test', 'fixtures', 'select-workout.mjs');
  return wrap.length ? sh(wrap[0], [...wrap.slice(1), process.execPath, workout], { env: runEnv }) : sh(process.execPath, [workout], { env: runEnv });
}
// @poll/linux's teardown tests load a probed build of its addon; built here with the same flags.
const rebuildProbed = (env) => sh(process.execPath, [path.join(root, 'packages', 'linux', 'test', 'native', 'probed.mjs')], { env });

if (mode === 'asan') {
  if (process.platform !== 'linux') {
    console.log(`sanitize: the ASan run is for Linux (this is ${process.platform})`);
    process.exit(0);
  }
  const flags = '-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1';
  const runtimes = [compilerFile('libasan.so'), compilerFile('libubsan.so')];
  const env = {
    ...process.env,
    LD_PRELOAD: runtimes.join(':'),
    // Node itself is not built with ASan: its own allocations at exit are not ours to judge.
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1',
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
  };
  const sanitized = { ...process.env, CXXFLAGS: flags, CFLAGS: flags, LDFLAGS: '-fsanitize=address,undefined' };
  let status = rebuild(sanitized) || rebuildProbed(sanitized);
  if (status === 0) {
    const control = capture(process.execPath, ['-e', planted], env);
    // UBSan's object-size check may see it before ASan does; either one stopping it will do.
    const caught = /heap-buffer-overflow|insufficient space for an object/.exec(control.stderr);
    if (!caught || control.status === 0) {
      console.error(`sanitize: the sanitizers did not report the planted overflow; this run proves nothing.\n${control.stderr}`);
      status = 1;
    } else {
      console.log(`sanitize: the planted heap overflow is reported ("${caught[0]}"): the check can fail`);
      status = vitest([], env) || selectPath(sanitized, env, '__asan_report');
    }
  }
  // Leave the ordinary build behind, whatever happened.
  const restored = rebuild(process.env) || rebuildProbed(process.env) || rebuildHarness(process.env);
  console.log(status === 0 ? "sanitize: @poll/linux passes its tests, and @poll/bsd's select(2) path its workout, under ASan and UBSan" : 'sanitize: FAILED');
  process.exit(status || restored);
}

if (mode === 'tsan') {
  if (process.platform !== 'linux') {
    console.log(`sanitize: the TSan run is for Linux (this is ${process.platform})`);
    process.exit(0);
  }
  const flags = '-fsanitize=thread -fno-omit-frame-pointer -g -O1';
  const env = {
    ...process.env,
    LD_PRELOAD: compilerFile('libtsan.so'),
    TSAN_OPTIONS: `halt_on_error=1 report_signal_unsafe=0 suppressions=${path.join(here, 'tsan.supp')}`,
  };
  const tsanBuild = { ...process.env, CXXFLAGS: flags, CFLAGS: flags, LDFLAGS: '-fsanitize=thread' };
  let status = rebuild(tsanBuild);
  if (status === 0) {
    const race = `import('${path.join(root, 'tooling/testkit/index.js')}').then(({ sys }) => sys.plantedRace())`;
    // ASLR layouts newer than this TSan knows make it refuse to start: run without them.
    const control = capture('setarch', ['-R', process.execPath, '-e', race], env);
    // The race is planted in the test helpers; the loop under test is @poll/linux's addon, built
    // by the same rebuild: it must carry TSan's instrumentation too.
    const linux = path.join(path.dirname(createRequire(import.meta.url).resolve('@poll/linux/package.json')), 'native', 'build', 'Release', 'poll_linux.node');
    const instrumented = fs.existsSync(linux) && fs.readFileSync(linux).includes('__tsan_func_entry');
    if (!/ThreadSanitizer: data race/.test(control.stderr)) {
      console.error(`sanitize: TSan did not report the planted race; this run proves nothing.\n${control.stderr.slice(0, 2000)}`);
      status = 1;
    } else if (!instrumented) {
      console.error(`sanitize: ${linux} was not built with ThreadSanitizer; this run proves nothing.`);
      status = 1;
    } else {
      console.log('sanitize: the planted race is reported by TSan (the check can fail)');
      const threaded = pathToFileURL(path.join(here, 'thread-loop.mjs')).href;
      const runs = [
        [path.join(here, 'workout.mjs')],
        [path.join(root, 'tooling', 'bench', 'src', 'run-js.mjs'), 'thread', 'pingpong', '500'],
        [path.join(root, 'tooling', 'bench', 'src', 'run-js.mjs'), 'thread', 'fanin', '500'],
        [path.join(root, 'tooling', 'behaviour', 'fixtures', 'terminate-stress.mjs'), threaded, '100'],
      ];
      for (const args of runs) {
        status = sh('setarch', ['-R', process.execPath, ...args], { env });
        if (status !== 0) break;
      }
      // The select thread, the kevent trigger and the loop thread of @poll/bsd's select(2) path.
      if (status === 0) status = selectPath(tsanBuild, env, '__tsan_func_entry', ['setarch', '-R']);
    }
  }
  const restored = rebuild(process.env) || rebuildHarness(process.env);
  console.log(status === 0 ? "sanitize: the waiter-thread loop and @poll/bsd's select(2) path run clean under TSan" : 'sanitize: FAILED');
  process.exit(status || restored);
}

if (mode === 'valgrind') {
  const memcheck = ['--error-exitcode=99', '--errors-for-leak-kinds=none', '--track-origins=yes', '--quiet'];
  const control = capture('valgrind', [...memcheck, process.execPath, '-e', planted], process.env);
  if (control.status !== 99 || !/Invalid write of size 1/.test(control.stderr)) {
    console.error(`sanitize: valgrind did not report the planted overflow; this run proves nothing.\n${control.stderr}`);
    process.exit(1);
  }
  console.log('sanitize: the planted heap overflow is reported by valgrind (the check can fail)');
  const status = sh('valgrind', [...memcheck, process.execPath, path.join(here, 'workout.mjs')]);
  console.log(status === 0 ? 'sanitize: the workout runs clean under valgrind memcheck' : 'sanitize: FAILED');
  process.exit(status);
}

console.error(`sanitize: unknown mode ${mode}; use asan, tsan or valgrind`);
process.exit(2);
