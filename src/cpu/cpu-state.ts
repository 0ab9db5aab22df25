// The CPU's guest-visible state as a plain record, for snapshots (QEMU's vmstate_x86_cpu):
// registers with the hidden part of every segment register, EFLAGS with the lazy
// arithmetic flags materialised, control and debug registers, the interrupt and NMI
// state, the STI/MOV SS shadow, HLT, the MSRs, the x87 unit, A20 and the TLB.
//
// Snapshots are taken between slices of the CPU loop, never inside translated code: the
// per-instruction scratch state (pending exception, icountOff, stopAfterInsn) is idle then.
import type { Cpu } from './cpu.js';
import { ARITH_FLAGS, CC_EFLAGS } from './lazy-flags.js';
import type { MsrStateRecord } from './cpuid-msr.js';
import type { FpuState } from './fpu/fpu.js';
import type { SimdState } from './simd/simd.js';
import type { TlbState } from './mmu.js';

export interface CpuState {
  regs: number[];
  eip: number;
  /** EFLAGS with the arithmetic flags computed. */
  eflags: number;
  segSel: number[];
  segBase: number[];
  segLimit: number[];
  segFlags: number[];
  gdtBase: number;
  gdtLimit: number;
  idtBase: number;
  idtLimit: number;
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  efer: number;
  dr: number[];
  cpl: number;
  icount: number;
  /** CPUID.1:EDX as the guest sees it (the APIC bit follows IA32_APIC_BASE). */
  cpuidEdx: number;
  halted: boolean;
  inhibitIrq: boolean;
  inhibitDebug: boolean;
  nmiBlocked: boolean;
  interruptRequest: number;
  dbTrapPending: number;
  exceptionClass: number;
  tscOffset: number;
  sysenterCs: number;
  sysenterEsp: number;
  sysenterEip: number;
  a20Mask: number;
  msr: MsrStateRecord;
  fpu: FpuState;
  /** XMM0-7 and MXCSR (absent in snapshots taken before issue 15: reset values). */
  simd?: SimdState;
  tlb: TlbState;
}

export function saveCpuState(cpu: Cpu): CpuState {
  return {
    regs: Array.from(cpu.regs),
    eip: cpu.eip,
    eflags: cpu.getEflags(),
    segSel: Array.from(cpu.segSel),
    segBase: Array.from(cpu.segBase),
    segLimit: Array.from(cpu.segLimit),
    segFlags: Array.from(cpu.segFlags),
    gdtBase: cpu.gdtBase,
    gdtLimit: cpu.gdtLimit,
    idtBase: cpu.idtBase,
    idtLimit: cpu.idtLimit,
    cr0: cpu.cr0,
    cr2: cpu.cr2,
    cr3: cpu.cr3,
    cr4: cpu.cr4,
    efer: cpu.efer,
    dr: Array.from(cpu.dr),
    cpl: cpu.cpl,
    icount: cpu.icount,
    cpuidEdx: cpu.features.edx,
    halted: cpu.halted,
    inhibitIrq: cpu.inhibitIrq,
    inhibitDebug: cpu.inhibitDebug,
    nmiBlocked: cpu.nmiBlocked,
    interruptRequest: cpu.interruptRequest,
    dbTrapPending: cpu.dbTrapPending,
    exceptionClass: cpu.exceptionClass,
    tscOffset: cpu.tscOffset,
    sysenterCs: cpu.sysenterCs,
    sysenterEsp: cpu.sysenterEsp,
    sysenterEip: cpu.sysenterEip,
    a20Mask: cpu.mmu.a20Mask,
    msr: cpu.msr.saveState(),
    fpu: cpu.fpu.saveState(),
    simd: cpu.simd.saveState(),
    tlb: cpu.mmu.saveTlb(),
  };
}

/**
 * Load a saved CPU. The board's devices are loaded first (the local APIC reports its INTR
 * level into `interruptRequest` as it loads); this sets the final value.
 */
export function loadCpuState(cpu: Cpu, s: CpuState): void {
  cpu.regs.set(s.regs);
  cpu.eip = s.eip;
  cpu.eflags = s.eflags & ~ARITH_FLAGS;
  cpu.ccOp = CC_EFLAGS;
  cpu.ccSrc = s.eflags & ARITH_FLAGS;
  cpu.ccDst = 0;
  cpu.ccAux = 0;
  cpu.segSel.set(s.segSel);
  cpu.segBase.set(s.segBase);
  cpu.segLimit.set(s.segLimit);
  cpu.segFlags.set(s.segFlags);
  cpu.gdtBase = s.gdtBase;
  cpu.gdtLimit = s.gdtLimit;
  cpu.idtBase = s.idtBase;
  cpu.idtLimit = s.idtLimit;
  cpu.cr0 = s.cr0;
  cpu.cr2 = s.cr2;
  cpu.cr3 = s.cr3;
  cpu.cr4 = s.cr4;
  cpu.efer = s.efer;
  cpu.dr.set(s.dr);
  cpu.cpl = s.cpl;
  cpu.icount = s.icount;
  cpu.icountOff = 0;
  cpu.features.edx = s.cpuidEdx;
  cpu.halted = s.halted;
  cpu.inhibitIrq = s.inhibitIrq;
  cpu.inhibitDebug = s.inhibitDebug;
  cpu.nmiBlocked = s.nmiBlocked;
  cpu.interruptRequest = s.interruptRequest;
  cpu.dbTrapPending = s.dbTrapPending;
  cpu.exceptionClass = s.exceptionClass;
  cpu.tscOffset = s.tscOffset;
  cpu.sysenterCs = s.sysenterCs;
  cpu.sysenterEsp = s.sysenterEsp;
  cpu.sysenterEip = s.sysenterEip;
  cpu.stopAfterInsn = false;
  cpu.watchHit = null;
  cpu.faultEip = -1;
  cpu.pending.eip = -1;
  cpu.mmu.a20Mask = s.a20Mask;
  cpu.msr.loadState(s.msr);
  cpu.fpu.loadState(s.fpu);
  if (s.simd) cpu.simd.loadState(s.simd);
  else cpu.simd.reset();
  // Data breakpoints from DR7 and the flags translated code depends on (this also flushes
  // the TLB), then instruction breakpoints compiled into TBs, then the TLB as it was.
  cpu.refreshWatch();
  cpu.onDebugRegistersChanged();
  cpu.mmu.loadTlb(s.tlb);
}
