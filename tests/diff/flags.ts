// EFLAGS bits and, per instruction form, which arithmetic flags it reads, defines and
// leaves undefined (Intel SDM vol. 2 instruction pages and appendix A "EFLAGS cross-reference").

export const CF = 0x001, PF = 0x004, AF = 0x010, ZF = 0x040, SF = 0x080, TF = 0x100, IF = 0x200;
export const DF = 0x400, OF = 0x800, IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000;
export const AC = 0x40000, VIF = 0x80000, VIP = 0x100000, ID = 0x200000;
export const ARITH = CF | PF | AF | ZF | SF | OF;

export interface FlagEffect {
  /** flags whose value the instruction uses */
  reads: number;
  /** flags it sets to a defined value */
  def: number;
  /** flags it leaves undefined */
  undef: number;
}

export const NONE: FlagEffect = { reads: 0, def: 0, undef: 0 };
const fx = (reads: number, def: number, undef = 0): FlagEffect => ({ reads, def, undef });

/** Flags a condition code (0..15, the low nibble of Jcc/SETcc/CMOVcc) reads. */
export function ccReads(cc: number): number {
  switch (cc >> 1) {
    case 0: return OF;
    case 1: return CF;
    case 2: return ZF;
    case 3: return CF | ZF;
    case 4: return SF;
    case 5: return PF;
    case 6: return SF | OF;
    default: return ZF | SF | OF;
  }
}

export function aluFlags(name: string): FlagEffect {
  switch (name) {
    case 'add': case 'sub': case 'cmp': case 'neg': case 'cmpxchg': case 'xadd': return fx(0, ARITH);
    case 'adc': case 'sbb': return fx(CF, ARITH);
    case 'and': case 'or': case 'xor': case 'test': return fx(0, OF | CF | SF | ZF | PF, AF);
    case 'inc': case 'dec': return fx(0, OF | SF | ZF | AF | PF);
    case 'not': return NONE;
    case 'mul': case 'imul': return fx(0, CF | OF, SF | ZF | AF | PF);
    case 'div': case 'idiv': return fx(0, 0, ARITH);
    case 'bt': case 'bts': case 'btr': case 'btc': return fx(0, CF, OF | SF | AF | PF);
    case 'bsf': case 'bsr': return fx(0, ZF, CF | OF | SF | AF | PF);
    case 'cmpxchg8b': return fx(0, ZF);
    case 'daa': case 'das': return fx(AF | CF, CF | AF | SF | ZF | PF, OF);
    case 'aaa': case 'aas': return fx(AF, AF | CF, OF | SF | ZF | PF);
    case 'aam': case 'aad': return fx(0, SF | ZF | PF, OF | AF | CF);
    case 'sahf': return fx(0, SF | ZF | AF | PF | CF);
    case 'lahf': return fx(SF | ZF | AF | PF | CF, 0);
    case 'clc': case 'stc': return fx(0, CF);
    case 'cmc': return fx(CF, CF);
    case 'pushf': return fx(ARITH, 0);
    case 'popf': return fx(0, ARITH);
    case 'into': return fx(OF, 0);
    default: return NONE;
  }
}

/**
 * Shifts and rotates by a count (before masking). The count is masked to 5 bits; a
 * masked count of 0 changes no flag.
 */
export function shiftFlags(name: string, sizeBytes: number, count: number): FlagEffect {
  const bits = sizeBytes * 8;
  const mc = count & 0x1f;
  if (mc === 0) return NONE;
  const ofDef = mc === 1 ? OF : 0;
  const ofUndef = mc === 1 ? 0 : OF;
  switch (name) {
    case 'rol': case 'ror':
      // CF <- LSB/MSB of the result whenever the masked count is not 0; SF ZF AF PF untouched
      return fx(0, CF | ofDef, ofUndef);
    case 'rcl': case 'rcr': {
      const tc = bits === 8 ? mc % 9 : bits === 16 ? mc % 17 : mc;
      // tempCOUNT 0: no rotation, CF unchanged (SDM pseudo-code); OF still "undefined" unless mc == 1
      return fx(CF, (tc !== 0 ? CF : 0) | ofDef, ofUndef);
    }
    case 'shl': case 'sal': case 'shr': {
      const cf = mc < bits ? CF : 0;
      return fx(0, SF | ZF | PF | cf | ofDef, AF | ofUndef | (cf ? 0 : CF));
    }
    case 'sar':
      return fx(0, SF | ZF | PF | CF | ofDef, AF | ofUndef);
    default:
      throw new Error(`not a shift: ${name}`);
  }
}

/** SHLD/SHRD; a masked count above the operand size leaves result and flags undefined. */
export function shxdFlags(sizeBytes: number, count: number): FlagEffect & { resultUndefined: boolean } {
  const mc = count & 0x1f;
  if (mc === 0) return { ...NONE, resultUndefined: false };
  if (mc > sizeBytes * 8) return { reads: 0, def: 0, undef: ARITH, resultUndefined: true };
  return { reads: 0, def: SF | ZF | PF | CF | (mc === 1 ? OF : 0), undef: AF | (mc === 1 ? 0 : OF), resultUndefined: false };
}

export function flagNames(mask: number): string {
  const names: Array<[number, string]> = [[CF, 'CF'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [TF, 'TF'], [IF, 'IF'], [DF, 'DF'], [OF, 'OF'], [IOPL, 'IOPL'], [NT, 'NT'], [RF, 'RF'], [VM, 'VM'], [AC, 'AC'], [VIF, 'VIF'], [VIP, 'VIP'], [ID, 'ID']];
  return names.filter(([m]) => mask & m).map(([, n]) => n).join('|') || '-';
}
