import type { Backend, LoopName } from './dist/index.js';

declare namespace loadBackend {
  interface Options {
    /** the platform package, e.g. '@poll/linux' */
    pkg: string;
    /** its directory (where prebuilds/ and native/ are) */
    dir: string;
    /** its node-gyp-build, resolved from the package itself */
    load: (dir: string) => unknown;
    name: 'epoll' | 'kqueue';
    /** the native class the addon exports */
    className: string;
    /** process.platform values the package serves */
    platforms: readonly string[];
    /** those platforms in words */
    serves: string;
    /** what to use on this platform, when the package knows */
    instead?: string;
    /** the kernel's record of which file each registration belongs to (Backend#registeredFiles) */
    registeredFiles?: Backend['registeredFiles'];
  }
}

/**
 * Turns a platform package's addon into the backend core expects (`backend`, on the loop the
 * addon chose for this runtime; `loops`, the same backend on each loop this runtime can run);
 * throws ERR_POLL_NO_BACKEND with the fix when there is no binary.
 */
declare function loadBackend(options: loadBackend.Options): { backend: Backend; loops: Readonly<Partial<Record<LoopName, Backend>>> };
export = loadBackend;
