// The layers (design.md, "Layers and the direction of imports"): the core never depends
// on the front ends, and the front ends reach the machine only through src/debug's door
// (DebugTarget: plain records and commands).
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

const isTest = (f: string): boolean => /\.test\.tsx?$/.test(f);

/** Every relative import of a file, as a path from the repository root. */
function imports(root: string, f: string): string[] {
  const text = readFileSync(f, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    out.push(spec.startsWith('.') ? relative(root, resolve(dirname(f), spec)) : spec);
  }
  return out;
}

export function forbiddenImports(root: string): string[] {
  const bad: string[] = [];
  for (const f of files(join(root, 'src'))) {
    for (const target of imports(root, f)) {
      if (/^(ink|react|blessed|blessed-contrib|ink-testing-library)(\/|$)/.test(target)) bad.push(`${relative(root, f)} imports ${target}`);
      if (/^(ui|gdbstub|cli)(\/|$)/.test(target)) bad.push(`${relative(root, f)} imports ${target}`);
    }
  }
  return bad;
}

/** ui/ and gdbstub/ (their code, not their tests) import from src/ only src/debug/** and the user-error type. */
export function frontEndsPastTheDoor(root: string): string[] {
  const bad: string[] = [];
  for (const dir of ['ui', 'gdbstub']) {
    for (const f of files(join(root, dir))) {
      if (isTest(f)) continue;
      for (const target of imports(root, f)) {
        if (target.startsWith('src/') && !target.startsWith('src/debug/') && target !== 'src/user-error.js') bad.push(`${relative(root, f)} imports ${target}`);
      }
    }
  }
  return bad;
}

/**
 * No front-end code reads `.machine`: ui/ and gdbstub/ never, and cli/ and bench/ (which
 * build machines) only to hand one to the debugger controller.
 */
export function machineReaders(root: string): string[] {
  const bad: string[] = [];
  for (const dir of ['ui', 'gdbstub', 'cli', 'bench']) {
    for (const f of files(join(root, dir))) {
      if (isTest(f)) continue;
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (!/\.machine\b/.test(line.replace(/\/\/.*$/, ''))) return;
        if ((dir === 'cli' || dir === 'bench') && /new DebugController\(\w+\.machine\b/.test(line)) return;
        if (dir === 'cli' && /parsed\.machine\b/.test(line)) return; // the -machine option
        bad.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  return bad;
}

describe('layering', () => {
  it('no file under src/ imports ui/, gdbstub/, cli/ or a UI library', () => {
    expect(forbiddenImports(REPO)).toEqual([]);
  });

  it('ui/ and gdbstub/ import from src/ only src/debug/** (and the user-error type)', () => {
    expect(frontEndsPastTheDoor(REPO)).toEqual([]);
  });

  it('no front end reads .machine: the machine is the debugger controller\'s', () => {
    expect(machineReaders(REPO)).toEqual([]);
  });

  it('the checks see what they look for', () => {
    // A file that breaks each rule is reported (the rules are not vacuous).
    expect(imports(REPO, join(REPO, 'ui', 'model', 'vga-view.ts'))).toContain('src/debug/target.js');
    expect(/\.machine\b/.test('const m = ctl.machine;')).toBe(true);
  });
});
