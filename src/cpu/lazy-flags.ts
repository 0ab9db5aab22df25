// Lazy arithmetic flags, as in QEMU's cc_op scheme: a flag-setting instruction records
// what it did (operation, result, one operand, an auxiliary value) and the six
// arithmetic flags are computed only when something reads them. Inside a TB the
// operation is known at translation time, so condition tests compile to direct
// comparisons; across TBs the state lives in cpu.ccOp/ccDst/ccSrc/ccAux.
//
// Per operation (size = 1, 2 or 4 bytes):
//   ADD  dst = result, src = second operand            (first operand = dst - src)
//   ADC  like ADD, aux = carry in
//   SUB  dst = result, src = second operand            (first operand = dst + src)
//   SBB  like SUB, aux = borrow in
//   LOGIC dst = result                                  (CF = OF = AF = 0)
//   INC/DEC dst = result, aux = CF before the instruction
//   SHL  dst = result, src = operand shifted by count-1 (CF = its top bit)
//   SAR  dst = result, src = operand shifted by count-1 (CF = its low bit); also SHR
//   MUL  dst = low result, src = nonzero when the high part is significant (CF = OF)
//   EFLAGS src = the flags themselves

export const FLAG_CF = 0x0001;
export const FLAG_PF = 0x0004;
export const FLAG_AF = 0x0010;
export const FLAG_ZF = 0x0040;
export const FLAG_SF = 0x0080;
export const FLAG_TF = 0x0100;
export const FLAG_IF = 0x0200;
export const FLAG_DF = 0x0400;
export const FLAG_OF = 0x0800;
export const FLAG_IOPL = 0x3000;
export const FLAG_NT = 0x4000;
export const FLAG_RF = 0x10000;
export const FLAG_VM = 0x20000;
export const FLAG_AC = 0x40000;
export const FLAG_VIF = 0x80000;
export const FLAG_VIP = 0x100000;
export const FLAG_ID = 0x200000;
export const ARITH_FLAGS = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
/** Bit 1 of EFLAGS: reserved, always reads 1. */
export const FLAG_FIXED1 = 0x0002;
/**
 * Every EFLAGS bit that exists (SDM vol. 1, 3.4.3): bits 3, 5, 15 and 22-31 are reserved
 * and always read 0. Every writer of EFLAGS (IRET, POPF, task switches, SYSENTER/SYSEXIT,
 * loaders, debugger writes) goes through Cpu.setEflags, which applies this mask.
 */
export const EFLAGS_DEFINED = ARITH_FLAGS | FLAG_FIXED1 | FLAG_TF | FLAG_IF | FLAG_DF | FLAG_IOPL | FLAG_NT | FLAG_RF | FLAG_VM |
  FLAG_AC | FLAG_VIF | FLAG_VIP | FLAG_ID;

export const CC_EFLAGS = 0;
export const CC_ADD = 1;
export const CC_ADC = 4;
export const CC_SUB = 7;
export const CC_SBB = 10;
export const CC_LOGIC = 13;
export const CC_INC = 16;
export const CC_DEC = 19;
export const CC_SHL = 22;
export const CC_SAR = 25;
export const CC_MUL = 28;
export const CC_COUNT = 31;

/** Operation for a size: base + 0 (byte), + 1 (word), + 2 (dword). */
export function ccFor(base: number, size: number): number {
  return base + (size === 1 ? 0 : size === 2 ? 1 : 2);
}

export function ccBase(op: number): number {
  return op === CC_EFLAGS ? CC_EFLAGS : op - ((op - 1) % 3);
}

export function ccSize(op: number): number {
  return op === CC_EFLAGS ? 4 : [1, 2, 4][(op - 1) % 3]!;
}

export const CC_NAMES = ['EFLAGS', 'ADD', 'ADC', 'SUB', 'SBB', 'LOGIC', 'INC', 'DEC', 'SHL', 'SAR', 'MUL'];

export function ccName(op: number): string {
  if (op === CC_EFLAGS) return 'EFLAGS';
  return `${CC_NAMES[(ccBase(op) - 1) / 3 + 1]}${ccSize(op) * 8}`;
}

// PF: set when the low byte of the result has an even number of one bits.
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let n = 0;
  for (let b = i; b; b >>= 1) n += b & 1;
  PARITY[i] = n & 1 ? 0 : FLAG_PF;
}

const MASK = [0, 0xff, 0xffff, 0, 0xffffffff];
const SIGN = [0, 0x80, 0x8000, 0, 0x80000000];

/** All six arithmetic flags from a lazy state. */
export function computeFlags(op: number, dst: number, src: number, aux: number): number {
  if (op === CC_EFLAGS) return src & ARITH_FLAGS;
  const size = ccSize(op);
  const mask = MASK[size]!;
  const sign = SIGN[size]!;
  const d = (dst & mask) >>> 0;
  const zf = d === 0 ? FLAG_ZF : 0;
  const sf = d & sign ? FLAG_SF : 0;
  const pf = PARITY[d & 0xff]!;
  let cf = 0;
  let af = 0;
  let of = 0;
  switch (ccBase(op)) {
    case CC_ADD: {
      const s = (src & mask) >>> 0;
      const a = (dst - src) & mask;
      cf = d < s ? FLAG_CF : 0;
      af = (a ^ s ^ d) & 0x10;
      of = ((a ^ s ^ mask) & (a ^ d)) & sign ? FLAG_OF : 0;
      break;
    }
    case CC_ADC: {
      const s = (src & mask) >>> 0;
      const a = (dst - src - aux) & mask;
      cf = (aux ? d <= s : d < s) ? FLAG_CF : 0;
      af = (a ^ s ^ d) & 0x10;
      of = ((a ^ s ^ mask) & (a ^ d)) & sign ? FLAG_OF : 0;
      break;
    }
    case CC_SUB: {
      const s = (src & mask) >>> 0;
      const a = ((dst + src) & mask) >>> 0;
      cf = a < s ? FLAG_CF : 0;
      af = (a ^ s ^ d) & 0x10;
      of = ((a ^ s) & (a ^ d)) & sign ? FLAG_OF : 0;
      break;
    }
    case CC_SBB: {
      const s = (src & mask) >>> 0;
      const a = ((dst + src + aux) & mask) >>> 0;
      cf = (aux ? a <= s : a < s) ? FLAG_CF : 0;
      af = (a ^ s ^ d) & 0x10;
      of = ((a ^ s) & (a ^ d)) & sign ? FLAG_OF : 0;
      break;
    }
    case CC_LOGIC:
      break;
    case CC_INC: {
      cf = aux ? FLAG_CF : 0;
      const a = (d - 1) & mask;
      af = (a ^ 1 ^ d) & 0x10;
      of = d === sign ? FLAG_OF : 0;
      break;
    }
    case CC_DEC: {
      cf = aux ? FLAG_CF : 0;
      const a = (d + 1) & mask;
      af = (a ^ 1 ^ d) & 0x10;
      of = d === ((sign - 1) >>> 0) ? FLAG_OF : 0;
      break;
    }
    case CC_SHL:
      cf = src & sign ? FLAG_CF : 0;
      of = (src ^ dst) & sign ? FLAG_OF : 0;
      break;
    case CC_SAR:
      cf = src & 1 ? FLAG_CF : 0;
      of = (src ^ dst) & sign ? FLAG_OF : 0;
      break;
    case CC_MUL:
      cf = src !== 0 ? FLAG_CF : 0;
      of = cf ? FLAG_OF : 0;
      break;
  }
  return cf | pf | af | zf | sf | of;
}

/** CF alone, cheaper than computeFlags for INC/DEC and ADC/SBB carry-in. */
export function computeCarry(op: number, dst: number, src: number, aux: number): number {
  if (op === CC_EFLAGS) return src & FLAG_CF;
  const size = ccSize(op);
  const mask = MASK[size]!;
  const d = (dst & mask) >>> 0;
  switch (ccBase(op)) {
    case CC_ADD: return d < ((src & mask) >>> 0) ? 1 : 0;
    case CC_ADC: return (aux ? d <= ((src & mask) >>> 0) : d < ((src & mask) >>> 0)) ? 1 : 0;
    case CC_SUB: return (((dst + src) & mask) >>> 0) < ((src & mask) >>> 0) ? 1 : 0;
    case CC_SBB: {
      const a = ((dst + src + aux) & mask) >>> 0;
      const s = (src & mask) >>> 0;
      return (aux ? a <= s : a < s) ? 1 : 0;
    }
    case CC_LOGIC: return 0;
    case CC_INC: case CC_DEC: return aux ? 1 : 0;
    case CC_SHL: return src & SIGN[size]! ? 1 : 0;
    case CC_SAR: return src & 1;
    case CC_MUL: return src !== 0 ? 1 : 0;
  }
  return 0;
}

/**
 * Condition code test (the low nibble of Jcc/SETcc/CMOVcc) on a lazy state.
 * 0 O, 1 NO, 2 B, 3 AE, 4 E, 5 NE, 6 BE, 7 A, 8 S, 9 NS, 10 P, 11 NP, 12 L, 13 GE, 14 LE, 15 G.
 */
export function testCondition(cc: number, op: number, dst: number, src: number, aux: number): boolean {
  const f = computeFlags(op, dst, src, aux);
  return testFlags(cc, f);
}

export function testFlags(cc: number, f: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = (f & FLAG_OF) !== 0; break;
    case 1: r = (f & FLAG_CF) !== 0; break;
    case 2: r = (f & FLAG_ZF) !== 0; break;
    case 3: r = (f & (FLAG_CF | FLAG_ZF)) !== 0; break;
    case 4: r = (f & FLAG_SF) !== 0; break;
    case 5: r = (f & FLAG_PF) !== 0; break;
    case 6: r = ((f & FLAG_SF) !== 0) !== ((f & FLAG_OF) !== 0); break;
    default: r = (f & FLAG_ZF) !== 0 || ((f & FLAG_SF) !== 0) !== ((f & FLAG_OF) !== 0); break;
  }
  return cc & 1 ? !r : r;
}
