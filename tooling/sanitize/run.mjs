// pnpm sanitize [asan|valgrind]
//
// asan: rebuilds @poll/linux's addon and the test helpers with AddressSanitizer and
//   UndefinedBehaviorSanitizer (-fno-sanitize-recover: any undefined behaviour aborts), runs
//   @poll/linux's tests on them (epoll, the waiter-thread loop with the behaviour suite and the
//   model-based test, the create fallback) with the sanitizer runtimes preloaded into Node, then
//   rebuilds the ordinary addon. CI runs this one.
// valgrind: runs a workout of the ordinary addon (both loops, workers, rebuilds, close inside a
//   callback) under memcheck; any invalid read, write or use of uninitialised memory fails.
//
// Each first proves it can fail: a planted one-byte heap overflow (testkit's plantedOverflow)
// must be reported, or the run is worthless and says so.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

const planted = `import('${path.join(root, 'tooling/testkit/index.js')}').then(({ sys }) => sys.plantedOverflow())`;
const rebuild = (env) => sh('pnpm', ['--filter', '@poll/linux', '--filter', '@poll/testkit', 'run', 'build'], { env });

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
  let status = rebuild({ ...process.env, CXXFLAGS: flags, CFLAGS: flags, LDFLAGS: '-fsanitize=address,undefined' });
  if (status === 0) {
    const control = capture(process.execPath, ['-e', planted], env);
    // UBSan's object-size check may see it before ASan does; either one stopping it will do.
    const caught = /heap-buffer-overflow|insufficient space for an object/.exec(control.stderr);
    if (!caught || control.status === 0) {
      console.error(`sanitize: the sanitizers did not report the planted overflow; this run proves nothing.\n${control.stderr}`);
      status = 1;
    } else {
      console.log(`sanitize: the planted heap overflow is reported ("${caught[0]}"): the check can fail`);
      status = sh('pnpm', ['--filter', '@poll/linux', 'exec', 'vitest', 'run'], { env });
    }
  }
  // Leave the ordinary build behind, whatever happened.
  const restored = rebuild(process.env);
  console.log(status === 0 ? 'sanitize: @poll/linux passes its tests under ASan and UBSan' : 'sanitize: FAILED');
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

console.error(`sanitize: unknown mode ${mode}; use asan or valgrind`);
process.exit(2);
