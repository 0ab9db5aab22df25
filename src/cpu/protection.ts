// Segmentation and protection: descriptor loads with their checks, interrupt and
// exception delivery through the IVT/IDT, far control transfers across privilege levels
// (SDM vol. 3, chapters 3, 5 and 6; vol. 2 for CALL, JMP, RET, IRET, INT n, MOV Sreg).
import type { Cpu } from './cpu.js';
import { EXC_GP, EXC_NP, EXC_SS, EXC_TS, EXC_DF, EXC_PF } from './cpu-exception.js';
import {
  DESC_A, DESC_B, DESC_C, DESC_CODE, DESC_DPL_SHIFT, DESC_E, DESC_P, DESC_R, DESC_S, DESC_W, DESC_ATTR_MASK,
  SEG_LDTR, SEG_TR, descriptorBase, descriptorLimit,
} from './segment.js';
import { SEG_CS, SEG_DS, SEG_ES, SEG_SS } from './instr.js';
import { taskSwitch } from './task-switch.js';
import { CR4_VME } from './mmu.js';
import {
  FLAG_IF, FLAG_NT, FLAG_RF, FLAG_TF, FLAG_VM, FLAG_IOPL, FLAG_VIF, FLAG_VIP, FLAG_AC, FLAG_ID, ARITH_FLAGS, FLAG_DF,
} from './lazy-flags.js';

export interface Descriptor {
  lo: number;
  hi: number;
  base: number;
  limit: number;
  flags: number;
  dpl: number;
  type: number; // 4-bit type field
  present: boolean;
  system: boolean; // S = 0
}

function parse(lo: number, hi: number): Descriptor {
  return {
    lo, hi,
    base: descriptorBase(lo, hi),
    limit: descriptorLimit(lo, hi),
    flags: hi & DESC_ATTR_MASK,
    dpl: (hi >> DESC_DPL_SHIFT) & 3,
    type: (hi >> 8) & 15,
    present: (hi & DESC_P) !== 0,
    system: (hi & DESC_S) === 0,
  };
}

/** Linear address of the descriptor for `sel`, or -1 when outside its table's limit. */
function descriptorAddress(cpu: Cpu, sel: number): number {
  const index = sel & ~7;
  if (sel & 4) {
    if ((cpu.segSel[SEG_LDTR]! & 0xfffc) === 0) return -1;
    if (index + 7 > cpu.segLimit[SEG_LDTR]!) return -1;
    return (cpu.segBase[SEG_LDTR]! + index) | 0;
  }
  if (index + 7 > cpu.gdtLimit) return -1;
  return (cpu.gdtBase + index) | 0;
}

/** Read a descriptor; #GP(selector) (or the given exception) when outside the table. */
export function loadDescriptor(cpu: Cpu, sel: number, exc = EXC_GP): Descriptor {
  const addr = descriptorAddress(cpu, sel);
  if (addr === -1) cpu.raiseException(exc, sel & 0xfffc);
  return parse(cpu.readSys32(addr), cpu.readSys32((addr + 4) | 0));
}

/** The same, returning null instead of faulting (LAR, LSL, VERR, VERW). */
export function tryLoadDescriptor(cpu: Cpu, sel: number): Descriptor | null {
  const addr = descriptorAddress(cpu, sel);
  if (addr === -1) return null;
  return parse(cpu.readSys32(addr), cpu.readSys32((addr + 4) | 0));
}

function setAccessed(cpu: Cpu, sel: number, d: Descriptor): void {
  if (d.hi & DESC_A) return;
  const addr = descriptorAddress(cpu, sel);
  d.hi |= DESC_A;
  d.flags |= DESC_A;
  cpu.writeSys32((addr + 4) | 0, d.hi);
}

function loadCache(cpu: Cpu, seg: number, sel: number, d: Descriptor): void {
  cpu.setSegmentRaw(seg, sel, d.base, d.limit, d.flags);
}

/** MOV/POP to a segment register, LDS & co. (SDM vol. 2, MOV). */
export function loadSegment(cpu: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!cpu.protectedMode || cpu.v86) {
    cpu.loadSegmentReal(seg, sel);
    return;
  }
  const rpl = sel & 3;
  if ((sel & 0xfffc) === 0) {
    if (seg === SEG_SS) cpu.raiseException(EXC_GP, 0);
    // A null selector loads; using it faults later.
    cpu.setSegmentRaw(seg, sel, 0, 0, 0);
    return;
  }
  const d = loadDescriptor(cpu, sel);
  if (seg === SEG_SS) {
    if (rpl !== cpu.cpl || d.dpl !== cpu.cpl || d.system || d.flags & DESC_CODE || !(d.flags & DESC_W)) {
      cpu.raiseException(EXC_GP, sel & 0xfffc);
    }
    if (!d.present) cpu.raiseException(EXC_SS, sel & 0xfffc);
  } else {
    if (d.system || (d.flags & DESC_CODE && !(d.flags & DESC_R))) cpu.raiseException(EXC_GP, sel & 0xfffc);
    const conformingCode = (d.flags & DESC_CODE) !== 0 && (d.flags & DESC_C) !== 0;
    if (!conformingCode && (rpl > d.dpl || cpu.cpl > d.dpl)) cpu.raiseException(EXC_GP, sel & 0xfffc);
    if (!d.present) cpu.raiseException(EXC_NP, sel & 0xfffc);
  }
  setAccessed(cpu, sel, d);
  loadCache(cpu, seg, sel, d);
}

// ---- stack helpers for transfers (operate on an explicit SS:ESP) -----------------------

class StackWriter {
  constructor(
    private readonly cpu: Cpu,
    private readonly base: number,
    private readonly mask: number,
    public sp: number,
    private readonly limit: number,
    private readonly user: boolean,
  ) {}

  push(v: number, size: number): void {
    this.sp = (this.sp - size) & this.mask;
    const lin = (this.base + this.sp) | 0;
    if (size === 4) this.cpu.store32(lin, v, this.user);
    else this.cpu.store16(lin, v, this.user);
  }

  pop(size: number): number {
    const lin = (this.base + this.sp) | 0;
    const v = size === 4 ? this.cpu.load32(lin, this.user) : this.cpu.load16(lin, this.user);
    this.sp = (this.sp + size) & this.mask;
    return v;
  }

  void(_n: number): number {
    return this.limit;
  }
}

function currentStack(cpu: Cpu): StackWriter {
  const ss32 = (cpu.segFlags[SEG_SS]! & DESC_B) !== 0 && cpu.protectedMode && !cpu.v86;
  const mask = ss32 ? -1 : 0xffff;
  return new StackWriter(cpu, cpu.segBase[SEG_SS]!, mask, cpu.regs[4]! & mask, cpu.segLimit[SEG_SS]!, cpu.cpl === 3);
}

function commitStack(cpu: Cpu, st: StackWriter, ss32: boolean): void {
  cpu.regs[4] = ss32 ? st.sp : (cpu.regs[4]! & -65536) | (st.sp & 0xffff);
}

// ---- interrupts and exceptions -------------------------------------------------------

/** What kind of event is being delivered, for privilege checks and error codes. */
export const INT_HARDWARE = 0; // external interrupt or exception
export const INT_SOFTWARE = 1; // INT n
export const INT_SOFTWARE_EXC = 2; // INT3 / INTO / BOUND-like software exceptions (INT3, INTO)
export const INT_ICEBP = 3; // INT1

/**
 * Deliver interrupt `vector`. `nextEip` is the EIP to return to (the faulting
 * instruction for faults, the next one for traps and INT n).
 */
export function doInterrupt(cpu: Cpu, vector: number, kind: number, errorCode: number, hasErrorCode: boolean, nextEip: number): void {
  if (!cpu.protectedMode) {
    realModeInterrupt(cpu, vector, nextEip);
    return;
  }
  const ext = kind === INT_HARDWARE ? 1 : 0;
  if (cpu.v86 && kind === INT_SOFTWARE) {
    // SDM vol. 3, 20.3.3 and table 20-2: with CR4.VME the TSS redirection bitmap may send
    // INT n to the V86 program's own vector table; otherwise IOPL < 3 means #GP(0).
    if (cpu.cr4 & CR4_VME && !redirectionBit(cpu, vector)) {
      v86Interrupt(cpu, vector, nextEip);
      return;
    }
    if (cpu.iopl < 3) cpu.raiseException(EXC_GP, 0);
  }
  if (vector * 8 + 7 > cpu.idtLimit) cpu.raiseException(EXC_GP, vector * 8 + 2 + ext);
  const gateAddr = (cpu.idtBase + vector * 8) | 0;
  const lo = cpu.readSys32(gateAddr);
  const hi = cpu.readSys32((gateAddr + 4) | 0);
  const type = (hi >> 8) & 0x1f;
  const gateDpl = (hi >> 13) & 3;
  // Order of checks as in the SDM's INT n pseudo-code: gate type, gate DPL, present.
  if (type !== 5 && type !== 6 && type !== 7 && type !== 14 && type !== 15) cpu.raiseException(EXC_GP, vector * 8 + 2 + ext);
  if (kind !== INT_HARDWARE && kind !== INT_ICEBP && gateDpl < cpu.cpl) cpu.raiseException(EXC_GP, vector * 8 + 2);
  if (!(hi & DESC_P)) cpu.raiseException(EXC_NP, vector * 8 + 2 + ext);
  if (type === 5) {
    taskSwitch(cpu, lo >>> 16, 'int', nextEip, errorCode, hasErrorCode);
    return;
  }
  const gate32 = (type & 8) !== 0;
  const trap = (type & 1) !== 0;
  const sel = lo >>> 16;
  const offset = gate32 ? ((hi & 0xffff0000) | (lo & 0xffff)) >>> 0 : lo & 0xffff;
  if ((sel & 0xfffc) === 0) cpu.raiseException(EXC_GP, ext);
  const d = loadDescriptor(cpu, sel);
  if (d.system || !(d.flags & DESC_CODE) || d.dpl > cpu.cpl) cpu.raiseException(EXC_GP, (sel & 0xfffc) + ext);
  if (!d.present) cpu.raiseException(EXC_NP, (sel & 0xfffc) + ext);
  if (offset > d.limit) cpu.raiseException(EXC_GP, ext);
  const size = gate32 ? 4 : 2;
  const oldEflags = cpu.getEflags();
  const wasV86 = cpu.v86;
  const conforming = (d.flags & DESC_C) !== 0;
  const newCpl = conforming ? cpu.cpl : d.dpl;
  if (wasV86 && newCpl !== 0) cpu.raiseException(EXC_GP, (sel & 0xfffc) + ext);
  const oldSs = cpu.segSel[SEG_SS]!;
  const oldEsp = cpu.regs[4]!;
  const oldCs = cpu.segSel[SEG_CS]!;
  if (newCpl < cpu.cpl || wasV86) {
    // Inner privilege: switch to the stack for newCpl from the TSS.
    const { ss, esp } = tssStack(cpu, newCpl, ext);
    if ((ss & 0xfffc) === 0) cpu.raiseException(EXC_TS, ext);
    if ((ss & 3) !== newCpl) cpu.raiseException(EXC_TS, (ss & 0xfffc) + ext);
    const sd = loadDescriptor(cpu, ss, EXC_TS);
    if (sd.dpl !== newCpl || sd.system || sd.flags & DESC_CODE || !(sd.flags & DESC_W)) cpu.raiseException(EXC_TS, (ss & 0xfffc) + ext);
    if (!sd.present) cpu.raiseException(EXC_SS, (ss & 0xfffc) + ext);
    const ss32 = (sd.flags & DESC_B) !== 0;
    const st = new StackWriter(cpu, sd.base, ss32 ? -1 : 0xffff, ss32 ? esp : esp & 0xffff, sd.limit, false);
    if (wasV86) {
      st.push(cpu.segSel[5]!, size);
      st.push(cpu.segSel[4]!, size);
      st.push(cpu.segSel[SEG_DS]!, size);
      st.push(cpu.segSel[SEG_ES]!, size);
    }
    st.push(oldSs, size);
    st.push(oldEsp, size);
    st.push(oldEflags, size);
    st.push(oldCs, size);
    st.push(nextEip, size);
    if (hasErrorCode) st.push(errorCode, size);
    // Commit: nothing above has changed architectural state except memory.
    if (wasV86) {
      for (const s of [SEG_ES, SEG_DS, 4, 5]) cpu.setSegmentRaw(s, 0, 0, 0, 0);
    }
    setAccessed(cpu, ss, sd);
    cpu.setCpl(newCpl);
    cpu.setSegmentRaw(SEG_SS, (ss & 0xfffc) | newCpl, sd.base, sd.limit, sd.flags);
    cpu.regs[4] = ss32 ? st.sp : (cpu.regs[4]! & -65536) | (st.sp & 0xffff);
  } else {
    const st = currentStack(cpu);
    const ss32 = (cpu.segFlags[SEG_SS]! & DESC_B) !== 0;
    st.push(oldEflags, size);
    st.push(oldCs, size);
    st.push(nextEip, size);
    if (hasErrorCode) st.push(errorCode, size);
    commitStack(cpu, st, ss32);
  }
  setAccessed(cpu, sel, d);
  cpu.setSegmentRaw(SEG_CS, (sel & 0xfffc) | newCpl, d.base, d.limit, d.flags);
  cpu.eip = offset;
  let clear = FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM;
  if (!trap) clear |= FLAG_IF;
  cpu.setEflags(oldEflags & ~clear, 0xffffffff);
  cpu.updateHflags();
}

/** The bit for `vector` in the interrupt redirection bitmap (the 32 bytes below the I/O map). */
function redirectionBit(cpu: Cpu, vector: number): boolean {
  const base = cpu.segBase[SEG_TR]!;
  const limit = cpu.segLimit[SEG_TR]!;
  if (limit < 0x67) cpu.raiseException(EXC_GP, 0);
  const ioBase = cpu.readSys16((base + 0x66) | 0);
  const at = ioBase - 32 + (vector >> 3);
  if (at > limit) cpu.raiseException(EXC_GP, 0);
  return ((cpu.readSys8((base + at) | 0) >> (vector & 7)) & 1) === 1;
}

/** INT n redirected to the V86 program's IVT at linear 0 (VME). */
function v86Interrupt(cpu: Cpu, vector: number, nextEip: number): void {
  const ip = cpu.load16(vector * 4, true);
  const cs = cpu.load16(vector * 4 + 2, true);
  const f = cpu.getEflags();
  let img = f & 0xffff;
  if (cpu.iopl < 3) img = (img & ~FLAG_IF) | 0x3000 | (f & FLAG_VIF ? FLAG_IF : 0);
  const st = currentStack(cpu);
  st.push(img, 2);
  st.push(cpu.segSel[SEG_CS]!, 2);
  st.push(nextEip & 0xffff, 2);
  commitStack(cpu, st, false);
  cpu.loadSegmentReal(SEG_CS, cs);
  cpu.eip = ip;
  if (cpu.iopl === 3) cpu.setEflags(f & ~(FLAG_IF | FLAG_TF), 0xffffffff);
  else {
    cpu.setEflags(f & ~FLAG_TF, 0xffffffff);
    cpu.eflags &= ~FLAG_VIF;
  }
}

function realModeInterrupt(cpu: Cpu, vector: number, nextEip: number): void {
  if (vector * 4 + 3 > cpu.idtLimit) cpu.raiseException(EXC_GP, vector * 8 + 2);
  const addr = (cpu.idtBase + vector * 4) | 0;
  const ip = cpu.readSys16(addr);
  const cs = cpu.readSys16((addr + 2) | 0);
  const st = currentStack(cpu);
  st.push(cpu.getEflags() & 0xffff, 2);
  st.push(cpu.segSel[SEG_CS]!, 2);
  st.push(nextEip & 0xffff, 2);
  commitStack(cpu, st, false);
  cpu.loadSegmentReal(SEG_CS, cs);
  cpu.eip = ip;
  cpu.setEflags(cpu.getEflags() & ~(FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF), 0xffffffff);
}

function tssStack(cpu: Cpu, dpl: number, ext: number): { ss: number; esp: number } {
  const type = (cpu.segFlags[SEG_TR]! >> 8) & 15;
  if (!(cpu.segFlags[SEG_TR]! & DESC_P)) cpu.raiseException(EXC_TS, (cpu.segSel[SEG_TR]! & 0xfffc) + ext);
  const base = cpu.segBase[SEG_TR]!;
  const limit = cpu.segLimit[SEG_TR]!;
  if (type & 8) {
    const off = 4 + dpl * 8;
    if (off + 5 > limit) cpu.raiseException(EXC_TS, (cpu.segSel[SEG_TR]! & 0xfffc) + ext);
    return { esp: cpu.readSys32((base + off) | 0), ss: cpu.readSys16((base + off + 4) | 0) };
  }
  const off = 2 + dpl * 4;
  if (off + 3 > limit) cpu.raiseException(EXC_TS, (cpu.segSel[SEG_TR]! & 0xfffc) + ext);
  return { esp: cpu.readSys16((base + off) | 0), ss: cpu.readSys16((base + off + 2) | 0) };
}

/**
 * Deliver an exception raised while executing, escalating to #DF and triple fault per
 * SDM vol. 3, table 6-5. Returns false on a triple fault.
 */
export function deliverException(cpu: Cpu, vector: number, errorCode: number, hasErrorCode: boolean): boolean {
  let vec = vector;
  let code = errorCode;
  let has = hasErrorCode;
  let prevClass = 0;
  const trace = cpu.intTrace;
  trace?.exceptionRaised(-1, vector);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      trace?.deliver(vec, has ? code : 0, false, cpu.eip);
      doInterrupt(cpu, vec, INT_HARDWARE, code, has, cpu.eip);
      return true;
    } catch (e) {
      if (!isGuestException(e)) throw e;
      const next = cpu.pending.vector;
      const cls = exceptionClass(vec);
      const nextCls = exceptionClass(next);
      // QEMU remembers the exception being delivered only if it can escalate.
      trace?.exceptionRaised(cls !== 0 || vec === EXC_DF ? vec : -1, next);
      if (vec === EXC_DF) {
        trace?.tripleFault();
        return false;
      }
      prevClass = cls;
      if ((cls === 1 && nextCls === 1) || (cls === 2 && nextCls >= 1)) {
        vec = EXC_DF;
        code = 0;
        has = true;
      } else {
        vec = next;
        code = cpu.pending.errorCode;
        has = cpu.pending.hasErrorCode;
      }
    }
  }
  void prevClass;
  return false;
}

function isGuestException(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'isGuestException' in e;
}

/** 0 benign, 1 contributory, 2 page fault. */
function exceptionClass(v: number): number {
  if (v === EXC_PF) return 2;
  if (v === 0 || (v >= 10 && v <= 13)) return 1;
  return 0;
}

// ---- far transfers -------------------------------------------------------------------

function checkCodeTarget(cpu: Cpu, sel: number, d: Descriptor, forCall: boolean): void {
  void forCall;
  if (d.system || !(d.flags & DESC_CODE)) cpu.raiseException(EXC_GP, sel & 0xfffc);
  if (d.flags & DESC_C) {
    if (d.dpl > cpu.cpl) cpu.raiseException(EXC_GP, sel & 0xfffc);
  } else if ((sel & 3) > cpu.cpl || d.dpl !== cpu.cpl) cpu.raiseException(EXC_GP, sel & 0xfffc);
  if (!d.present) cpu.raiseException(EXC_NP, sel & 0xfffc);
}

export function farJump(cpu: Cpu, sel: number, offset: number, opsize: number, nextEip = cpu.eip): void {
  sel &= 0xffff;
  if (!cpu.protectedMode || cpu.v86) {
    if (offset > cpu.segLimit[SEG_CS]! && !cpu.v86 && cpu.protectedMode) cpu.raiseException(EXC_GP, 0);
    cpu.loadSegmentReal(SEG_CS, sel);
    cpu.eip = opsize === 2 ? offset & 0xffff : offset >>> 0;
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.raiseException(EXC_GP, 0);
  const d = loadDescriptor(cpu, sel);
  if (!d.system) {
    checkCodeTarget(cpu, sel, d, false);
    const off = opsize === 2 ? offset & 0xffff : offset >>> 0;
    if (off > d.limit) cpu.raiseException(EXC_GP, 0);
    setAccessed(cpu, sel, d);
    cpu.setSegmentRaw(SEG_CS, (sel & 0xfffc) | cpu.cpl, d.base, d.limit, d.flags);
    cpu.eip = off;
    return;
  }
  if (d.type === 4 || d.type === 12) {
    // Call gate: JMP stays at the current privilege level.
    if (d.dpl < cpu.cpl || d.dpl < (sel & 3)) cpu.raiseException(EXC_GP, sel & 0xfffc);
    if (!d.present) cpu.raiseException(EXC_NP, sel & 0xfffc);
    const tsel = d.lo >>> 16;
    const toff = d.type === 12 ? ((d.hi & 0xffff0000) | (d.lo & 0xffff)) >>> 0 : d.lo & 0xffff;
    if ((tsel & 0xfffc) === 0) cpu.raiseException(EXC_GP, 0);
    const td = loadDescriptor(cpu, tsel);
    if (td.system || !(td.flags & DESC_CODE)) cpu.raiseException(EXC_GP, tsel & 0xfffc);
    if (td.flags & DESC_C ? td.dpl > cpu.cpl : td.dpl !== cpu.cpl) cpu.raiseException(EXC_GP, tsel & 0xfffc);
    if (!td.present) cpu.raiseException(EXC_NP, tsel & 0xfffc);
    if (toff > td.limit) cpu.raiseException(EXC_GP, 0);
    setAccessed(cpu, tsel, td);
    cpu.setSegmentRaw(SEG_CS, (tsel & 0xfffc) | cpu.cpl, td.base, td.limit, td.flags);
    cpu.eip = toff;
    return;
  }
  if (d.type === 5 || d.type === 1 || d.type === 9) {
    taskSwitch(cpu, taskTarget(cpu, sel, d), 'jmp', nextEip);
    return;
  }
  cpu.raiseException(EXC_GP, sel & 0xfffc);
}

export function farCall(cpu: Cpu, sel: number, offset: number, opsize: number, nextEip: number): void {
  sel &= 0xffff;
  const size = opsize;
  if (!cpu.protectedMode || cpu.v86) {
    const st = currentStack(cpu);
    st.push(cpu.segSel[SEG_CS]!, size);
    st.push(nextEip, size);
    commitStack(cpu, st, false);
    cpu.loadSegmentReal(SEG_CS, sel);
    cpu.eip = opsize === 2 ? offset & 0xffff : offset >>> 0;
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.raiseException(EXC_GP, 0);
  const d = loadDescriptor(cpu, sel);
  const ss32 = (cpu.segFlags[SEG_SS]! & DESC_B) !== 0;
  if (!d.system) {
    checkCodeTarget(cpu, sel, d, true);
    const off = opsize === 2 ? offset & 0xffff : offset >>> 0;
    const st = currentStack(cpu);
    st.push(cpu.segSel[SEG_CS]!, size);
    st.push(nextEip, size);
    if (off > d.limit) cpu.raiseException(EXC_GP, 0);
    commitStack(cpu, st, ss32);
    setAccessed(cpu, sel, d);
    cpu.setSegmentRaw(SEG_CS, (sel & 0xfffc) | cpu.cpl, d.base, d.limit, d.flags);
    cpu.eip = off;
    return;
  }
  if (d.type === 4 || d.type === 12) {
    if (d.dpl < cpu.cpl || d.dpl < (sel & 3)) cpu.raiseException(EXC_GP, sel & 0xfffc);
    if (!d.present) cpu.raiseException(EXC_NP, sel & 0xfffc);
    const gate32 = d.type === 12;
    const gsize = gate32 ? 4 : 2;
    const tsel = d.lo >>> 16;
    const toff = gate32 ? ((d.hi & 0xffff0000) | (d.lo & 0xffff)) >>> 0 : d.lo & 0xffff;
    const params = d.hi & 0x1f;
    if ((tsel & 0xfffc) === 0) cpu.raiseException(EXC_GP, 0);
    const td = loadDescriptor(cpu, tsel);
    if (td.system || !(td.flags & DESC_CODE) || td.dpl > cpu.cpl) cpu.raiseException(EXC_GP, tsel & 0xfffc);
    if (!td.present) cpu.raiseException(EXC_NP, tsel & 0xfffc);
    if (toff > td.limit) cpu.raiseException(EXC_GP, 0);
    if (!(td.flags & DESC_C) && td.dpl < cpu.cpl) {
      // More privileged: new stack from the TSS, parameters copied across.
      const newCpl = td.dpl;
      const { ss, esp } = tssStack(cpu, newCpl, 0);
      if ((ss & 0xfffc) === 0) cpu.raiseException(EXC_TS, 0);
      if ((ss & 3) !== newCpl) cpu.raiseException(EXC_TS, ss & 0xfffc);
      const sd = loadDescriptor(cpu, ss, EXC_TS);
      if (sd.dpl !== newCpl || sd.system || sd.flags & DESC_CODE || !(sd.flags & DESC_W)) cpu.raiseException(EXC_TS, ss & 0xfffc);
      if (!sd.present) cpu.raiseException(EXC_SS, ss & 0xfffc);
      const nss32 = (sd.flags & DESC_B) !== 0;
      const old = currentStack(cpu);
      const copied: number[] = [];
      for (let i = 0; i < params; i++) {
        copied.push(gsize === 4 ? cpu.load32((cpu.segBase[SEG_SS]! + ((old.sp + i * 4) & (ss32 ? -1 : 0xffff))) | 0, cpu.cpl === 3)
          : cpu.load16((cpu.segBase[SEG_SS]! + ((old.sp + i * 2) & (ss32 ? -1 : 0xffff))) | 0, cpu.cpl === 3));
      }
      const st = new StackWriter(cpu, sd.base, nss32 ? -1 : 0xffff, nss32 ? esp : esp & 0xffff, sd.limit, false);
      st.push(cpu.segSel[SEG_SS]!, gsize);
      st.push(cpu.regs[4]!, gsize);
      for (let i = params - 1; i >= 0; i--) st.push(copied[i]!, gsize);
      st.push(cpu.segSel[SEG_CS]!, gsize);
      st.push(nextEip, gsize);
      setAccessed(cpu, ss, sd);
      cpu.setCpl(newCpl);
      cpu.setSegmentRaw(SEG_SS, (ss & 0xfffc) | newCpl, sd.base, sd.limit, sd.flags);
      cpu.regs[4] = nss32 ? st.sp : (cpu.regs[4]! & -65536) | (st.sp & 0xffff);
      setAccessed(cpu, tsel, td);
      cpu.setSegmentRaw(SEG_CS, (tsel & 0xfffc) | newCpl, td.base, td.limit, td.flags);
      cpu.eip = toff;
      return;
    }
    const st = currentStack(cpu);
    st.push(cpu.segSel[SEG_CS]!, gsize);
    st.push(nextEip, gsize);
    commitStack(cpu, st, ss32);
    setAccessed(cpu, tsel, td);
    cpu.setSegmentRaw(SEG_CS, (tsel & 0xfffc) | cpu.cpl, td.base, td.limit, td.flags);
    cpu.eip = toff;
    return;
  }
  if (d.type === 5 || d.type === 1 || d.type === 9) {
    taskSwitch(cpu, taskTarget(cpu, sel, d), 'call', nextEip);
    return;
  }
  cpu.raiseException(EXC_GP, sel & 0xfffc);
}

/**
 * JMP/CALL to a TSS descriptor or a task gate: privilege and presence checks of the
 * descriptor named by the instruction; returns the TSS selector to switch to.
 */
function taskTarget(cpu: Cpu, sel: number, d: Descriptor): number {
  if (d.dpl < cpu.cpl || d.dpl < (sel & 3)) cpu.raiseException(EXC_GP, sel & 0xfffc);
  if (!d.present) cpu.raiseException(EXC_NP, sel & 0xfffc);
  return d.type === 5 ? d.lo >>> 16 : sel;
}

/** After a return to an outer level, data segments the new CPL may not use become null. */
function nullifyOuterSegments(cpu: Cpu): void {
  for (const s of [SEG_ES, SEG_DS, 4, 5]) {
    const f = cpu.segFlags[s]!;
    const dpl = (f >> DESC_DPL_SHIFT) & 3;
    const dataOrNonConforming = !(f & DESC_CODE) || !(f & DESC_C);
    if (dataOrNonConforming && dpl < cpu.cpl && (cpu.segSel[s]! & 0xfffc) !== 0) cpu.setSegmentRaw(s, 0, 0, 0, 0);
    else if (dataOrNonConforming && dpl < cpu.cpl) cpu.setSegmentRaw(s, cpu.segSel[s]!, 0, 0, 0);
  }
}

export function farReturn(cpu: Cpu, opsize: number, imm: number): void {
  const size = opsize;
  const st = currentStack(cpu);
  const ss32 = (cpu.segFlags[SEG_SS]! & DESC_B) !== 0 && cpu.protectedMode && !cpu.v86;
  const eip = st.pop(size);
  const sel = st.pop(size) & 0xffff;
  if (!cpu.protectedMode || cpu.v86) {
    st.sp = (st.sp + imm) & (ss32 ? -1 : 0xffff);
    commitStack(cpu, st, ss32);
    cpu.loadSegmentReal(SEG_CS, sel);
    cpu.eip = size === 2 ? eip & 0xffff : eip >>> 0;
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.raiseException(EXC_GP, 0);
  const d = loadDescriptor(cpu, sel);
  const rpl = sel & 3;
  if (d.system || !(d.flags & DESC_CODE) || rpl < cpu.cpl) cpu.raiseException(EXC_GP, sel & 0xfffc);
  if (d.flags & DESC_C ? d.dpl > rpl : d.dpl !== rpl) cpu.raiseException(EXC_GP, sel & 0xfffc);
  if (!d.present) cpu.raiseException(EXC_NP, sel & 0xfffc);
  const off = size === 2 ? eip & 0xffff : eip >>> 0;
  if (rpl === cpu.cpl) {
    if (off > d.limit) cpu.raiseException(EXC_GP, 0);
    st.sp = (st.sp + imm) & (ss32 ? -1 : 0xffff);
    commitStack(cpu, st, ss32);
    setAccessed(cpu, sel, d);
    cpu.setSegmentRaw(SEG_CS, sel, d.base, d.limit, d.flags);
    cpu.eip = off;
    return;
  }
  // Return to an outer privilege level: the caller's SS:ESP follows on the stack.
  st.sp = (st.sp + imm) & (ss32 ? -1 : 0xffff);
  const esp = st.pop(size);
  const ss = st.pop(size) & 0xffff;
  if ((ss & 0xfffc) === 0 || (ss & 3) !== rpl) cpu.raiseException(EXC_GP, ss & 0xfffc);
  const sd = loadDescriptor(cpu, ss);
  if (sd.system || sd.flags & DESC_CODE || !(sd.flags & DESC_W) || sd.dpl !== rpl) cpu.raiseException(EXC_GP, ss & 0xfffc);
  if (!sd.present) cpu.raiseException(EXC_SS, ss & 0xfffc);
  if (off > d.limit) cpu.raiseException(EXC_GP, 0);
  setAccessed(cpu, sel, d);
  setAccessed(cpu, ss, sd);
  cpu.setCpl(rpl);
  cpu.setSegmentRaw(SEG_CS, sel, d.base, d.limit, d.flags);
  cpu.setSegmentRaw(SEG_SS, ss, sd.base, sd.limit, sd.flags);
  const nss32 = (sd.flags & DESC_B) !== 0;
  cpu.regs[4] = nss32 ? (esp + imm) | 0 : (cpu.regs[4]! & -65536) | ((esp + imm) & 0xffff);
  cpu.eip = off;
  nullifyOuterSegments(cpu);
}

export function interruptReturn(cpu: Cpu, opsize: number, nextEip = cpu.eip): void {
  const size = opsize;
  // IRET ends NMI blocking (SDM vol. 3, 6.7.1).
  cpu.nmiBlocked = false;
  if (!cpu.protectedMode) {
    const st = currentStack(cpu);
    const eip = st.pop(size);
    const cs = st.pop(size) & 0xffff;
    const fl = st.pop(size);
    commitStack(cpu, st, false);
    cpu.loadSegmentReal(SEG_CS, cs);
    cpu.eip = size === 2 ? eip & 0xffff : eip >>> 0;
    // IRETD in real mode leaves VM, VIF and VIP alone.
    const mask = size === 2 ? 0xffff : FLAG_ID | FLAG_AC | FLAG_RF | 0x7fd5;
    cpu.setEflags(fl, mask);
    return;
  }
  if (cpu.v86) {
    if (cpu.iopl < 3) {
      // VME: a 16-bit IRET takes VIF from the popped IF (SDM vol. 3, 20.4).
      if (!(cpu.cr4 & CR4_VME) || size === 4) cpu.raiseException(EXC_GP, 0);
      const st = currentStack(cpu);
      const eip = st.pop(2);
      const cs = st.pop(2) & 0xffff;
      const fl = st.pop(2);
      if (fl & FLAG_TF || (cpu.eflags & FLAG_VIP && fl & FLAG_IF)) cpu.raiseException(EXC_GP, 0);
      commitStack(cpu, st, false);
      cpu.loadSegmentReal(SEG_CS, cs);
      cpu.eip = eip & 0xffff;
      cpu.setEflags(fl, 0xffff & ~(FLAG_IF | FLAG_IOPL));
      cpu.eflags = fl & FLAG_IF ? cpu.eflags | FLAG_VIF : cpu.eflags & ~FLAG_VIF;
      return;
    }
    const st = currentStack(cpu);
    const eip = st.pop(size);
    const cs = st.pop(size) & 0xffff;
    const fl = st.pop(size);
    commitStack(cpu, st, false);
    cpu.loadSegmentReal(SEG_CS, cs);
    cpu.eip = size === 2 ? eip & 0xffff : eip >>> 0;
    // IOPL is not changed from V86 mode.
    const mask = (size === 2 ? 0xffff : 0xffffffff) & ~(FLAG_IOPL | FLAG_VM | FLAG_VIF | FLAG_VIP);
    cpu.setEflags(fl, mask >>> 0);
    return;
  }
  if (cpu.getEflags() & FLAG_NT) {
    const back = cpu.readSys16(cpu.segBase[SEG_TR]!);
    taskSwitch(cpu, back, 'iret', nextEip);
    return;
  }
  const ss32 = (cpu.segFlags[SEG_SS]! & DESC_B) !== 0;
  const st = currentStack(cpu);
  const eip = st.pop(size);
  const sel = st.pop(size) & 0xffff;
  const fl = st.pop(size) >>> 0;
  if (size === 4 && fl & FLAG_VM && cpu.cpl === 0) {
    returnToV86(cpu, st, eip, sel, fl);
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.raiseException(EXC_GP, 0);
  const d = loadDescriptor(cpu, sel);
  const rpl = sel & 3;
  if (d.system || !(d.flags & DESC_CODE) || rpl < cpu.cpl) cpu.raiseException(EXC_GP, sel & 0xfffc);
  if (d.flags & DESC_C ? d.dpl > rpl : d.dpl !== rpl) cpu.raiseException(EXC_GP, sel & 0xfffc);
  if (!d.present) cpu.raiseException(EXC_NP, sel & 0xfffc);
  const off = size === 2 ? eip & 0xffff : eip >>> 0;
  const oldCpl = cpu.cpl;
  let mask = FLAG_TF | FLAG_DF | FLAG_NT | ARITH_FLAGS | FLAG_RF | FLAG_AC | FLAG_ID;
  if (oldCpl === 0) mask |= FLAG_IOPL | FLAG_VIF | FLAG_VIP;
  if (oldCpl <= cpu.iopl) mask |= FLAG_IF;
  if (size === 2) mask &= 0xffff;
  if (rpl === oldCpl) {
    if (off > d.limit) cpu.raiseException(EXC_GP, 0);
    commitStack(cpu, st, ss32);
    setAccessed(cpu, sel, d);
    cpu.setSegmentRaw(SEG_CS, sel, d.base, d.limit, d.flags);
    cpu.eip = off;
    cpu.setEflags(fl, mask);
    return;
  }
  const esp = st.pop(size);
  const ss = st.pop(size) & 0xffff;
  if ((ss & 0xfffc) === 0 || (ss & 3) !== rpl) cpu.raiseException(EXC_GP, ss & 0xfffc);
  const sd = loadDescriptor(cpu, ss);
  if (sd.system || sd.flags & DESC_CODE || !(sd.flags & DESC_W) || sd.dpl !== rpl) cpu.raiseException(EXC_GP, ss & 0xfffc);
  if (!sd.present) cpu.raiseException(EXC_SS, ss & 0xfffc);
  if (off > d.limit) cpu.raiseException(EXC_GP, 0);
  setAccessed(cpu, sel, d);
  setAccessed(cpu, ss, sd);
  cpu.setEflags(fl, mask);
  cpu.setCpl(rpl);
  cpu.setSegmentRaw(SEG_CS, sel, d.base, d.limit, d.flags);
  cpu.setSegmentRaw(SEG_SS, ss, sd.base, sd.limit, sd.flags);
  const nss32 = (sd.flags & DESC_B) !== 0;
  cpu.regs[4] = nss32 ? esp : (cpu.regs[4]! & -65536) | (esp & 0xffff);
  cpu.eip = off;
  nullifyOuterSegments(cpu);
}

function returnToV86(cpu: Cpu, st: StackWriter, eip: number, cs: number, fl: number): void {
  const esp = st.pop(4);
  const ss = st.pop(4) & 0xffff;
  const es = st.pop(4) & 0xffff;
  const ds = st.pop(4) & 0xffff;
  const fs = st.pop(4) & 0xffff;
  const gs = st.pop(4) & 0xffff;
  cpu.setEflags(fl, 0xffffffff);
  cpu.setCpl(3);
  for (const [s, v] of [[SEG_CS, cs], [SEG_SS, ss], [SEG_ES, es], [SEG_DS, ds], [4, fs], [5, gs]] as const) {
    cpu.loadSegmentReal(s, v);
  }
  cpu.regs[4] = esp;
  cpu.eip = eip & 0xffff;
}

// ---- system registers ------------------------------------------------------------------

export function loadLdt(cpu: Cpu, sel: number): void {
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) {
    // A null selector marks LDTR invalid; SLDT still reads back what was loaded (as QEMU).
    cpu.setSegmentRaw(SEG_LDTR, sel, 0, 0, 0);
    return;
  }
  if (sel & 4) cpu.raiseException(EXC_GP, sel & 0xfffc);
  const d = loadDescriptor(cpu, sel);
  if (!d.system || d.type !== 2) cpu.raiseException(EXC_GP, sel & 0xfffc);
  if (!d.present) cpu.raiseException(EXC_NP, sel & 0xfffc);
  cpu.setSegmentRaw(SEG_LDTR, sel, d.base, d.limit, d.flags);
}

export function loadTr(cpu: Cpu, sel: number): void {
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0 || sel & 4) cpu.raiseException(EXC_GP, sel & 0xfffc);
  const d = loadDescriptor(cpu, sel);
  if (!d.system || (d.type !== 1 && d.type !== 9)) cpu.raiseException(EXC_GP, sel & 0xfffc);
  if (!d.present) cpu.raiseException(EXC_NP, sel & 0xfffc);
  // Mark the TSS busy in the GDT.
  const addr = (cpu.gdtBase + (sel & ~7)) | 0;
  d.hi |= 0x200;
  cpu.writeSys32((addr + 4) | 0, d.hi);
  cpu.setSegmentRaw(SEG_TR, sel, d.base, d.limit, d.hi & DESC_ATTR_MASK);
}

/** LAR/LSL/VERR/VERW access test (SDM vol. 2): is the descriptor visible at CPL/RPL? */
export function descriptorVisible(cpu: Cpu, sel: number, d: Descriptor): boolean {
  const rpl = sel & 3;
  const conformingCode = !d.system && (d.flags & DESC_CODE) !== 0 && (d.flags & DESC_C) !== 0;
  if (conformingCode) return true;
  return d.dpl >= cpu.cpl && d.dpl >= rpl;
}

export { DESC_E, DESC_B };
