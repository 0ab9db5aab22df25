// A decoded guest instruction: what the decoder gives the translator.

export const enum OpKind {
  Reg = 0, // general register; `size` selects the 8/16/32-bit view
  Mem = 1, // the instruction's memory operand (see Instr.ea)
  Imm = 2, // immediate, already sign- or zero-extended to the operand size
  Seg = 3, // segment register
  Cr = 4, // control register
  Dr = 5, // debug register
  Rel = 6, // relative branch: `value` is the target EIP (already masked to the operand size)
  FarImm = 7, // ptr16:16/32: `value` = offset, `value2` = selector
  Moffs = 8, // absolute offset (memory operand without ModRM): Instr.ea holds it
  Xmm = 9, // XMM register
  Mmx = 10, // MMX register (the x87 register of the same number)
}

export interface Operand {
  readonly kind: OpKind;
  readonly size: number; // bytes
  readonly reg: number;
  readonly value: number;
  readonly value2: number;
}

/** Effective address of the memory operand. base/index are register numbers or -1. */
export interface EffectiveAddress {
  readonly base: number;
  readonly index: number;
  readonly scale: number; // 1, 2, 4, 8
  readonly disp: number; // sign-extended, as i32
  readonly seg: number; // segment register used (after override)
}

export const SEG_ES = 0;
export const SEG_CS = 1;
export const SEG_SS = 2;
export const SEG_DS = 3;
export const SEG_FS = 4;
export const SEG_GS = 5;

export const REP_NONE = 0;
export const REP_E = 1; // F3: REP / REPE
export const REP_NE = 2; // F2: REPNE

export interface Instr {
  mnem: string;
  /** Offset of the instruction in its code segment (EIP). */
  eip: number;
  /** Length in bytes, prefixes included. */
  len: number;
  /** Opcode: 0x00-0xFF one-byte map, 0x0F00-0x0FFF two-byte map. */
  opcode: number;
  opsize: 2 | 4;
  adsize: 2 | 4;
  /** Segment override prefix, or -1. */
  segOverride: number;
  rep: number;
  lock: boolean;
  flags: number;
  modrm: number; // -1 when there is none
  operands: Operand[];
  ea: EffectiveAddress | null;
  /** Operand size letter for string instructions ('b' or 'v' resolved to 1/2/4). */
  strSize: number;
  /** Set when the bytes do not form a valid instruction (#UD); `len` is still meaningful. */
  invalid: boolean;
  /** Raw bytes, for reports of unimplemented instructions. */
  bytes: number[];
  /** CPUID.1:EDX bits the instruction needs (SIMD): #UD on a model without them. */
  feat: number;
  /** CPUID.1:ECX bits the instruction needs (SSE3). */
  featEcx: number;
}
