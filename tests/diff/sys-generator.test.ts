// The issue-5 case generators and hand-written cases on their own (no emulator): every family
// is a pure function of its seed, SYS_CASE_SEED reproduces one case, the cases respect the
// harness's limits (code size, patch count, tables it restores), and the default run is at
// least 2,000 generated cases beyond issue 2's.
import { afterEach, describe, expect, it } from 'vitest';
import { LAYOUT } from '../support/harness-layout.js';
import { buildContext, epilogue, restoredRanges } from '../support/diff-target.js';
import { SYS_DEFAULT_COUNTS, SYS_FAMILIES, familyOf, generateSystemCases, sysCaseFromSpec, sysCaseSeed } from './sys-generator.js';
import { sysEdgeCases } from './sys-edge-cases.js';

const saved = process.env.SYS_CASE_SEED;
afterEach(() => {
  if (saved === undefined) delete process.env.SYS_CASE_SEED;
  else process.env.SYS_CASE_SEED = saved;
});

describe('system case generators', () => {
  it('are pure functions of the seed', () => {
    for (const [family, gen] of Object.entries(SYS_FAMILIES)) {
      for (let i = 0; i < 20; i++) {
        const s = sysCaseSeed(7, family, i);
        const a = gen(s);
        const b = gen(s);
        expect(b.code, family).toEqual(a.code);
        expect(b.patches, family).toEqual(a.patches);
        expect(b.memory, family).toEqual(a.memory);
        expect(b.regs, family).toEqual(a.regs);
        expect(b.dr, family).toEqual(a.dr);
        expect(a.name).toContain(s.toString(16).padStart(8, '0'));
      }
    }
  });

  it('reproduce one case from SYS_CASE_SEED=<family>:<seed>', () => {
    const c = generateSystemCases(3, { farxfer: 5 })[2]!;
    expect(c.reproduce).toMatch(/^SYS_CASE_SEED=farxfer:0x[0-9a-f]{8}$/);
    expect(familyOf(c)).toBe('farxfer');
    process.env.SYS_CASE_SEED = c.reproduce!.split('=')[1]!;
    const again = generateSystemCases(99, { farxfer: 100, desc: 100 });
    expect(again).toHaveLength(1);
    expect(again[0]!.code).toEqual(c.code);
    expect(generateSystemCases(99, { desc: 100 })).toHaveLength(0);
    expect(() => sysCaseFromSpec('nosuch:1')).toThrow(/family/);
  });

  it('keep within what the harness can run (code size, patches, restored tables)', () => {
    const restored = restoredRanges();
    for (const [family, gen] of Object.entries(SYS_FAMILIES)) {
      for (let i = 0; i < 150; i++) {
        const c = gen(sysCaseSeed(11, family, i));
        expect(c.code.length + epilogue(c, c.code.length).length + 16, c.name).toBeLessThan(LAYOUT.codeSize);
        expect(() => buildContext(c), c.name).not.toThrow();
        for (const m of c.memory ?? []) {
          for (const [a, n] of restored) expect(m.addr < a + n && m.addr + m.bytes.length > a, `${c.name}: memory at 0x${m.addr.toString(16)}`).toBe(false);
        }
      }
    }
  });

  it('run at least 2,000 cases beyond issue 2 by default, in every system mode', () => {
    const nonTask = Object.entries(SYS_DEFAULT_COUNTS).filter(([f]) => f !== 'task').reduce((s, [, n]) => s + n, 0);
    expect(nonTask).toBeGreaterThanOrEqual(2000);
    const modes = new Set(Object.keys(SYS_FAMILIES).flatMap((f) => Array.from({ length: 10 }, (_, i) => SYS_FAMILIES[f]!(sysCaseSeed(5, f, i)).mode)));
    for (const m of ['real', 'unreal', 'v86', 'ring1', 'ring2', 'ring3', 'pae', 'pae-ring3', 'flat32', 'paging32']) expect(modes.has(m as never), m).toBe(true);
  });
});

describe('hand-written system cases', () => {
  it('have unique names and an SDM expectation each', () => {
    const cases = sysEdgeCases();
    expect(cases.length).toBeGreaterThan(150);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    for (const c of cases) {
      expect(c.expect, c.name).toBeDefined();
      expect(() => buildContext(c), c.name).not.toThrow();
    }
  });
});
