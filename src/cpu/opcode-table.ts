// The one declarative opcode table of the i386 integer instruction set (plus the P6
// additions we implement: CMOVcc, CMPXCHG8B, RDTSC, RDMSR/WRMSR, CPUID, BSWAP, multi-byte
// NOP) and of MMX, SSE, SSE2 and SSE3. It feeds the decoder, the translator and the generated
// tests (tests/simd/simd-generator.ts draws its instructions from it).
//
// Operand notation follows the Intel SDM, volume 2, appendix A.2:
//   E? ModRM r/m (register or memory)   G? ModRM reg          M? memory only
//   R? ModRM r/m as register            S  segment register    C/D control/debug register
//   I? immediate (Ibs: imm8 sign-extended to the operand size)  J? relative offset
//   O? moffs (absolute offset)          Ap far pointer immediate
//   Z? register in the low 3 bits of the opcode
//   Evw: r/m whose register form has the operand size but whose memory form is always a
//        word (SDM "r16/r32/m16": MOV r/m,Sreg, SLDT, STR, SMSW; the register is written
//        zero-extended under a 32-bit operand size on P6)
//   R?: the ModRM.mod bits are ignored and r/m always names a register (MOV CRn/DRn:
//        SDM vol. 2, MOV-Move to/from Control Registers, "the 2 bits in the mod field are
//        ignored"); no displacement follows.
//   size letters: b byte, w word, d dword, v word/dword by operand size,
//                 z word/dword immediate (never 64), p far pointer, q qword, a BOUND pair,
//                 s 6-byte descriptor-table register image
// Fixed operands: AL CL DX eAX 1 and the segment registers ES CS SS DS FS GS.

export const F_BLOCK_END = 1 << 0; // control transfer or state change: the TB ends after it
export const F_MODRM = 1 << 1; // has a ModRM byte (derived from operands or given for groups)
export const F_LOCKABLE = 1 << 2; // LOCK allowed when the destination is memory
export const F_STRING = 1 << 3; // string instruction: REP/REPE/REPNE apply
export const F_PRIV = 1 << 4; // CPL 0 only (#GP otherwise)
export const F_IO = 1 << 5; // port I/O: IOPL / permission checked
export const F_NO_FLAGS = 1 << 6; // does not read or write arithmetic flags
export const F_X87 = 1 << 7; // x87 escape
export const F_INVALID = 1 << 8; // #UD
export const F_RM_REG = 1 << 9; // ModRM.mod ignored: r/m is always a register (MOV CRn/DRn)
export const F_SIMD = 1 << 10; // MMX/SSE/SSE2: translated by translate/simd-generators.ts

export interface OpcodeEntry {
  readonly mnem: string;
  readonly operands: readonly string[];
  readonly flags: number;
  /** CPUID.1:EDX bits the instruction needs (MMX, SSE, SSE2...): #UD on a model without them */
  readonly feat?: number;
  /** CPUID.1:ECX bits the instruction needs (SSE3) */
  readonly featEcx?: number;
}

/**
 * An opcode whose meaning depends on the mandatory prefix (SDM vol. 2, 2.1.2): entries
 * for none, 66, F3 and F2 (F3/F2 take precedence over 66; the prefix is then not an
 * operand-size or REP prefix).
 */
export interface PrefixedEntry {
  readonly simd: readonly (OpcodeEntry | null)[];
  readonly flags: number;
}

export interface GroupEntry {
  // Indexed by ModRM.reg; `reg3` overrides a slot when ModRM.mod is 3 (register form).
  readonly group: readonly (OpcodeEntry | PrefixedEntry | null)[];
  readonly reg3?: readonly (OpcodeEntry | PrefixedEntry | null)[];
  readonly flags: number;
}

export type TableSlot = OpcodeEntry | GroupEntry | PrefixedEntry | null;

function op(mnem: string, operands = '', flags = 0): OpcodeEntry {
  const list = operands === '' ? [] : operands.split(',');
  return {
    mnem,
    operands: list,
    flags: flags | (list.some(usesModrm) ? F_MODRM : 0) | (list.some((o) => o[0] === 'R') ? F_RM_REG : 0),
  };
}

function group(entries: (OpcodeEntry | PrefixedEntry | null)[], reg3?: (OpcodeEntry | PrefixedEntry | null)[]): GroupEntry {
  return reg3 ? { group: entries, reg3, flags: F_MODRM } : { group: entries, flags: F_MODRM };
}

/** Fixed operands: registers named by the opcode itself (no ModRM). */
const FIXED_OPERANDS = ['AL', 'CL', 'DX', 'eAX', '1', 'ES', 'CS', 'SS', 'DS', 'FS', 'GS'];

export function usesModrm(spec: string): boolean {
  return /^[EGMRSCDVWUPQN]/.test(spec) && !FIXED_OPERANDS.includes(spec);
}

export function isGroup(slot: TableSlot): slot is GroupEntry {
  return slot !== null && 'group' in slot;
}

export function isPrefixed(slot: TableSlot | OpcodeEntry | PrefixedEntry): slot is PrefixedEntry {
  return slot !== null && 'simd' in slot;
}

const B = F_BLOCK_END;
const L = F_LOCKABLE;
const STR = F_STRING;
const P = F_PRIV;
const IO = F_IO;

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFT = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'shl', 'sar'];
export const CONDITIONS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** The one-byte map, index = opcode byte. */
export const ONE_BYTE: TableSlot[] = new Array<TableSlot>(256).fill(null);
/** The two-byte map (0F xx), index = second byte. */
export const TWO_BYTE: TableSlot[] = new Array<TableSlot>(256).fill(null);

ALU.forEach((m, i) => {
  const base = i * 8;
  const lock = m === 'cmp' ? 0 : L;
  ONE_BYTE[base + 0] = op(m, 'Eb,Gb', lock);
  ONE_BYTE[base + 1] = op(m, 'Ev,Gv', lock);
  ONE_BYTE[base + 2] = op(m, 'Gb,Eb');
  ONE_BYTE[base + 3] = op(m, 'Gv,Ev');
  ONE_BYTE[base + 4] = op(m, 'AL,Ib');
  ONE_BYTE[base + 5] = op(m, 'eAX,Iz');
});
ONE_BYTE[0x06] = op('push', 'ES', F_NO_FLAGS);
ONE_BYTE[0x07] = op('pop', 'ES', B | F_NO_FLAGS);
ONE_BYTE[0x0e] = op('push', 'CS', F_NO_FLAGS);
ONE_BYTE[0x16] = op('push', 'SS', F_NO_FLAGS);
ONE_BYTE[0x17] = op('pop', 'SS', B | F_NO_FLAGS);
ONE_BYTE[0x1e] = op('push', 'DS', F_NO_FLAGS);
ONE_BYTE[0x1f] = op('pop', 'DS', B | F_NO_FLAGS);
ONE_BYTE[0x27] = op('daa');
ONE_BYTE[0x2f] = op('das');
ONE_BYTE[0x37] = op('aaa');
ONE_BYTE[0x3f] = op('aas');
for (let r = 0; r < 8; r++) {
  ONE_BYTE[0x40 + r] = op('inc', 'Zv');
  ONE_BYTE[0x48 + r] = op('dec', 'Zv');
  ONE_BYTE[0x50 + r] = op('push', 'Zv', F_NO_FLAGS);
  ONE_BYTE[0x58 + r] = op('pop', 'Zv', F_NO_FLAGS);
  ONE_BYTE[0xb0 + r] = op('mov', 'Zb,Ib', F_NO_FLAGS);
  ONE_BYTE[0xb8 + r] = op('mov', 'Zv,Iv', F_NO_FLAGS);
  // BSWAP r16 (66 prefix) is "undefined" per the SDM; decoded with the operand size so that
  // the translator sees what the program asked for (real P6 parts clear the low word).
  TWO_BYTE[0xc8 + r] = op('bswap', 'Zv', F_NO_FLAGS);
}
for (let r = 1; r < 8; r++) ONE_BYTE[0x90 + r] = op('xchg', 'Zv,eAX', F_NO_FLAGS);
ONE_BYTE[0x60] = op('pusha', '', F_NO_FLAGS);
ONE_BYTE[0x61] = op('popa', '', F_NO_FLAGS);
ONE_BYTE[0x62] = op('bound', 'Gv,Ma', F_NO_FLAGS);
ONE_BYTE[0x63] = op('arpl', 'Ew,Gw');
ONE_BYTE[0x68] = op('push', 'Iz', F_NO_FLAGS);
ONE_BYTE[0x69] = op('imul', 'Gv,Ev,Iz');
ONE_BYTE[0x6a] = op('push', 'Ibs', F_NO_FLAGS);
ONE_BYTE[0x6b] = op('imul', 'Gv,Ev,Ibs');
ONE_BYTE[0x6c] = op('ins', 'b', STR | IO | B | F_NO_FLAGS);
ONE_BYTE[0x6d] = op('ins', 'v', STR | IO | B | F_NO_FLAGS);
ONE_BYTE[0x6e] = op('outs', 'b', STR | IO | B | F_NO_FLAGS);
ONE_BYTE[0x6f] = op('outs', 'v', STR | IO | B | F_NO_FLAGS);
for (let c = 0; c < 16; c++) {
  ONE_BYTE[0x70 + c] = op('j' + CONDITIONS[c], 'Jb', B);
  TWO_BYTE[0x80 + c] = op('j' + CONDITIONS[c], 'Jz', B);
  TWO_BYTE[0x90 + c] = op('set' + CONDITIONS[c], 'Eb');
  TWO_BYTE[0x40 + c] = op('cmov' + CONDITIONS[c], 'Gv,Ev');
}
ONE_BYTE[0x80] = group(ALU.map((m) => op(m, 'Eb,Ib', m === 'cmp' ? 0 : L)));
ONE_BYTE[0x81] = group(ALU.map((m) => op(m, 'Ev,Iz', m === 'cmp' ? 0 : L)));
ONE_BYTE[0x82] = group(ALU.map((m) => op(m, 'Eb,Ib', m === 'cmp' ? 0 : L)));
ONE_BYTE[0x83] = group(ALU.map((m) => op(m, 'Ev,Ibs', m === 'cmp' ? 0 : L)));
ONE_BYTE[0x84] = op('test', 'Eb,Gb');
ONE_BYTE[0x85] = op('test', 'Ev,Gv');
ONE_BYTE[0x86] = op('xchg', 'Eb,Gb', L | F_NO_FLAGS);
ONE_BYTE[0x87] = op('xchg', 'Ev,Gv', L | F_NO_FLAGS);
ONE_BYTE[0x88] = op('mov', 'Eb,Gb', F_NO_FLAGS);
ONE_BYTE[0x89] = op('mov', 'Ev,Gv', F_NO_FLAGS);
ONE_BYTE[0x8a] = op('mov', 'Gb,Eb', F_NO_FLAGS);
ONE_BYTE[0x8b] = op('mov', 'Gv,Ev', F_NO_FLAGS);
ONE_BYTE[0x8c] = op('mov', 'Evw,Sw', F_NO_FLAGS);
ONE_BYTE[0x8d] = op('lea', 'Gv,M', F_NO_FLAGS);
// MOV to a segment register ends the block: SS starts an interrupt shadow and any
// segment load may change the translation flags (flat/limits).
ONE_BYTE[0x8e] = op('mov', 'Sw,Ew', B | F_NO_FLAGS);
ONE_BYTE[0x8f] = group([op('pop', 'Ev', F_NO_FLAGS), null, null, null, null, null, null, null]);
ONE_BYTE[0x90] = op('nop', '', F_NO_FLAGS);
ONE_BYTE[0x98] = op('cbw', '', F_NO_FLAGS);
ONE_BYTE[0x99] = op('cwd', '', F_NO_FLAGS);
ONE_BYTE[0x9a] = op('callf', 'Ap', B | F_NO_FLAGS);
ONE_BYTE[0x9b] = op('fwait', '', F_NO_FLAGS);
ONE_BYTE[0x9c] = op('pushf');
ONE_BYTE[0x9d] = op('popf', '', B);
ONE_BYTE[0x9e] = op('sahf');
ONE_BYTE[0x9f] = op('lahf');
ONE_BYTE[0xa0] = op('mov', 'AL,Ob', F_NO_FLAGS);
ONE_BYTE[0xa1] = op('mov', 'eAX,Ov', F_NO_FLAGS);
ONE_BYTE[0xa2] = op('mov', 'Ob,AL', F_NO_FLAGS);
ONE_BYTE[0xa3] = op('mov', 'Ov,eAX', F_NO_FLAGS);
ONE_BYTE[0xa4] = op('movs', 'b', STR | F_NO_FLAGS);
ONE_BYTE[0xa5] = op('movs', 'v', STR | F_NO_FLAGS);
ONE_BYTE[0xa6] = op('cmps', 'b', STR);
ONE_BYTE[0xa7] = op('cmps', 'v', STR);
ONE_BYTE[0xa8] = op('test', 'AL,Ib');
ONE_BYTE[0xa9] = op('test', 'eAX,Iz');
ONE_BYTE[0xaa] = op('stos', 'b', STR | F_NO_FLAGS);
ONE_BYTE[0xab] = op('stos', 'v', STR | F_NO_FLAGS);
ONE_BYTE[0xac] = op('lods', 'b', STR | F_NO_FLAGS);
ONE_BYTE[0xad] = op('lods', 'v', STR | F_NO_FLAGS);
ONE_BYTE[0xae] = op('scas', 'b', STR);
ONE_BYTE[0xaf] = op('scas', 'v', STR);
ONE_BYTE[0xc0] = group(SHIFT.map((m) => op(m, 'Eb,Ib')));
ONE_BYTE[0xc1] = group(SHIFT.map((m) => op(m, 'Ev,Ib')));
ONE_BYTE[0xc2] = op('ret', 'Iw', B | F_NO_FLAGS);
ONE_BYTE[0xc3] = op('ret', '', B | F_NO_FLAGS);
ONE_BYTE[0xc4] = op('les', 'Gv,Mp', B | F_NO_FLAGS);
ONE_BYTE[0xc5] = op('lds', 'Gv,Mp', B | F_NO_FLAGS);
ONE_BYTE[0xc6] = group([op('mov', 'Eb,Ib', F_NO_FLAGS), null, null, null, null, null, null, null]);
ONE_BYTE[0xc7] = group([op('mov', 'Ev,Iz', F_NO_FLAGS), null, null, null, null, null, null, null]);
ONE_BYTE[0xc8] = op('enter', 'Iw,Ib', F_NO_FLAGS);
ONE_BYTE[0xc9] = op('leave', '', F_NO_FLAGS);
ONE_BYTE[0xca] = op('retf', 'Iw', B | F_NO_FLAGS);
ONE_BYTE[0xcb] = op('retf', '', B | F_NO_FLAGS);
ONE_BYTE[0xcc] = op('int3', '', B);
ONE_BYTE[0xcd] = op('int', 'Ib', B);
ONE_BYTE[0xce] = op('into', '', B);
ONE_BYTE[0xcf] = op('iret', '', B);
ONE_BYTE[0xd0] = group(SHIFT.map((m) => op(m, 'Eb,1')));
ONE_BYTE[0xd1] = group(SHIFT.map((m) => op(m, 'Ev,1')));
ONE_BYTE[0xd2] = group(SHIFT.map((m) => op(m, 'Eb,CL')));
ONE_BYTE[0xd3] = group(SHIFT.map((m) => op(m, 'Ev,CL')));
ONE_BYTE[0xd4] = op('aam', 'Ib');
ONE_BYTE[0xd5] = op('aad', 'Ib');
ONE_BYTE[0xd6] = op('salc');
ONE_BYTE[0xd7] = op('xlat', '', F_NO_FLAGS);
for (let i = 0xd8; i <= 0xdf; i++) ONE_BYTE[i] = { mnem: 'x87', operands: ['Ex'], flags: F_MODRM | F_X87 };
ONE_BYTE[0xe0] = op('loopne', 'Jb', B);
ONE_BYTE[0xe1] = op('loope', 'Jb', B);
ONE_BYTE[0xe2] = op('loop', 'Jb', B | F_NO_FLAGS);
ONE_BYTE[0xe3] = op('jcxz', 'Jb', B | F_NO_FLAGS);
ONE_BYTE[0xe4] = op('in', 'AL,Ib', IO | B | F_NO_FLAGS);
ONE_BYTE[0xe5] = op('in', 'eAX,Ib', IO | B | F_NO_FLAGS);
ONE_BYTE[0xe6] = op('out', 'Ib,AL', IO | B | F_NO_FLAGS);
ONE_BYTE[0xe7] = op('out', 'Ib,eAX', IO | B | F_NO_FLAGS);
ONE_BYTE[0xe8] = op('call', 'Jz', B | F_NO_FLAGS);
ONE_BYTE[0xe9] = op('jmp', 'Jz', B | F_NO_FLAGS);
ONE_BYTE[0xea] = op('jmpf', 'Ap', B | F_NO_FLAGS);
ONE_BYTE[0xeb] = op('jmp', 'Jb', B | F_NO_FLAGS);
ONE_BYTE[0xec] = op('in', 'AL,DX', IO | B | F_NO_FLAGS);
ONE_BYTE[0xed] = op('in', 'eAX,DX', IO | B | F_NO_FLAGS);
ONE_BYTE[0xee] = op('out', 'DX,AL', IO | B | F_NO_FLAGS);
ONE_BYTE[0xef] = op('out', 'DX,eAX', IO | B | F_NO_FLAGS);
ONE_BYTE[0xf1] = op('int1', '', B);
ONE_BYTE[0xf4] = op('hlt', '', B | P | F_NO_FLAGS);
ONE_BYTE[0xf5] = op('cmc');
ONE_BYTE[0xf6] = group([
  op('test', 'Eb,Ib'), op('test', 'Eb,Ib'), op('not', 'Eb', L | F_NO_FLAGS), op('neg', 'Eb', L),
  op('mul', 'Eb'), op('imul', 'Eb'), op('div', 'Eb'), op('idiv', 'Eb'),
]);
ONE_BYTE[0xf7] = group([
  op('test', 'Ev,Iz'), op('test', 'Ev,Iz'), op('not', 'Ev', L | F_NO_FLAGS), op('neg', 'Ev', L),
  op('mul', 'Ev'), op('imul', 'Ev'), op('div', 'Ev'), op('idiv', 'Ev'),
]);
ONE_BYTE[0xf8] = op('clc');
ONE_BYTE[0xf9] = op('stc');
ONE_BYTE[0xfa] = op('cli', '', F_NO_FLAGS);
// STI ends the block so that the one-instruction interrupt shadow is handled by the loop.
ONE_BYTE[0xfb] = op('sti', '', B | F_NO_FLAGS);
ONE_BYTE[0xfc] = op('cld', '', F_NO_FLAGS);
ONE_BYTE[0xfd] = op('std', '', F_NO_FLAGS);
ONE_BYTE[0xfe] = group([op('inc', 'Eb', L), op('dec', 'Eb', L), null, null, null, null, null, null]);
ONE_BYTE[0xff] = group([
  op('inc', 'Ev', L), op('dec', 'Ev', L), op('call', 'Ev', B | F_NO_FLAGS), op('callf', 'Mp', B | F_NO_FLAGS),
  op('jmp', 'Ev', B | F_NO_FLAGS), op('jmpf', 'Mp', B | F_NO_FLAGS), op('push', 'Ev', F_NO_FLAGS), null,
]);

// Two-byte map.
TWO_BYTE[0x00] = group([
  op('sldt', 'Evw', F_NO_FLAGS), op('str', 'Evw', F_NO_FLAGS), op('lldt', 'Ew', B | P | F_NO_FLAGS),
  op('ltr', 'Ew', B | P | F_NO_FLAGS), op('verr', 'Ew'), op('verw', 'Ew'), null, null,
]);
TWO_BYTE[0x01] = group(
  [
    op('sgdt', 'Ms', F_NO_FLAGS), op('sidt', 'Ms', F_NO_FLAGS), op('lgdt', 'Ms', B | P | F_NO_FLAGS),
    op('lidt', 'Ms', B | P | F_NO_FLAGS), op('smsw', 'Evw', F_NO_FLAGS), null,
    op('lmsw', 'Ew', B | P | F_NO_FLAGS), op('invlpg', 'M', B | P | F_NO_FLAGS),
  ],
  [null, null, null, null, op('smsw', 'Evw', F_NO_FLAGS), null, op('lmsw', 'Ew', B | P | F_NO_FLAGS), null],
);
TWO_BYTE[0x02] = op('lar', 'Gv,Ew');
TWO_BYTE[0x03] = op('lsl', 'Gv,Ew');
TWO_BYTE[0x06] = op('clts', '', B | P | F_NO_FLAGS);
TWO_BYTE[0x08] = op('invd', '', P | F_NO_FLAGS);
TWO_BYTE[0x09] = op('wbinvd', '', P | F_NO_FLAGS);
TWO_BYTE[0x0b] = op('ud2', '', B | F_NO_FLAGS);
// Hint NOPs (P6): 0F 19-1F with a ModRM operand that is decoded but not accessed.
for (let i = 0x19; i <= 0x1f; i++) TWO_BYTE[i] = op('nop', 'Ev', F_NO_FLAGS);
// The prefetch space, as QEMU 7.2 runs it on every CPU model (measured): 0F 18 (PREFETCHh
// and its reserved forms) and 0F 0D (PREFETCH/PREFETCHW) with a memory operand are NOPs
// that access nothing; their register forms raise #UD.
TWO_BYTE[0x18] = op('nop', 'M', F_NO_FLAGS);
TWO_BYTE[0x0d] = op('nop', 'M', F_NO_FLAGS);
TWO_BYTE[0x20] = op('mov', 'Rd,Cd', P | F_NO_FLAGS);
TWO_BYTE[0x21] = op('mov', 'Rd,Dd', P | F_NO_FLAGS);
TWO_BYTE[0x22] = op('mov', 'Cd,Rd', B | P | F_NO_FLAGS);
TWO_BYTE[0x23] = op('mov', 'Dd,Rd', B | P | F_NO_FLAGS);
TWO_BYTE[0x30] = op('wrmsr', '', B | P | F_NO_FLAGS);
TWO_BYTE[0x31] = op('rdtsc', '', F_NO_FLAGS);
TWO_BYTE[0x32] = op('rdmsr', '', P | F_NO_FLAGS);
TWO_BYTE[0x33] = op('rdpmc', '', F_NO_FLAGS);
TWO_BYTE[0x34] = op('sysenter', '', B | F_NO_FLAGS);
TWO_BYTE[0x35] = op('sysexit', '', B | F_NO_FLAGS);
TWO_BYTE[0xa0] = op('push', 'FS', F_NO_FLAGS);
TWO_BYTE[0xa1] = op('pop', 'FS', B | F_NO_FLAGS);
TWO_BYTE[0xa2] = op('cpuid', '', F_NO_FLAGS);
TWO_BYTE[0xa3] = op('bt', 'Ev,Gv');
TWO_BYTE[0xa4] = op('shld', 'Ev,Gv,Ib');
TWO_BYTE[0xa5] = op('shld', 'Ev,Gv,CL');
TWO_BYTE[0xa8] = op('push', 'GS', F_NO_FLAGS);
TWO_BYTE[0xa9] = op('pop', 'GS', B | F_NO_FLAGS);
TWO_BYTE[0xab] = op('bts', 'Ev,Gv', L);
TWO_BYTE[0xac] = op('shrd', 'Ev,Gv,Ib');
TWO_BYTE[0xad] = op('shrd', 'Ev,Gv,CL');
TWO_BYTE[0xaf] = op('imul', 'Gv,Ev');
TWO_BYTE[0xb0] = op('cmpxchg', 'Eb,Gb', L);
TWO_BYTE[0xb1] = op('cmpxchg', 'Ev,Gv', L);
TWO_BYTE[0xb2] = op('lss', 'Gv,Mp', B | F_NO_FLAGS);
TWO_BYTE[0xb3] = op('btr', 'Ev,Gv', L);
TWO_BYTE[0xb4] = op('lfs', 'Gv,Mp', B | F_NO_FLAGS);
TWO_BYTE[0xb5] = op('lgs', 'Gv,Mp', B | F_NO_FLAGS);
TWO_BYTE[0xb6] = op('movzx', 'Gv,Eb', F_NO_FLAGS);
TWO_BYTE[0xb7] = op('movzx', 'Gv,Ew', F_NO_FLAGS);
TWO_BYTE[0xb9] = op('ud1', 'Gv,Ev', B | F_NO_FLAGS);
TWO_BYTE[0xba] = group([null, null, null, null, op('bt', 'Ev,Ib'), op('bts', 'Ev,Ib', L), op('btr', 'Ev,Ib', L), op('btc', 'Ev,Ib', L)]);
TWO_BYTE[0xbb] = op('btc', 'Ev,Gv', L);
TWO_BYTE[0xbc] = op('bsf', 'Gv,Ev');
TWO_BYTE[0xbd] = op('bsr', 'Gv,Ev');
TWO_BYTE[0xbe] = op('movsx', 'Gv,Eb', F_NO_FLAGS);
TWO_BYTE[0xbf] = op('movsx', 'Gv,Ew', F_NO_FLAGS);
TWO_BYTE[0xc0] = op('xadd', 'Eb,Gb', L);
TWO_BYTE[0xc1] = op('xadd', 'Ev,Gv', L);
TWO_BYTE[0xc7] = group([null, op('cmpxchg8b', 'Mq', L), null, null, null, null, null, null], new Array(8).fill(null));
TWO_BYTE[0xff] = op('ud0', 'Gv,Ev', B | F_NO_FLAGS);

// ---- MMX, SSE, SSE2 (SDM vol. 2, appendix A, tables) ------------------------
// Operands: V xmm (ModRM.reg), W xmm or memory (r/m), U xmm (r/m, register only), P mm
// (ModRM.reg), Q mm or memory, N mm (r/m, register only); sizes x 16 bytes, q 8, d 4, w 2.
// The mandatory prefix picks the entry: [none, 66, F3, F2].
const CPUID_MMX_BIT = 1 << 23;
const CPUID_SSE_BIT = 1 << 25;
const CPUID_SSE2_BIT = 1 << 26;
const CPUID_CLFSH_BIT = 1 << 19;
const CPUID_EXT_SSE3_BIT = 1 << 0;

function feat(e: OpcodeEntry, bits: number): OpcodeEntry {
  return { ...e, flags: e.flags | F_SIMD, feat: bits };
}
function mmx(m: string, o: string): OpcodeEntry {
  return feat(op(m, o, F_NO_FLAGS), CPUID_MMX_BIT);
}
function sse(m: string, o: string, flags = F_NO_FLAGS): OpcodeEntry {
  return feat(op(m, o, flags), CPUID_SSE_BIT);
}
function sse2(m: string, o: string, flags = F_NO_FLAGS): OpcodeEntry {
  return feat(op(m, o, flags), CPUID_SSE2_BIT);
}
function sse3(m: string, o: string): OpcodeEntry {
  return { ...op(m, o, F_NO_FLAGS | F_SIMD), featEcx: CPUID_EXT_SSE3_BIT };
}
function pfx(np: OpcodeEntry | null, p66: OpcodeEntry | null, f3: OpcodeEntry | null, f2: OpcodeEntry | null): PrefixedEntry {
  const anyModrm = [np, p66, f3, f2].some((e) => e !== null && (e.flags & F_MODRM) !== 0 && e.operands.length > 0);
  return { simd: [np, p66, f3, f2], flags: anyModrm ? F_MODRM : 0 };
}
/** A float operation in its four forms: ps, pd, ss, sd. */
function fp4(m: string, extra = ''): PrefixedEntry {
  return pfx(sse(m + 'ps', 'Vx,Wx' + extra), sse2(m + 'pd', 'Vx,Wx' + extra), sse(m + 'ss', 'Vx,Wd' + extra), sse2(m + 'sd', 'Vx,Wq' + extra));
}
/** An MMX integer operation with its SSE2 form on XMM (66 prefix). `mmxFeat`: what the MMX form needs. */
function pint(m: string, mmxSrc = 'Qq', mmxFeat = CPUID_MMX_BIT): PrefixedEntry {
  return pfx(feat(op(m, 'Pq,' + mmxSrc, F_NO_FLAGS), mmxFeat), sse2(m, 'Vx,Wx'), null, null);
}

TWO_BYTE[0x10] = pfx(sse('movups', 'Vx,Wx'), sse2('movupd', 'Vx,Wx'), sse('movss', 'Vx,Wd'), sse2('movsd', 'Vx,Wq'));
TWO_BYTE[0x11] = pfx(sse('movups', 'Wx,Vx'), sse2('movupd', 'Wx,Vx'), sse('movss', 'Wd,Vx'), sse2('movsd', 'Wq,Vx'));
TWO_BYTE[0x12] = pfx(sse('movlps', 'Vx,Wq'), sse2('movlpd', 'Vx,Mq'), sse3('movsldup', 'Vx,Wx'), sse3('movddup', 'Vx,Wq'));
TWO_BYTE[0x13] = pfx(sse('movlps', 'Mq,Vx'), sse2('movlpd', 'Mq,Vx'), null, null);
TWO_BYTE[0x14] = pfx(sse('unpcklps', 'Vx,Wx'), sse2('unpcklpd', 'Vx,Wx'), null, null);
TWO_BYTE[0x15] = pfx(sse('unpckhps', 'Vx,Wx'), sse2('unpckhpd', 'Vx,Wx'), null, null);
TWO_BYTE[0x16] = pfx(sse('movhps', 'Vx,Wq'), sse2('movhpd', 'Vx,Mq'), sse3('movshdup', 'Vx,Wx'), null);
TWO_BYTE[0x17] = pfx(sse('movhps', 'Mq,Vx'), sse2('movhpd', 'Mq,Vx'), null, null);
TWO_BYTE[0x28] = pfx(sse('movaps', 'Vx,Wx'), sse2('movapd', 'Vx,Wx'), null, null);
TWO_BYTE[0x29] = pfx(sse('movaps', 'Wx,Vx'), sse2('movapd', 'Wx,Vx'), null, null);
TWO_BYTE[0x2a] = pfx(sse('cvtpi2ps', 'Vx,Qq'), sse2('cvtpi2pd', 'Vx,Qq'), sse('cvtsi2ss', 'Vx,Ed'), sse2('cvtsi2sd', 'Vx,Ed'));
TWO_BYTE[0x2b] = pfx(sse('movntps', 'Mx,Vx'), sse2('movntpd', 'Mx,Vx'), null, null);
TWO_BYTE[0x2c] = pfx(sse('cvttps2pi', 'Pq,Wq'), sse2('cvttpd2pi', 'Pq,Wx'), sse('cvttss2si', 'Gd,Wd'), sse2('cvttsd2si', 'Gd,Wq'));
TWO_BYTE[0x2d] = pfx(sse('cvtps2pi', 'Pq,Wq'), sse2('cvtpd2pi', 'Pq,Wx'), sse('cvtss2si', 'Gd,Wd'), sse2('cvtsd2si', 'Gd,Wq'));
TWO_BYTE[0x2e] = pfx(sse('ucomiss', 'Vx,Wd', 0), sse2('ucomisd', 'Vx,Wq', 0), null, null);
TWO_BYTE[0x2f] = pfx(sse('comiss', 'Vx,Wd', 0), sse2('comisd', 'Vx,Wq', 0), null, null);
TWO_BYTE[0x50] = pfx(sse('movmskps', 'Gd,Ux'), sse2('movmskpd', 'Gd,Ux'), null, null);
TWO_BYTE[0x51] = fp4('sqrt');
TWO_BYTE[0x52] = pfx(sse('rsqrtps', 'Vx,Wx'), null, sse('rsqrtss', 'Vx,Wd'), null);
TWO_BYTE[0x53] = pfx(sse('rcpps', 'Vx,Wx'), null, sse('rcpss', 'Vx,Wd'), null);
TWO_BYTE[0x54] = pfx(sse('andps', 'Vx,Wx'), sse2('andpd', 'Vx,Wx'), null, null);
TWO_BYTE[0x55] = pfx(sse('andnps', 'Vx,Wx'), sse2('andnpd', 'Vx,Wx'), null, null);
TWO_BYTE[0x56] = pfx(sse('orps', 'Vx,Wx'), sse2('orpd', 'Vx,Wx'), null, null);
TWO_BYTE[0x57] = pfx(sse('xorps', 'Vx,Wx'), sse2('xorpd', 'Vx,Wx'), null, null);
TWO_BYTE[0x58] = fp4('add');
TWO_BYTE[0x59] = fp4('mul');
TWO_BYTE[0x5a] = pfx(sse2('cvtps2pd', 'Vx,Wq'), sse2('cvtpd2ps', 'Vx,Wx'), sse2('cvtss2sd', 'Vx,Wd'), sse2('cvtsd2ss', 'Vx,Wq'));
TWO_BYTE[0x5b] = pfx(sse2('cvtdq2ps', 'Vx,Wx'), sse2('cvtps2dq', 'Vx,Wx'), sse2('cvttps2dq', 'Vx,Wx'), null);
TWO_BYTE[0x5c] = fp4('sub');
TWO_BYTE[0x5d] = fp4('min');
TWO_BYTE[0x5e] = fp4('div');
TWO_BYTE[0x5f] = fp4('max');
['punpcklbw', 'punpcklwd', 'punpckldq'].forEach((m, i) => { TWO_BYTE[0x60 + i] = pint(m, 'Qd'); });
['packsswb', 'pcmpgtb', 'pcmpgtw', 'pcmpgtd', 'packuswb', 'punpckhbw', 'punpckhwd', 'punpckhdq', 'packssdw'].forEach((m, i) => {
  TWO_BYTE[0x63 + i] = pint(m);
});
TWO_BYTE[0x6c] = pfx(null, sse2('punpcklqdq', 'Vx,Wx'), null, null);
TWO_BYTE[0x6d] = pfx(null, sse2('punpckhqdq', 'Vx,Wx'), null, null);
TWO_BYTE[0x6e] = pfx(mmx('movd', 'Pq,Ed'), sse2('movd', 'Vx,Ed'), null, null);
TWO_BYTE[0x6f] = pfx(mmx('movq', 'Pq,Qq'), sse2('movdqa', 'Vx,Wx'), sse2('movdqu', 'Vx,Wx'), null);
TWO_BYTE[0x70] = pfx(sse('pshufw', 'Pq,Qq,Ib'), sse2('pshufd', 'Vx,Wx,Ib'), sse2('pshufhw', 'Vx,Wx,Ib'), sse2('pshuflw', 'Vx,Wx,Ib'));
const shiftImm = (m: string): PrefixedEntry => pfx(mmx(m, 'Nq,Ib'), sse2(m, 'Ux,Ib'), null, null);
TWO_BYTE[0x71] = group([null, null, shiftImm('psrlw'), null, shiftImm('psraw'), null, shiftImm('psllw'), null]);
TWO_BYTE[0x72] = group([null, null, shiftImm('psrld'), null, shiftImm('psrad'), null, shiftImm('pslld'), null]);
TWO_BYTE[0x73] = group([
  null, null, shiftImm('psrlq'), pfx(null, sse2('psrldq', 'Ux,Ib'), null, null), null, null, shiftImm('psllq'),
  pfx(null, sse2('pslldq', 'Ux,Ib'), null, null),
]);
['pcmpeqb', 'pcmpeqw', 'pcmpeqd'].forEach((m, i) => { TWO_BYTE[0x74 + i] = pint(m); });
TWO_BYTE[0x77] = pfx(mmx('emms', ''), null, null, null);
TWO_BYTE[0x7e] = pfx(mmx('movd', 'Ed,Pq'), sse2('movd', 'Ed,Vx'), sse2('movq', 'Vx,Wq'), null);
TWO_BYTE[0x7f] = pfx(mmx('movq', 'Qq,Pq'), sse2('movdqa', 'Wx,Vx'), sse2('movdqu', 'Wx,Vx'), null);
TWO_BYTE[0xc2] = fp4('cmp', ',Ib');
TWO_BYTE[0xc3] = pfx(sse2('movnti', 'Md,Gd'), null, null, null);
TWO_BYTE[0xc4] = pfx(sse('pinsrw', 'Pq,Erw,Ib'), sse2('pinsrw', 'Vx,Erw,Ib'), null, null);
TWO_BYTE[0xc5] = pfx(sse('pextrw', 'Gd,Nq,Ib'), sse2('pextrw', 'Gd,Ux,Ib'), null, null);
TWO_BYTE[0xc6] = pfx(sse('shufps', 'Vx,Wx,Ib'), sse2('shufpd', 'Vx,Wx,Ib'), null, null);
const INT_D0: (string | null)[] = [
  null, 'psrlw', 'psrld', 'psrlq', 'paddq', 'pmullw', null, 'pmovmskb', 'psubusb', 'psubusw', 'pminub', 'pand', 'paddusb', 'paddusw', 'pmaxub', 'pandn',
  'pavgb', 'psraw', 'psrad', 'pavgw', 'pmulhuw', 'pmulhw', null, null, 'psubsb', 'psubsw', 'pminsw', 'por', 'paddsb', 'paddsw', 'pmaxsw', 'pxor',
  null, 'psllw', 'pslld', 'psllq', 'pmuludq', 'pmaddwd', 'psadbw', null, 'psubb', 'psubw', 'psubd', 'psubq', 'paddb', 'paddw', 'paddd', null,
];
// Integer operations added to the MMX set by SSE (on MMX registers) and by SSE2.
const SSE_ON_MMX = new Set(['pminub', 'pmaxub', 'pavgb', 'pavgw', 'pmulhuw', 'pminsw', 'pmaxsw', 'psadbw']);
const SSE2_ON_MMX = new Set(['paddq', 'psubq', 'pmuludq']);
INT_D0.forEach((m, i) => {
  if (m === null) return;
  const f = SSE2_ON_MMX.has(m) ? CPUID_SSE2_BIT : SSE_ON_MMX.has(m) ? CPUID_SSE_BIT : CPUID_MMX_BIT;
  TWO_BYTE[0xd0 + i] = pint(m, 'Qq', f);
});
// SSE3 (qemu32's "pni")
TWO_BYTE[0x7c] = pfx(null, sse3('haddpd', 'Vx,Wx'), null, sse3('haddps', 'Vx,Wx'));
TWO_BYTE[0x7d] = pfx(null, sse3('hsubpd', 'Vx,Wx'), null, sse3('hsubps', 'Vx,Wx'));
TWO_BYTE[0xd0] = pfx(null, sse3('addsubpd', 'Vx,Wx'), null, sse3('addsubps', 'Vx,Wx'));
TWO_BYTE[0xf0] = pfx(null, null, null, sse3('lddqu', 'Vx,Mx'));
TWO_BYTE[0xd6] = pfx(null, sse2('movq', 'Wq,Vx'), sse2('movq2dq', 'Vx,Nq'), sse2('movdq2q', 'Pq,Ux'));
TWO_BYTE[0xd7] = pfx(sse('pmovmskb', 'Gd,Nq'), sse2('pmovmskb', 'Gd,Ux'), null, null);
TWO_BYTE[0xe6] = pfx(null, sse2('cvttpd2dq', 'Vx,Wx'), sse2('cvtdq2pd', 'Vx,Wq'), sse2('cvtpd2dq', 'Vx,Wx'));
TWO_BYTE[0xe7] = pfx(sse('movntq', 'Mq,Pq'), sse2('movntdq', 'Mx,Vx'), null, null);
TWO_BYTE[0xf7] = pfx(sse('maskmovq', 'Pq,Nq'), sse2('maskmovdqu', 'Vx,Ux'), null, null);

// 0F AE: FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, CLFLUSH; register forms LFENCE, MFENCE, SFENCE.
TWO_BYTE[0xae] = group(
  [
    op('fxsave', 'Mf', F_NO_FLAGS), op('fxrstor', 'Mf', F_NO_FLAGS),
    pfx(sse('ldmxcsr', 'Md'), null, null, null), pfx(sse('stmxcsr', 'Md'), null, null, null), null, null, null,
    pfx(feat(op('clflush', 'Mb', F_NO_FLAGS | F_SIMD), CPUID_CLFSH_BIT), null, null, null),
  ],
  [
    // QEMU 7.2 accepts LFENCE with SSE (measured on pentium3), MFENCE needs SSE2
    null, null, null, null, null, pfx(sse('lfence', ''), null, null, null), pfx(sse2('mfence', ''), null, null, null),
    pfx(sse('sfence', ''), null, null, null),
  ],
);

// x87 escapes D8-DF (SDM vol. 2, A.4 "Escape opcode instructions"): which encodings exist on
// a P6 (387-class FPU plus FCMOVcc/FCOMI/FUCOMI); the others raise #UD. The decoder only
// checks existence; the translator decodes the operation itself.
// Memory forms: bit r set when ModRM.reg = r is defined. FISTTP (DB/1, DD/1, DF/1) came with
// SSE3, but QEMU 7.2 executes it on every CPU model, and so do we (decisions.md).
const X87_MEM_FORMS = [0xff, 0xfd, 0xff, 0xaf, 0xff, 0xdf, 0xff, 0xff];
// Register forms: one digit per ModRM byte C0-FF, in rows of eight (C0-C7, C8-CF, ...).
// Undocumented aliases that do execute are valid: D9 D8-DF (FSTP1), DC D0-DF (FCOM2/FCOMP3),
// DD C8-CF (FXCH4), DE D0-D7 (FCOMP5), DF C0-DF (FFREEP, FXCH7, FSTP8, FSTP9); DB E0, E1 and
// E4 (FNENI, FNDISI, FNSETPM) are NOPs on a 387 and later.
const X87_REG_FORMS = [
  /* D8 */ '11111111 11111111 11111111 11111111 11111111 11111111 11111111 11111111',
  /* D9 */ '11111111 11111111 10000000 11111111 11001100 11111110 11111111 11111111',
  /* DA */ '11111111 11111111 11111111 11111111 00000000 01000000 00000000 00000000',
  /* DB */ '11111111 11111111 11111111 11111111 11111000 11111111 11111111 00000000',
  /* DC */ '11111111 11111111 11111111 11111111 11111111 11111111 11111111 11111111',
  /* DD */ '11111111 11111111 11111111 11111111 11111111 11111111 00000000 00000000',
  /* DE */ '11111111 11111111 11111111 01000000 11111111 11111111 11111111 11111111',
  /* DF */ '11111111 11111111 11111111 11111111 10000000 11111111 11111111 00000000',
].map((row) => row.replace(/ /g, ''));

/** Whether the x87 escape `opcode` (D8-DF) with this ModRM byte is defined on our CPU. */
export function x87Defined(opcode: number, modrm: number): boolean {
  const esc = opcode - 0xd8;
  if (modrm >> 6 !== 3) return ((X87_MEM_FORMS[esc]! >> ((modrm >> 3) & 7)) & 1) === 1;
  return X87_REG_FORMS[esc]![modrm - 0xc0] === '1';
}

/** Every mnemonic in the table, for coverage checks in tests. */
export function allMnemonics(): Set<string> {
  const out = new Set<string>();
  const visit = (s: TableSlot): void => {
    if (s === null) return;
    if (isGroup(s)) {
      for (const e of [...s.group, ...(s.reg3 ?? [])]) if (e) visit(e);
    } else if (isPrefixed(s)) {
      for (const e of s.simd) if (e) out.add(e.mnem);
    } else out.add(s.mnem);
  };
  ONE_BYTE.forEach(visit);
  TWO_BYTE.forEach(visit);
  return out;
}
