// What translated code sees: the fast memory paths (TLB hit -> typed-array access,
// inlined by V8), segment arithmetic, and the helper functions of complex instructions.
// One runtime per privilege: supervisor code reads the supervisor TLB tables and user
// code the user tables, so the privilege check costs nothing on a hit.
import type { Cpu } from './cpu.js';
import { Helpers } from './helpers.js';
import { PARITY } from './lazy-flags.js';
import type { Simd } from './simd/simd.js';

export interface Runtime {
  readonly c: Cpu;
  readonly R: Int32Array;
  readonly SB: Int32Array;
  readonly SL: Uint32Array;
  readonly H: Helpers;
  readonly PAR: Uint8Array;
  readonly ld8: (a: number) => number;
  readonly ld16: (a: number) => number;
  readonly ld32: (a: number) => number;
  readonly st8: (a: number, v: number) => void;
  readonly st16: (a: number, v: number) => void;
  readonly st32: (a: number, v: number) => void;
  /** seg:off for a BASIC segment (expand-up, base + limit). */
  readonly sg: (s: number, off: number, size: number) => number;
  /** The SIMD unit (MMX/SSE/SSE2 instructions). */
  readonly X: Simd;
  /**
   * What the ld and st functions read on a hit, for code that writes their fast path out
   * (translate/inline-memory.ts): this privilege's TLB tables and guest RAM by size.
   */
  readonly TR: Int32Array;
  readonly TW: Int32Array;
  readonly MB: Uint8Array;
  readonly MW: Uint16Array;
  readonly MD: Int32Array;
}

/** Names the generated code may use, in this order, as the factory's parameters. */
export const RUNTIME_NAMES = ['c', 'R', 'SB', 'SL', 'H', 'PAR', 'ld8', 'ld16', 'ld32', 'st8', 'st16', 'st32', 'sg', 'X', 'TR', 'TW', 'MB', 'MW', 'MD'] as const;

export function makeRuntime(cpu: Cpu, helpers: Helpers, user: boolean): Runtime {
  const mem8 = cpu.phys.u8;
  const mem16 = cpu.phys.u16;
  const mem32 = cpu.phys.i32;
  // (TLB entries are stored complemented: mmu.ts)
  const tr = user ? cpu.mmu.tlbRU : cpu.mmu.tlbRK;
  const tw = user ? cpu.mmu.tlbWU : cpu.mmu.tlbWK;
  const SB = cpu.segBase;
  const SL = cpu.segLimit;
  return {
    c: cpu,
    R: cpu.regs,
    SB,
    SL,
    H: helpers,
    PAR: PARITY,
    ld8(a: number): number {
      const e = ~tr[a >>> 12]!;
      return e >= 0 ? mem8[e | (a & 0xfff)]! : cpu.load8(a, user);
    },
    ld16(a: number): number {
      const e = ~tr[a >>> 12]!;
      return e >= 0 && (a & 1) === 0 ? mem16[(e | (a & 0xfff)) >> 1]! : cpu.load16(a, user);
    },
    ld32(a: number): number {
      const e = ~tr[a >>> 12]!;
      return e >= 0 && (a & 3) === 0 ? mem32[(e | (a & 0xfff)) >> 2]! : cpu.load32(a, user);
    },
    st8(a: number, v: number): void {
      const e = ~tw[a >>> 12]!;
      if (e >= 0) mem8[e | (a & 0xfff)] = v;
      else cpu.store8(a, v, user);
    },
    st16(a: number, v: number): void {
      const e = ~tw[a >>> 12]!;
      if (e >= 0 && (a & 1) === 0) mem16[(e | (a & 0xfff)) >> 1] = v;
      else cpu.store16(a, v, user);
    },
    st32(a: number, v: number): void {
      const e = ~tw[a >>> 12]!;
      if (e >= 0 && (a & 3) === 0) mem32[(e | (a & 0xfff)) >> 2] = v;
      else cpu.store32(a, v, user);
    },
    sg(s: number, off: number, size: number): number {
      if ((off >>> 0) + size - 1 > SL[s]!) cpu.segLimitFault(s);
      return (SB[s]! + off) | 0;
    },
    X: cpu.simd,
    TR: tr,
    TW: tw,
    MB: mem8,
    MW: mem16,
    MD: mem32,
  };
}
