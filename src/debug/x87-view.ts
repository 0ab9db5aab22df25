// The x87 state in words, for the registers pane and the command line's `info float`:
// 80-bit register images as decimal (exact BigInt arithmetic, like gdb's `info float`),
// the tag of each register, TOP, the condition codes and the exception, mask, precision
// and rounding fields of the status and control words (SDM vol. 1, 8.1.3-8.1.7).
import type { FpuState } from './registers.js';

export type X87Tag = 'valid' | 'zero' | 'special' | 'empty';
const TAGS: readonly X87Tag[] = ['valid', 'zero', 'special', 'empty'];

/** Status word fields. */
export const FSW_TOP_SHIFT = 11;
const FSW_EXCEPTIONS: [number, string][] = [[0x1, 'IE'], [0x2, 'DE'], [0x4, 'ZE'], [0x8, 'OE'], [0x10, 'UE'], [0x20, 'PE'], [0x40, 'SF'], [0x80, 'ES'], [0x8000, 'B']];
/** C0-C3 are status bits 8, 9, 10 and 14. */
const FSW_CC: [number, string][] = [[0x100, 'C0'], [0x200, 'C1'], [0x400, 'C2'], [0x4000, 'C3']];
const FCW_MASKS: [number, string][] = [[0x1, 'IM'], [0x2, 'DM'], [0x4, 'ZM'], [0x8, 'OM'], [0x10, 'UM'], [0x20, 'PM']];
const PRECISION = ['single', 'reserved', 'double', 'extended'];
const ROUNDING = ['nearest', 'down', 'up', 'zero'];

export const fpuTop = (f: FpuState): number => (f.fstat >> FSW_TOP_SHIFT) & 7;

/** The physical register (R0-R7) that holds ST(i). */
export const physOf = (f: FpuState, i: number): number => (fpuTop(f) + i) & 7;

/** The tag of ST(i), from the full tag word (indexed by physical register). */
export function tagOf(f: FpuState, i: number): X87Tag {
  return TAGS[(f.ftag >> (2 * physOf(f, i))) & 3]!;
}

export function exceptionFlags(fstat: number): string[] {
  return FSW_EXCEPTIONS.filter(([bit]) => fstat & bit).map(([, n]) => n);
}

export function conditionCodes(fstat: number): { name: string; set: boolean }[] {
  return FSW_CC.map(([bit, name]) => ({ name, set: (fstat & bit) !== 0 }));
}

export function controlWord(fctrl: number): { masks: string[]; precision: string; rounding: string } {
  return {
    masks: FCW_MASKS.filter(([bit]) => fctrl & bit).map(([, n]) => n),
    precision: PRECISION[(fctrl >> 8) & 3]!,
    rounding: ROUNDING[(fctrl >> 10) & 3]!,
  };
}

/** The register image as hex, sign/exponent first: `4000 c90fdaa22168c235`. */
export function float80Hex(bytes: readonly number[], sep = ' '): string {
  const h = (i: number): string => (bytes[i] ?? 0).toString(16).padStart(2, '0');
  return `${h(9)}${h(8)}${sep}${[7, 6, 5, 4, 3, 2, 1, 0].map(h).join('')}`;
}

interface Decoded {
  sign: boolean;
  /** Non-finite or malformed values in words; null for numbers. */
  special: string | null;
  mantissa: bigint;
  /** The value is mantissa * 2^exp2. */
  exp2: number;
}

function decode(bytes: readonly number[]): Decoded {
  let mantissa = 0n;
  for (let i = 7; i >= 0; i--) mantissa = (mantissa << 8n) | BigInt(bytes[i] ?? 0);
  const se = ((bytes[9] ?? 0) << 8) | (bytes[8] ?? 0);
  const sign = (se & 0x8000) !== 0;
  const exp = se & 0x7fff;
  const integer = (mantissa >> 63n) & 1n;
  const fraction = mantissa & ((1n << 63n) - 1n);
  if (exp === 0x7fff) {
    // Pseudo-infinities and pseudo-NaNs (J bit clear) are invalid operands since the 387.
    const special = integer === 0n ? 'invalid' : fraction === 0n ? 'inf' : fraction >> 62n ? 'nan' : 'snan';
    return { sign, special, mantissa, exp2: 0 };
  }
  // Unnormals: a non-zero exponent with the J bit clear.
  if (exp !== 0 && integer === 0n) return { sign, special: 'invalid', mantissa, exp2: 0 };
  // Denormals (and pseudo-denormals) use the exponent of the smallest normal.
  return { sign, special: null, mantissa, exp2: Math.max(exp, 1) - 16383 - 63 };
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** `digits` significant decimal digits of mantissa * 2^exp2 (> 0), rounded to nearest, and the decimal exponent. */
function decimalDigits(mantissa: bigint, exp2: number, digits: number): { ds: string; e10: number } {
  const num0 = exp2 >= 0 ? mantissa << BigInt(exp2) : mantissa;
  const den0 = exp2 >= 0 ? 1n : 1n << BigInt(-exp2);
  let e10 = Math.floor(Math.log10(Number(mantissa)) + exp2 * Math.log10(2));
  for (let tries = 0; tries < 4; tries++) {
    const shift = digits - 1 - e10;
    const num = shift >= 0 ? num0 * pow10(shift) : num0;
    const den = shift >= 0 ? den0 : den0 * pow10(-shift);
    const q = (2n * num + den) / (2n * den);
    if (q >= pow10(digits)) e10++;
    else if (q < pow10(digits - 1)) e10--;
    else return { ds: q.toString(), e10 };
  }
  throw new Error('float80: decimal exponent did not converge');
}

/** The value with `digits` significant digits, as C's %g does (fixed or scientific). */
function formatNumber(d: Decoded, digits: number): string {
  const sign = d.sign ? '-' : '';
  if (d.mantissa === 0n) return `${sign}0`;
  const { ds: raw, e10 } = decimalDigits(d.mantissa, d.exp2, digits);
  const ds = raw.replace(/0+$/, '') || '0';
  if (e10 < -4 || e10 >= digits) {
    const e = `e${e10 < 0 ? '-' : '+'}${String(Math.abs(e10)).padStart(2, '0')}`;
    return `${sign}${ds[0]}${ds.length > 1 ? `.${ds.slice(1)}` : ''}${e}`;
  }
  if (e10 >= 0) {
    const int = ds.slice(0, e10 + 1).padEnd(e10 + 1, '0');
    const frac = ds.slice(e10 + 1);
    return `${sign}${int}${frac ? `.${frac}` : ''}`;
  }
  return `${sign}0.${'0'.repeat(-e10 - 1)}${ds}`;
}

/**
 * An 80-bit extended-precision image (10 bytes, little-endian) as decimal: 19 significant
 * digits (as gdb's `info float` prints them), fewer if that is needed to fit `maxChars`.
 */
export function float80ToString(bytes: readonly number[], maxChars = 40): string {
  const d = decode(bytes);
  if (d.special !== null) return d.special === 'invalid' ? 'invalid' : `${d.sign ? '-' : ''}${d.special}`;
  for (let digits = 19; digits > 1; digits--) {
    const s = formatNumber(d, digits);
    if (s.length <= maxChars) return s;
  }
  return formatNumber(d, 1);
}

const hex = (v: number, n: number): string => (v >>> 0).toString(16).padStart(n, '0');

/** gdb's `info float`, laid out the same way (physical registers R7 to R0, `=>` at TOP). */
export function formatInfoFloat(f: FpuState): string {
  const top = fpuTop(f);
  const lines: string[] = [];
  for (let p = 7; p >= 0; p--) {
    const i = (p - top) & 7;
    const tag = TAGS[(f.ftag >> (2 * p)) & 3]!;
    const name = tag === 'special' ? 'Special' : tag[0]!.toUpperCase() + tag.slice(1);
    const bytes = f.st[i]!;
    const v = float80ToString(bytes);
    const value = tag === 'empty' ? '' : ` ${/^\d/.test(v) ? `+${v}` : v}`;
    lines.push(`${p === top ? '=>' : '  '}R${p}: ${name.padEnd(7)} 0x${float80Hex(bytes, '')}${value}`);
  }
  const cw = controlWord(f.fctrl);
  const cc = conditionCodes(f.fstat).filter((c) => c.set).map((c) => c.name);
  lines.push(
    '',
    `Status Word:         0x${hex(f.fstat, 4)}   ${[...exceptionFlags(f.fstat), ...cc].join(' ')}`.trimEnd(),
    `                       TOP: ${top}`,
    `Control Word:        0x${hex(f.fctrl, 4)}   ${cw.masks.join(' ')}`.trimEnd(),
    `                       PC: ${cw.precision} precision`,
    `                       RC: round to ${cw.rounding}`,
    `Tag Word:            0x${hex(f.ftag, 4)}`,
    `Instruction Pointer: 0x${hex(f.fiseg, 2)}:0x${hex(f.fioff, 8)}`,
    `Operand Pointer:     0x${hex(f.foseg, 2)}:0x${hex(f.fooff, 8)}`,
    `Opcode:              0x${hex(f.fop ? f.fop | 0xd800 : 0, 4)}`,
  );
  return lines.join('\n');
}
