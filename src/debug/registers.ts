// The register file as a debugger sees it: a plain snapshot (serialisable, so it can
// cross a worker boundary) and named writes.
import type { Cpu } from '../cpu/cpu.js';
import { SEG_CS, SEG_SS } from '../cpu/instr.js';
import { SEG_LDTR, SEG_TR, descriptorBase, descriptorLimit, DESC_ATTR_MASK } from '../cpu/segment.js';

export const GPR_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export const SEG_REG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;

export interface SegmentState {
  sel: number;
  base: number;
  limit: number;
  flags: number;
}

export interface FpuState {
  /** ST0-ST7 as 80-bit little-endian images. */
  st: number[][];
  fctrl: number;
  fstat: number;
  ftag: number;
  fiseg: number;
  fioff: number;
  foseg: number;
  fooff: number;
  fop: number;
}

export interface RegisterSnapshot {
  gpr: number[];
  eip: number;
  eflags: number;
  seg: SegmentState[]; // ES CS SS DS FS GS
  ldtr: SegmentState;
  tr: SegmentState;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  efer: number;
  dr: number[];
  cpl: number;
  icount: number;
  halted: boolean;
  fpu: FpuState;
  xmm: number[][];
  mxcsr: number;
}

function seg(cpu: Cpu, i: number): SegmentState {
  return { sel: cpu.segSel[i]! & 0xffff, base: cpu.segBase[i]! >>> 0, limit: cpu.segLimit[i]! >>> 0, flags: cpu.segFlags[i]! >>> 0 };
}

/** What the CPU has no unit for yet reads as zero (FINIT values for the x87 control word). */
export function emptyFpu(): FpuState {
  return { st: Array.from({ length: 8 }, () => new Array<number>(10).fill(0)), fctrl: 0x37f, fstat: 0, ftag: 0xffff, fiseg: 0, fioff: 0, foseg: 0, fooff: 0, fop: 0 };
}

/** The x87 state: ST0-ST7 in stack order, the full tag word, the last-instruction pointers. */
export function fpuState(cpu: Cpu): FpuState {
  const f = cpu.fpu.snapshot();
  return { st: f.st, fctrl: f.fcw, fstat: f.fsw, ftag: f.ftw, fiseg: f.fcs, fioff: f.fip, foseg: f.fds, fooff: f.fdp, fop: f.fop };
}

export function snapshotRegisters(cpu: Cpu): RegisterSnapshot {
  return {
    gpr: Array.from(cpu.regs, (v) => v >>> 0),
    eip: cpu.eip >>> 0,
    eflags: cpu.getEflags(),
    seg: [0, 1, 2, 3, 4, 5].map((i) => seg(cpu, i)),
    ldtr: seg(cpu, SEG_LDTR),
    tr: seg(cpu, SEG_TR),
    gdtr: { base: cpu.gdtBase >>> 0, limit: cpu.gdtLimit },
    idtr: { base: cpu.idtBase >>> 0, limit: cpu.idtLimit },
    cr0: cpu.cr0 >>> 0,
    cr2: cpu.cr2 >>> 0,
    cr3: cpu.cr3 >>> 0,
    cr4: cpu.cr4 >>> 0,
    efer: cpu.efer >>> 0,
    dr: Array.from(cpu.dr, (v) => v >>> 0),
    cpl: cpu.cpl,
    icount: cpu.icount,
    halted: cpu.halted,
    fpu: fpuState(cpu),
    xmm: Array.from({ length: 8 }, (_, i) => Array.from(cpu.simd.U8.subarray(16 * i, 16 * i + 16))),
    mxcsr: cpu.simd.mxcsr >>> 0,
  };
}

/** Write XMM0-7 from a debugger's 16 little-endian bytes. */
export function writeXmmRegister(cpu: Cpu, name: string, bytes: Uint8Array): boolean {
  const m = /^xmm([0-7])$/.exec(name);
  if (!m || bytes.length !== 16) return false;
  cpu.simd.U8.set(bytes, 16 * Number(m[1]));
  return true;
}

/** One register write from a debugger: a value (32 bits or less) or little-endian bytes (x87, XMM). */
export type RegisterWrite = { readonly name: string; readonly value: number } | { readonly name: string; readonly bytes: Uint8Array };

/** Every register name a debugger may write. */
export const WRITABLE_REGISTERS = [
  ...GPR_NAMES, 'eip', 'eflags', ...SEG_REG_NAMES, 'cr0', 'cr2', 'cr3', 'cr4', 'dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7', 'mxcsr',
] as const;

/**
 * Write a register from a debugger. Segment selectors load their hidden part from the
 * descriptor tables (protected mode) or as selector * 16 (real mode), without the
 * checks a MOV would make; false (nothing written) for an unknown name or a descriptor
 * that cannot be read.
 */
export function writeRegister(cpu: Cpu, name: string, value: number): boolean {
  value >>>= 0;
  const g = (GPR_NAMES as readonly string[]).indexOf(name);
  if (g >= 0) {
    cpu.regs[g] = value | 0;
    return true;
  }
  const s = (SEG_REG_NAMES as readonly string[]).indexOf(name);
  if (s >= 0) return loadSegmentForDebugger(cpu, s, value & 0xffff);
  switch (name) {
    case 'eip': cpu.eip = value; return true;
    case 'eflags': cpu.setEflags(value, 0xffffffff); return true; // reserved bits: setEflags's mask
    case 'cr0': cpu.setCr0(value | 0); return true;
    case 'cr2': cpu.cr2 = value | 0; return true;
    case 'cr3': cpu.setCr3(value | 0); return true;
    case 'cr4': cpu.setCr4(value | 0); return true;
    case 'mxcsr': cpu.simd.ldmxcsr(value); return true; // any value, as LDMXCSR under QEMU 7.2
    case 'dr0': case 'dr1': case 'dr2': case 'dr3': case 'dr6': case 'dr7':
      cpu.dr[Number(name[2])] = value | 0;
      cpu.updateHflags();
      return true;
    default:
      return false;
  }
}

/**
 * False, changing nothing, where the descriptor cannot be read: past the table's limit,
 * not mapped, or a null selector for CS or SS (QEMU 7.2 ignores such a write and answers
 * OK; we say it failed, decisions.md "A packet answered with an error changed nothing").
 */
function loadSegmentForDebugger(cpu: Cpu, s: number, sel: number): boolean {
  if (!cpu.protectedMode || cpu.v86) {
    cpu.segSel[s] = sel;
    cpu.segBase[s] = sel << 4;
    cpu.updateHflags();
    return true;
  }
  if ((sel & 0xfffc) === 0) {
    if (s === SEG_CS || s === SEG_SS) return false;
    cpu.setSegmentRaw(s, sel, 0, 0, 0);
    return true;
  }
  const local = (sel & 4) !== 0;
  const tableBase = local ? cpu.segBase[SEG_LDTR]! : cpu.gdtBase;
  const tableLimit = local ? cpu.segLimit[SEG_LDTR]! : cpu.gdtLimit;
  if ((sel & ~7) + 7 > tableLimit >>> 0) return false;
  const lin = (tableBase + (sel & ~7)) >>> 0;
  const pa = cpu.mmu.debugTranslate(lin);
  const pa2 = cpu.mmu.debugTranslate((lin + 4) >>> 0);
  if (pa === null || pa2 === null) return false;
  const lo = cpu.phys.read32(pa);
  const hi = cpu.phys.read32(pa2);
  cpu.setSegmentRaw(s, sel, descriptorBase(lo, hi), descriptorLimit(lo, hi), hi & DESC_ATTR_MASK);
  if (s === SEG_CS) cpu.setCpl(sel & 3);
  return true;
}
