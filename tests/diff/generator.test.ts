// The case generator on its own (no emulator): deterministic per seed, CASE_SEED
// reproduces one case, every instruction class of the CPU milestone shows up, and the
// generator's own guards (no read of an undefined flag, no untracked ESP write) hold over
// thousands of cases.
import { afterEach, describe, expect, it } from 'vitest';
import { listingOf } from './x86-asm.js';
import { generateCase, generateCases, caseSeed, Rng, DATA_WINDOW } from './generator.js';
import { ARITH } from './flags.js';
import { CASE_MODES, epilogue } from '../support/diff-target.js';
import { LAYOUT } from '../support/harness-layout.js';

const saved = process.env.CASE_SEED;
afterEach(() => {
  if (saved === undefined) delete process.env.CASE_SEED;
  else process.env.CASE_SEED = saved;
});

describe('case generator', () => {
  it('is a pure function of the seed', () => {
    for (let i = 0; i < 50; i++) {
      const s = caseSeed(42, i);
      const a = generateCase(s);
      const b = generateCase(s);
      expect(b.code).toEqual(a.code);
      expect(b.data).toEqual(a.data);
      expect(b.regs).toEqual(a.regs);
      expect(b.segs).toEqual(a.segs);
      expect(b.flagsIgnoreAt).toEqual(a.flagsIgnoreAt);
      expect(a.name).toContain(s.toString(16).padStart(8, '0'));
      expect(a.seed).toBe(s);
    }
    const r1 = new Rng(7);
    const r2 = new Rng(7);
    expect(Array.from({ length: 10 }, () => r1.u32())).toEqual(Array.from({ length: 10 }, () => r2.u32()));
  });

  it('reproduces one case from CASE_SEED', () => {
    const c = generateCase(caseSeed(9, 3));
    process.env.CASE_SEED = String(c.seed);
    const again = generateCases(9, 100);
    expect(again).toHaveLength(1);
    expect(again[0]!.code).toEqual(c.code);
    process.env.CASE_SEED = '0x' + c.seed!.toString(16);
    expect(generateCases(1, 5)[0]!.code).toEqual(c.code);
  });

  it('generates 4000 cases in every mode without breaking its own rules', () => {
    const seen = new Set<string>();
    let total = 0;
    for (let i = 0; i < 4000; i++) {
      const c = generateCase(caseSeed(0xc0ffee, i), { mode: CASE_MODES[i % 4]! });
      total += c.code.length;
      expect(c.code.length + epilogue(c, c.code.length).length).toBeLessThan(LAYOUT.codeSize);
      expect(c.data!.length).toBe(DATA_WINDOW);
      // masks: one per instruction start and one for the end
      expect(c.flagsIgnoreAt![0]![0]).toBe(0);
      expect(c.flagsIgnoreAt!.at(-1)).toEqual([c.code.length, c.flagsIgnore]);
      expect(c.flagsIgnore! & ~ARITH).toBe(0);
      for (const { insn } of listingOf(c.code)!) {
        seen.add(insn.rep ? `${insn.rep} ${insn.mnem}` : insn.mnem);
        seen.add(insn.mnem);
      }
    }
    expect(total / 4000).toBeGreaterThan(60);
    const required = [
      'add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'inc', 'dec', 'neg', 'not', 'test',
      'mul', 'imul', 'div', 'idiv', 'shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr', 'shld', 'shrd',
      'bt', 'bts', 'btr', 'btc', 'bsf', 'bsr', 'bswap', 'xchg', 'cmpxchg', 'cmpxchg8b', 'xadd',
      'movzx', 'movsx', 'cbw', 'cwde', 'cwd', 'cdq', 'lea', 'mov',
      'movsb', 'movsw', 'movsd', 'stosb', 'stosd', 'lodsb', 'lodsw', 'cmpsb', 'cmpsd', 'scasb', 'scasw',
      'rep movsd', 'rep stosb', 'repe cmpsb', 'repne scasd', 'rep lodsw',
      'push', 'pop', 'pusha', 'pushad', 'popa', 'popad', 'pushf', 'pushfd', 'popf', 'popfd', 'enter', 'leave',
      'call', 'jmp', 'ret', 'loop', 'loope', 'loopne', 'jecxz', 'jcxz',
      'clc', 'stc', 'cmc', 'cld', 'std', 'sahf', 'lahf', 'daa', 'das', 'aaa', 'aas', 'aam', 'aad', 'xlatb',
      'nop', 'int3', 'into', 'int', 'bound', 'ud2',
    ];
    const cc = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
    for (const c of cc) required.push('j' + c, 'set' + c, 'cmov' + c);
    expect(required.filter((m) => !seen.has(m))).toEqual([]);
  });
});
