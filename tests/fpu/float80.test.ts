// The extended-precision core: conversions round-trip bit for bit, arithmetic is correctly
// rounded (checked against the host's IEEE double and single arithmetic where the x87 with
// PC = 53 / 24 must give the same bits), RC/PC/C1 and the masked overflow/underflow
// responses follow SDM vol. 1, 4.8-4.9 and 8.5.
import { describe, expect, it } from 'vitest';
import { Rng } from '../diff/generator.js';
import {
  FE_DE, FE_IE, FE_OE, FE_PE, FE_UE, FMT_DOUBLE, FMT_SINGLE, RC_CHOP, RC_DOWN, RC_NEAREST, RC_UP, f80, fromBcd,
  fromBinary, fromBytes, fromDouble, fromInt, toBcd, toBinary, toBytes, toDouble, toInt, type F80, type FpCtx,
} from '../../src/cpu/fpu/float80.js';
import { add, div, mul, prem, sqrt } from '../../src/cpu/fpu/arith.js';
import { randomF80 } from './x87-generator.js';

function ctx(rc = RC_NEAREST, prec = 64, masks = 0x3f): FpCtx {
  return { rc, prec, masks, flags: 0, c1: 0 };
}

function bits64(d: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, d, true);
  return dv.getBigUint64(0, true);
}

function bits32(f: number): bigint {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, f, true);
  return BigInt(dv.getUint32(0, true));
}

function randomDouble(r: Rng, span = 60): number {
  const m = 1 + r.u32() / 2 ** 32 + r.u32() / 2 ** 64;
  return (r.chance(0.5) ? -1 : 1) * m * 2 ** r.int(-span, span);
}

describe('extended-precision images', () => {
  it('10-byte images round-trip bit for bit over random patterns of every class', () => {
    const r = new Rng(1);
    for (let k = 0; k < 5000; k++) {
      const x = randomF80(r, { unsupported: true });
      expect(fromBytes(toBytes(x))).toEqual(x);
    }
  });

  it('binary64 -> extended -> binary64 is the identity (SNaNs come back quieted, with IE)', () => {
    const r = new Rng(2);
    for (let k = 0; k < 5000; k++) {
      const b = (BigInt(r.u32()) << 32n) | BigInt(r.u32());
      const expBits = (b >> 52n) & 0x7ffn;
      const frac = b & ((1n << 52n) - 1n);
      const snan = expBits === 0x7ffn && frac !== 0n && !(frac & (1n << 51n));
      const load = fromBinary(b, FMT_DOUBLE);
      const c = ctx(r.int(0, 3));
      const back = toBinary(c, load.value, FMT_DOUBLE);
      expect(back.bits).toBe(snan ? b | (1n << 51n) : b);
      expect(load.flags & FE_IE).toBe(snan ? FE_IE : 0);
      expect(load.flags & FE_DE).toBe(expBits === 0n && frac !== 0n ? FE_DE : 0);
      expect(c.flags & ~FE_IE).toBe(0);
    }
  });

  it('binary32 -> extended -> binary32 is the identity', () => {
    const r = new Rng(3);
    for (let k = 0; k < 5000; k++) {
      const b = BigInt(r.u32());
      const expBits = (b >> 23n) & 0xffn;
      const frac = b & 0x7fffffn;
      const snan = expBits === 0xffn && frac !== 0n && !(frac & 0x400000n);
      const back = toBinary(ctx(), fromBinary(b, FMT_SINGLE).value, FMT_SINGLE);
      expect(back.bits).toBe(snan ? b | 0x400000n : b);
    }
  });

  it('every double converts exactly (toDouble(fromDouble(d)) === d)', () => {
    const r = new Rng(4);
    for (let k = 0; k < 2000; k++) {
      const d = randomDouble(r, 1000);
      expect(toDouble(fromDouble(d))).toBe(d);
    }
    expect(Object.is(toDouble(fromDouble(-0)), -0)).toBe(true);
    expect(toDouble(fromDouble(5e-324))).toBe(5e-324);
  });

  it('integers load exactly and store with RC rounding; out of range gives the integer indefinite', () => {
    for (const v of [0n, 1n, -1n, 32767n, -32768n, 2n ** 63n - 1n, -(2n ** 63n), 123456789012345678n]) {
      const c = ctx();
      expect(toInt(c, fromInt(v), 64).value).toBe(v);
      expect(c.flags).toBe(0);
    }
    const x25 = fromDouble(2.5);
    const n25 = fromDouble(-2.5);
    const cases: Array<[number, F80, bigint, number]> = [
      [RC_NEAREST, x25, 2n, 0], [RC_DOWN, x25, 2n, 0], [RC_UP, x25, 3n, 1], [RC_CHOP, x25, 2n, 0],
      [RC_NEAREST, n25, -2n, 0], [RC_DOWN, n25, -3n, 1], [RC_UP, n25, -2n, 0], [RC_CHOP, n25, -2n, 0],
    ];
    for (const [rc, x, want, c1] of cases) {
      const c = ctx(rc);
      expect(toInt(c, x, 32).value).toBe(want);
      expect(c.flags).toBe(FE_PE);
      expect(c.c1).toBe(c1);
    }
    const c = ctx();
    expect(toInt(c, fromInt(32768n), 16)).toEqual({ value: -32768n, store: true });
    expect(c.flags).toBe(FE_IE);
    const u = ctx(RC_NEAREST, 64, 0x3e);
    expect(toInt(u, fromInt(32768n), 16).store).toBe(false);
  });

  it('packed BCD: 18 digits load exactly, store round-trips, >= 10^18 stores the BCD indefinite', () => {
    const r = new Rng(5);
    for (let k = 0; k < 500; k++) {
      const b: number[] = [];
      for (let i = 0; i < 9; i++) b.push(r.int(0, 9) | (r.int(0, 9) << 4));
      b.push(r.chance(0.5) ? 0x80 : 0);
      const out = toBcd(ctx(), fromBcd(b));
      expect(out.bytes).toEqual(b);
    }
    const c = ctx();
    expect(toBcd(c, fromInt(10n ** 18n)).bytes).toEqual([0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]);
    expect(c.flags).toBe(FE_IE);
  });
});

describe('correct rounding', () => {
  it('with PC = 53 and round-to-nearest, + - * / sqrt give the host double results', () => {
    const r = new Rng(6);
    const to64 = (x: F80) => toBinary(ctx(), x, FMT_DOUBLE).bits;
    for (let k = 0; k < 3000; k++) {
      const a = randomDouble(r);
      const b = randomDouble(r);
      const A = fromDouble(a);
      const B = fromDouble(b);
      expect(to64(add(ctx(RC_NEAREST, 53), A, B, false))).toBe(bits64(a + b));
      expect(to64(add(ctx(RC_NEAREST, 53), A, B, true))).toBe(bits64(a - b));
      expect(to64(mul(ctx(RC_NEAREST, 53), A, B))).toBe(bits64(a * b));
      expect(to64(div(ctx(RC_NEAREST, 53), A, B))).toBe(bits64(a / b));
      expect(to64(sqrt(ctx(RC_NEAREST, 53), fromDouble(Math.abs(a))))).toBe(bits64(Math.sqrt(Math.abs(a))));
    }
  });

  it('with PC = 24, single-precision operands give the host float results', () => {
    const r = new Rng(7);
    const to32 = (x: F80) => toBinary(ctx(), x, FMT_SINGLE).bits;
    for (let k = 0; k < 3000; k++) {
      const a = Math.fround(randomDouble(r, 30));
      const b = Math.fround(randomDouble(r, 30));
      const A = fromDouble(a);
      const B = fromDouble(b);
      expect(to32(add(ctx(RC_NEAREST, 24), A, B, false))).toBe(bits32(Math.fround(a + b)));
      expect(to32(mul(ctx(RC_NEAREST, 24), A, B))).toBe(bits32(Math.fround(a * b)));
      expect(to32(div(ctx(RC_NEAREST, 24), A, B))).toBe(bits32(Math.fround(a / b)));
    }
  });

  it('1/3 in each rounding mode, with C1 telling whether it was rounded up', () => {
    const one = fromInt(1n);
    const three = fromInt(3n);
    const want: Array<[number, bigint, number]> = [
      [RC_NEAREST, 0xaaaaaaaaaaaaaaabn, 1], [RC_DOWN, 0xaaaaaaaaaaaaaaaan, 0], [RC_UP, 0xaaaaaaaaaaaaaaabn, 1], [RC_CHOP, 0xaaaaaaaaaaaaaaaan, 0],
    ];
    for (const [rc, sig, c1] of want) {
      const c = ctx(rc);
      expect(div(c, one, three)).toEqual(f80(0x3ffd, sig));
      expect(c.flags).toBe(FE_PE);
      expect(c.c1).toBe(c1);
    }
  });

  it('x - x is +0, or -0 when rounding down (IEEE 754 6.3)', () => {
    const x = fromDouble(1.5);
    expect(add(ctx(RC_NEAREST), x, x, true)).toEqual(f80(0, 0n));
    expect(add(ctx(RC_DOWN), x, x, true)).toEqual(f80(0x8000, 0n));
  });

  it('masked overflow: infinity or the largest finite value by RC and sign (SDM table 4-10)', () => {
    const big = f80(0x7ffe, 0xffffffffffffffffn);
    const cases: Array<[number, number, F80]> = [
      [RC_NEAREST, 0, f80(0x7fff, 1n << 63n)], [RC_CHOP, 0, big], [RC_UP, 0, f80(0x7fff, 1n << 63n)], [RC_DOWN, 0, big],
      [RC_DOWN, 1, f80(0xffff, 1n << 63n)], [RC_UP, 1, f80(0xfffe, 0xffffffffffffffffn)],
    ];
    for (const [rc, sign, want] of cases) {
      const c = ctx(rc);
      const x = sign ? f80(big.se | 0x8000, big.sig) : big;
      expect(mul(c, x, fromInt(2n))).toEqual(want);
      expect(c.flags).toBe(FE_OE | FE_PE);
    }
  });

  it('unmasked overflow delivers the result with the exponent wrapped by 24576', () => {
    const c = ctx(RC_NEAREST, 64, 0x3f & ~FE_OE);
    const r = mul(c, f80(0x7ffe, 1n << 63n), fromInt(4n));
    // 2^16383 * 4 = 2^16385: biased exponent 0x8000, delivered as 0x8000 - 0x6000
    expect(r).toEqual(f80(0x8000 - 24576, 1n << 63n));
    expect(c.flags).toBe(FE_OE);
  });

  it('underflow: a tiny inexact result sets UE; a tiny exact result does not while UE is masked', () => {
    const tiny = f80(0x0001, 1n << 63n); // smallest normal
    const c1 = ctx();
    expect(div(c1, tiny, fromInt(4n))).toEqual(f80(0, 1n << 61n));
    expect(c1.flags).toBe(0);
    const c2 = ctx();
    div(c2, tiny, fromInt(3n));
    expect(c2.flags).toBe(FE_UE | FE_PE);
    const c3 = ctx(RC_NEAREST, 64, 0x3f & ~FE_UE);
    div(c3, tiny, fromInt(4n));
    expect(c3.flags & FE_UE).toBe(FE_UE);
  });

  it('FPREM quotient bits and remainders (SDM vol. 2, FPREM)', () => {
    const r = prem(ctx(), fromInt(-32768n), fromDouble(333.5), false);
    // -32768 = -98 * 333.5 - 85: q = 98 = 0b1100010 -> C0 = q2 = 0, C3 = q1 = 1, C1 = q0 = 0
    expect(toDouble(r.value)).toBe(-85);
    expect(r.cc).toBe(0x4000);
    const r1 = prem(ctx(), fromInt(7n), fromInt(2n), true);
    // IEEE remainder: 7 = 4 * 2 - 1
    expect(toDouble(r1.value)).toBe(-1);
    expect(r1.cc).toBe(0x100);
    const partial = prem(ctx(), f80(0x3fff + 200, 1n << 63n), fromInt(3n), false);
    expect(partial.cc).toBe(0x400);
  });
});

describe('FSCALE with NaN operands (decisions.md 25)', () => {
  it('a NaN scale gives that NaN quieted, whatever ST(0) holds (QEMU 7.2: found by a random x87 case)', async () => {
    const { scale } = await import('../../src/cpu/fpu/arith.js');
    // ST(0): a quiet NaN with a large payload (a double NaN loaded); ST(1): the default NaN.
    const st0 = fromBytes(Uint8Array.from([0x00, 0x80, 0x2e, 0xe1, 0x37, 0x02, 0x7f, 0xde, 0xff, 0x7f]));
    const st1 = fromBytes(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]));
    let c = ctx();
    expect(toBytes(scale(c, st0, st1))).toEqual(toBytes(st1));
    expect(c.flags & FE_IE).toBe(0);
    // A signalling NaN scale: quieted, IE; a signalling ST(0) with a quiet scale: IE, the scale's NaN.
    const snan1 = fromBytes(Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x7f]));
    c = ctx();
    expect([...toBytes(scale(c, st0, snan1))]).toEqual([1, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x7f]);
    expect(c.flags & FE_IE).toBe(FE_IE);
    const snan0 = fromBytes(Uint8Array.from([5, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x7f]));
    c = ctx();
    expect(toBytes(scale(c, snan0, st1))).toEqual(toBytes(st1));
    expect(c.flags & FE_IE).toBe(FE_IE);
  });
});
