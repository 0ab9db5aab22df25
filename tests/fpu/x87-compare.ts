// Compares two results of an x87 case (QEMU and bmbt-dbg): everything through the integer
// harness's compareResults, after normalising the data window by the case's X87Checks:
//  - bits QEMU 7.2 does not implement are cleared in both: the status word's C1 (QEMU never
//    reports the rounding direction) and DE (QEMU raises no denormal-operand exception), the
//    FOP field and the reserved upper halves of a 32-bit environment (QEMU writes zeros, we
//    write ones as Intel parts do);
//  - registers produced by a transcendental (approxSlots) match when within the tolerance.
import { compareResults, type Difference } from '../diff/compare.js';
import type { CaseResult } from '../support/diff-target.js';
import type { X87Case, X87Check } from './x87-generator.js';
import { fromBytes, kindOf, K_NORMAL, K_DENORMAL, lsbExp, bitLength, signOf, type F80 } from '../../src/cpu/fpu/float80.js';

/** Relative tolerance of transcendental results: |a - b| <= 2^-TOLERANCE_BITS * |a|. */
export const TOLERANCE_BITS = 50;

const SW_IGNORE = 0x0200 | 0x0002; // C1, DE

/** Whether two extended values agree within the tolerance (bit-equal, or finite, same sign and close). */
export function withinTolerance(a: F80, b: F80, bits = TOLERANCE_BITS): boolean {
  if (a.se === b.se && a.sig === b.sig) return true;
  const ka = kindOf(a);
  const kb = kindOf(b);
  const fin = (k: number) => k === K_NORMAL || k === K_DENORMAL;
  if (!fin(ka) || !fin(kb) || signOf(a) !== signOf(b)) return false;
  const ea = lsbExp(a);
  const eb = lsbExp(b);
  const e = Math.min(ea, eb);
  const A = a.sig << BigInt(ea - e);
  const B = b.sig << BigInt(eb - e);
  const d = A > B ? A - B : B - A;
  const big = A > B ? A : B;
  return bitLength(big) - bitLength(d) >= bits;
}

function clear(buf: Uint8Array, off: number, mask: number, len = 2): void {
  for (let i = 0; i < len; i++) buf[off + i] = buf[off + i]! & ~((mask >>> (8 * i)) & 0xff);
}

function normaliseEnv(buf: Uint8Array, off: number, o32: boolean, swIgnore: number, fipIgnore: boolean): void {
  if (o32) {
    for (const f of [0, 4, 8, 24]) clear(buf, off + f + 2, 0xffff);
    clear(buf, off + 4, SW_IGNORE | swIgnore);
    clear(buf, off + 18, 0xffff); // FOP (QEMU does not store it)
    if (fipIgnore) {
      clear(buf, off + 12, 0xffffffff, 4);
      clear(buf, off + 16, 0xffff);
    }
  } else {
    clear(buf, off + 2, SW_IGNORE | swIgnore);
    if (fipIgnore) clear(buf, off + 6, 0xffffffff, 4);
  }
}

function normalise(c: X87Case, a: Uint8Array, b: Uint8Array, notes: string[]): void {
  for (const chk of c.checks) {
    const o32 = chk.kind === 'fsave32' || chk.kind === 'env32';
    const swIgnore = chk.swIgnore ?? 0;
    if (chk.kind === 'fxsave') {
      // FOP, FIP/FCS, FDP/FDS: QEMU 7.2 stores zeros (and no FOP)
      for (const buf of [a, b]) {
        clear(buf, chk.off + 2, SW_IGNORE | swIgnore);
        clear(buf, chk.off + 6, 0xffff);
        for (let i = 8; i < 24; i += 4) clear(buf, chk.off + i, 0xffffffff, 4);
      }
      continue;
    }
    if (chk.kind === 'sw') {
      clear(a, chk.off, SW_IGNORE | swIgnore);
      clear(b, chk.off, SW_IGNORE | swIgnore);
      continue;
    }
    normaliseEnv(a, chk.off, o32, swIgnore, c.fipIgnore ?? false);
    normaliseEnv(b, chk.off, o32, swIgnore, c.fipIgnore ?? false);
    if (chk.kind === 'fsave32' || chk.kind === 'fsave16') {
      const regs = chk.off + (o32 ? 28 : 14);
      for (const slot of chk.approxSlots ?? []) {
        const at = regs + 10 * slot;
        const va = fromBytes(a, at);
        const vb = fromBytes(b, at);
        if (withinTolerance(va, vb)) b.set(a.subarray(at, at + 10), at);
        else notes.push(`ST(${slot}) beyond tolerance: ${fmt(va)} vs ${fmt(vb)}`);
      }
    }
  }
}

function fmt(x: F80): string {
  return `${x.se.toString(16).padStart(4, '0')}:${x.sig.toString(16).padStart(16, '0')}`;
}

export function compareX87(c: X87Case, qa: CaseResult, qb: CaseResult): Difference[] {
  const a: CaseResult = { ...qa, data: qa.data.slice(), regs: { ...qa.regs } };
  const b: CaseResult = { ...qb, data: qb.data.slice(), regs: { ...qb.regs } };
  const notes: string[] = [];
  normalise(c, a.data, b.data, notes);
  if (c.axStatus) {
    const m = SW_IGNORE | (c.axIgnore ?? 0);
    a.regs.eax = (a.regs.eax & ~m) >>> 0;
    b.regs.eax = (b.regs.eax & ~m) >>> 0;
  }
  const out = compareResults(c, a, b);
  for (const n of notes) out.push({ what: n, a: '', b: '' });
  return out;
}
