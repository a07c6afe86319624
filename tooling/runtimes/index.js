// The runtimes poll is tested on besides Node, from the npm registry (this package's optional
// dependencies): their binaries' paths, or undefined where the package is not installed (it
// exists for linux-x64 only).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function binary(pkg, file) {
  try {
    const found = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
    return fs.existsSync(found) ? found : undefined;
  } catch {
    return undefined;
  }
}

export const bun = binary('@oven/bun-linux-x64', 'bin/bun');
export const deno = binary('@deno/linux-x64-glibc', 'deno');
