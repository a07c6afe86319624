// Where each backend runs has one home: the platform package's package.json "os", which npm and
// pnpm install by and which the package's backend.cjs loads by. The facade's own map
// (@poll/core's backendPackageFor, which picks the package to require) is the one copy that
// must exist apart; it is checked here against those lists, for every platform Node knows.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendPackageFor } from '@poll/core';

const require = createRequire(import.meta.url);
const osOf = (pkg: string): string[] => {
  const dir = path.dirname(require.resolve(`${pkg}/backend`));
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { os?: string[]; publishConfig?: { os?: string[] } };
  return (json.os ?? json.publishConfig?.os)!; // publishConfig's in the workspace, top-level once packed
};
// process.platform's values (https://nodejs.org/api/process.html#processplatform), and Android.
const NODE_PLATFORMS = ['aix', 'android', 'darwin', 'freebsd', 'haiku', 'linux', 'openbsd', 'sunos', 'win32', 'cygwin', 'netbsd'];

/** Where `pick` and the packages' "os" lists disagree, one line each. */
function disagreements(pick: (platform: string) => string | undefined, os: Record<string, string[]>): string[] {
  return NODE_PLATFORMS.flatMap((platform) => {
    const serving = Object.keys(os).filter((pkg) => os[pkg]!.includes(platform));
    const expected = serving.length === 1 ? serving[0] : undefined;
    if (serving.length > 1) return [`${platform}: installed by ${serving.join(' and ')}`];
    return pick(platform) === expected ? [] : [`${platform}: the facade picks ${pick(platform)}, npm installs ${expected}`];
  });
}

describe('where each backend runs', () => {
  const os = { '@poll/linux': osOf('@poll/linux'), '@poll/bsd': osOf('@poll/bsd') };

  it("the facade's choice of package agrees with each package's package.json \"os\", on every platform", () => {
    expect(os['@poll/bsd']).toEqual(['darwin', 'freebsd', 'openbsd', 'netbsd']);
    expect(disagreements(backendPackageFor, os)).toEqual([]);
  });

  it('a list that disagrees is caught (negative control)', () => {
    expect(disagreements(backendPackageFor, { ...os, '@poll/bsd': ['darwin', 'freebsd'] })).toEqual([
      'openbsd: the facade picks @poll/bsd, npm installs undefined',
      'netbsd: the facade picks @poll/bsd, npm installs undefined',
    ]);
  });
});
