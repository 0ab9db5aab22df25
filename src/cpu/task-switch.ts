// Hardware task switching (SDM vol. 3, 7.3): JMP/CALL to a TSS or task gate, INT or an
// exception through a task gate, IRET with NT set. 32- and 16-bit TSSs, busy bits, the
// back link and NT. State is saved to the old TSS and loaded from the new one before the
// new task's segment registers are checked: a fault there happens in the new task.
import type { Cpu } from './cpu.js';
import { EXC_GP, EXC_NP, EXC_SS, EXC_TS } from './cpu-exception.js';
import {
  DESC_B, DESC_C, DESC_CODE, DESC_P, DESC_R, DESC_W, DESC_ATTR_MASK, SEG_LDTR, SEG_TR, descriptorBase, descriptorLimit,
} from './segment.js';
import { SEG_CS, SEG_SS } from './instr.js';
import { FLAG_NT, FLAG_VM } from './lazy-flags.js';
import { CR0_PG, CR0_TS } from './mmu.js';

export type TaskSwitchSource = 'jmp' | 'call' | 'int' | 'iret';

interface TssDescriptor {
  sel: number;
  addr: number; // linear address of the descriptor in the GDT
  lo: number;
  hi: number;
  base: number;
  limit: number;
  type: number;
}

function readTssDescriptor(cpu: Cpu, sel: number, exc: number): TssDescriptor {
  if (sel & 4) cpu.raiseException(exc, sel & 0xfffc);
  const index = sel & ~7;
  if (index + 7 > cpu.gdtLimit) cpu.raiseException(exc, sel & 0xfffc);
  const addr = (cpu.gdtBase + index) | 0;
  const lo = cpu.readSys32(addr);
  const hi = cpu.readSys32((addr + 4) | 0);
  return { sel, addr, lo, hi, base: descriptorBase(lo, hi), limit: descriptorLimit(lo, hi), type: (hi >> 8) & 0x1f };
}

/**
 * Switch to the task whose TSS selector is `sel`. `nextEip` is the EIP saved in the old
 * task. An error code (exceptions through a task gate) is pushed on the new task's stack.
 */
export function taskSwitch(cpu: Cpu, sel: number, source: TaskSwitchSource, nextEip: number, errorCode = 0, hasErrorCode = false): void {
  sel &= 0xffff;
  const d = readTssDescriptor(cpu, sel, source === 'iret' ? EXC_TS : EXC_GP);
  // Type 1/9 available, 3/11 busy (16/32-bit).
  const t = d.type & 0x17;
  if (t !== 1 && t !== 3 && t !== 9 && t !== 11) cpu.raiseException(source === 'iret' ? EXC_TS : EXC_GP, sel & 0xfffc);
  const busy = (d.type & 2) !== 0;
  if (source === 'iret' ? !busy : busy) cpu.raiseException(source === 'iret' ? EXC_TS : EXC_GP, sel & 0xfffc);
  if (!(d.hi & DESC_P)) cpu.raiseException(EXC_NP, sel & 0xfffc);
  const new32 = (d.type & 8) !== 0;
  if (d.limit < (new32 ? 0x67 : 0x2b)) cpu.raiseException(EXC_TS, sel & 0xfffc);

  // Read the new task's state first (the TSS may be not present in the page tables: the
  // fault then happens before anything changed).
  const b = d.base;
  const rd16 = (o: number) => cpu.readSys16((b + o) | 0);
  const rd32 = (o: number) => cpu.readSys32((b + o) | 0);
  let nEip: number, nFlags: number, nCr3 = 0, nLdt: number;
  const nRegs: number[] = [];
  const nSegs: number[] = [];
  if (new32) {
    nCr3 = rd32(0x1c);
    nEip = rd32(0x20) >>> 0;
    nFlags = rd32(0x24) >>> 0;
    for (let i = 0; i < 8; i++) nRegs.push(rd32(0x28 + i * 4));
    for (let i = 0; i < 6; i++) nSegs.push(rd16(0x48 + i * 4));
    nLdt = rd16(0x60);
  } else {
    nEip = rd16(0x0e);
    nFlags = rd16(0x10);
    for (let i = 0; i < 8; i++) nRegs.push(rd16(0x12 + i * 2) | (cpu.regs[i]! & -65536));
    for (let i = 0; i < 4; i++) nSegs.push(rd16(0x22 + i * 2));
    nSegs.push(0, 0);
    nLdt = rd16(0x2a);
  }

  // Save the outgoing task into the current TSS (its dynamic fields only).
  const old = cpu.segBase[SEG_TR]!;
  const old32 = ((cpu.segFlags[SEG_TR]! >> 8) & 8) !== 0;
  let oldFlags = cpu.getEflags();
  if (source === 'jmp' || source === 'iret') oldFlags &= ~FLAG_NT;
  const oldTrSel = cpu.segSel[SEG_TR]!;
  if (old32) {
    cpu.writeSys32((old + 0x20) | 0, nextEip);
    cpu.writeSys32((old + 0x24) | 0, oldFlags);
    for (let i = 0; i < 8; i++) cpu.writeSys32((old + 0x28 + i * 4) | 0, cpu.regs[i]!);
    for (let i = 0; i < 6; i++) cpu.writeSys16((old + 0x48 + i * 4) | 0, cpu.segSel[i]!);
  } else {
    cpu.writeSys16((old + 0x0e) | 0, nextEip);
    cpu.writeSys16((old + 0x10) | 0, oldFlags);
    for (let i = 0; i < 8; i++) cpu.writeSys16((old + 0x12 + i * 2) | 0, cpu.regs[i]!);
    for (let i = 0; i < 4; i++) cpu.writeSys16((old + 0x22 + i * 2) | 0, cpu.segSel[i]!);
  }
  // Busy bits: the old task is no longer busy after JMP/IRET; the new one is busy now.
  if (source === 'jmp' || source === 'iret') {
    const od = readTssDescriptor(cpu, oldTrSel, EXC_TS);
    cpu.writeSys32((od.addr + 4) | 0, od.hi & ~0x200);
  }
  if (source !== 'iret') cpu.writeSys32((d.addr + 4) | 0, d.hi | 0x200);
  if (source === 'call' || source === 'int') {
    cpu.writeSys16(b, oldTrSel);
    nFlags |= FLAG_NT;
  }
  // Load TR (busy) and the new task's registers, raw.
  cpu.setSegmentRaw(SEG_TR, sel, d.base, d.limit, (d.hi | (source === 'iret' ? 0 : 0x200)) & DESC_ATTR_MASK);
  cpu.setCr0(cpu.cr0 | CR0_TS);
  if (new32 && cpu.cr0 & CR0_PG) cpu.setCr3(nCr3);
  for (let i = 0; i < 8; i++) cpu.regs[i] = nRegs[i]!;
  cpu.eip = nEip;
  cpu.setEflags(nFlags, new32 ? 0xffffffff : 0xffff);
  const v86 = (nFlags & FLAG_VM) !== 0 && new32;
  // Selectors are loaded first, descriptors afterwards: faults belong to the new task.
  for (let s = 0; s < 6; s++) cpu.segSel[s] = nSegs[s]!;
  cpu.segSel[SEG_LDTR] = nLdt;
  if (v86) {
    cpu.setCpl(3);
    for (let s = 0; s < 6; s++) cpu.loadSegmentReal(s, nSegs[s]!);
  } else {
    cpu.setCpl(nSegs[SEG_CS]! & 3);
    // Past the commit point: a fault while loading the new task's segments is taken in the
    // new task, at its first instruction (SDM vol. 3, 7.3 step 13).
    cpu.faultEip = nEip;
    try {
      loadTaskSegments(cpu, nSegs, nLdt);
    } finally {
      cpu.faultEip = -1;
    }
  }
  cpu.updateHflags();
  // The T bit of a 32-bit TSS raises a debug trap on entry to the task (DR6.BT).
  if (new32 && rd16(0x64) & 1) {
    cpu.dbTrapPending |= 0x8000;
    cpu.stopAfterInsn = true;
  }
  if (hasErrorCode) {
    const ss32 = (cpu.segFlags[SEG_SS]! & DESC_B) !== 0;
    const size = new32 ? 4 : 2;
    const mask = ss32 ? -1 : 0xffff;
    const sp = (cpu.regs[4]! - size) & mask;
    const lin = (cpu.segBase[SEG_SS]! + sp) | 0;
    if (size === 4) cpu.store32(lin, errorCode, cpu.cpl === 3);
    else cpu.store16(lin, errorCode, cpu.cpl === 3);
    cpu.regs[4] = ss32 ? sp : (cpu.regs[4]! & -65536) | sp;
  }
}

function descriptorAt(cpu: Cpu, sel: number): { lo: number; hi: number } | null {
  const index = sel & ~7;
  let base: number;
  let limit: number;
  if (sel & 4) {
    base = cpu.segBase[SEG_LDTR]!;
    limit = cpu.segLimit[SEG_LDTR]!;
    if ((cpu.segSel[SEG_LDTR]! & 0xfffc) === 0) return null;
  } else {
    base = cpu.gdtBase;
    limit = cpu.gdtLimit;
  }
  if (index + 7 > limit) return null;
  return { lo: cpu.readSys32((base + index) | 0), hi: cpu.readSys32((base + index + 4) | 0) };
}

/** SDM vol. 3, 7.3 steps 13-14: check and load LDTR, CS, SS, DS, ES, FS, GS of the new task. */
function loadTaskSegments(cpu: Cpu, segs: number[], ldt: number): void {
  if ((ldt & 0xfffc) === 0) cpu.setSegmentRaw(SEG_LDTR, ldt, 0, 0, 0);
  else {
    if (ldt & 4) cpu.raiseException(EXC_TS, ldt & 0xfffc);
    const d = descriptorAt(cpu, ldt);
    if (!d || ((d.hi >> 8) & 0x1f) !== 2) cpu.raiseException(EXC_TS, ldt & 0xfffc);
    if (!(d.hi & DESC_P)) cpu.raiseException(EXC_TS, ldt & 0xfffc);
    cpu.setSegmentRaw(SEG_LDTR, ldt, descriptorBase(d.lo, d.hi), descriptorLimit(d.lo, d.hi), d.hi & DESC_ATTR_MASK);
  }
  const cpl = segs[SEG_CS]! & 3;
  const cs = segs[SEG_CS]!;
  {
    const d = (cs & 0xfffc) === 0 ? null : descriptorAt(cpu, cs);
    if (!d || !(d.hi & (1 << 12)) || !(d.hi & DESC_CODE)) cpu.raiseException(EXC_TS, cs & 0xfffc);
    const dpl = (d.hi >> 13) & 3;
    if (d.hi & DESC_C ? dpl > cpl : dpl !== cpl) cpu.raiseException(EXC_TS, cs & 0xfffc);
    if (!(d.hi & DESC_P)) cpu.raiseException(EXC_NP, cs & 0xfffc);
    cpu.setSegmentRaw(SEG_CS, cs, descriptorBase(d.lo, d.hi), descriptorLimit(d.lo, d.hi), d.hi & DESC_ATTR_MASK);
  }
  const ss = segs[SEG_SS]!;
  {
    if ((ss & 0xfffc) === 0) cpu.raiseException(EXC_TS, ss & 0xfffc);
    const d = descriptorAt(cpu, ss);
    if (!d) cpu.raiseException(EXC_TS, ss & 0xfffc);
    const dpl = (d.hi >> 13) & 3;
    if ((ss & 3) !== cpl || dpl !== cpl || !(d.hi & (1 << 12)) || d.hi & DESC_CODE || !(d.hi & DESC_W)) cpu.raiseException(EXC_TS, ss & 0xfffc);
    if (!(d.hi & DESC_P)) cpu.raiseException(EXC_SS, ss & 0xfffc);
    cpu.setSegmentRaw(SEG_SS, ss, descriptorBase(d.lo, d.hi), descriptorLimit(d.lo, d.hi), d.hi & DESC_ATTR_MASK);
  }
  for (const s of [0, 3, 4, 5]) {
    const sel = segs[s]!;
    if ((sel & 0xfffc) === 0) {
      cpu.setSegmentRaw(s, sel, 0, 0, 0);
      continue;
    }
    const d = descriptorAt(cpu, sel);
    if (!d || !(d.hi & (1 << 12)) || (d.hi & DESC_CODE && !(d.hi & DESC_R))) cpu.raiseException(EXC_TS, sel & 0xfffc);
    const dpl = (d.hi >> 13) & 3;
    const conforming = (d.hi & DESC_CODE) !== 0 && (d.hi & DESC_C) !== 0;
    if (!conforming && (dpl < cpl || dpl < (sel & 3))) cpu.raiseException(EXC_TS, sel & 0xfffc);
    if (!(d.hi & DESC_P)) cpu.raiseException(EXC_NP, sel & 0xfffc);
    cpu.setSegmentRaw(s, sel, descriptorBase(d.lo, d.hi), descriptorLimit(d.lo, d.hi), d.hi & DESC_ATTR_MASK);
  }
}
