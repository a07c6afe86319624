import type { Backend } from './types.js';
import { libraryError } from './errors.js';

type Require = (id: string) => unknown;

const PACKAGE_FOR_PLATFORM: Readonly<Record<string, string>> = {
  linux: '@poll/linux',
  android: '@poll/linux',
  darwin: '@poll/bsd',
  freebsd: '@poll/bsd',
  openbsd: '@poll/bsd',
  netbsd: '@poll/bsd',
};

/** The platform package that serves `platform`, or undefined where poll has none. */
export function backendPackageFor(platform: string): string | undefined {
  return Object.hasOwn(PACKAGE_FOR_PLATFORM, platform) ? PACKAGE_FOR_PLATFORM[platform] : undefined;
}

/**
 * Loads the backend for this platform through the caller's own `require` (under pnpm's strict
 * layout only the package that declares a dependency may resolve it). Only a missing platform
 * package becomes ERR_POLL_NO_BACKEND; any other failure is the real error and passes through.
 */
export function selectBackend(require: Require, platform: string = process.platform, arch: string = process.arch): Backend {
  const pkg = backendPackageFor(platform);
  if (pkg === undefined) {
    throw libraryError(
      'ERR_POLL_NO_BACKEND',
      `poll has no backend for ${platform}-${arch}. It runs on Linux (epoll, @poll/linux) and on macOS, FreeBSD, OpenBSD and NetBSD (kqueue, @poll/bsd).`,
    );
  }
  const specifier = `${pkg}/backend`;
  let loaded: { backend?: Backend };
  try {
    loaded = require(specifier) as { backend?: Backend };
  } catch (err) {
    if (!isMissing(err, pkg)) throw err;
    throw libraryError(
      'ERR_POLL_NO_BACKEND',
      `The package "${pkg}" could not be found, and @poll/poller needs it on ${platform}-${arch}.\n\n` +
        `It is an optional dependency of @poll/poller, so it is skipped by installs made with ` +
        `"--omit=optional" / "--no-optional", and missing when node_modules was copied from another ` +
        `operating system. Reinstall on this machine without those flags, or add it yourself:\n\n` +
        `    npm install ${pkg}\n`,
      { cause: err },
    );
  }
  if (loaded?.backend == null || typeof loaded.backend.create !== 'function') {
    throw new Error(`${specifier} does not export a poll backend; install versions of @poll packages that match`);
  }
  return loaded.backend;
}

function isMissing(err: unknown, pkg: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  // The package itself is missing, not one of its own dependencies.
  return (
    code === 'MODULE_NOT_FOUND' &&
    typeof message === 'string' &&
    (message.includes(`'${pkg}'`) || message.includes(`'${pkg}/`))
  );
}
