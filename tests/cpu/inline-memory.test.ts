// Compiled TBs write the TLB-hit path of their loads and stores out (translate/
// inline-memory.ts). The rewrite must keep what the code does on a hit and on a miss, and
// leave alone what it cannot rewrite safely.
import { describe, expect, it } from 'vitest';
import { inlineMemory, INLINE_MEMORY_LOCAL, INLINE_MEMORY_NAMES } from '../../src/cpu/translate/inline-memory.js';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { loadMultiboot } from '../../src/boot/multiboot.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support/cli.js';

describe('inlineMemory', () => {
  it('writes out loads of a plain address and store statements, the call kept for a miss', () => {
    expect(inlineMemory('R[1] = ld32(a);')).toBe(
      'R[1] = ((e$ = ~TR[a >>> 12]) >= 0 && (a & 3) === 0 ? MD[(e$ | (a & 0xfff)) >> 2] : ld32(a));');
    expect(inlineMemory('const y = ld8(a2);')).toBe('const y = ((e$ = ~TR[a2 >>> 12]) >= 0 ? MB[e$ | (a2 & 0xfff)] : ld8(a2));');
    expect(inlineMemory('x; st16(a, R[0] & 0xffff);')).toBe(
      'x; { if ((e$ = ~TW[a >>> 12]) >= 0 && (a & 1) === 0) MW[(e$ | (a & 0xfff)) >> 1] = R[0] & 0xffff; else st16(a, R[0] & 0xffff); }');
    // a load in a stored value is written out too
    expect(inlineMemory('st32(a, ld32(b));')).toContain('MD[(e$ | (a & 0xfff)) >> 2] = ((e$ = ~TR[b >>> 12])');
  });

  it('leaves calls it cannot rewrite as they are', () => {
    for (const code of [
      'R[0] = ld32(((R[4] + 12) | 0));', // an address expression
      'if (x) st32(a, v);', // a store that is not a statement of its own
      'f(st8(a, 1));',
      'c.ld32(a); H.st32(a, 1); myld32(a);', // other functions of the same name
      'st32(a);', // (no value)
    ]) expect(inlineMemory(code)).toBe(code);
    expect(inlineMemory('H.note("ld32(a)");')).toBe('H.note("ld32(a)");');
  });

  it('does on a hit and on a miss what the calls do', () => {
    // A TLB where page 0 maps to RAM at 0x1000 for reading and writing; page 1 misses.
    const ram = new ArrayBuffer(0x4000);
    const MB = new Uint8Array(ram);
    const MW = new Uint16Array(ram);
    const MD = new Int32Array(ram);
    const TR = new Int32Array(1 << 20);
    const TW = new Int32Array(1 << 20);
    TR[0] = ~0x1000;
    TW[0] = ~0x1000;
    const slow: string[] = [];
    // The runtime's calls (runtime.ts): the hit path, else the slow path (recorded here).
    const missLd = (n: number) => (a: number): number => (slow.push(`ld${n} ${a}`), 0x5a);
    const missSt = (n: number) => (a: number, v: number): void => void slow.push(`st${n} ${a} ${v}`);
    const calls = [
      (a: number): number => (~TR[a >>> 12]! >= 0 ? MB[~TR[a >>> 12]! | (a & 0xfff)]! : missLd(8)(a)),
      (a: number): number => (~TR[a >>> 12]! >= 0 && (a & 1) === 0 ? MW[(~TR[a >>> 12]! | (a & 0xfff)) >> 1]! : missLd(16)(a)),
      (a: number): number => (~TR[a >>> 12]! >= 0 && (a & 3) === 0 ? MD[(~TR[a >>> 12]! | (a & 0xfff)) >> 2]! : missLd(32)(a)),
      (a: number, v: number): void => { if (~TW[a >>> 12]! >= 0) MB[~TW[a >>> 12]! | (a & 0xfff)] = v; else missSt(8)(a, v); },
      (a: number, v: number): void => { if (~TW[a >>> 12]! >= 0 && (a & 1) === 0) MW[(~TW[a >>> 12]! | (a & 0xfff)) >> 1] = v; else missSt(16)(a, v); },
      (a: number, v: number): void => { if (~TW[a >>> 12]! >= 0 && (a & 3) === 0) MD[(~TW[a >>> 12]! | (a & 0xfff)) >> 2] = v; else missSt(32)(a, v); },
    ];
    const misses = [missLd(8), missLd(16), missLd(32), missSt(8), missSt(16), missSt(32)];
    const body = [
      'const a = 0x10; const b = 0x11; const m = 0x1004; const R = [];',
      'st32(a, -2);', 'st16(b, 0x1234);', 'st8(a, 7);', 'st32(m, 9);', 'st32(b, 1);', 'st16(a, ld8(a) + 1);',
      'R.push(ld32(a), ld16(b), ld8(a), ld32(m), ld32(b), ld16(a));',
      'return R;',
    ].join('\n');
    const names = ['ld8', 'ld16', 'ld32', 'st8', 'st16', 'st32', ...INLINE_MEMORY_NAMES];
    const run = (code: string, fns: unknown[]): { out: number[]; slow: string[]; ram: number[] } => {
      MB.fill(0);
      slow.length = 0;
      const out = (new Function(...names, `${INLINE_MEMORY_LOCAL}\n${code}`) as (...a: unknown[]) => number[])(...fns, TR, TW, MB, MW, MD);
      return { out, slow: [...slow], ram: Array.from(MB.subarray(0x1000, 0x1018)) };
    };
    const written = inlineMemory(body);
    expect(written).not.toMatch(/= ld|st32\(a, -2\);\n/);
    const viaCalls = run(body, calls);
    const inlined = run(written, misses);
    expect(inlined).toEqual(viaCalls);
    // misaligned and other-page accesses went to the slow path; the rest did not
    expect(inlined.slow).toEqual(['st16 17 4660', 'st32 4100 9', 'st32 17 1', 'ld16 17', 'ld32 4100', 'ld32 17']);
    expect(inlined.out.slice(0, 3)).toEqual([0xffff0008 | 0, 0x5a, 8]);
  });

  it('is what the compiled TBs of a running guest hold', () => {
    const m = new PcMachine({ serial: () => {} });
    const path = join(REPO, 'samples/build/bench-sieve.elf');
    loadMultiboot(m.phys, m.cpu, readFileSync(path), { kernelName: path, cmdline: path, modules: [], ramSize: m.ramSize });
    m.run(20_000_000);
    const compiled = m.exec.tbs.all().filter((t) => t.tier === 1 && /\b(ld|st)(8|16|32)\(a\b/.test(t.source));
    expect(compiled.length).toBeGreaterThan(0);
    for (const t of compiled) expect(t.source).toMatch(/~T[RW]\[a >>> 12\]/);
    // and its registers in locals (register-locals.ts) where its calls allow it
    expect(compiled.some((t) => /let r\$\d = R\[\d\]/.test(t.source))).toBe(true);
  });
});
