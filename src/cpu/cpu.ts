// The architectural state of one i386 CPU and the slow paths that translated code falls
// back to (memory accesses the TLB cannot serve, segment checks, exceptions).
import { PhysicalMemory, PAGE_SHIFT } from '../memory/physical-memory.js';
import type { IoBus } from '../devices/io-bus.js';
import {
  ARITH_FLAGS, CC_EFLAGS, FLAG_AC, FLAG_ID, FLAG_IF, FLAG_IOPL, FLAG_NT, FLAG_RF, FLAG_TF, FLAG_VM,
  computeFlags, FLAG_DF, FLAG_VIF, FLAG_VIP, computeCarry, EFLAGS_DEFINED, FLAG_FIXED1,
} from './lazy-flags.js';
import { GUEST_EXCEPTION, IO_RESTART, EXC_GP, EXC_SS, EXC_AC } from './cpu-exception.js';
import { ACCESS_READ, ACCESS_WRITE, CR0_AM, CR0_ET, CR0_PE, Mmu, PHYS_4G } from './mmu.js';
import {
  DESC_B, DESC_CODE, DESC_E, DESC_P, DESC_S, DESC_W, DESC_A, DESC_R,
  SEGCLASS_BASIC, SEGCLASS_COMPLEX, SEGCLASS_FLAT, SEG_LDTR, SEG_TR,
} from './segment.js';
import { SEG_CS, SEG_SS } from './instr.js';
import { MsrState, type CpuFeatures } from './cpuid-msr.js';
import { defaultCpuModel, type CpuModel } from './cpu-models.js';
import { Fpu } from './fpu/fpu.js';
import { Simd } from './simd/simd.js';

export const HF_CPL_MASK = 3;
export const HF_CS32 = 1 << 2;
export const HF_SS32 = 1 << 3;
export const HF_PE = 1 << 4;
export const HF_VM = 1 << 5;
export const HF_TF = 1 << 6;
export const HF_WATCH = 1 << 7;
export const HF_SEG_SHIFT = 8; // 2 bits per segment register, ES..GS
export const HF_AC = 1 << 20;
export const HF_FPU_EM = 1 << 21; // CR0.EM: x87 instructions raise #NM
export const HF_FPU_TS = 1 << 22; // CR0.TS
export const HF_FPU_MP = 1 << 23; // CR0.MP
export const HF_DR_EXEC = 1 << 24; // guest debug registers hold enabled instruction breakpoints
export const HF_CS_LIMIT = 1 << 25; // CS limit below the operand-size range: near jumps check it
export const HF_OSFXSR = 1 << 26; // CR4.OSFXSR: SSE instructions exist

export const IRQ_HARD = 1; // the interrupt controller asserts INTR
export const IRQ_NMI = 2;
export const IRQ_SMI = 4;
/** An INIT (INIT IPI, I/O APIC INIT message): the CPU re-initialises at the next boundary. */
export const IRQ_INIT = 8;

/** What an interrupt controller offers the CPU (PIC, later the local APIC). */
export interface InterruptController {
  /** Vector of the highest-priority pending interrupt, acknowledged (INTA cycle). */
  acknowledge(): number;
}

/**
 * Watches interrupt and exception delivery as QEMU's -d int sees it (src/debug/qemu-log.ts).
 * Called only on delivery paths, never from translated code.
 */
export interface InterruptTrace {
  /** An exception is raised (QEMU's check_exception): `old` is the one being delivered, or -1. */
  exceptionRaised(old: number, vector: number): void;
  /** The exception raised while delivering a double fault: the CPU shuts down. */
  tripleFault(): void;
  /** An external interrupt was acknowledged at the controller. */
  hardwareInterrupt(vector: number): void;
  /** A delivery starts: `software` for INT n/INT3/INTO; `eip` of the instruction (or the next one). */
  deliver(vector: number, errorCode: number, software: boolean, eip: number): void;
}

export interface PendingException {
  vector: number;
  errorCode: number;
  hasErrorCode: boolean;
  /** EIP the exception belongs to when it is not the faulting instruction's (see faultEip). */
  eip: number;
}

export interface WatchHit {
  kind: 'watch' | 'rwatch' | 'awatch';
  addr: number;
  id: number;
}

export interface Watchpoint {
  id: number;
  addr: number;
  len: number;
  kind: 'watch' | 'rwatch' | 'awatch';
}

export class Cpu {
  readonly regs = new Int32Array(8);
  eip = 0;
  /** EFLAGS without the six arithmetic flags, which are lazy (ccOp & co.). */
  eflags = 2;
  ccOp = CC_EFLAGS;
  ccDst = 0;
  ccSrc = 0;
  ccAux = 0;

  // Segment registers 0-5 (ES CS SS DS FS GS), 6 = LDTR, 7 = TR: selector and hidden part.
  readonly segSel = new Int32Array(8);
  readonly segBase = new Int32Array(8);
  readonly segLimit = new Uint32Array(8);
  readonly segFlags = new Int32Array(8);
  gdtBase = 0;
  gdtLimit = 0xffff;
  idtBase = 0;
  idtLimit = 0xffff;

  cr0 = CR0_ET;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  efer = 0;
  readonly dr = new Int32Array(8);
  cpl = 0;
  hflags = 0;

  /** Retired instructions. */
  icount = 0;
  /**
   * While an I/O instruction or RDTSC runs inside a TB: how many instructions of the TB
   * retired before it (icount itself advances at TB exits). The clock counts them.
   */
  icountOff = 0;
  /**
   * Translated code runs while icount < deadline: the loop sets it to the next timer or
   * budget end, and anything that must stop execution early sets it to 0.
   */
  deadline = 0;
  /**
   * The wall-clock time (performance.now(), ms) by which the caller of the CPU loop wants
   * control back, Infinity for none (the debugger's run loop sets it per slice, so that
   * stop requests are served however slow the guest's instructions are). Work that takes
   * microseconds per instruction looks at the clock (slowWork, checkWall); past it,
   * `wallExpired` is set and translated code leaves at the next block boundary.
   */
  wallDeadline = Infinity;
  wallExpired = false;
  private slowCalls = 0;
  /** The CPU model (CPUID, MSR set, which instructions exist): QEMU's -cpu models. */
  readonly model: CpuModel;
  /** CPUID.1:EDX as the guest sees it: the model's, plus APIC while the board's APIC is enabled. */
  features: CpuFeatures;
  /**
   * CPUID.1:EBX: the initial APIC ID (bits 31-24), the logical processors per package
   * (23-16, with several CPUs) and the CLFLUSH line size in quadwords (15-8), as QEMU.
   */
  cpuidEbx1 = 0x800;
  /** With several CPUs, the index of the one whose state this is (events name it); -1 with one. */
  smpIndex = -1;
  /** Model-specific registers a board adds (read null / write false: not the hook's). */
  msrHook: { read(msr: number): bigint | null; write(msr: number, v: bigint): boolean } | null = null;
  halted = false;
  /** Interrupts are inhibited for one instruction after STI, MOV SS and POP SS. */
  inhibitIrq = false;
  /** Between NMI delivery and the handler's IRET, further NMIs wait. */
  nmiBlocked = false;
  interruptRequest = 0;
  /** Set by a slow path when the current instruction must be the last of its TB. */
  stopAfterInsn = false;
  /**
   * Whether the retired count is exact for the instruction running now: outside
   * translated code, and in one-instruction blocks (see ioCheck). The CPU loop clears
   * it while a longer block runs.
   */
  ioExact = true;
  /**
   * Single-stepping (EFLAGS.TF or the debugger's stepi): a REP string instruction runs one
   * iteration per step and its last iteration completes it, as QEMU without -icount.
   */
  stepping = false;
  watchHit: WatchHit | null = null;
  /** Debugger watchpoints (gdb, UI); see refreshWatch(). */
  watchpoints: Watchpoint[] = [];
  /** Guest data breakpoints from DR0-DR3/DR7: [address, length, DR index, rw (1 write, 3 rw)]. */
  dataBreakpoints: [number, number, number, number][] = [];
  /** Any watchpoint or data breakpoint: memory accesses take the checking slow path. */
  watchActive = false;
  /** DR6 bits of data breakpoints hit by the current instruction (#DB trap after it). */
  dbTrapPending = 0;
  /** MOV SS / POP SS also hold back debug traps for one instruction. */
  inhibitDebug = false;
  /** Called when the guest changes DR0-DR3/DR7: instruction breakpoints live in translated code. */
  onDebugRegistersChanged: () => void = () => {};
  pending: PendingException = { vector: 0, errorCode: 0, hasErrorCode: false, eip: -1 };
  /**
   * While not -1, exceptions belong to this EIP instead of the current instruction's: a
   * task switch past its commit point faults in the new task.
   */
  faultEip = -1;
  /** Nested-exception state for #DF / triple fault (SDM vol. 3, table 6-5). */
  exceptionClass = 0;

  // MSR-backed state.
  tscOffset = 0;
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;
  /** The other MSRs (MTRRs, PAT, machine check, MISC_ENABLE...). */
  readonly msr = new MsrState();
  /** The local APIC's IA32_APIC_BASE, when the board has an APIC. */
  apic: { readonly baseMsr: number; setBaseMsr(v: number): void } | null = null;
  /** The virtual clock behind RDTSC, in TSC ticks. */
  tscSource: () => number = () => this.icount;

  readonly mmu: Mmu;
  /** The x87 FPU (src/cpu/fpu); reset with the CPU. */
  readonly fpu: Fpu = new Fpu(this);
  /** XMM registers, MXCSR and the MMX operations (src/cpu/simd); RESET clears them, INIT keeps them. */
  readonly simd: Simd = new Simd(this);
  intc: InterruptController | null = null;
  /** Handles an INIT taken by the loop (the board adds what its firmware would do). */
  onInit: () => void = () => this.init();
  /**
   * PAUSE: with several CPUs, ends this CPU's turn when another can run (true: translated
   * code leaves after the PAUSE); null with one CPU.
   */
  onPause: (() => boolean) | null = null;
  /** Called when a guest write hits a page holding translated code. */
  onCodeWrite: (pa: number, size: number) => void = () => {};
  /** Called after every TLB flush (the TB jump cache depends on linear mappings). */
  onTlbFlushHook: () => void = () => {};
  /** QEMU's -d int: null unless a log listens. */
  intTrace: InterruptTrace | null = null;
  /** One linear page's mapping changed (INVLPG): forget what was looked up through it. */
  onTlbFlushPageHook: (vpage: number) => void = () => {};
  /** Reports an instruction the translator does not implement (bytes, address). */
  onUnimplemented: (eip: number, bytes: number[], what: string) => void = () => {};

  constructor(readonly phys: PhysicalMemory, readonly io: IoBus, model: CpuModel = defaultCpuModel()) {
    this.model = model;
    this.features = { edx: model.edx };
    this.mmu = new Mmu(this, phys);
    this.reset();
  }

  /** Power-on / RESET state (SDM vol. 3, table 9-1). */
  reset(): void {
    this.resetCommon();
    this.tscOffset = 0;
    this.sysenterCs = 0;
    this.sysenterEsp = 0;
    this.sysenterEip = 0;
    this.msr.reset(this.model.mcgCap);
    this.fpu.reset();
    this.simd.reset();
  }

  /**
   * INIT (an INIT IPI): the RESET state, except what INIT keeps. As QEMU 7.2's do_cpu_init
   * (measured): the x87 unit, the TSC, SYSENTER, MISC_ENABLE, PAT, the machine-check
   * registers, STAR and VM_HSAVE_PA survive; the MTRRs, EFER and BNDCFGS are cleared. The
   * BSP then runs from the reset vector like after RESET.
   */
  init(): void {
    this.resetCommon();
    this.msr.init();
  }

  /** What RESET and INIT both set. */
  private resetCommon(): void {
    this.regs.fill(0);
    this.regs[2] = this.model.signature; // EDX: family, model, stepping (as QEMU)
    this.eip = 0xfff0;
    this.eflags = 2;
    this.ccOp = CC_EFLAGS;
    this.ccSrc = 0;
    this.ccDst = 0;
    this.ccAux = 0;
    for (let i = 0; i < 6; i++) this.setSegmentRaw(i, 0, 0, 0xffff, DESC_P | DESC_S | DESC_W | DESC_A);
    this.setSegmentRaw(SEG_CS, 0xf000, 0xffff0000, 0xffff, DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A);
    this.setSegmentRaw(SEG_LDTR, 0, 0, 0xffff, DESC_P | (2 << 8));
    this.setSegmentRaw(SEG_TR, 0, 0, 0xffff, DESC_P | (11 << 8));
    this.gdtBase = 0;
    this.gdtLimit = 0xffff;
    this.idtBase = 0;
    this.idtLimit = 0xffff;
    this.cr0 = CR0_ET | (1 << 29) | (1 << 30); // CD and NW set at power-on
    this.cr2 = 0;
    this.cr3 = 0;
    this.cr4 = 0;
    this.efer = 0;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0 | 0;
    this.dr[7] = 0x400;
    this.cpl = 0;
    this.halted = false;
    this.inhibitIrq = false;
    this.nmiBlocked = false;
    this.interruptRequest &= IRQ_HARD;
    this.stopAfterInsn = false;
    this.exceptionClass = 0;
    this.mmu.a20Mask = -1;
    this.mmu.flush();
    this.updateHflags();
  }

  // ---- flags -------------------------------------------------------------------

  getEflags(): number {
    return ((this.eflags & ~ARITH_FLAGS) | computeFlags(this.ccOp, this.ccDst, this.ccSrc, this.ccAux) | 2) >>> 0;
  }

  getCarry(): number {
    return computeCarry(this.ccOp, this.ccDst, this.ccSrc, this.ccAux);
  }

  /**
   * Write EFLAGS bits selected by `mask` (the arithmetic flags become eager). The one
   * place EFLAGS is written: reserved bits are dropped and bit 1 is set whatever the caller
   * passes, as QEMU's cpu_load_eflags and the SDM do.
   */
  setEflags(value: number, mask: number): void {
    const cur = this.getEflags();
    const v = ((((cur & ~mask) | (value & mask)) & EFLAGS_DEFINED) | FLAG_FIXED1) >>> 0;
    this.ccOp = CC_EFLAGS;
    this.ccSrc = v & ARITH_FLAGS;
    const oldRest = this.eflags;
    this.eflags = v & ~ARITH_FLAGS;
    if ((oldRest ^ this.eflags) & (FLAG_VM | FLAG_TF | FLAG_AC | FLAG_IF)) this.updateHflags();
  }

  /** The mask of EFLAGS bits POPF/IRET may change at the current privilege (SDM vol. 2, POPF). */
  eflagsWriteMask(opsize: number): number {
    let mask = FLAG_TF | FLAG_DF | FLAG_NT | ARITH_FLAGS | FLAG_AC | FLAG_ID;
    const iopl = (this.eflags >> 12) & 3;
    if (this.cpl === 0) mask |= FLAG_IOPL | FLAG_IF;
    else if (this.cpl <= iopl) mask |= FLAG_IF;
    if (opsize === 2) mask &= 0xffff;
    return mask;
  }

  get iopl(): number {
    return (this.eflags >> 12) & 3;
  }

  // ---- modes and translation flags ---------------------------------------------------

  get protectedMode(): boolean {
    return (this.cr0 & CR0_PE) !== 0;
  }

  get v86(): boolean {
    return (this.eflags & FLAG_VM) !== 0;
  }

  /** Recompute everything translated code depends on. */
  updateHflags(): void {
    let h = this.cpl & HF_CPL_MASK;
    const pe = (this.cr0 & CR0_PE) !== 0;
    const vm = (this.eflags & FLAG_VM) !== 0;
    if (pe) h |= HF_PE;
    if (vm) h |= HF_VM;
    if (this.segFlags[SEG_CS]! & DESC_B && pe && !vm) h |= HF_CS32;
    if (this.segFlags[SEG_SS]! & DESC_B && pe && !vm) h |= HF_SS32;
    if (this.eflags & FLAG_TF) h |= HF_TF;
    if (this.segLimit[SEG_CS]! < (h & HF_CS32 ? 0xffffffff : 0xffff)) h |= HF_CS_LIMIT;
    if (this.watchActive) h |= HF_WATCH;
    for (let s = 0; s < 6; s++) h |= this.segmentClass(s, pe && !vm) << (HF_SEG_SHIFT + 2 * s);
    if (this.cr0 & CR0_AM && this.eflags & FLAG_AC && this.cpl === 3) h |= HF_AC;
    if (this.cr0 & 4) h |= HF_FPU_EM;
    if (this.cr4 & 0x200) h |= HF_OSFXSR;
    if (this.cr0 & 8) h |= HF_FPU_TS;
    if (this.cr0 & 2) h |= HF_FPU_MP;
    if (this.dr[7]! & 0xff) {
      for (let i = 0; i < 4; i++) {
        if ((this.dr[7]! >> (2 * i)) & 3 && ((this.dr[7]! >>> (16 + 4 * i)) & 3) === 0) h |= HF_DR_EXEC;
      }
    }
    this.hflags = h;
  }

  private segmentClass(s: number, protectedFlat: boolean): number {
    const base = this.segBase[s]!;
    const limit = this.segLimit[s]!;
    const flags = this.segFlags[s]!;
    if (!protectedFlat) return base === 0 && limit === 0xffffffff ? SEGCLASS_FLAT : SEGCLASS_BASIC;
    if (!(flags & DESC_P) || !(flags & DESC_S) || flags & DESC_CODE || flags & DESC_E || !(flags & DESC_W)) {
      return SEGCLASS_COMPLEX;
    }
    if (this.segSel[s]! >> 2 === 0 && (this.segSel[s]! & 3) === 0 && s !== SEG_SS) {
      // A null selector in a data register: flags were cleared on load, so never here.
      return SEGCLASS_COMPLEX;
    }
    return base === 0 && limit === 0xffffffff ? SEGCLASS_FLAT : SEGCLASS_BASIC;
  }

  setSegmentRaw(seg: number, sel: number, base: number, limit: number, flags: number): void {
    this.segSel[seg] = sel & 0xffff;
    this.segBase[seg] = base | 0;
    this.segLimit[seg] = limit >>> 0;
    this.segFlags[seg] = flags;
    if (seg < 6) this.updateHflags();
  }

  setCpl(cpl: number): void {
    this.cpl = cpl;
    this.updateHflags();
  }

  /** Load a segment register in real or V86 mode (no descriptor). */
  loadSegmentReal(seg: number, sel: number): void {
    sel &= 0xffff;
    this.segSel[seg] = sel;
    this.segBase[seg] = sel << 4;
    if (this.v86) {
      this.segLimit[seg] = 0xffff;
      this.segFlags[seg] = DESC_P | DESC_S | DESC_W | DESC_A | (3 << 13) | (seg === SEG_CS ? DESC_CODE : 0);
    }
    // In real mode the limit and attributes stay as they were ("unreal" mode relies on it).
    this.updateHflags();
  }

  // ---- exceptions -------------------------------------------------------------------

  raiseException(vector: number, errorCode = 0, hasErrorCode?: boolean): never {
    this.pending.vector = vector;
    this.pending.errorCode = errorCode & 0xffff_ffff;
    this.pending.hasErrorCode = hasErrorCode ?? (vector === 8 || (vector >= 10 && vector <= 14) || vector === 17);
    this.pending.eip = this.faultEip;
    throw GUEST_EXCEPTION;
  }

  /** Leave translated code at the next TB boundary (or loop back edge). */
  requestExit(): void {
    this.deadline = 0;
  }

  /** True (and translated code leaves) once the wall deadline has passed. */
  checkWall(): boolean {
    if (!this.wallExpired && performance.now() >= this.wallDeadline) {
      this.wallExpired = true;
      this.deadline = 0;
    }
    return this.wallExpired;
  }

  /** Called by work of a few microseconds (an x87 instruction): every 16th call reads the clock. */
  slowWork(): void {
    if (this.wallDeadline !== Infinity && (++this.slowCalls & 15) === 0) this.checkWall();
  }

  // ---- segments as seen by translated code -------------------------------------------

  /**
   * Linear address of seg:off for an access of `size` bytes, with every check of a
   * data access (SDM vol. 3, 5.3 and 5.4). Used for segments translated as COMPLEX.
   */
  segAddr(seg: number, off: number, size: number, write: boolean): number {
    off >>>= 0;
    const flags = this.segFlags[seg]!;
    const exc = seg === SEG_SS ? EXC_SS : EXC_GP;
    if (this.protectedMode && !this.v86) {
      if (!(flags & DESC_P) || ((this.segSel[seg]! & 0xfffc) === 0 && !(flags & DESC_S))) this.raiseException(exc, 0);
      if (flags & DESC_CODE) {
        if (write || !(flags & DESC_R)) this.raiseException(exc, 0);
      } else if (write && !(flags & DESC_W)) this.raiseException(exc, 0);
    }
    const limit = this.segLimit[seg]!;
    if (!(flags & DESC_CODE) && flags & DESC_E && this.protectedMode && !this.v86) {
      const upper = flags & DESC_B ? 0xffffffff : 0xffff;
      if (off <= limit || off + size - 1 > upper) this.raiseException(exc, 0);
    } else if (off + size - 1 > limit) this.raiseException(exc, 0);
    return (this.segBase[seg]! + off) | 0;
  }

  /** Limit violation on a BASIC segment: #SS for the stack segment, #GP otherwise. */
  segLimitFault(seg: number): never {
    return this.raiseException(seg === SEG_SS ? EXC_SS : EXC_GP, 0);
  }

  // ---- memory slow paths ------------------------------------------------------------

  /** Recompute what the memory slow paths watch (debugger watchpoints and guest DRs). */
  refreshWatch(): void {
    const d7 = this.dr[7]!;
    const bps: [number, number, number, number][] = [];
    for (let i = 0; i < 4; i++) {
      if (!((d7 >> (2 * i)) & 3)) continue;
      const rw = (d7 >>> (16 + 4 * i)) & 3;
      if (rw === 0 || rw === 2) continue; // execute, and I/O (needs CR4.DE; not modelled)
      const len = [1, 2, 8, 4][(d7 >>> (18 + 4 * i)) & 3]!;
      bps.push([(this.dr[i]! >>> 0) & ~(len - 1), len, i, rw]);
    }
    this.dataBreakpoints = bps;
    this.watchActive = this.watchpoints.length > 0 || bps.length > 0;
    const pages = this.mmu.watchedPages;
    pages.clear();
    for (const w of this.watchpoints) for (let p = w.addr >>> 12; p <= (w.addr + w.len - 1) >>> 12; p++) pages.add(p);
    for (const [a, len] of bps) for (let p = a >>> 12; p <= (a + len - 1) >>> 12; p++) pages.add(p);
    this.updateHflags();
    this.mmu.flush();
  }

  private watchCheck(lin: number, size: number, write: boolean): void {
    for (const [a, len, i, rw] of this.dataBreakpoints) {
      if (lin + size <= a || lin >= a + len) continue;
      if (rw === 1 && !write) continue;
      this.dbTrapPending |= 1 << i;
      this.stopAfterInsn = true;
    }
    for (const w of this.watchpoints) {
      if (lin + size <= w.addr || lin >= w.addr + w.len) continue;
      if (w.kind === 'watch' && !write) continue;
      if (w.kind === 'rwatch' && write) continue;
      if (!this.watchHit) this.watchHit = { kind: w.kind, addr: w.addr, id: w.id };
      this.stopAfterInsn = true;
    }
  }

  private alignCheck(lin: number, size: number): void {
    if (this.hflags & HF_AC && lin & (size - 1)) this.raiseException(EXC_AC, 0);
  }

  /**
   * A device (MMIO) access from translated code must see the time and EIP of its own
   * instruction, which only a block's first instruction knows exactly: elsewhere in a
   * block the instruction is restarted as a block of its own (QEMU's icount does the
   * same: I/O ends a block). Nothing of the instruction has happened yet: accesses come
   * before any change of state.
   */
  private ioCheck(pa: number): void {
    if (!this.ioExact && this.phys.mmioAt(pa) !== undefined) throw IO_RESTART;
  }

  /** ioCheck for an address that may be above 4 GiB (unassigned there: no device). */
  private ioCheckAny(pa: number): void {
    if (pa < PHYS_4G) this.ioCheck(pa);
  }

  load8(lin: number, user: boolean): number {
    const pa = this.mmu.translate(lin, ACCESS_READ, user);
    this.ioCheckAny(pa);
    if (this.watchActive) this.watchCheck(lin >>> 0, 1, false);
    if (pa >= PHYS_4G) return 0; // unassigned, as QEMU 7.2
    return this.phys.read8(pa);
  }

  load16(lin: number, user: boolean): number {
    if (user) this.alignCheck(lin, 2);
    if ((lin & 0xfff) === 0xfff) {
      // Both pages are checked first; a fault on the second reports its first byte.
      this.ioCheckAny(this.mmu.translate(lin, ACCESS_READ, user));
      this.ioCheckAny(this.mmu.translate((lin + 1) | 0, ACCESS_READ, user));
      return this.load8(lin, user) | (this.load8((lin + 1) | 0, user) << 8);
    }
    const pa = this.mmu.translate(lin, ACCESS_READ, user);
    this.ioCheckAny(pa);
    if (this.watchActive) this.watchCheck(lin >>> 0, 2, false);
    if (pa >= PHYS_4G) return 0;
    return this.phys.read16(pa);
  }

  load32(lin: number, user: boolean): number {
    if (user) this.alignCheck(lin, 4);
    if ((lin & 0xfff) > 0xffc) {
      const pa0 = this.mmu.translate(lin, ACCESS_READ, user);
      const pa1 = this.mmu.translate((lin + 3) & ~0xfff, ACCESS_READ, user);
      this.ioCheckAny(pa0);
      this.ioCheckAny(pa1);
      if (this.watchActive) this.watchCheck(lin >>> 0, 4, false);
      let v = 0;
      for (let i = 0; i < 4; i++) {
        const a = (lin + i) | 0;
        const page = (a ^ lin) & ~0xfff ? pa1 : pa0;
        if (page < PHYS_4G) v |= this.phys.read8(((page & ~0xfff) | (a & 0xfff)) >>> 0) << (8 * i);
      }
      return v;
    }
    const pa = this.mmu.translate(lin, ACCESS_READ, user);
    this.ioCheckAny(pa);
    if (this.watchActive) this.watchCheck(lin >>> 0, 4, false);
    if (pa >= PHYS_4G) return 0;
    return this.phys.read32(pa);
  }

  store8(lin: number, v: number, user: boolean): void {
    if (~(user ? this.mmu.tlbWU : this.mmu.tlbWK)[lin >>> PAGE_SHIFT]! < -1) {
      this.phys.u8[this.mmu.dirtyWriteHit(lin >>> PAGE_SHIFT) | (lin & 0xfff)] = v;
      return;
    }
    const pa = this.mmu.translate(lin, ACCESS_WRITE, user);
    this.ioCheckAny(pa);
    if (this.watchActive) this.watchCheck(lin >>> 0, 1, true);
    if (pa >= PHYS_4G) return; // unassigned: the write is dropped
    if (this.mmu.codePages[pa >>> PAGE_SHIFT]) this.onCodeWrite(pa, 1);
    this.phys.write8(pa, v);
  }

  store16(lin: number, v: number, user: boolean): void {
    if (user) this.alignCheck(lin, 2);
    if ((lin & 1) === 0 && ~(user ? this.mmu.tlbWU : this.mmu.tlbWK)[lin >>> PAGE_SHIFT]! < -1) {
      this.phys.u16[(this.mmu.dirtyWriteHit(lin >>> PAGE_SHIFT) | (lin & 0xfff)) >> 1] = v;
      return;
    }
    if ((lin & 0xfff) === 0xfff) {
      // Both pages are checked before either byte is written: no partial stores.
      this.ioCheckAny(this.mmu.translate(lin, ACCESS_WRITE, user));
      this.ioCheckAny(this.mmu.translate((lin + 1) | 0, ACCESS_WRITE, user));
      this.store8(lin, v, user);
      this.store8((lin + 1) | 0, v >> 8, user);
      return;
    }
    const pa = this.mmu.translate(lin, ACCESS_WRITE, user);
    this.ioCheckAny(pa);
    if (this.watchActive) this.watchCheck(lin >>> 0, 2, true);
    if (pa >= PHYS_4G) return;
    if (this.mmu.codePages[pa >>> PAGE_SHIFT]) this.onCodeWrite(pa, 2);
    this.phys.write16(pa, v);
  }

  store32(lin: number, v: number, user: boolean): void {
    if (user) this.alignCheck(lin, 4);
    if ((lin & 3) === 0 && ~(user ? this.mmu.tlbWU : this.mmu.tlbWK)[lin >>> PAGE_SHIFT]! < -1) {
      this.phys.i32[(this.mmu.dirtyWriteHit(lin >>> PAGE_SHIFT) | (lin & 0xfff)) >> 2] = v;
      return;
    }
    if ((lin & 0xfff) > 0xffc) {
      this.ioCheckAny(this.mmu.translate(lin, ACCESS_WRITE, user));
      this.ioCheckAny(this.mmu.translate((lin + 3) & ~0xfff, ACCESS_WRITE, user));
      for (let i = 0; i < 4; i++) this.store8((lin + i) | 0, v >> (8 * i), user);
      return;
    }
    const pa = this.mmu.translate(lin, ACCESS_WRITE, user);
    this.ioCheckAny(pa);
    if (this.watchActive) this.watchCheck(lin >>> 0, 4, true);
    if (pa >= PHYS_4G) return;
    if (this.mmu.codePages[pa >>> PAGE_SHIFT]) this.onCodeWrite(pa, 4);
    this.phys.write32(pa, v);
  }

  /** A write by the CPU itself (A/D bits, descriptor accessed bits) to physical memory. */
  physWriteNotify(pa: number, size: number): void {
    if (this.mmu.codePages[pa >>> PAGE_SHIFT]) this.onCodeWrite(pa, size);
  }

  // Accesses with the current privilege, for helpers.
  get userMode(): boolean {
    return this.cpl === 3;
  }

  readU8(lin: number): number {
    return this.load8(lin, this.cpl === 3);
  }
  readU16(lin: number): number {
    return this.load16(lin, this.cpl === 3);
  }
  readU32(lin: number): number {
    return this.load32(lin, this.cpl === 3);
  }
  writeU8(lin: number, v: number): void {
    this.store8(lin, v, this.cpl === 3);
  }
  writeU16(lin: number, v: number): void {
    this.store16(lin, v, this.cpl === 3);
  }
  writeU32(lin: number, v: number): void {
    this.store32(lin, v, this.cpl === 3);
  }

  // Supervisor accesses (descriptor tables, TSS, interrupt stack frames of ring 0).
  readSys8(lin: number): number {
    return this.load8(lin, false);
  }
  readSys16(lin: number): number {
    return this.load16(lin, false);
  }
  readSys32(lin: number): number {
    return this.load32(lin, false);
  }
  writeSys8(lin: number, v: number): void {
    this.store8(lin, v, false);
  }
  writeSys16(lin: number, v: number): void {
    this.store16(lin, v, false);
  }
  writeSys32(lin: number, v: number): void {
    this.store32(lin, v, false);
  }

  onTlbFlush(): void {
    this.onTlbFlushHook();
  }

  onTlbFlushPage(vpage: number): void {
    this.onTlbFlushPageHook(vpage);
  }

  setA20(enabled: boolean): void {
    const mask = enabled ? -1 : ~(1 << 20);
    if (mask !== this.mmu.a20Mask) {
      this.mmu.a20Mask = mask;
      this.mmu.flush();
    }
  }

  get a20Enabled(): boolean {
    return this.mmu.a20Mask === -1;
  }

  /** Linear address of CS:EIP. */
  get pc(): number {
    return (this.segBase[SEG_CS]! + this.eip) >>> 0;
  }

  setCr0(v: number): void {
    const old = this.cr0;
    v = (v | CR0_ET) >>> 0 | 0;
    this.cr0 = v;
    if ((old ^ v) & (0x80000000 | 0x10000 | CR0_PE)) this.mmu.flush();
    if ((old ^ v) & CR0_PE && !(v & CR0_PE)) this.cpl = 0;
    this.updateHflags();
    void CR0_AM;
  }

  setCr3(v: number): void {
    this.cr3 = v;
    this.mmu.flush(true);
  }

  setCr4(v: number): void {
    const old = this.cr4;
    this.cr4 = v;
    if ((old ^ v) & (0x10 | 0x20 | 0x80)) this.mmu.flush();
    this.updateHflags();
  }

  /** Interrupt-enable as seen by the loop: IF set and not in an STI/MOV SS shadow. */
  get interruptsEnabled(): boolean {
    return (this.eflags & FLAG_IF) !== 0;
  }

  /** RDTSC value. */
  readTsc(): number {
    return this.tscSource() + this.tscOffset;
  }
}

export { FLAG_IF, FLAG_TF, FLAG_RF, FLAG_VM, FLAG_VIF, FLAG_VIP, SEG_TR, SEG_LDTR, SEGCLASS_FLAT, SEGCLASS_BASIC, SEGCLASS_COMPLEX };
