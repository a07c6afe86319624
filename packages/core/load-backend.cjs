'use strict';
// How a platform package (@poll/linux, @poll/bsd) turns its addon into the backend core
// expects, with errors that say what went wrong. CommonJS so that the facade can require()
// the platform package's backend.cjs synchronously.
const path = require('node:path');

// The one error made here, in the shape of core's libraryError (src/errors.ts): this file runs
// before, and without, core's ES modules, as the first thing a platform package does.
function noBackend(message, cause) {
  const err = new Error(message, cause === undefined ? undefined : { cause });
  err.code = 'ERR_POLL_NO_BACKEND';
  return err;
}

/**
 * @param {object} o
 * @param {string} o.pkg        the platform package, e.g. '@poll/linux'
 * @param {string} o.dir        its directory (where prebuilds/ and native/ are)
 * @param {(dir: string) => any} o.load  its node-gyp-build, resolved from the package itself
 * @param {'epoll' | 'kqueue'} o.name
 * @param {string} o.className  the native class the addon exports
 * @param {string[]} o.platforms  process.platform values the package serves
 * @param {string} o.serves     those platforms in words
 * @param {string} [o.instead]  what to use on this platform, when the package knows
 * @param {Function} [o.registeredFiles]  the kernel's record of a set's files (Backend#registeredFiles)
 */
module.exports = function loadBackend(o) {
  if (!o.platforms.includes(process.platform)) {
    throw noBackend(
      `${o.pkg} is the ${o.name} backend for ${o.serves}; this is ${process.platform}. ` +
        (o.instead ? `${o.instead} ` : '') +
        'Install @poll/poller, which picks the backend for the platform it runs on.',
    );
  }
  const binding = loadAddon(o);
  // The addon exports its poller class under className on the loop it chose for this runtime
  // (tooling/native/include/poll/runtime.h), named by `loop`, and once for each loop this
  // runtime can run under `loops`.
  const on = (loop, Native) =>
    Object.freeze({
      name: o.name,
      loop,
      supported: binding.supported,
      bits: binding.bits,
      maxEvents: binding.maxEvents,
      reservedToken: binding.reservedToken,
      io: binding.io,
      create: (buffer, onBatch) => new Native(buffer, onBatch),
      ...(o.registeredFiles ? { registeredFiles: o.registeredFiles } : {}),
    });
  const backend = on(binding.loop, binding[o.className]);
  const loops = {};
  for (const [loop, Native] of Object.entries(binding.loops)) loops[loop] = loop === backend.loop ? backend : on(loop, Native);
  return { backend, loops: Object.freeze(loops) };
};

const NOT_FOUND = /No native build was found/;

// A build from source (native/build/Release, made by the command below or by the workspace's
// `pnpm build`) wins over a prebuilt binary, as node-gyp-build itself prefers build/ over
// prebuilds/: whoever built it asked for it.
function loadAddon(o) {
  const native = path.join(o.dir, 'native');
  try {
    return o.load(native);
  } catch (cause) {
    if (!NOT_FOUND.test(String(cause && cause.message))) throw cause;
  }
  try {
    return o.load(o.dir);
  } catch (cause) {
    // node-gyp-build found nothing to load, or found a prebuilt binary this system cannot load
    // (FreeBSD 13 with FreeBSD 14's binary, an older libc than it was built for): both are
    // fixed by a build from source. Anything else is the real error and stays as it is.
    const message = String(cause && cause.message);
    const unloadable = cause && cause.code === 'ERR_DLOPEN_FAILED';
    if (!NOT_FOUND.test(message) && !unloadable) throw cause;
    const what = unloadable
      ? `${o.pkg}'s prebuilt binary for ${process.platform}-${process.arch} does not load on this system (see the cause)`
      : `${o.pkg} has no prebuilt binary for ${process.platform}-${process.arch}${libcNote()} and none was built from source`;
    throw noBackend(
      `${what}. Build it in place (needs python3, make and a C++ compiler; no checkout needed):\n\n` +
        `    ${buildCommand(native)}\n\n` +
        'then run your program again. The build stays in that directory until the package is reinstalled.',
      cause,
    );
  }
}

/** The one command that builds the addon inside the installed package. */
function buildCommand(nativeDir) {
  const quoted = /^[\w@%+=:,./-]+$/.test(nativeDir) ? nativeDir : `"${nativeDir}"`;
  return `npx --yes node-gyp@12 rebuild --directory ${quoted}`;
}

// Prebuilt Linux binaries are for glibc; on musl (Alpine) they are skipped.
function libcNote() {
  if (process.platform !== 'linux') return '';
  const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null;
  const glibc = report && report.header && report.header.glibcVersionRuntime;
  return glibc ? ` (glibc ${glibc})` : ' (not glibc)';
}
