// What the source build (build-native.mjs) and the release build (pnpm prebuilds, in
// tooling/cross-check) share.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** A directory with include/node/node_api.h: the running Node's own headers, found offline. */
export function findNodedir() {
  const candidates = [
    process.env.POLL_NODEDIR,
    process.env.npm_config_nodedir,
    path.resolve(path.dirname(process.execPath), '..'),
    '/usr',
    '/usr/local',
  ];
  return candidates.find((dir) => dir && existsSync(path.join(dir, 'include', 'node', 'node_api.h')));
}

/**
 * Copies the shared native headers (tooling/native/include/poll) into nativeDir/include/poll,
 * replacing what was there: a published platform package must carry every header its sources
 * include, and @poll/native-glue is private. The copy is git-ignored; edit the originals.
 */
export function syncGlue(nativeDir) {
  const from = path.join(require('@poll/native-glue').include_dir, 'poll');
  const to = path.join(nativeDir, 'include', 'poll');
  rmSync(to, { recursive: true, force: true });
  mkdirSync(path.dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true });
  return to;
}
