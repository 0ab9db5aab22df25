// The x87 double extended-precision format (SDM vol. 1, 4.2.2 and 8.2) and exact rounding.
//
// A register holds the 80-bit image itself: `se` = sign (bit 15) and biased exponent
// (bits 0-14), `sig` = the 64-bit significand with its explicit integer bit J (bit 63).
// Moves keep the image bit for bit; arithmetic unpacks a finite value as sig * 2^exp,
// computes the exact result with BigInt and rounds it once (correct rounding per RC,
// to the precision PC selects, with the extended exponent range), so results, C1 and
// the PE/UE/OE flags are exact.

export interface F80 {
  readonly se: number;
  readonly sig: bigint;
}

export const EXP_BIAS = 16383;
export const F80_EMIN = -16382; // exponent of the smallest normal
export const F80_EMAX = 16383;
/** Exponent of the least significant significand bit of a denormal: 2^(EMIN - 63). */
export const F80_DENORM_EXP = F80_EMIN - 63;
/** Exponent adjustment of a result delivered with unmasked overflow/underflow (SDM 8.5.4/8.5.5). */
export const WRAP_BIAS = 24576;

export const J_BIT = 1n << 63n;
export const QUIET_BIT = 1n << 62n;
export const MASK64 = (1n << 64n) - 1n;

// Exception flags, in status-word order (IE DE ZE OE UE PE) plus SF.
export const FE_IE = 1;
export const FE_DE = 2;
export const FE_ZE = 4;
export const FE_OE = 8;
export const FE_UE = 16;
export const FE_PE = 32;
export const FE_SF = 64;

// Rounding control (control word bits 10-11).
export const RC_NEAREST = 0;
export const RC_DOWN = 1;
export const RC_UP = 2;
export const RC_CHOP = 3;

// Operand classes.
export const K_ZERO = 0;
export const K_DENORMAL = 1; // denormals and pseudo-denormals (exponent 0, J = 1)
export const K_NORMAL = 2;
export const K_INF = 3;
export const K_QNAN = 4;
export const K_SNAN = 5;
export const K_UNSUPPORTED = 6; // unnormals, pseudo-NaNs, pseudo-infinities (SDM 8.2.2)

export function f80(se: number, sig: bigint): F80 {
  return { se: se & 0xffff, sig: sig & MASK64 };
}

/** The real indefinite: the QNaN every masked invalid operation delivers. */
export const DEFAULT_NAN: F80 = f80(0xffff, 0xc000000000000000n);
export const F80_ZERO: F80 = f80(0, 0n);
export const F80_ONE: F80 = f80(0x3fff, J_BIT);

export function zero(sign: number): F80 {
  return f80(sign ? 0x8000 : 0, 0n);
}

export function inf(sign: number): F80 {
  return f80(sign ? 0xffff : 0x7fff, J_BIT);
}

export function signOf(x: F80): number {
  return (x.se >> 15) & 1;
}

export function kindOf(x: F80): number {
  const e = x.se & 0x7fff;
  const j = (x.sig & J_BIT) !== 0n;
  if (e === 0x7fff) {
    if (!j) return K_UNSUPPORTED;
    if ((x.sig & ~J_BIT) === 0n) return K_INF;
    return x.sig & QUIET_BIT ? K_QNAN : K_SNAN;
  }
  if (e === 0) return x.sig === 0n ? K_ZERO : K_DENORMAL;
  return j ? K_NORMAL : K_UNSUPPORTED;
}

export function isNaNKind(k: number): boolean {
  return k === K_QNAN || k === K_SNAN;
}

/** Exponent of the significand's least significant bit for a finite value (value = sig * 2^exp). */
export function lsbExp(x: F80): number {
  const e = x.se & 0x7fff;
  return (e === 0 ? 1 : e) - EXP_BIAS - 63;
}

export function quiet(x: F80): F80 {
  return f80(x.se, x.sig | QUIET_BIT);
}

export function negate(x: F80): F80 {
  return f80(x.se ^ 0x8000, x.sig);
}

export function abs(x: F80): F80 {
  return f80(x.se & 0x7fff, x.sig);
}

export function bitLength(x: bigint): number {
  if (x < 0x20000000000000n) return x <= 0n ? 0 : bitLength53(Number(x));
  let n = 0;
  while (x >= 0x10000000000000000n) {
    x >>= 64n;
    n += 64;
  }
  const hi = Number(x >> 32n);
  return n + (hi ? 64 - Math.clz32(hi) : 32 - Math.clz32(Number(x)));
}

function bitLength53(n: number): number {
  // 0 < n < 2^53
  if (n < 0x100000000) return 32 - Math.clz32(n);
  return 64 - Math.clz32(Math.floor(n / 0x100000000));
}

/** Exponent of the most significant bit (floor(log2|x|)) of a finite nonzero value. */
export function msbExp(x: F80): number {
  return lsbExp(x) + bitLength(x.sig) - 1;
}

// ---- rounding ----------------------------------------------------------------------------

export interface Rounded {
  /** |result| = m * 2^e */
  m: bigint;
  e: number;
  inexact: boolean;
  /** rounded away from zero (the C1 "round up" indication) */
  up: boolean;
}

/** Round sig * 2^exp to a multiple of 2^ulp in the direction rc selects. */
export function roundToUlp(sign: number, sig: bigint, exp: number, ulp: number, rc: number): Rounded {
  if (ulp <= exp) return { m: ulp === exp ? sig : sig << BigInt(exp - ulp), e: ulp, inexact: false, up: false };
  const sh = ulp - exp;
  let m: bigint;
  let cmpHalf: number; // -1 below half, 0 half, 1 above
  if (sh > bitLength(sig) + 1) {
    m = 0n;
    cmpHalf = -1;
  } else {
    const s = BigInt(sh);
    m = sig >> s;
    const rem = sig & ((1n << s) - 1n);
    if (rem === 0n) return { m, e: ulp, inexact: false, up: false };
    const half = 1n << (s - 1n);
    cmpHalf = rem < half ? -1 : rem === half ? 0 : 1;
  }
  let inc: boolean;
  switch (rc) {
    case RC_NEAREST: inc = cmpHalf > 0 || (cmpHalf === 0 && (m & 1n) === 1n); break;
    case RC_DOWN: inc = sign === 1; break;
    case RC_UP: inc = sign === 0; break;
    default: inc = false;
  }
  return { m: inc ? m + 1n : m, e: ulp, inexact: true, up: inc };
}

/** A binary format to round into: precision p, exponent range [emin, emax]. */
export interface Format {
  p: number;
  emin: number;
  emax: number;
}

export const FMT_SINGLE: Format = { p: 24, emin: -126, emax: 127 };
export const FMT_DOUBLE: Format = { p: 53, emin: -1022, emax: 1023 };

/** The rounding environment and the flags an operation accumulates. */
export interface FpCtx {
  rc: number;
  /** precision of arithmetic results: 24, 53 or 64 (control word PC) */
  prec: number;
  /** exception masks (control word bits 0-5) */
  masks: number;
  flags: number;
  /** C1 after rounding: 1 when the result was rounded away from zero */
  c1: number;
}

export interface RoundResult extends Rounded {
  tiny: boolean;
  overflow: boolean;
  /** exponent of the result's most significant bit (after rounding) */
  msb: number;
}

/**
 * Round sig * 2^exp (sig > 0) to `p` bits within [emin, emax] with gradual underflow,
 * detecting tininess after rounding (as x86 does).
 */
export function roundValue(sign: number, sig: bigint, exp: number, p: number, emin: number, emax: number, rc: number): RoundResult {
  const E = exp + bitLength(sig) - 1;
  let tiny = false;
  if (E < emin - 1) tiny = true;
  else if (E === emin - 1) {
    const u = roundToUlp(sign, sig, exp, E - (p - 1), rc);
    tiny = u.e + bitLength(u.m) - 1 < emin;
  }
  const r = roundToUlp(sign, sig, exp, Math.max(E, emin) - (p - 1), rc);
  const msb = r.m === 0n ? -Infinity : r.e + bitLength(r.m) - 1;
  return { ...r, tiny, overflow: msb > emax, msb };
}

function packNormal80(sign: number, m: bigint, e: number): F80 {
  const nb = bitLength(m);
  const E = e + nb - 1;
  const sig = nb <= 64 ? m << BigInt(64 - nb) : m >> BigInt(nb - 64);
  return f80((sign << 15) | ((E + EXP_BIAS) & 0x7fff), sig);
}

/**
 * The extended-precision result of an operation whose exact value is
 * (-1)^sign * sig * 2^exp, rounded to `p` bits; sets PE/UE/OE and C1 in ctx. With
 * overflow or underflow unmasked the significand is delivered with the exponent wrapped
 * by 24576 (SDM vol. 1, 8.5.4, 8.5.5).
 */
export function packF80(ctx: FpCtx, sign: number, sig: bigint, exp: number, p = ctx.prec): F80 {
  if (sig === 0n) {
    ctx.c1 = 0;
    return zero(sign);
  }
  const r = roundValue(sign, sig, exp, p, F80_EMIN, F80_EMAX, ctx.rc);
  if (r.tiny && !(ctx.masks & FE_UE)) {
    const E = exp + bitLength(sig) - 1;
    const u = roundToUlp(sign, sig, exp, E - (p - 1), ctx.rc);
    ctx.flags |= FE_UE | (u.inexact ? FE_PE : 0);
    ctx.c1 = u.up ? 1 : 0;
    return packNormal80(sign, u.m, u.e + WRAP_BIAS);
  }
  ctx.c1 = r.up ? 1 : 0;
  if (r.inexact) ctx.flags |= FE_PE | (r.tiny ? FE_UE : 0);
  if (r.overflow) {
    ctx.flags |= FE_OE;
    if (!(ctx.masks & FE_OE)) return packNormal80(sign, r.m, r.e - WRAP_BIAS);
    ctx.flags |= FE_PE;
    if (overflowsToInf(sign, ctx.rc)) {
      ctx.c1 = 1;
      return inf(sign);
    }
    ctx.c1 = 0;
    return f80((sign << 15) | 0x7ffe, ((1n << BigInt(p)) - 1n) << BigInt(64 - p));
  }
  if (r.m === 0n) return zero(sign);
  if (r.msb < F80_EMIN) return f80(sign << 15, r.m << BigInt(r.e - F80_DENORM_EXP));
  return packNormal80(sign, r.m, r.e);
}

export function overflowsToInf(sign: number, rc: number): boolean {
  return rc === RC_NEAREST || (rc === RC_DOWN && sign === 1) || (rc === RC_UP && sign === 0);
}

/** An exact value (no rounding can occur) as an extended-precision image. */
export function exactF80(sign: number, sig: bigint, exp: number): F80 {
  if (sig === 0n) return zero(sign);
  const E = exp + bitLength(sig) - 1;
  if (E < F80_EMIN) return f80(sign << 15, exp >= F80_DENORM_EXP ? sig << BigInt(exp - F80_DENORM_EXP) : sig >> BigInt(F80_DENORM_EXP - exp));
  return packNormal80(sign, sig, exp);
}

// ---- memory formats ---------------------------------------------------------------------------

export interface Unpacked {
  /** the value as an extended image (exact) */
  value: F80;
  /** flags the load raises (IE for an SNaN, DE for a denormal) */
  flags: number;
}

/** FLD m32fp / m64fp: an exact conversion (SDM vol. 1, 4.2.1, 8.2). */
export function fromBinary(bits: bigint, fmt: Format): Unpacked {
  const fracBits = fmt.p - 1;
  const expBits = fmt === FMT_SINGLE ? 8 : 11;
  const total = fracBits + expBits + 1;
  const sign = Number((bits >> BigInt(total - 1)) & 1n);
  const ef = Number((bits >> BigInt(fracBits)) & BigInt((1 << expBits) - 1));
  const frac = bits & ((1n << BigInt(fracBits)) - 1n);
  const bias = fmt.emax;
  if (ef === (1 << expBits) - 1) {
    if (frac === 0n) return { value: inf(sign), flags: 0 };
    const sig = J_BIT | (frac << BigInt(64 - 1 - fracBits));
    const snan = (frac >> BigInt(fracBits - 1)) === 0n;
    return { value: f80((sign << 15) | 0x7fff, snan ? sig | QUIET_BIT : sig), flags: snan ? FE_IE : 0 };
  }
  if (ef === 0) {
    if (frac === 0n) return { value: zero(sign), flags: 0 };
    return { value: exactF80(sign, frac, fmt.emin - fracBits), flags: FE_DE };
  }
  return { value: exactF80(sign, (1n << BigInt(fracBits)) | frac, ef - bias - fracBits), flags: 0 };
}

export interface Packed {
  bits: bigint;
  /** false when an unmasked exception suppresses the store */
  store: boolean;
}

/** FST m32fp / m64fp: round ST(0) into the binary format (RC applies, PC does not). */
export function toBinary(ctx: FpCtx, x: F80, fmt: Format): Packed {
  const fracBits = fmt.p - 1;
  const expBits = fmt === FMT_SINGLE ? 8 : 11;
  const total = fracBits + expBits + 1;
  const expMax = (1 << expBits) - 1;
  const k = kindOf(x);
  const sign = signOf(x);
  const signBit = BigInt(sign) << BigInt(total - 1);
  const infBits = signBit | (BigInt(expMax) << BigInt(fracBits));
  const indefinite = (1n << BigInt(total - 1)) | (BigInt(expMax) << BigInt(fracBits)) | (1n << BigInt(fracBits - 1));
  switch (k) {
    case K_ZERO:
      ctx.c1 = 0;
      return { bits: signBit, store: true };
    case K_INF:
      ctx.c1 = 0;
      return { bits: infBits, store: true };
    case K_UNSUPPORTED:
      ctx.flags |= FE_IE;
      return { bits: indefinite, store: (ctx.masks & FE_IE) !== 0 };
    case K_QNAN:
    case K_SNAN: {
      if (k === K_SNAN) ctx.flags |= FE_IE;
      const frac = ((x.sig & ~J_BIT) >> BigInt(64 - 1 - fracBits)) | (1n << BigInt(fracBits - 1));
      return { bits: infBits | frac, store: k === K_QNAN || (ctx.masks & FE_IE) !== 0 };
    }
  }
  const r = roundValue(sign, x.sig, lsbExp(x), fmt.p, fmt.emin, fmt.emax, ctx.rc);
  ctx.c1 = r.up ? 1 : 0;
  if (r.tiny && !(ctx.masks & FE_UE)) {
    ctx.flags |= FE_UE;
    return { bits: 0n, store: false };
  }
  if (r.inexact) ctx.flags |= FE_PE | (r.tiny ? FE_UE : 0);
  if (r.overflow) {
    ctx.flags |= FE_OE;
    if (!(ctx.masks & FE_OE)) return { bits: 0n, store: false };
    ctx.flags |= FE_PE;
    if (overflowsToInf(sign, ctx.rc)) {
      ctx.c1 = 1;
      return { bits: infBits, store: true };
    }
    ctx.c1 = 0;
    return { bits: signBit | (BigInt(expMax - 1) << BigInt(fracBits)) | ((1n << BigInt(fracBits)) - 1n), store: true };
  }
  if (r.m === 0n) return { bits: signBit, store: true };
  if (r.msb < fmt.emin) {
    // denormal: the fraction is the significand at the fixed denormal position
    return { bits: signBit | (r.m << BigInt(r.e - (fmt.emin - fracBits))), store: true };
  }
  const nb = bitLength(r.m);
  const m = nb <= fmt.p ? r.m << BigInt(fmt.p - nb) : r.m >> BigInt(nb - fmt.p);
  const ef = BigInt(r.msb + fmt.emax);
  return { bits: signBit | (ef << BigInt(fracBits)) | (m & ((1n << BigInt(fracBits)) - 1n)), store: true };
}

/** FILD: an integer as an extended value (always exact). */
export function fromInt(v: bigint): F80 {
  if (v === 0n) return F80_ZERO;
  const sign = v < 0n ? 1 : 0;
  return exactF80(sign, sign ? -v : v, 0);
}

export interface IntResult {
  value: bigint;
  store: boolean;
}

/** Round to an integer per RC (FRNDINT, FIST, FBSTP); null for NaN/infinity/unsupported. */
export function roundToInteger(ctx: FpCtx, x: F80): { sign: number; mag: bigint; inexact: boolean; up: boolean } | null {
  const k = kindOf(x);
  const sign = signOf(x);
  if (k === K_ZERO) return { sign, mag: 0n, inexact: false, up: false };
  if (k !== K_NORMAL && k !== K_DENORMAL) return null;
  const r = roundToUlp(sign, x.sig, lsbExp(x), 0, ctx.rc);
  return { sign, mag: r.m << BigInt(r.e), inexact: r.inexact, up: r.up };
}

/** FIST/FISTP: bits = 16, 32 or 64; out of range or NaN gives the integer indefinite (IE). */
export function toInt(ctx: FpCtx, x: F80, bits: number): IntResult {
  const indefinite = -(1n << BigInt(bits - 1));
  const r = roundToInteger(ctx, x);
  const limit = 1n << BigInt(bits - 1);
  if (r === null || (r.sign ? r.mag > limit : r.mag >= limit)) {
    ctx.flags |= FE_IE;
    ctx.c1 = 0;
    return { value: indefinite, store: (ctx.masks & FE_IE) !== 0 };
  }
  ctx.c1 = r.up ? 1 : 0;
  if (r.inexact) ctx.flags |= FE_PE;
  return { value: r.sign ? -r.mag : r.mag, store: true };
}

/** FBLD: 18 packed BCD digits and a sign byte, converted exactly (SDM vol. 1, 4.7). */
export function fromBcd(bytes: readonly number[]): F80 {
  let v = 0n;
  for (let i = 8; i >= 0; i--) {
    const b = bytes[i]!;
    v = v * 100n + BigInt((b >> 4) * 10 + (b & 15));
  }
  const x = fromInt(v);
  return bytes[9]! & 0x80 ? negate(x) : x;
}

/** FBSTP: 10 bytes, or the BCD indefinite when |rounded value| >= 10^18 or ST(0) is not a number. */
export function toBcd(ctx: FpCtx, x: F80): { bytes: number[]; store: boolean } {
  const r = roundToInteger(ctx, x);
  if (r === null || r.mag >= 1000000000000000000n) {
    ctx.flags |= FE_IE;
    ctx.c1 = 0;
    return { bytes: [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff], store: (ctx.masks & FE_IE) !== 0 };
  }
  ctx.c1 = r.up ? 1 : 0;
  if (r.inexact) ctx.flags |= FE_PE;
  const out: number[] = [];
  let v = r.mag;
  for (let i = 0; i < 9; i++) {
    const d = Number(v % 100n);
    v /= 100n;
    out.push(((Math.floor(d / 10)) << 4) | (d % 10));
  }
  out.push(signOf(x) ? 0x80 : 0);
  return { bytes: out, store: true };
}

/** The 10-byte little-endian image. */
export function toBytes(x: F80): number[] {
  const out: number[] = [];
  let s = x.sig;
  for (let i = 0; i < 8; i++) {
    out.push(Number(s & 0xffn));
    s >>= 8n;
  }
  out.push(x.se & 0xff, (x.se >> 8) & 0xff);
  return out;
}

export function fromBytes(b: ArrayLike<number>, off = 0): F80 {
  let sig = 0n;
  for (let i = 7; i >= 0; i--) sig = (sig << 8n) | BigInt(b[off + i]! & 0xff);
  return f80((b[off + 8]! & 0xff) | ((b[off + 9]! & 0xff) << 8), sig);
}

/** The exact value of a double as an extended image (every double is representable). */
export function fromDouble(d: number): F80 {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, d, true);
  return fromBinary(dv.getBigUint64(0, true), FMT_DOUBLE).value;
}

/** The nearest double to a finite extended value (for the double-based transcendentals). */
export function toDouble(x: F80): number {
  const k = kindOf(x);
  const sign = signOf(x) ? -1 : 1;
  if (k === K_ZERO) return sign * 0;
  if (k === K_INF) return sign * Infinity;
  if (k !== K_NORMAL && k !== K_DENORMAL) return NaN;
  const ctx: FpCtx = { rc: RC_NEAREST, prec: 53, masks: 0x3f, flags: 0, c1: 0 };
  const p = toBinary(ctx, x, FMT_DOUBLE);
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, p.bits, true);
  return dv.getFloat64(0, true);
}
