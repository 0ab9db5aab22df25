// Exact IEEE 754 single and double arithmetic under MXCSR control (SDM vol. 1, 11.5 and
// 4.8-4.9): rounding per RC, tininess after rounding, FTZ and DAZ, the six exception flags,
// and NaN results as QEMU 7.2 picks them (decisions.md). Every operation is computed
// exactly with BigInt and rounded once; the SIMD unit (simd.ts) calls these only when its
// double-precision fast path cannot prove the result (see Simd.fastOk).
//
// Values are passed as bit patterns: single as a uint32 number, double as a bigint.

export const MX_IE = 0x01;
export const MX_DE = 0x02;
export const MX_ZE = 0x04;
export const MX_OE = 0x08;
export const MX_UE = 0x10;
export const MX_PE = 0x20;
export const MX_DAZ = 0x40;
export const MX_FTZ = 0x8000;

export interface Fmt {
  /** significand bits including the hidden one */
  readonly p: number;
  readonly ebits: number;
  readonly bias: number;
  readonly emin: number;
  readonly emax: number;
  readonly signBit: bigint;
  readonly expMask: bigint;
  readonly fracMask: bigint;
  readonly quietBit: bigint;
  readonly defaultNaN: bigint;
}

function fmt(p: number, ebits: number): Fmt {
  const bias = (1 << (ebits - 1)) - 1;
  const fracBits = BigInt(p - 1);
  return {
    p, ebits, bias, emin: 1 - bias, emax: bias,
    signBit: 1n << BigInt(p - 1 + ebits),
    expMask: ((1n << BigInt(ebits)) - 1n) << fracBits,
    fracMask: (1n << fracBits) - 1n,
    quietBit: 1n << (fracBits - 1n),
    defaultNaN: (1n << BigInt(p - 1 + ebits)) | (((1n << BigInt(ebits)) - 1n) << fracBits) | (1n << (fracBits - 1n)),
  };
}

export const F32 = fmt(24, 8);
export const F64 = fmt(53, 11);

/** The status of one operation: flags raised (MX_*), and the MXCSR it runs under. */
export interface FpEnv {
  mxcsr: number;
  flags: number;
}

export const enum Cls { Zero, Finite, Inf, QNaN, SNaN }

export interface Unpacked {
  cls: Cls;
  sign: number;
  /** finite nonzero: value = sig * 2^exp */
  sig: bigint;
  exp: number;
}

export function isNaNBits(f: Fmt, x: bigint): boolean {
  return (x & f.expMask) === f.expMask && (x & f.fracMask) !== 0n;
}

export function isSNaNBits(f: Fmt, x: bigint): boolean {
  return isNaNBits(f, x) && (x & f.quietBit) === 0n;
}

/** Unpack an operand; a denormal becomes zero under DAZ, and raises DE otherwise. */
export function unpack(f: Fmt, x: bigint, env: FpEnv): Unpacked {
  const sign = (x & f.signBit) !== 0n ? 1 : 0;
  const e = Number((x & f.expMask) >> BigInt(f.p - 1));
  const frac = x & f.fracMask;
  if (e === (1 << f.ebits) - 1) {
    if (frac === 0n) return { cls: Cls.Inf, sign, sig: 0n, exp: 0 };
    return { cls: (frac & f.quietBit) !== 0n ? Cls.QNaN : Cls.SNaN, sign, sig: frac, exp: 0 };
  }
  if (e === 0) {
    if (frac === 0n) return { cls: Cls.Zero, sign, sig: 0n, exp: 0 };
    if (env.mxcsr & MX_DAZ) return { cls: Cls.Zero, sign, sig: 0n, exp: 0 };
    env.flags |= MX_DE;
    return { cls: Cls.Finite, sign, sig: frac, exp: f.emin - (f.p - 1) };
  }
  return { cls: Cls.Finite, sign, sig: frac | (1n << BigInt(f.p - 1)), exp: e - f.bias - (f.p - 1) };
}

export function quiet(f: Fmt, x: bigint): bigint {
  return x | f.quietBit;
}

/**
 * The NaN result of an operation with NaN operands, as QEMU 7.2's softfloat picks it for
 * x86 (its x87 rule, used for SSE too; measured): an SNaN raises IE; SNaN with QNaN gives
 * the QNaN; two NaNs of the same kind give the one with the larger significand (the
 * positive one on a tie), quieted; one NaN gives itself, quieted.
 */
export function propagateNaN(f: Fmt, a: bigint, b: bigint, env: FpEnv): bigint {
  const an = isNaNBits(f, a);
  const bn = isNaNBits(f, b);
  const as = an && (a & f.quietBit) === 0n;
  const bs = bn && (b & f.quietBit) === 0n;
  if (as || bs) env.flags |= MX_IE;
  if (an && bn) {
    if (as !== bs) return as ? b : a;
    const fa = a & f.fracMask;
    const fb = b & f.fracMask;
    if (fa !== fb) return quiet(f, fa > fb ? a : b);
    return quiet(f, (a & f.signBit) === 0n ? a : b);
  }
  return quiet(f, an ? a : b);
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

const RC_NEAREST = 0;
const RC_DOWN = 1;
const RC_UP = 2;

/** Whether to round `kept` up, for a discarded part `rem` of `shift` bits (plus sticky). */
function roundUp(rc: number, sign: number, kept: bigint, rem: bigint, shift: number, sticky: boolean): boolean {
  if (rem === 0n && !sticky) return false;
  switch (rc) {
    case RC_NEAREST: {
      if (shift === 0) return false; // only sticky bits below: less than half
      const half = 1n << BigInt(shift - 1);
      if (rem > half) return true;
      if (rem < half) return false;
      return sticky || (kept & 1n) === 1n;
    }
    case RC_DOWN: return sign === 1;
    case RC_UP: return sign === 0;
    default: return false;
  }
}

function infOrMax(f: Fmt, sign: number, rc: number): bigint {
  const s = sign ? f.signBit : 0n;
  const toInf = rc === RC_NEAREST || (rc === RC_UP && sign === 0) || (rc === RC_DOWN && sign === 1);
  return s | (toInf ? f.expMask : f.expMask - (1n << BigInt(f.p - 1)) + f.fracMask);
}

/**
 * Round the exact value (-1)^sign * (sig + sticky·ε) * 2^exp (sig > 0; `sticky`: nonzero
 * bits below sig's last) to the format, per MXCSR: flags PE, UE (tiny after rounding; with
 * UE masked only when inexact, or always with FTZ), OE; FTZ flushes a tiny result to zero.
 */
export function roundPack(f: Fmt, sign: number, sig: bigint, exp: number, sticky: boolean, env: FpEnv): bigint {
  const rc = (env.mxcsr >> 13) & 3;
  const n = bitLength(sig);
  const e = exp + n - 1; // value in [2^e, 2^(e+1))
  const p = f.p;
  const s = sign ? f.signBit : 0n;
  // tininess after rounding: rounded to p bits with an unbounded exponent, below 2^emin
  let tiny = false;
  if (e < f.emin - 1) tiny = true;
  else if (e === f.emin - 1) {
    const sh = n - p;
    let k: bigint;
    let up: boolean;
    if (sh > 0) {
      k = sig >> BigInt(sh);
      up = roundUp(rc, sign, k, sig & ((1n << BigInt(sh)) - 1n), sh, sticky);
    } else {
      k = sig << BigInt(-sh);
      up = roundUp(rc, sign, k, 0n, 0, sticky);
    }
    if (up) k += 1n;
    tiny = bitLength(k) <= p;
  }
  const q = Math.max(e - (p - 1), f.emin - (p - 1));
  const shift = q - exp;
  let kept: bigint;
  let inexact: boolean;
  if (shift > 0) {
    kept = sig >> BigInt(shift);
    const rem = sig & ((1n << BigInt(shift)) - 1n);
    inexact = rem !== 0n || sticky;
    if (roundUp(rc, sign, kept, rem, shift, sticky)) kept += 1n;
  } else {
    kept = sig << BigInt(-shift);
    inexact = sticky;
    if (roundUp(rc, sign, kept, 0n, 0, sticky)) kept += 1n;
  }
  const um = (env.mxcsr & (MX_UE << 7)) !== 0;
  if (tiny) {
    if ((env.mxcsr & MX_FTZ) && um) {
      env.flags |= MX_UE | MX_PE;
      return s;
    }
    if (!um || inexact) env.flags |= MX_UE;
  }
  if (inexact) env.flags |= MX_PE;
  if (kept === 0n) return s;
  let qq = q;
  if (bitLength(kept) > p) {
    kept >>= 1n;
    qq++;
  }
  const E = qq + bitLength(kept) - 1;
  if (E > f.emax) {
    env.flags |= MX_OE | MX_PE;
    return infOrMax(f, sign, rc);
  }
  if (bitLength(kept) < p) return s | kept; // denormal
  return s | (BigInt(E + f.bias) << BigInt(p - 1)) | (kept & f.fracMask);
}

function zeroOf(f: Fmt, sign: number): bigint {
  return sign ? f.signBit : 0n;
}

function infOf(f: Fmt, sign: number): bigint {
  return (sign ? f.signBit : 0n) | f.expMask;
}

/** a + b (sub: a - b). */
export function add(f: Fmt, a: bigint, b: bigint, subtract: boolean, env: FpEnv): bigint {
  const ua = unpack(f, a, env);
  const ub = unpack(f, b, env);
  if (ua.cls >= Cls.QNaN || ub.cls >= Cls.QNaN) return propagateNaN(f, a, b, env);
  const sb = ub.sign ^ (subtract ? 1 : 0);
  const rc = (env.mxcsr >> 13) & 3;
  if (ua.cls === Cls.Inf || ub.cls === Cls.Inf) {
    if (ua.cls === Cls.Inf && ub.cls === Cls.Inf && ua.sign !== sb) {
      env.flags |= MX_IE;
      return f.defaultNaN;
    }
    return ua.cls === Cls.Inf ? infOf(f, ua.sign) : infOf(f, sb);
  }
  if (ua.cls === Cls.Zero && ub.cls === Cls.Zero) {
    if (ua.sign === sb) return zeroOf(f, ua.sign);
    return zeroOf(f, rc === RC_DOWN ? 1 : 0);
  }
  if (ua.cls === Cls.Zero) return roundPack(f, sb, ub.sig, ub.exp, false, env);
  if (ub.cls === Cls.Zero) return roundPack(f, ua.sign, ua.sig, ua.exp, false, env);
  const e = Math.min(ua.exp, ub.exp);
  const va = (ua.sig << BigInt(ua.exp - e)) * (ua.sign ? -1n : 1n);
  const vb = (ub.sig << BigInt(ub.exp - e)) * (sb ? -1n : 1n);
  const sum = va + vb;
  if (sum === 0n) return zeroOf(f, rc === RC_DOWN ? 1 : 0);
  return roundPack(f, sum < 0n ? 1 : 0, sum < 0n ? -sum : sum, e, false, env);
}

export function mul(f: Fmt, a: bigint, b: bigint, env: FpEnv): bigint {
  const ua = unpack(f, a, env);
  const ub = unpack(f, b, env);
  if (ua.cls >= Cls.QNaN || ub.cls >= Cls.QNaN) return propagateNaN(f, a, b, env);
  const sign = ua.sign ^ ub.sign;
  if (ua.cls === Cls.Inf || ub.cls === Cls.Inf) {
    if (ua.cls === Cls.Zero || ub.cls === Cls.Zero) {
      env.flags |= MX_IE;
      return f.defaultNaN;
    }
    return infOf(f, sign);
  }
  if (ua.cls === Cls.Zero || ub.cls === Cls.Zero) return zeroOf(f, sign);
  return roundPack(f, sign, ua.sig * ub.sig, ua.exp + ub.exp, false, env);
}

export function div(f: Fmt, a: bigint, b: bigint, env: FpEnv): bigint {
  const ua = unpack(f, a, env);
  const ub = unpack(f, b, env);
  if (ua.cls >= Cls.QNaN || ub.cls >= Cls.QNaN) return propagateNaN(f, a, b, env);
  const sign = ua.sign ^ ub.sign;
  if (ua.cls === Cls.Inf) {
    if (ub.cls === Cls.Inf) {
      env.flags |= MX_IE;
      return f.defaultNaN;
    }
    return infOf(f, sign);
  }
  if (ub.cls === Cls.Inf) return zeroOf(f, sign);
  if (ub.cls === Cls.Zero) {
    if (ua.cls === Cls.Zero) {
      env.flags |= MX_IE;
      return f.defaultNaN;
    }
    env.flags |= MX_ZE;
    return infOf(f, sign);
  }
  if (ua.cls === Cls.Zero) return zeroOf(f, sign);
  // enough quotient bits: p + 2 beyond the leading one
  const k = f.p + 3 + Math.max(0, bitLength(ub.sig) - bitLength(ua.sig));
  const num = ua.sig << BigInt(k);
  const qt = num / ub.sig;
  const rem = num - qt * ub.sig;
  return roundPack(f, sign, qt, ua.exp - ub.exp - k, rem !== 0n, env);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  // Newton steps from the double estimate, then fix up
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

export function sqrt(f: Fmt, b: bigint, env: FpEnv): bigint {
  const ub = unpack(f, b, env);
  if (ub.cls >= Cls.QNaN) return propagateNaN(f, b, b, env);
  if (ub.cls === Cls.Zero) return zeroOf(f, ub.sign);
  if (ub.sign) {
    env.flags |= MX_IE;
    return f.defaultNaN;
  }
  if (ub.cls === Cls.Inf) return b;
  let sig = ub.sig;
  let exp = ub.exp;
  // 2p + 4 bits of radicand, even exponent
  const want = 2 * f.p + 4 - bitLength(sig);
  let sh = Math.max(0, want);
  if ((exp - sh) & 1) sh++;
  sig <<= BigInt(sh);
  exp -= sh;
  const r = isqrt(sig);
  return roundPack(f, 0, r, exp / 2, r * r !== sig, env);
}

// ---- comparisons -----------------------------------------------------------------------

export const CMP_LT = 0;
export const CMP_EQ = 1;
export const CMP_GT = 2;
export const CMP_UN = 3;

/** Ordered relation of a and b; IE for an SNaN, or for any NaN when `signalling`. */
export function compare(f: Fmt, a: bigint, b: bigint, signalling: boolean, env: FpEnv): number {
  const ua = unpack(f, a, env);
  const ub = unpack(f, b, env);
  if (ua.cls >= Cls.QNaN || ub.cls >= Cls.QNaN) {
    if (signalling || ua.cls === Cls.SNaN || ub.cls === Cls.SNaN) env.flags |= MX_IE;
    return CMP_UN;
  }
  const va = valueKey(ua);
  const vb = valueKey(ub);
  return va.cmp(vb);
}

function valueKey(u: Unpacked): { cmp(o: { s: number; inf: boolean; sig: bigint; exp: number }): number; s: number; inf: boolean; sig: bigint; exp: number } {
  const self = {
    s: u.cls === Cls.Zero ? 0 : u.sign ? -1 : 1,
    inf: u.cls === Cls.Inf,
    sig: u.sig,
    exp: u.exp,
    cmp(o: { s: number; inf: boolean; sig: bigint; exp: number }): number {
      if (self.s !== o.s) return self.s < o.s ? CMP_LT : CMP_GT;
      if (self.s === 0) return CMP_EQ;
      let mag: number;
      if (self.inf || o.inf) mag = self.inf === o.inf ? 0 : self.inf ? 1 : -1;
      else {
        const e = Math.min(self.exp, o.exp);
        const A = self.sig << BigInt(self.exp - e);
        const B = o.sig << BigInt(o.exp - e);
        mag = A === B ? 0 : A > B ? 1 : -1;
      }
      if (self.s < 0) mag = -mag;
      return mag === 0 ? CMP_EQ : mag < 0 ? CMP_LT : CMP_GT;
    },
  };
  return self;
}

// ---- conversions ---------------------------------------------------------------------------

/** Float to another format (CVTSS2SD, CVTSD2SS, CVTPS2PD, CVTPD2PS). */
export function convert(from: Fmt, to: Fmt, x: bigint, env: FpEnv): bigint {
  const u = unpack(from, x, env);
  const s = u.sign ? to.signBit : 0n;
  switch (u.cls) {
    case Cls.Zero: return s;
    case Cls.Inf: return s | to.expMask;
    case Cls.QNaN:
    case Cls.SNaN: {
      if (u.cls === Cls.SNaN) env.flags |= MX_IE;
      const fb = from.p - 1;
      const tb = to.p - 1;
      const frac = tb >= fb ? u.sig << BigInt(tb - fb) : u.sig >> BigInt(fb - tb);
      return s | to.expMask | to.quietBit | frac;
    }
    default: return roundPack(to, u.sign, u.sig, u.exp, false, env);
  }
}

/** A signed integer to a format, rounded per RC (CVTSI2SS, CVTDQ2PS, ...). */
export function fromInt(to: Fmt, v: number, env: FpEnv): bigint {
  if (v === 0) return 0n;
  const sign = v < 0 ? 1 : 0;
  return roundPack(to, sign, BigInt(Math.abs(v)), 0, false, env);
}

/**
 * To int32 (CVTSS2SI ... ; `truncate` for the CVTT forms): a NaN or an out-of-range value
 * gives the integer indefinite 80000000h with IE; an inexact conversion sets PE.
 */
export function toInt32(f: Fmt, x: bigint, truncate: boolean, env: FpEnv): number {
  const u = unpack(f, x, env);
  if (u.cls >= Cls.Inf) {
    env.flags |= MX_IE;
    return -0x80000000;
  }
  if (u.cls === Cls.Zero) return 0;
  const rc = truncate ? 3 : (env.mxcsr >> 13) & 3;
  let k: bigint;
  let inexact = false;
  if (u.exp >= 0) k = u.sig << BigInt(u.exp);
  else {
    const sh = -u.exp;
    k = u.sig >> BigInt(sh);
    const rem = u.sig & ((1n << BigInt(sh)) - 1n);
    inexact = rem !== 0n;
    if (roundUp(rc, u.sign, k, rem, sh, false)) k += 1n;
  }
  const v = u.sign ? -k : k;
  if (v > 0x7fffffffn || v < -0x80000000n) {
    env.flags |= MX_IE;
    return -0x80000000;
  }
  if (inexact) env.flags |= MX_PE;
  return Number(v);
}

/** max/min (MAXSS ...): a NaN operand (IE) or two zeros give the second operand (source). */
export function maxMin(f: Fmt, a: bigint, b: bigint, max: boolean, env: FpEnv): bigint {
  const r = compare(f, a, b, true, env);
  if (r === CMP_UN) return b;
  const ua = unpack(f, a, { mxcsr: env.mxcsr, flags: 0 });
  const ub = unpack(f, b, { mxcsr: env.mxcsr, flags: 0 });
  if (ua.cls === Cls.Zero && ub.cls === Cls.Zero) return b;
  if (max) return r === CMP_GT ? a : b;
  return r === CMP_LT ? a : b;
}
