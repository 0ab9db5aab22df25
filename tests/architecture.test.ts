// The layers (design.md, "Layers and the direction of imports"): the core never depends
// on the front ends, and the front ends reach the machine only through src/debug's door
// (DebugTarget: plain records and commands).
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

/** A read of a `machine` property; spelled in two pieces so that this file does not match it. */
export const MACHINE_READ = new RegExp('\\.' + 'machine' + '\\b');

/**
 * No code outside src/ reads a `machine` property (issue 11): the machine is the
 * debugger controller's, private to it, and the front ends (ui/, gdbstub/, cli/, bench/)
 * reach it through src/debug's door. Tests and scripts too: a test that drives the core
 * itself holds the PcMachine it built under its own name (`pc`), never through a
 * front end's object. Comments count (a mention is a mention).
 */
export function machineReaders(root: string): string[] {
  const bad: string[] = [];
  for (const dir of ['ui', 'gdbstub', 'cli', 'bench', 'tests', 'scripts', 'bin']) {
    if (!existsSync(join(root, dir))) continue;
    for (const f of codeFiles(join(root, dir))) {
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (MACHINE_READ.test(line)) bad.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  return bad;
}

/** Source files of every kind a front end, test or script is written in. */
function codeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (n === 'node_modules' || n === 'build') return [];
    return statSync(p).isDirectory() ? codeFiles(p) : /\.(ts|tsx|mts|js|mjs|cjs)$/.test(n) ? [p] : [];
  });
}

describe('layering', () => {
  it('no file under src/ imports ui/, gdbstub/, cli/ or a UI library', () => {
    expect(forbiddenImports(REPO)).toEqual([]);
  });

  it('ui/ and gdbstub/ import from src/ only src/debug/** (and the user-error type)', () => {
    expect(frontEndsPastTheDoor(REPO)).toEqual([]);
  });

  it('no file outside src/ reads a machine property: the machine is the debugger controller\'s', () => {
    expect(machineReaders(REPO)).toEqual([]);
  });

  it('the checks see what they look for', () => {
    // A file that breaks each rule is reported (the rules are not vacuous).
    expect(imports(REPO, join(REPO, 'ui', 'model', 'vga-view.ts'))).toContain('src/debug/target.js');
    expect(MACHINE_READ.test(`const m = ctl.${'machine'};`)).toBe(true);
    expect(MACHINE_READ.test('const m = ctl.pc;')).toBe(false);
  });
});
