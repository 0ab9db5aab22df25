// FSIN/FCOS/FSINCOS/FPTAN/FPATAN/F2XM1/FYL2X/FYL2XP1. The special cases (zeros,
// infinities, NaNs, exact powers of two, the constants pi, pi/2, 3pi/4, pi/4) follow the SDM
// tables and are exact; the general case is computed in double precision (53-bit
// significand) and delivered as an extended value with PE set: see docs/decisions.md.
import {
  DEFAULT_NAN, FE_DE, FE_IE, FE_PE, FE_ZE, F80_ONE, J_BIT, K_DENORMAL, K_INF, K_QNAN, K_SNAN,
  K_UNSUPPORTED, K_ZERO, bitLength, exactF80, fromDouble, inf, isNaNKind, kindOf, lsbExp, msbExp,
  negate, packF80, quiet, signOf, toDouble, zero, type F80, type FpCtx,
} from './float80.js';
import { compareValues, div } from './arith.js';

const LN2 = Math.LN2;
const LOG2E = Math.LOG2E;

// 128-bit significands (most significant bit first) of pi and 3pi/4.
const PI_SIG = 0xc90fdaa22168c234c4c6628b80dc1cd1n;
const PI34_SIG = 0x96cbe3f9990e91a79394c9e8a0a5159dn;

/** A constant c = SIG128 * 2^(msb - 127), rounded to 64 bits per RC (inexact). */
function constant(ctx: FpCtx, sign: number, sig128: bigint, msb: number): F80 {
  return packF80(ctx, sign, sig128, msb - 127, 64);
}

const PI_MSB = 1;

/** The double d (an approximation) as the result: PE set, C1 unknown (0). */
function approx(ctx: FpCtx, d: number): F80 {
  ctx.flags |= FE_PE;
  ctx.c1 = 0;
  return fromDouble(d);
}

/** x * (1 - tiny) or x * (1 + tiny): the true result is just below/above x in magnitude. */
function nudge(ctx: FpCtx, x: F80, up: boolean): F80 {
  const s = x.sig << 3n;
  return packF80(ctx, signOf(x), up ? s + 1n : s - 1n, lsbExp(x) - 3, 64);
}

/** y * d exactly, then rounded; `inexact` adds a sticky bit (d is itself an approximation). */
function mulByDouble(ctx: FpCtx, y: F80, d: number, inexact: boolean): F80 {
  const sign = signOf(y) ^ (d < 0 || Object.is(d, -0) ? 1 : 0);
  if (d === 0 || kindOf(y) === K_ZERO) return zero(sign);
  const D = fromDouble(Math.abs(d));
  let m = y.sig * D.sig;
  let e = lsbExp(y) + lsbExp(D);
  if (inexact) {
    m = (m << 2n) | 1n;
    e -= 2;
  }
  return packF80(ctx, sign, m, e, 64);
}

export interface TrigResult {
  /** false: |ST(0)| >= 2^63, C2 = 1 and nothing changes */
  inRange: boolean;
  /** the new ST(0) (FSIN/FCOS), or [replacement of ST(0), pushed value] (FSINCOS: sin, cos; FPTAN: tan, 1.0) */
  values: F80[];
}

/** FSIN, FCOS, FSINCOS, FPTAN (SDM vol. 2: the source must satisfy |x| < 2^63). */
export function trig(ctx: FpCtx, a: F80, op: 'sin' | 'cos' | 'sincos' | 'tan'): TrigResult {
  const k = kindOf(a);
  const two = op === 'sincos' || op === 'tan';
  const both = (v: F80): TrigResult => ({ inRange: true, values: two ? [v, v] : [v] });
  if (k === K_UNSUPPORTED || k === K_INF) {
    ctx.flags |= FE_IE;
    return both(DEFAULT_NAN);
  }
  if (k === K_SNAN) {
    ctx.flags |= FE_IE;
    return both(quiet(a));
  }
  if (k === K_QNAN) return both(a);
  if (k === K_ZERO) {
    switch (op) {
      case 'sin': return { inRange: true, values: [a] };
      case 'cos': return { inRange: true, values: [F80_ONE] };
      case 'sincos': return { inRange: true, values: [a, F80_ONE] };
      default: return { inRange: true, values: [a, F80_ONE] };
    }
  }
  if (msbExp(a) >= 63) return { inRange: false, values: [] };
  if (k === K_DENORMAL) ctx.flags |= FE_DE;
  if (msbExp(a) < -40) {
    // sin x = x - x^3/6, tan x = x + x^3/3, cos x = 1 - x^2/2: one step from x (or 1)
    const cosv = nudge(ctx, F80_ONE, false);
    const c1 = ctx.c1;
    switch (op) {
      case 'sin': return { inRange: true, values: [nudge(ctx, a, false)] };
      case 'cos': ctx.c1 = c1; return { inRange: true, values: [cosv] };
      case 'sincos': return { inRange: true, values: [nudge(ctx, a, false), cosv] };
      default: return { inRange: true, values: [nudge(ctx, a, true), F80_ONE] };
    }
  }
  const d = toDouble(a);
  switch (op) {
    case 'sin': return { inRange: true, values: [approx(ctx, Math.sin(d))] };
    case 'cos': return { inRange: true, values: [approx(ctx, Math.cos(d))] };
    case 'sincos': return { inRange: true, values: [approx(ctx, Math.sin(d)), approx(ctx, Math.cos(d))] };
    default: return { inRange: true, values: [approx(ctx, Math.tan(d)), F80_ONE] };
  }
}

/** F2XM1: 2^x - 1 (defined for -1 <= x <= +1). */
export function f2xm1(ctx: FpCtx, a: F80): F80 {
  const k = kindOf(a);
  if (k === K_UNSUPPORTED) {
    ctx.flags |= FE_IE;
    return DEFAULT_NAN;
  }
  if (k === K_SNAN) {
    ctx.flags |= FE_IE;
    return quiet(a);
  }
  if (k === K_QNAN || k === K_ZERO) return a;
  if (k === K_INF) return signOf(a) ? negate(F80_ONE) : a;
  if (k === K_DENORMAL) ctx.flags |= FE_DE;
  if (msbExp(a) < -60) return mulByDouble(ctx, a, LN2, true);
  return approx(ctx, Math.expm1(toDouble(a) * LN2));
}

/** log2 of a positive finite x as a double, and whether it is exact (x a power of two). */
function log2Of(x: F80): { value: number; exact: boolean } {
  let E = msbExp(x);
  const n = bitLength(x.sig);
  const sig = x.sig << BigInt(64 - n); // J set
  if (sig === J_BIT) return { value: E, exact: true };
  // m = sig / 2^63 in [1, 2); use [sqrt(2)/2, sqrt(2)) so log1p sees a small argument
  let t: number;
  if (sig > 0xb504f333f9de6484n) {
    E += 1;
    t = -Number((1n << 64n) - sig) / 2 ** 64;
  } else t = Number(sig - J_BIT) / 2 ** 63;
  return { value: E + Math.log1p(t) * LOG2E, exact: false };
}

function isOne(x: F80): boolean {
  return x.se === 0x3fff && x.sig === J_BIT;
}

/** FYL2X: ST(1) * log2(ST(0)) (x = ST(0), y = ST(1)); the caller stores into ST(1) and pops. */
export function fyl2x(ctx: FpCtx, x: F80, y: F80): F80 {
  const kx = kindOf(x);
  const ky = kindOf(y);
  const n = nanOrder(ctx, x, y, kx, ky);
  if (n) return n;
  const sx = signOf(x);
  const sy = signOf(y);
  if (sx && kx !== K_ZERO) return invalid(ctx);
  if (ky === K_INF) {
    const c = compareValues(x, F80_ONE, kx);
    if (kx === K_DENORMAL) ctx.flags |= FE_DE;
    if (c < 0) return negate(y);
    if (c > 0) return y;
    return invalid(ctx);
  }
  if (kx === K_INF) {
    if (ky === K_ZERO) return invalid(ctx);
    if (ky === K_DENORMAL) ctx.flags |= FE_DE;
    return sy ? negate(x) : x;
  }
  if (kx === K_ZERO) {
    if (ky === K_ZERO) return invalid(ctx);
    if (ky === K_DENORMAL) ctx.flags |= FE_DE;
    ctx.flags |= FE_ZE;
    return inf(sy ^ 1);
  }
  if (kx === K_DENORMAL || ky === K_DENORMAL) ctx.flags |= FE_DE;
  if (ky === K_ZERO) return compareValues(x, F80_ONE, kx) < 0 ? negate(y) : y;
  if (isOne(x)) return zero(sy);
  const l = log2Of(x);
  return mulByDouble(ctx, y, l.value, !l.exact);
}

/** FYL2XP1: ST(1) * log2(ST(0) + 1), for |ST(0)| < 1 - sqrt(2)/2 (AMD's wider range accepted, as QEMU). */
export function fyl2xp1(ctx: FpCtx, x: F80, y: F80): F80 {
  const kx = kindOf(x);
  const ky = kindOf(y);
  const n = nanOrder(ctx, x, y, kx, ky);
  if (n) return n;
  const ex = x.se & 0x7fff;
  const sx = signOf(x);
  if (ex > 0x3ffd || (ex === 0x3ffd && x.sig > (sx ? 0x95f619980c4336f7n : 0xd413cccfe7799211n))) return invalid(ctx);
  if (kx === K_ZERO || ky === K_ZERO || ky === K_INF) {
    if (kx === K_ZERO && ky === K_INF) return invalid(ctx);
    if (kx === K_DENORMAL || ky === K_DENORMAL) ctx.flags |= FE_DE;
    return ky === K_INF ? inf(sx ^ signOf(y)) : zero(sx ^ signOf(y));
  }
  if (kx === K_DENORMAL || ky === K_DENORMAL) ctx.flags |= FE_DE;
  if (msbExp(x) < -60) {
    // log2(1 + x) = x * log2(e) (1 - x/2 ...): the product x * y exactly, then by log2(e)
    const xy = { se: (signOf(x) ^ signOf(y)) << 15, sig: 0n } as F80;
    const m = x.sig * y.sig;
    const e = lsbExp(x) + lsbExp(y);
    const L = fromDouble(LOG2E);
    const prod = ((m * L.sig) << 2n) | 1n;
    return packF80(ctx, signOf(xy), prod, e + lsbExp(L) - 2, 64);
  }
  return mulByDouble(ctx, y, Math.log1p(toDouble(x)) * LOG2E, true);
}

/** FPATAN: arctan(ST(1) / ST(0)) with the quadrant from both signs (x = ST(0), y = ST(1)). */
export function fpatan(ctx: FpCtx, x: F80, y: F80): F80 {
  const kx = kindOf(x);
  const ky = kindOf(y);
  const n = nanOrder(ctx, x, y, kx, ky);
  if (n) return n;
  const sx = signOf(x);
  const sy = signOf(y);
  if (kx === K_DENORMAL || ky === K_DENORMAL) ctx.flags |= FE_DE;
  if (ky === K_ZERO && !sx) return y;
  const finiteBoth = kx !== K_INF && ky !== K_INF && kx !== K_ZERO && ky !== K_ZERO;
  if (!sx && ((kx === K_INF && ky !== K_INF) || (finiteBoth && msbExp(x) - msbExp(y) >= 80))) {
    if (kx === K_INF) return zero(sy);
    // atan(y/x) = y/x (1 - (y/x)^2/3): the quotient, one step toward zero
    const q = div({ ...ctx, prec: 64, flags: 0 }, y, x);
    return nudge(ctx, q, false);
  }
  if (ky === K_ZERO) return constant(ctx, sy, PI_SIG, PI_MSB);
  if (ky === K_INF) {
    if (kx === K_INF) return sx ? constant(ctx, sy, PI34_SIG, 1) : constant(ctx, sy, PI_SIG, -1);
    return constant(ctx, sy, PI_SIG, 0);
  }
  if (kx === K_ZERO || msbExp(y) - msbExp(x) >= 80) return constant(ctx, sy, PI_SIG, 0);
  if (kx === K_INF || msbExp(x) - msbExp(y) >= 80) return constant(ctx, sy, PI_SIG, PI_MSB);
  // Both finite and within 2^80 of each other: scale together into the double range.
  const shift = -Math.max(msbExp(x), msbExp(y));
  const xd = toDouble(exactF80(sx, x.sig, lsbExp(x) + shift));
  const yd = toDouble(exactF80(sy, y.sig, lsbExp(y) + shift));
  return approx(ctx, Math.atan2(yd, xd));
}

function invalid(ctx: FpCtx): F80 {
  ctx.flags |= FE_IE;
  return DEFAULT_NAN;
}

/** The NaN rules of the two-operand transcendentals: SNaN ST(0), SNaN ST(1), unsupported, QNaN ST(0), QNaN ST(1). */
function nanOrder(ctx: FpCtx, x: F80, y: F80, kx: number, ky: number): F80 | null {
  if (kx === K_SNAN) {
    ctx.flags |= FE_IE;
    return quiet(x);
  }
  if (ky === K_SNAN) {
    ctx.flags |= FE_IE;
    return quiet(y);
  }
  if (kx === K_UNSUPPORTED || ky === K_UNSUPPORTED) return invalid(ctx);
  if (isNaNKind(kx)) return x;
  if (isNaNKind(ky)) return y;
  return null;
}
