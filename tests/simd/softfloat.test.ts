// The SIMD unit's arithmetic checked in process (no QEMU): the exact BigInt softfloat
// against the host's IEEE doubles (round to nearest), the directed roundings against each
// other (RD <= RN <= RU, one ulp apart exactly when inexact, RZ towards zero), and the
// double fast paths of the SIMD unit against the softfloat for every operation.
import { describe, expect, it } from 'vitest';
import { Rng } from '../diff/generator.js';
import { F32, F64, MX_PE, add, div, mul, sqrt, type FpEnv } from '../../src/cpu/simd/softfloat.js';
import { Simd } from '../../src/cpu/simd/simd.js';
import type { Cpu } from '../../src/cpu/cpu.js';

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const bitsOf = (x: number): bigint => ((f64[0] = x), u64[0]!);
const valueOf = (b: bigint): number => ((u64[0] = b), f64[0]!);
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bits32 = (x: number): bigint => ((f32[0] = x), BigInt(u32[0]!));
const value32 = (b: bigint): number => ((u32[0] = Number(b)), f32[0]!);

function randDouble(r: Rng): number {
  const k = r.int(0, 9);
  const sign = r.chance(0.5) ? -1 : 1;
  if (k === 0) return sign * Math.pow(2, r.int(-1074, -1000)) * (1 + r.u32() / 2 ** 32); // denormal/tiny
  if (k === 1) return sign * Math.pow(2, r.int(1000, 1023)) * (1 + r.u32() / 2 ** 32); // huge
  if (k === 2) return sign * r.int(0, 1 << 20);
  return sign * Math.pow(2, r.int(-60, 60)) * (1 + (r.u32() * 2 ** 21 + (r.u32() >>> 11)) / 2 ** 53);
}

const OPS = ['add', 'sub', 'mul', 'div', 'sqrt'] as const;
function soft(f: typeof F64, op: (typeof OPS)[number], a: bigint, b: bigint, env: FpEnv): bigint {
  switch (op) {
    case 'add': return add(f, a, b, false, env);
    case 'sub': return add(f, a, b, true, env);
    case 'mul': return mul(f, a, b, env);
    case 'div': return div(f, a, b, env);
    default: return sqrt(f, b, env);
  }
}
function host(op: (typeof OPS)[number], a: number, b: number): number {
  return op === 'add' ? a + b : op === 'sub' ? a - b : op === 'mul' ? a * b : op === 'div' ? a / b : Math.sqrt(b);
}

describe('softfloat', () => {
  it('rounds to nearest as the host does: 40000 double and single operations', () => {
    const r = new Rng(15);
    for (let i = 0; i < 20000; i++) {
      const op = r.pick(OPS);
      const a = randDouble(r);
      const b = op === 'sqrt' ? Math.abs(randDouble(r)) : randDouble(r);
      const env = { mxcsr: 0x1f80, flags: 0 };
      const got = soft(F64, op, bitsOf(a), bitsOf(b), env);
      const want = host(op, a, b);
      expect(valueOf(got), `${op} ${a} ${b}`).toBe(want);
      // singles: computed in double and rounded once more is correct for + - * / sqrt
      const sa = Math.fround(a);
      const sb = Math.fround(b);
      const env32 = { mxcsr: 0x1f80, flags: 0 };
      const got32 = soft(F32, op, bits32(sa), bits32(sb), env32);
      expect(value32(got32), `${op}ss ${sa} ${sb}`).toBe(Math.fround(host(op, sa, sb)));
    }
  });

  it('directed roundings bracket the result: RD <= RN <= RU, one ulp apart exactly when PE, RZ towards zero', () => {
    const r = new Rng(16);
    for (let i = 0; i < 20000; i++) {
      const op = r.pick(OPS);
      const a = randDouble(r);
      const b = op === 'sqrt' ? Math.abs(randDouble(r)) : randDouble(r);
      const at = (rc: number) => {
        const env = { mxcsr: 0x1f80 | (rc << 13), flags: 0 };
        return { v: valueOf(soft(F64, op, bitsOf(a), bitsOf(b), env)), pe: (env.flags & MX_PE) !== 0 };
      };
      const [rn, rd, ru, rz] = [at(0), at(1), at(2), at(3)];
      if (!Number.isFinite(rn.v) || Number.isNaN(rn.v)) continue;
      expect(rd.v <= rn.v && rn.v <= ru.v, `${op} ${a} ${b}`).toBe(true);
      expect(rd.pe).toBe(rn.pe);
      if (!rn.pe) expect(rd.v === ru.v && ru.v === rn.v).toBe(true);
      else if (Number.isFinite(rd.v) && Number.isFinite(ru.v)) {
        const next = rd.v === 0 ? Number.MIN_VALUE : valueOf(bitsOf(rd.v) + (rd.v > 0 ? 1n : -1n));
        expect(ru.v === next || (rd.v === 0 && ru.v === Number.MIN_VALUE) || (ru.v === 0 && rd.v === -Number.MIN_VALUE), `${op} ${a} ${b}: ${rd.v} ${ru.v}`).toBe(true);
      }
      expect(rz.v).toBe(rn.v < 0 || rd.v < 0 ? ru.v : rd.v);
    }
  });
});

describe('the SIMD unit fast paths agree with the softfloat', () => {
  it('ADDSD ... SQRTSD, ADDSS ... SQRTSS and the packed forms with PE set and round to nearest', () => {
    const cpu = { cr4: 0x600 } as unknown as Cpu;
    const x = new Simd(cpu);
    const r = new Rng(17);
    const KINDS = ['add', 'sub', 'mul', 'div', 'min', 'max', 'sqrt'];
    for (let i = 0; i < 20000; i++) {
      const k = r.int(0, 6);
      const form = r.pick(['sd', 'ss', 'pd', 'ps'] as const);
      for (let j = 0; j < 4; j++) {
        x.F64[2 + (j >> 1)] = randDouble(r);
        x.F64[4 + (j >> 1)] = randDouble(r);
      }
      if (form === 'ss' || form === 'ps') for (let j = 0; j < 4; j++) {
        x.F32[4 + j] = randDouble(r);
        x.F32[8 + j] = randDouble(r);
      }
      if (r.chance(0.1)) x.I[8] = 0;
      const before = Array.from(x.I.subarray(4, 12));
      x.mxcsr = 0x1fa0;
      if (form === 'sd') x.sd(k, 1, 2);
      else if (form === 'ss') x.ss(k, 1, 2);
      else x.fop(k, form === 'pd', 1, 2, form === 'pd' ? 2 : 4);
      const fast = Array.from(x.I.subarray(4, 8));
      const fastCsr = x.mxcsr;
      // the same through the softfloat: a rounding mode that is RN in value but not in the fast-path test
      x.I.set(before, 4);
      x.mxcsr = 0x1f80;
      x.fop(k, form === 'sd' || form === 'pd', 1, 2, form === 'sd' || form === 'ss' ? 1 : form === 'pd' ? 2 : 4);
      expect(fast, `${KINDS[k]}${form} ${before.map((v) => (v >>> 0).toString(16)).join(' ')}`).toEqual(Array.from(x.I.subarray(4, 8)));
      // the fast path raised nothing the softfloat does not raise (PE was set already)
      expect(fastCsr & ~(x.mxcsr | 0x20)).toBe(0);
    }
  });
});
