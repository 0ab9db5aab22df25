// The core never depends on the front ends (design.md, "Layers and the direction of imports").
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { REPO } from './support/cli.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx)$/.test(n) ? [p] : [];
  });
}

export function forbiddenImports(root: string): string[] {
  const bad: string[] = [];
  for (const f of files(join(root, 'src'))) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      if (/^(ink|react|blessed|blessed-contrib|ink-testing-library)(\/|$)/.test(spec)) bad.push(`${relative(root, f)} imports ${spec}`);
      if (!spec.startsWith('.')) continue;
      const target = relative(root, resolve(dirname(f), spec));
      if (/^(ui|gdbstub|cli)(\/|$)/.test(target)) bad.push(`${relative(root, f)} imports ${spec}`);
    }
  }
  return bad;
}

describe('layering', () => {
  it('no file under src/ imports ui/, gdbstub/, cli/ or a UI library', () => {
    expect(forbiddenImports(REPO)).toEqual([]);
  });
});
