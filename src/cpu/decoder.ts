// Table-driven i386 decoder: prefixes, one-byte and 0F maps, ModRM/SIB, 16- and 32-bit
// addressing. It knows nothing of semantics; the translator does.
import {
  F_INVALID, F_LOCKABLE, F_MODRM, F_RM_REG, F_STRING, F_X87, ONE_BYTE, TWO_BYTE, isGroup, isPrefixed, x87Defined,
  type OpcodeEntry, type PrefixedEntry,
} from './opcode-table.js';
import {
  OpKind, REP_E, REP_NE, REP_NONE, SEG_DS, SEG_SS,
  type EffectiveAddress, type Instr, type Operand,
} from './instr.js';

/** Raised by a byte source when the instruction bytes cannot be fetched (e.g. #PF). */
export class FetchFault {
  constructor(readonly offset: number) {}
}

/** Where the decoder reads instruction bytes: offset = bytes from the instruction start. */
export type ByteSource = (offset: number) => number;

const MAX_INSN_LEN = 15;

const SEGMENT_PREFIXES: Record<number, number> = { 0x26: 0, 0x2e: 1, 0x36: 2, 0x3e: 3, 0x64: 4, 0x65: 5 };
const FIXED_SEGS: Record<string, number> = { ES: 0, CS: 1, SS: 2, DS: 3, FS: 4, GS: 5 };

function reg(kind: OpKind, size: number, r: number): Operand {
  return { kind, size, reg: r, value: 0, value2: 0 };
}
function imm(size: number, value: number): Operand {
  return { kind: OpKind.Imm, size, reg: -1, value, value2: 0 };
}

export class LengthError extends Error {}

/**
 * Decode one instruction.
 * @param src byte source (offset from the instruction's first byte)
 * @param eip the instruction's EIP, used to resolve relative branch targets
 * @param code32 CS.D: default operand and address size 32
 */
export function decode(src: ByteSource, eip: number, code32: boolean): Instr {
  let pos = 0;
  const bytes: number[] = [];
  const next = (): number => {
    if (pos >= MAX_INSN_LEN) throw new LengthError();
    const b = src(pos++) & 0xff;
    bytes.push(b);
    return b;
  };
  let opsize: 2 | 4 = code32 ? 4 : 2;
  let adsize: 2 | 4 = code32 ? 4 : 2;
  let segOverride = -1;
  let rep = REP_NONE;
  let lock = false;
  let has66 = false;
  let b: number;
  let tooLong = false;
  const instr: Instr = {
    mnem: '(bad)', eip, len: 0, opcode: 0, opsize, adsize, segOverride, rep, lock, flags: F_INVALID,
    modrm: -1, operands: [], ea: null, strSize: 0, invalid: true, bytes, feat: 0, featEcx: 0,
  };
  // A mandatory prefix (SIMD opcodes): F3/F2 take precedence over 66; the chosen one is
  // then neither a REP nor an operand-size prefix.
  const pickPrefixed = (p: PrefixedEntry): OpcodeEntry | null => {
    const idx = rep === REP_E ? 2 : rep === REP_NE ? 3 : has66 ? 1 : 0;
    const e = p.simd[idx] ?? null;
    if (idx >= 2) instr.rep = REP_NONE;
    if (idx === 1) instr.opsize = opsize = code32 ? 4 : 2;
    return e;
  };
  try {
    for (;;) {
      b = next();
      if (b === 0x66) {
        opsize = code32 ? 2 : 4;
        has66 = true;
      }
      else if (b === 0x67) adsize = code32 ? 2 : 4;
      else if (b in SEGMENT_PREFIXES) segOverride = SEGMENT_PREFIXES[b]!;
      else if (b === 0xf0) lock = true;
      else if (b === 0xf2) rep = REP_NE;
      else if (b === 0xf3) rep = REP_E;
      else break;
    }
    instr.opsize = opsize;
    instr.adsize = adsize;
    instr.segOverride = segOverride;
    instr.rep = rep;
    instr.lock = lock;
    let opcode = b;
    let slot = ONE_BYTE[b];
    if (b === 0x0f) {
      const b2 = next();
      opcode = 0x0f00 | b2;
      slot = TWO_BYTE[b2];
    }
    instr.opcode = opcode;
    if (slot === null || slot === undefined) {
      instr.len = pos;
      return instr;
    }
    let modrm = -1;
    let entry: OpcodeEntry | null;
    if (isGroup(slot)) {
      modrm = next();
      const r = (modrm >> 3) & 7;
      const e = (modrm >> 6) === 3 && slot.reg3 ? slot.reg3[r]! : slot.group[r]!;
      entry = e !== null && isPrefixed(e) ? pickPrefixed(e) : e;
    } else if (isPrefixed(slot)) {
      entry = pickPrefixed(slot);
      if ((entry ? entry.flags : slot.flags) & F_MODRM) modrm = next();
    } else {
      entry = slot;
      if (entry.flags & F_MODRM) modrm = next();
    }
    instr.modrm = modrm;
    // MOV CRn/DRn ignore ModRM.mod: r/m is always a register and no displacement follows.
    const mod3 = modrm >= 0 && ((modrm >> 6) === 3 || (entry !== null && (entry.flags & F_RM_REG) !== 0));
    // The ModRM addressing bytes are consumed even for invalid group slots so that the
    // reported length matches the hardware's.
    let ea: EffectiveAddress | null = null;
    if (modrm >= 0 && !mod3) ea = decodeEa(modrm, adsize, segOverride, next);
    if (entry === null) {
      instr.len = pos;
      return instr;
    }
    instr.mnem = entry.mnem;
    instr.flags = entry.flags;
    instr.feat = entry.feat ?? 0;
    instr.featEcx = entry.featEcx ?? 0;
    instr.ea = ea;
    let valid = true;
    const sizeOf = (c: string): number => {
      switch (c) {
        case 'b': return 1;
        case 'w': return 2;
        case 'd': return 4;
        case 'v': case 'z': return opsize;
        case 'p': return opsize + 2;
        case 'q': return 8;
        case 'a': return opsize * 2;
        case 's': return 6;
        case 'f': return 512; // FXSAVE/FXRSTOR area
        case 'x': return 16; // XMM
        default: return opsize;
      }
    };
    const modReg = (modrm >> 3) & 7;
    const modRm = modrm & 7;
    for (const spec of entry.operands) {
      const k = spec[0]!;
      const sz = spec.length > 1 ? sizeOf(spec[1]!) : opsize;
      if (spec === 'AL') instr.operands.push(reg(OpKind.Reg, 1, 0));
      else if (spec === 'CL') instr.operands.push(reg(OpKind.Reg, 1, 1));
      else if (spec === 'DX') instr.operands.push(reg(OpKind.Reg, 2, 2));
      else if (spec === 'eAX') instr.operands.push(reg(OpKind.Reg, opsize, 0));
      else if (spec === '1') instr.operands.push(imm(1, 1));
      else if (spec in FIXED_SEGS) instr.operands.push(reg(OpKind.Seg, 2, FIXED_SEGS[spec]!));
      else if (spec === 'b' || spec === 'v') instr.strSize = sizeOf(spec);
      else if (k === 'E') {
        if (spec === 'Ex') {
          // x87: the memory operand's size depends on the opcode; recorded by the FPU.
          if (!mod3) instr.operands.push(reg(OpKind.Mem, 0, -1));
          if (!x87Defined(opcode, modrm)) valid = false;
          continue;
        }
        // Erw (PINSRW): a 32-bit register or a word in memory.
        if (spec === 'Erw') {
          instr.operands.push(mod3 ? reg(OpKind.Reg, 4, modRm) : reg(OpKind.Mem, 2, -1));
          continue;
        }
        // Evw: register form has the operand size, memory form is a word.
        if (spec === 'Evw') instr.operands.push(mod3 ? reg(OpKind.Reg, opsize, modRm) : reg(OpKind.Mem, 2, -1));
        else instr.operands.push(mod3 ? reg(OpKind.Reg, sz, modRm) : reg(OpKind.Mem, sz, -1));
      } else if (k === 'M') {
        if (mod3) valid = false;
        instr.operands.push(reg(OpKind.Mem, spec.length > 1 ? sz : 0, -1));
      } else if (k === 'V') instr.operands.push(reg(OpKind.Xmm, sz, modReg));
      else if (k === 'P') instr.operands.push(reg(OpKind.Mmx, sz, modReg));
      else if (k === 'W' || k === 'Q') instr.operands.push(mod3 ? reg(k === 'W' ? OpKind.Xmm : OpKind.Mmx, sz, modRm) : reg(OpKind.Mem, sz, -1));
      else if (k === 'U' || k === 'N') {
        if (!mod3) valid = false;
        instr.operands.push(reg(k === 'U' ? OpKind.Xmm : OpKind.Mmx, sz, modRm));
      } else if (k === 'R') instr.operands.push(reg(OpKind.Reg, 4, modRm));
      else if (k === 'G') instr.operands.push(reg(OpKind.Reg, sz, modReg));
      else if (k === 'Z') instr.operands.push(reg(OpKind.Reg, sz, opcode & 7));
      else if (k === 'S') {
        if (modReg > 5) valid = false;
        instr.operands.push(reg(OpKind.Seg, 2, modReg));
      } else if (k === 'C') {
        if (modReg === 1 || modReg > 4) valid = false;
        instr.operands.push(reg(OpKind.Cr, 4, modReg));
      } else if (k === 'D') {
        instr.operands.push(reg(OpKind.Dr, 4, modReg));
      } else if (k === 'I') {
        if (spec === 'Ibs') {
          const v = (next() << 24) >> 24;
          instr.operands.push(imm(opsize, opsize === 2 ? v & 0xffff : v >>> 0));
        } else if (sz === 1) instr.operands.push(imm(1, next()));
        else if (sz === 2) instr.operands.push(imm(2, readWord(next)));
        else instr.operands.push(imm(4, readDword(next)));
      } else if (k === 'J') {
        let rel: number;
        if (spec === 'Jb') rel = (next() << 24) >> 24;
        else rel = opsize === 2 ? (readWord(next) << 16) >> 16 : readDword(next) | 0;
        const end = eip + pos;
        const target = opsize === 2 ? (end + rel) & 0xffff : (end + rel) >>> 0;
        instr.operands.push({ kind: OpKind.Rel, size: opsize, reg: -1, value: target, value2: 0 });
      } else if (k === 'A') {
        const off = opsize === 2 ? readWord(next) : readDword(next);
        const sel = readWord(next);
        instr.operands.push({ kind: OpKind.FarImm, size: opsize + 2, reg: -1, value: off, value2: sel });
      } else if (k === 'O') {
        const off = adsize === 2 ? readWord(next) : readDword(next);
        // Sign-extended like every other displacement (EffectiveAddress.disp).
        const disp = adsize === 2 ? (off << 16) >> 16 : off | 0;
        instr.ea = { base: -1, index: -1, scale: 1, disp, seg: segOverride >= 0 ? segOverride : SEG_DS };
        instr.operands.push(reg(OpKind.Mem, sz, -1));
      } else throw new Error(`opcode table: unknown operand spec ${spec}`);
    }
    if (entry.flags & F_X87) instr.mnem = 'x87';
    // LOCK is only legal on the lockable instructions with a memory destination (SDM vol. 2, LOCK).
    if (lock && (!(entry.flags & F_LOCKABLE) || instr.operands[0]?.kind !== OpKind.Mem)) valid = false;
    if (mod3 && entry.mnem === 'lea') valid = false;
    if (entry.mnem === 'mov' && instr.operands[0]?.kind === OpKind.Seg && instr.operands[0].reg === 1) valid = false;
    if (entry.mnem === 'pop' && instr.operands[0]?.kind === OpKind.Seg && instr.operands[0].reg === 1) valid = false;
    if ((entry.mnem === 'ud2' || entry.mnem === 'ud1' || entry.mnem === 'ud0')) valid = false;
    // NP 0F AE /0, /1: FXSAVE/FXRSTOR with a 66, F2 or F3 prefix are reserved (#UD).
    if ((entry.mnem === 'fxsave' || entry.mnem === 'fxrstor') && (opsize !== (code32 ? 4 : 2) || rep !== REP_NONE)) valid = false;
    if (entry.flags & F_STRING && instr.strSize === 0) instr.strSize = opsize;
    instr.invalid = !valid;
    instr.len = pos;
    return instr;
  } catch (e) {
    if (e instanceof LengthError) {
      tooLong = true;
    } else throw e;
  }
  if (tooLong) {
    // More than 15 bytes: #GP(0) (SDM vol. 2, 2.1 "Instruction Format"; vol. 3, 6.15
    // "Interrupt 13": "exceeding the instruction length limit of 15 bytes"). The translator
    // tells it from #UD by the mnemonic '(toolong)'.
    instr.mnem = '(toolong)';
    instr.len = MAX_INSN_LEN;
    instr.invalid = true;
  }
  return instr;
}

function readWord(next: () => number): number {
  const lo = next();
  return lo | (next() << 8);
}

function readDword(next: () => number): number {
  const a = next();
  const b = next();
  const c = next();
  const d = next();
  return (a | (b << 8) | (c << 16) | (d << 24)) >>> 0;
}

// 16-bit ModRM memory forms (SDM vol. 2, table 2-1).
const EA16_BASE = [3, 3, 5, 5, 6, 7, 5, 3]; // bx bx bp bp si di bp bx
const EA16_INDEX = [6, 7, 6, 7, -1, -1, -1, -1]; // si di si di

function decodeEa(modrm: number, adsize: number, segOverride: number, next: () => number): EffectiveAddress {
  const mod = modrm >> 6;
  const rm = modrm & 7;
  if (adsize === 2) {
    let base = EA16_BASE[rm]!;
    const index = EA16_INDEX[rm]!;
    let disp = 0;
    if (mod === 0 && rm === 6) {
      base = -1;
      disp = (readWord(next) << 16) >> 16;
    } else if (mod === 1) disp = (next() << 24) >> 24;
    else if (mod === 2) disp = (readWord(next) << 16) >> 16;
    const defSeg = base === 5 ? SEG_SS : SEG_DS;
    return { base, index, scale: 1, disp, seg: segOverride >= 0 ? segOverride : defSeg };
  }
  let base = rm;
  let index = -1;
  let scale = 1;
  if (rm === 4) {
    const sib = next();
    index = (sib >> 3) & 7;
    // SIB.index = 4 means no index; the scale bits are then ignored.
    if (index === 4) index = -1;
    else scale = 1 << (sib >> 6);
    base = sib & 7;
    if (base === 5 && mod === 0) base = -1;
  } else if (mod === 0 && rm === 5) base = -1;
  let disp = 0;
  if (base === -1 && (mod === 0)) disp = readDword(next) | 0;
  else if (mod === 1) disp = (next() << 24) >> 24;
  else if (mod === 2) disp = readDword(next) | 0;
  const defSeg = base === 4 || base === 5 ? SEG_SS : SEG_DS;
  return { base, index, scale, disp, seg: segOverride >= 0 ? segOverride : defSeg };
}
