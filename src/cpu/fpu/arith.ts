// Exact x87 arithmetic on extended-precision images: the operand checks of SDM vol. 1,
// 4.9 and 8.5 (invalid operands, NaN propagation, denormal operands, divide by zero),
// then the exact result rounded once by packF80.
import {
  DEFAULT_NAN, FE_DE, FE_IE, FE_PE, FE_ZE, F80_ONE, J_BIT, K_DENORMAL, K_INF, K_NORMAL, K_QNAN, K_SNAN,
  K_UNSUPPORTED, K_ZERO, RC_DOWN, RC_NEAREST, bitLength, exactF80, f80, inf, isNaNKind, kindOf, lsbExp,
  packF80, quiet, roundToUlp, signOf, zero, type F80, type FpCtx,
} from './float80.js';

/**
 * NaN and unsupported-operand handling of a two-operand instruction (SDM vol. 1, table 4-7
 * for the x87: SNaN and QNaN give the QNaN; two NaNs of one kind give the larger
 * significand, the positive one on a tie; an SNaN result is quieted). Null when both are
 * numbers.
 */
export function nanResult(ctx: FpCtx, a: F80, b: F80, ka: number, kb: number): F80 | null {
  if (ka === K_UNSUPPORTED || kb === K_UNSUPPORTED) {
    ctx.flags |= FE_IE;
    return DEFAULT_NAN;
  }
  const an = isNaNKind(ka);
  const bn = isNaNKind(kb);
  if (!an && !bn) return null;
  if (ka === K_SNAN || kb === K_SNAN) ctx.flags |= FE_IE;
  if (an && bn) {
    if (ka === K_SNAN && kb === K_QNAN) return b;
    if (kb === K_SNAN && ka === K_QNAN) return a;
    const pick = a.sig > b.sig ? a : b.sig > a.sig ? b : signOf(a) ? b : a;
    return quiet(pick);
  }
  return quiet(an ? a : b);
}

/** One operand: SNaN quieted (IE), QNaN passed through, unsupported gives the indefinite. */
export function nanResult1(ctx: FpCtx, a: F80, ka: number): F80 | null {
  if (ka === K_UNSUPPORTED) {
    ctx.flags |= FE_IE;
    return DEFAULT_NAN;
  }
  if (ka === K_SNAN) {
    ctx.flags |= FE_IE;
    return quiet(a);
  }
  if (ka === K_QNAN) return a;
  return null;
}

function denormalCheck(ctx: FpCtx, ka: number, kb = K_NORMAL): void {
  if (ka === K_DENORMAL || kb === K_DENORMAL) ctx.flags |= FE_DE;
}

/** Sum of two exact finite values with signs, as sign/magnitude/exponent. */
function exactSum(sa: number, ma: bigint, ea: number, sb: number, mb: bigint, eb: number): { sign: number; mag: bigint; exp: number } {
  // A much smaller operand only matters as a sticky bit: keep it as one unit far below
  // the larger operand's least significant bit, so the shifts stay small.
  const topA = ea + bitLength(ma);
  const topB = eb + bitLength(mb);
  if (ma !== 0n && mb !== 0n) {
    if (topA - topB > 140) {
      mb = 1n;
      eb = Math.min(ea, topA - 140) - 2;
    } else if (topB - topA > 140) {
      ma = 1n;
      ea = Math.min(eb, topB - 140) - 2;
    }
  }
  const e = Math.min(ea, eb);
  const A = ma << BigInt(ea - e);
  const B = mb << BigInt(eb - e);
  const s = (sa ? -A : A) + (sb ? -B : B);
  return s < 0n ? { sign: 1, mag: -s, exp: e } : { sign: 0, mag: s, exp: e };
}

/** FADD/FSUB (b negated when sub). */
export function add(ctx: FpCtx, a: F80, b: F80, sub: boolean): F80 {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const n = nanResult(ctx, a, b, ka, kb);
  if (n) return n;
  const sa = signOf(a);
  const sb = signOf(b) ^ (sub ? 1 : 0);
  if (ka === K_INF || kb === K_INF) {
    if (ka === K_INF && kb === K_INF) {
      if (sa !== sb) {
        ctx.flags |= FE_IE;
        return DEFAULT_NAN;
      }
      return inf(sa);
    }
    denormalCheck(ctx, ka, kb);
    return ka === K_INF ? inf(sa) : inf(sb);
  }
  denormalCheck(ctx, ka, kb);
  if (ka === K_ZERO && kb === K_ZERO) {
    ctx.c1 = 0;
    return zero(sa === sb ? sa : ctx.rc === RC_DOWN ? 1 : 0);
  }
  const s = exactSum(sa, a.sig, lsbExp(a), sb, b.sig, lsbExp(b));
  if (s.mag === 0n) {
    ctx.c1 = 0;
    return zero(ctx.rc === RC_DOWN ? 1 : 0);
  }
  return packF80(ctx, s.sign, s.mag, s.exp);
}

export function mul(ctx: FpCtx, a: F80, b: F80): F80 {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const n = nanResult(ctx, a, b, ka, kb);
  if (n) return n;
  const sign = signOf(a) ^ signOf(b);
  if (ka === K_INF || kb === K_INF) {
    if (ka === K_ZERO || kb === K_ZERO) {
      ctx.flags |= FE_IE;
      return DEFAULT_NAN;
    }
    denormalCheck(ctx, ka, kb);
    return inf(sign);
  }
  denormalCheck(ctx, ka, kb);
  if (ka === K_ZERO || kb === K_ZERO) {
    ctx.c1 = 0;
    return zero(sign);
  }
  return packF80(ctx, sign, a.sig * b.sig, lsbExp(a) + lsbExp(b));
}

export function div(ctx: FpCtx, a: F80, b: F80): F80 {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const n = nanResult(ctx, a, b, ka, kb);
  if (n) return n;
  const sign = signOf(a) ^ signOf(b);
  if (ka === K_INF) {
    if (kb === K_INF) {
      ctx.flags |= FE_IE;
      return DEFAULT_NAN;
    }
    denormalCheck(ctx, kb);
    return inf(sign);
  }
  if (kb === K_INF) {
    denormalCheck(ctx, ka);
    ctx.c1 = 0;
    return zero(sign);
  }
  if (kb === K_ZERO) {
    if (ka === K_ZERO) {
      ctx.flags |= FE_IE;
      return DEFAULT_NAN;
    }
    ctx.flags |= FE_ZE;
    return inf(sign);
  }
  denormalCheck(ctx, ka, kb);
  if (ka === K_ZERO) {
    ctx.c1 = 0;
    return zero(sign);
  }
  return packF80(ctx, sign, ...quotient(a.sig, lsbExp(a), b.sig, lsbExp(b)));
}

/** An exact-enough quotient: at least 70 significant bits plus a sticky bit. */
export function quotient(ma: bigint, ea: number, mb: bigint, eb: number): [bigint, number] {
  const k = Math.max(0, 72 + bitLength(mb) - bitLength(ma));
  const num = ma << BigInt(k);
  const q = num / mb;
  const r = num - q * mb;
  return [(q << 1n) | (r === 0n ? 0n : 1n), ea - eb - k - 1];
}

export function isqrt(x: bigint): bigint {
  if (x < 2n) return x;
  let y = BigInt(Math.floor(Math.sqrt(Number(x))));
  // Newton's iteration from a double estimate, then fix the last unit.
  for (;;) {
    const z = (y + x / y) >> 1n;
    if (z === y || z === y + 1n || z + 1n === y) {
      y = z;
      break;
    }
    y = z;
  }
  while (y * y > x) y--;
  while ((y + 1n) * (y + 1n) <= x) y++;
  return y;
}

export function sqrt(ctx: FpCtx, a: F80): F80 {
  const ka = kindOf(a);
  const n = nanResult1(ctx, a, ka);
  if (n) return n;
  const sign = signOf(a);
  if (ka === K_ZERO) return a;
  if (sign) {
    ctx.flags |= FE_IE;
    return DEFAULT_NAN;
  }
  if (ka === K_INF) return a;
  denormalCheck(ctx, ka);
  let m = a.sig;
  let e = lsbExp(a);
  if (e & 1) {
    m <<= 1n;
    e -= 1;
  }
  const x = m << 140n;
  const s = isqrt(x);
  const sticky = s * s === x ? 0n : 1n;
  return packF80(ctx, 0, (s << 1n) | sticky, (e - 140) / 2 - 1);
}

// ---- comparison ------------------------------------------------------------------------------

export const CMP_LT = -1;
export const CMP_EQ = 0;
export const CMP_GT = 1;
export const CMP_UNORDERED = 2;

/** Compare two numbers (neither NaN nor unsupported) exactly. */
export function compareValues(a: F80, b: F80, ka = kindOf(a), kb = kindOf(b)): number {
  const za = ka === K_ZERO;
  const zb = kb === K_ZERO;
  if (za && zb) return CMP_EQ;
  const sa = signOf(a);
  const sb = signOf(b);
  if (za) return sb ? CMP_GT : CMP_LT;
  if (zb) return sa ? CMP_LT : CMP_GT;
  if (sa !== sb) return sa ? CMP_LT : CMP_GT;
  const m = compareMagnitude(a, b, ka, kb);
  return sa ? -m : m;
}

function compareMagnitude(a: F80, b: F80, ka: number, kb: number): number {
  if (ka === K_INF || kb === K_INF) return ka === kb ? 0 : ka === K_INF ? 1 : -1;
  const ta = lsbExp(a) + bitLength(a.sig);
  const tb = lsbExp(b) + bitLength(b.sig);
  if (ta !== tb) return ta > tb ? 1 : -1;
  const ea = lsbExp(a);
  const eb = lsbExp(b);
  const e = Math.min(ea, eb);
  const A = a.sig << BigInt(ea - e);
  const B = b.sig << BigInt(eb - e);
  return A === B ? 0 : A > B ? 1 : -1;
}

/**
 * FCOM (quiet = false: any NaN is invalid) and FUCOM (quiet: only SNaNs are); unsupported
 * operands are always invalid. DE for denormal operands of an ordered comparison.
 */
export function compare(ctx: FpCtx, a: F80, b: F80, quietCmp: boolean): number {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === K_UNSUPPORTED || kb === K_UNSUPPORTED || isNaNKind(ka) || isNaNKind(kb)) {
    if (!quietCmp || ka === K_SNAN || kb === K_SNAN || ka === K_UNSUPPORTED || kb === K_UNSUPPORTED) ctx.flags |= FE_IE;
    return CMP_UNORDERED;
  }
  denormalCheck(ctx, ka, kb);
  return compareValues(a, b, ka, kb);
}

// ---- FRNDINT, FSCALE, FXTRACT, FPREM ----------------------------------------------------

export function roundInt(ctx: FpCtx, a: F80): F80 {
  const ka = kindOf(a);
  const n = nanResult1(ctx, a, ka);
  if (n) return n;
  if (ka === K_ZERO || ka === K_INF) return a;
  denormalCheck(ctx, ka);
  const sign = signOf(a);
  const e = lsbExp(a);
  if (e >= 0) return a;
  const r = roundToUlp(sign, a.sig, e, 0, ctx.rc);
  ctx.c1 = r.up ? 1 : 0;
  if (r.inexact) ctx.flags |= FE_PE;
  return exactF80(sign, r.m, 0);
}

/** Truncate ST(1) to an integer for FSCALE, saturating far outside the exponent range. */
function scaleAmount(b: F80): number {
  const e = lsbExp(b);
  let m = b.sig;
  if (e < 0) m = e < -64 ? 0n : m >> BigInt(-e);
  else if (e > 20) return signOf(b) ? -100000 : 100000;
  else m <<= BigInt(e);
  const v = m > 100000n ? 100000 : Number(m);
  return signOf(b) ? -v : v;
}

export function scale(ctx: FpCtx, a: F80, b: F80): F80 {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === K_UNSUPPORTED || kb === K_UNSUPPORTED) {
    ctx.flags |= FE_IE;
    return DEFAULT_NAN;
  }
  if (isNaNKind(kb)) {
    // A NaN scale gives that NaN, whatever ST(0) holds (QEMU 7.2; the SDM's larger
    // significand rule would pick ST(0)'s when both are NaNs: decisions.md 25).
    if (ka === K_SNAN || kb === K_SNAN) ctx.flags |= FE_IE;
    return quiet(b);
  }
  if (isNaNKind(ka)) return nanResult1(ctx, a, ka)!;
  const sa = signOf(a);
  if (kb === K_INF) {
    if (signOf(b)) {
      if (ka === K_INF) {
        ctx.flags |= FE_IE;
        return DEFAULT_NAN;
      }
      denormalCheck(ctx, ka);
      return zero(sa);
    }
    if (ka === K_ZERO) {
      ctx.flags |= FE_IE;
      return DEFAULT_NAN;
    }
    denormalCheck(ctx, ka);
    return inf(sa);
  }
  denormalCheck(ctx, ka, kb);
  if (ka === K_ZERO || ka === K_INF) return a;
  return packF80(ctx, sa, a.sig, lsbExp(a) + scaleAmount(b), 64);
}

/** FXTRACT: [exponent, significand] (the significand is pushed last). */
export function xtract(ctx: FpCtx, a: F80): [F80, F80] {
  const ka = kindOf(a);
  if (ka === K_ZERO) {
    ctx.flags |= FE_ZE;
    return [inf(1), a];
  }
  const n = nanResult1(ctx, a, ka);
  if (n) return [n, n];
  if (ka === K_INF) return [inf(0), a];
  denormalCheck(ctx, ka);
  const e = lsbExp(a) + bitLength(a.sig) - 1;
  const sig = a.sig << BigInt(64 - bitLength(a.sig));
  const ex = e === 0 ? zero(0) : exactF80(e < 0 ? 1 : 0, BigInt(Math.abs(e)), 0);
  return [ex, f80((signOf(a) << 15) | 0x3fff, sig)];
}

export interface PremResult {
  value: F80;
  /** condition bits: C0 (0x100), C1 (0x200), C2 (0x400), C3 (0x4000) */
  cc: number;
}

/**
 * FPREM (round = false: quotient truncated) and FPREM1 (IEEE remainder: quotient rounded
 * to nearest). Exponent differences of 64 or more give a partial remainder with C2 = 1,
 * reducing by 32 + (difference mod 32) bits as AMD documents and Intel parts do.
 */
export function prem(ctx: FpCtx, a: F80, b: F80, ieee: boolean): PremResult {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const n = nanResult(ctx, a, b, ka, kb);
  if (n) return { value: n, cc: 0 };
  if (ka === K_INF || kb === K_ZERO) {
    ctx.flags |= FE_IE;
    return { value: DEFAULT_NAN, cc: 0 };
  }
  denormalCheck(ctx, ka, kb);
  if (ka === K_ZERO || kb === K_INF) return { value: a, cc: 0 };
  const sa = signOf(a);
  const ea = lsbExp(a);
  const eb = lsbExp(b);
  const expdiff = ea + bitLength(a.sig) - (eb + bitLength(b.sig));
  if (expdiff >= 64) {
    const nbits = 32 + (expdiff % 32);
    // b scaled by 2^(expdiff - nbits): a truncated remainder against it
    const eb2 = eb + expdiff - nbits;
    const e = Math.min(ea, eb2);
    const A = a.sig << BigInt(ea - e);
    const B = b.sig << BigInt(eb2 - e);
    const r = A % B;
    return { value: r === 0n ? zero(sa) : exactF80(sa, r, e), cc: 0x400 };
  }
  const e = Math.min(ea, eb);
  const A = a.sig << BigInt(ea - e);
  const B = b.sig << BigInt(eb - e);
  let q = A / B;
  let r = A - q * B;
  let rs = sa;
  if (ieee) {
    const twice = r << 1n;
    if (twice > B || (twice === B && (q & 1n) === 1n)) {
      q += 1n;
      r = B - r;
      rs ^= 1;
    }
  }
  const qs = Number(q & 7n);
  const cc = ((qs & 4) ? 0x100 : 0) | ((qs & 2) ? 0x4000 : 0) | ((qs & 1) ? 0x200 : 0);
  const value = r === 0n ? zero(sa) : packF80(ctx, rs, r, e, 64);
  return { value, cc };
}

export { F80_ONE, J_BIT, K_DENORMAL, K_INF, K_NORMAL, K_QNAN, K_SNAN, K_UNSUPPORTED, K_ZERO, RC_NEAREST, f80 };
