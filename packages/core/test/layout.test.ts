// core's files import one way (docs/DESIGN.md, "Shape"): the entry point, then the façade
// (poller.ts), then its parts, down to types.ts and errors.ts; none in a circle, and nothing
// below the façade reaches back up to it or to the entry point.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** file -> the files of src it imports (type-only imports too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of fs.readdirSync(src).filter((f) => f.endsWith('.ts'))) {
    const text = fs.readFileSync(path.join(src, file), 'utf8');
    const deps = [...text.matchAll(/from '\.\/([\w-]+)\.js'/g)].map((m) => `${m[1]}.ts`);
    graph.set(file, [...new Set(deps)]);
  }
  return graph;
}

/** Every cycle, as the files on it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

describe("core's layout", () => {
  const graph = importGraph();

  it('no import runs in a circle', () => {
    expect(graph.size).toBeGreaterThan(10);
    expect(cycles(graph)).toEqual([]);
  });

  it('nothing below the façade imports it or the entry point', () => {
    const upward = [...graph].flatMap(([file, deps]) =>
      deps.filter((d) => (d === 'poller.ts' && file !== 'index.ts') || d === 'index.ts').map((d) => `${file} -> ${d}`),
    );
    expect(upward).toEqual([]);
  });

  it('a circle is found (negative control)', () => {
    const planted = new Map(graph);
    planted.set('types.ts', ['registrations.ts']);
    expect(cycles(planted).some((c) => c.includes('types.ts') && c.includes('registrations.ts'))).toBe(true);
  });
});
