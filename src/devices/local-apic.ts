// The local APIC (xAPIC, memory-mapped) of our one CPU, after the Intel SDM vol. 3A,
// chapter 10 "Advanced Programmable Interrupt Controller (APIC)". Where the manual leaves a
// choice, QEMU 7.2's hw/intc/apic.c and apic_common.c decide. Device-level choices:
//
// - Version register 0x00050014 (QEMU: version 0x14, six LVT entries, no EOI-broadcast
//   suppression, so SVR bit 12 is reserved and every level-triggered EOI is broadcast).
// - Reset: as SDM 10.4.7.1 (LVTs masked, SVR 0xFF: software-disabled), except that the
//   BSP's LINT0 is 0x700 (ExtINT, unmasked), as QEMU sets it: the 8259's INTR reaches the
//   CPU through LINT0 ("virtual wire") without any guest programming (decisions.md).
// - Only 32-bit accesses reach registers (QEMU: narrower reads give 0, writes are dropped);
//   register index = offset bits 11-4.
// - Registers as QEMU 7.2 keeps them (measured, tests/guests/cpu-probe "apicregs"): the LVTs
//   and ICR high store all 32 bits as written; ID keeps bits 31-24, LDR 31-24, DFR 31-28,
//   TPR 7-0, SVR 8-0, DCR 3,1,0. The ESR only ever gets bit 7, for an access to an
//   unimplemented register, and keeps it (writes do not clear it; no error interrupt).
//   Vectors 0-15 are delivered like any other (no illegal-vector errors).
// - Timer: one tick = one virtual nanosecond divided by the DCR (QEMU's 1 GHz bus clock);
//   as QEMU, the count runs from `initial` down to 0 and the interrupt comes one tick after
//   it reads 0 (`initial + 1` ticks after the write; a period is `initial + 1` ticks). LVT
//   bit 17 selects periodic, nothing else: there is no TSC-deadline mode (QEMU's TCG has
//   none and no CPU model advertises it). Changing the DCR or the mode mid-count continues
//   from the current count at the new rate (QEMU recomputes from the initial-count write;
//   decisions.md).
// - Software disable (SVR bit 8 cleared) leaves the LVTs as they are, and LVT writes while
//   software-disabled are stored as written (QEMU 7.2, measured; the SDM sets and keeps the
//   masks); fixed interrupts still enter the IRR but none is presented to the CPU (QEMU).
// - Global disable (IA32_APIC_BASE bit 11 cleared), as QEMU 7.2 (measured with
//   tests/guests/cpu-probe): the MSR's enable bit and CPUID.1:EDX.APIC read 0 and SVR bit 8
//   is cleared, and nothing else changes: the registers keep their values, the page stays
//   mapped and works, the 8259 reaches the CPU through LINT0 as its LVT says. Setting bit
//   11 again leaves it 0 until RESET (QEMU: "if disabled, cannot be enabled again").
// - The register page never moves: IA32_APIC_BASE stores a new base, the registers stay at
//   0xFEE00000 and repeat every 4 KiB up to 0xFEEFFFFF (QEMU's 1 MiB APIC window).
// - One CPU: an INIT message to us (ICR, I/O APIC) resets the APIC's registers (INIT state:
//   every LVT masked, LINT0 too) and raises INIT on the CPU (`onInit`), as QEMU's
//   do_cpu_init; INIT level de-assert, STARTUP (the BSP waits for no SIPI) and SMI (no
//   SMM) are ignored; lowest priority is fixed delivery to us; "all excluding self" reaches
//   nobody.
import { PAGE_SHIFT, PAGE_SIZE, type MmioHandler, type PhysicalMemory } from '../memory/physical-memory.js';
import type { IrqLine, Resettable, SavesState } from './device.js';
import { Timer, type VirtualClock } from '../time/virtual-clock.js';
import { IRQ_HARD, IRQ_INIT, IRQ_NMI, type Cpu, type InterruptController } from '../cpu/cpu.js';
import { CPUID_APIC } from '../cpu/cpuid-msr.js';

export const APIC_DEFAULT_BASE = 0xfee00000;
/** QEMU's APIC MMIO window at 0xFEE00000: 1 MiB, the register page repeating. */
export const APIC_WINDOW_SIZE = 0x100000;
/** IA32_APIC_BASE bits (SDM 10.4.4). */
export const APIC_BASE_BSP = 1 << 8;
export const APIC_BASE_ENABLE = 1 << 11;
/** Version 0x14, max LVT entry 5 (QEMU's value). */
export const APIC_VERSION = 0x00050014;

// Register offsets (SDM table 10-1).
export const APIC_ID = 0x020;
export const APIC_VER = 0x030;
export const APIC_TPR = 0x080;
export const APIC_APR = 0x090;
export const APIC_PPR = 0x0a0;
export const APIC_EOI = 0x0b0;
export const APIC_LDR = 0x0d0;
export const APIC_DFR = 0x0e0;
export const APIC_SVR = 0x0f0;
export const APIC_ISR = 0x100;
export const APIC_TMR = 0x180;
export const APIC_IRR = 0x200;
export const APIC_ESR = 0x280;
export const APIC_ICR_LOW = 0x300;
export const APIC_ICR_HIGH = 0x310;
export const APIC_LVT_TIMER = 0x320;
export const APIC_LVT_THERMAL = 0x330;
export const APIC_LVT_PERF = 0x340;
export const APIC_LVT_LINT0 = 0x350;
export const APIC_LVT_LINT1 = 0x360;
export const APIC_LVT_ERROR = 0x370;
export const APIC_TIMER_INITIAL = 0x380;
export const APIC_TIMER_CURRENT = 0x390;
export const APIC_TIMER_DIVIDE = 0x3e0;

/** LVT slots, in register order. */
export const LVT_TIMER = 0;
export const LVT_THERMAL = 1;
export const LVT_PERF = 2;
export const LVT_LINT0 = 3;
export const LVT_LINT1 = 4;
export const LVT_ERROR = 5;
const LVT_COUNT = 6;
const LVT_NAMES = ['timer', 'thermal', 'perf', 'lint0', 'lint1', 'error'] as const;

// LVT bits (SDM figure 10-8).
export const LVT_MASKED = 1 << 16;
export const LVT_LEVEL = 1 << 15;
export const LVT_REMOTE_IRR = 1 << 14;
export const LVT_POLARITY = 1 << 13;
export const LVT_TIMER_PERIODIC = 1 << 17;

export const TIMER_ONE_SHOT = 0;
export const TIMER_PERIODIC = 1;

// Delivery modes (LVT, ICR, I/O APIC redirection entries, MSI).
export const DM_FIXED = 0;
export const DM_LOWEST = 1;
export const DM_SMI = 2;
export const DM_NMI = 4;
export const DM_INIT = 5;
export const DM_STARTUP = 6;
export const DM_EXTINT = 7;

// SVR bits.
export const SVR_ENABLE = 1 << 8;
export const SVR_FOCUS_DISABLE = 1 << 9;
const SVR_WRITABLE = 0x1ff; // vector and enable: QEMU keeps no focus bit (measured)

// ICR (SDM figure 10-12).
const ICR_LOW_WRITABLE = 0x000ccfff; // vector, mode, dest mode, level, trigger, shorthand (QEMU keeps the same)
export const ICR_DEST_LOGICAL = 1 << 11;
export const ICR_LEVEL_ASSERT = 1 << 14;
export const ICR_TRIGGER_LEVEL = 1 << 15;
export const ICR_SHORTHAND_NONE = 0;
export const ICR_SHORTHAND_SELF = 1;
export const ICR_SHORTHAND_ALL = 2;
export const ICR_SHORTHAND_OTHERS = 3;

// ESR bits (SDM 10.5.3).
export const ESR_ILLEGAL_REGISTER = 1 << 7;

/** An interrupt message on the APIC bus (I/O APIC redirection, MSI). */
export interface ApicMessage {
  /** Destination field (APIC ID in physical mode, MDA in logical mode). */
  dest: number;
  logical: boolean;
  deliveryMode: number;
  vector: number;
  /** Level-triggered (sets the TMR bit, so the EOI is broadcast to the I/O APICs). */
  level: boolean;
}

/** The APIC bus between several local APICs: an ICR write is sent through it. */
export interface IpiBus {
  sendIpi(from: LocalApic, icrLow: number, dest: number): void;
}

/** What an I/O APIC (or an MSI source) sends messages to. */
export interface ApicBus {
  /** Returns whether a local APIC accepted the message. */
  deliverMessage(m: ApicMessage): boolean;
}

export interface LocalApicOptions {
  /** Maps the register window (0xFEE00000-0xFEEFFFFF) into physical memory. */
  phys?: PhysicalMemory;
  /** Initial APIC ID (CPUID.1:EBX[31:24] of the CPU); 0. */
  id?: number;
  /** Bootstrap processor: sets IA32_APIC_BASE bit 8 and the LINT0 virtual wire; true. */
  bsp?: boolean;
  /** The INTR output to the CPU (level). */
  onIntr?: (level: boolean) => void;
  /** An NMI for the CPU (edge). */
  onNmi?: () => void;
  /** EOI of a level-triggered vector: the I/O APICs clear Remote IRR. */
  onEoiBroadcast?: (vector: number) => void;
  /** The 8259 behind LINT0: its acknowledge() supplies ExtINT vectors. */
  extInt?: InterruptController;
}

/** Plain-JSON state. */
export interface LocalApicState {
  base: number;
  enabled: boolean;
  id: number;
  tpr: number;
  svr: number;
  ldr: number;
  dfr: number;
  isr: number[];
  tmr: number[];
  irr: number[];
  esr: number;
  icrLow: number;
  icrHigh: number;
  lvt: number[];
  divideConfig: number;
  initialCount: number;
  /** Virtual ns from which the current count runs (null: stopped). */
  countStartNs: number | null;
  countStartValue: number;
  lint0: boolean;
  lint1: boolean;
  extIntPending: boolean;
  delivered: number;
  spurious: number;
  extIntAcks: number;
}

export interface LocalApicInfo {
  base: number;
  globallyEnabled: boolean;
  softwareEnabled: boolean;
  id: number;
  version: number;
  tpr: number;
  apr: number;
  ppr: number;
  ldr: number;
  dfr: number;
  svr: number;
  spuriousVector: number;
  esr: number;
  icr: { low: number; high: number };
  /** Vectors whose bit is set, ascending. */
  irr: number[];
  isr: number[];
  tmr: number[];
  lvt: Record<(typeof LVT_NAMES)[number], { raw: number; vector: number; masked: boolean; deliveryMode: number }>;
  timer: {
    mode: 'one-shot' | 'periodic';
    divisor: number;
    initialCount: number;
    currentCount: number;
    /** Virtual ns of the next timer interrupt, or null. */
    nextFireNs: number | null;
  };
  /** INTR as presented to the CPU, the 8259's INTR at LINT0, NMI pin at LINT1. */
  intr: boolean;
  lint0: boolean;
  lint1: boolean;
  /** The vector acknowledge() would return now, or null. */
  nextVector: number | null;
  stats: { delivered: number; spurious: number; extIntAcks: number };
}

/** Highest set bit of a 256-bit map held as eight u32 words, or -1. */
function highestBit(words: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    const w = words[i]!;
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}

function testBit(words: Uint32Array, v: number): boolean {
  return ((words[v >>> 5]! >>> (v & 31)) & 1) !== 0;
}

function setBit(words: Uint32Array, v: number, on: boolean): void {
  const m = (1 << (v & 31)) >>> 0;
  if (on) words[v >>> 5] = words[v >>> 5]! | m;
  else words[v >>> 5] = words[v >>> 5]! & ~m;
}

function bitList(words: Uint32Array): number[] {
  const out: number[] = [];
  for (let v = 0; v < 256; v++) if (testBit(words, v)) out.push(v);
  return out;
}

/**
 * One xAPIC. CPU side: `onIntr(level)` is the INTR pin; the CPU's INTA is `acknowledge()`
 * (this is `cpu.intc`). Board side: the 8259's INTR drives `setLint0()`, an NMI source
 * drives `setLint1()`, the I/O APIC calls `deliverMessage()` and gets `onEoiBroadcast`.
 */
export class LocalApic implements MmioHandler, InterruptController, ApicBus, Resettable, SavesState<LocalApicState> {
  readonly name = 'lapic';
  onIntr: (level: boolean) => void;
  onNmi: () => void;
  onEoiBroadcast: (vector: number) => void;
  /** An INIT for our CPU (the APIC's own registers are already in their INIT state). */
  onInit: () => void = () => {};
  /** A STARTUP IPI for our CPU (only a CPU waiting for one acts on it; the board decides). */
  onSipi: (vector: number) => void = () => {};
  /**
   * Where ICR writes go when the board has several CPUs (src/machine/smp.ts); null: one
   * CPU, whose IPIs reach only itself.
   */
  ipiBus: IpiBus | null = null;
  /** IA32_APIC_BASE's enable bit changed (CPUID.1:EDX.APIC follows it). */
  onEnableChange: (enabled: boolean) => void = () => {};
  extInt: InterruptController | null;

  private readonly phys: PhysicalMemory | undefined;
  private readonly initialId: number;
  private readonly bsp: boolean;
  private readonly timer: Timer;

  private base = APIC_DEFAULT_BASE;
  private enabled = true;

  private id = 0;
  private tpr = 0;
  private svr = 0xff;
  private ldr = 0;
  private dfr = 0xffffffff;
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private readonly irr = new Uint32Array(8);
  private esr = 0;
  private icrLow = 0;
  private icrHigh = 0;
  private readonly lvt = new Uint32Array(LVT_COUNT);
  private divideConfig = 0;
  private initialCount = 0;
  private countStartNs: number | null = null;
  private countStartValue = 0;

  private lint0 = false;
  private lint1 = false;
  private extIntPending = false;
  private intr = false;
  private delivered = 0;
  private spurious = 0;
  private extIntAcks = 0;

  constructor(private readonly clock: VirtualClock, opts: LocalApicOptions = {}) {
    this.phys = opts.phys;
    this.initialId = (opts.id ?? 0) & 0xff;
    this.bsp = opts.bsp ?? true;
    this.onIntr = opts.onIntr ?? (() => {});
    this.onNmi = opts.onNmi ?? (() => {});
    this.onEoiBroadcast = opts.onEoiBroadcast ?? (() => {});
    this.extInt = opts.extInt ?? null;
    // One timer name per APIC (snapshots order the clock's timers by name); the BSP's as before.
    this.timer = new Timer(clock, this.initialId === 0 ? 'lapic-timer' : `lapic-timer${this.initialId}`, (now) => this.timerExpired(now));
    // QEMU's APIC window: 1 MiB, the 4 KiB register page repeating, whatever the base.
    this.phys?.mapMmio(APIC_DEFAULT_BASE, APIC_WINDOW_SIZE, this);
    this.reset();
  }

  // ---- IA32_APIC_BASE ---------------------------------------------------------------

  /** IA32_APIC_BASE as RDMSR returns it. */
  get baseMsr(): number {
    return (this.base | (this.bsp ? APIC_BASE_BSP : 0) | (this.enabled ? APIC_BASE_ENABLE : 0)) >>> 0;
  }

  /**
   * WRMSR IA32_APIC_BASE: bit 8 is read-only; bits 31:12 are stored (the registers stay at
   * 0xFEE00000, as in QEMU); clearing bit 11 disables the APIC until RESET, setting it
   * again does nothing (QEMU 7.2).
   */
  setBaseMsr(value: number): void {
    this.base = (value & 0xfffff000) >>> 0;
    if (!(value & APIC_BASE_ENABLE) && this.enabled) this.globalDisable();
  }

  get globallyEnabled(): boolean {
    return this.enabled;
  }

  get softwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  /** Global disable as QEMU 7.2 does it: the enable bits go, the registers stay. */
  private globalDisable(): void {
    this.enabled = false;
    this.svr &= ~SVR_ENABLE;
    this.onEnableChange(false);
    this.update();
  }

  // ---- MMIO ---------------------------------------------------------------------------

  read(offset: number, size: number): number {
    if (size !== 4) return 0;
    const index = (offset >>> 4) & 0xff; // the page repeats through the window
    switch (index) {
      case 0x02: return (this.id << 24) >>> 0;
      case 0x03: return APIC_VERSION;
      case 0x08: return this.tpr;
      case 0x09: return this.apr();
      case 0x0a: return this.ppr();
      case 0x0b: return 0; // EOI is write-only
      case 0x0d: return this.ldr;
      case 0x0e: return (this.dfr | 0x0fffffff) >>> 0;
      case 0x0f: return this.svr;
      case 0x28: return this.esr;
      case 0x30: return this.icrLow; // delivery status: always idle
      case 0x31: return this.icrHigh;
      case 0x38: return this.initialCount;
      case 0x39: return this.currentCount(this.clock.now());
      case 0x3e: return this.divideConfig;
      default:
        if (index >= 0x10 && index <= 0x17) return this.isr[index & 7]!;
        if (index >= 0x18 && index <= 0x1f) return this.tmr[index & 7]!;
        if (index >= 0x20 && index <= 0x27) return this.irr[index & 7]!;
        if (index >= 0x32 && index <= 0x37) return this.lvt[index - 0x32]!;
        this.esr |= ESR_ILLEGAL_REGISTER; // sticky, no error interrupt (QEMU)
        return 0;
    }
  }

  write(offset: number, value: number, size: number): void {
    if (size !== 4) return;
    value >>>= 0;
    const index = (offset >>> 4) & 0xff;
    switch (index) {
      case 0x02:
        this.id = value >>> 24;
        return;
      case 0x28: // ESR: writes change nothing (QEMU)
        return;
      case 0x03: case 0x09: case 0x0a: case 0x39: // read-only
        return;
      case 0x08:
        this.tpr = value & 0xff;
        this.update();
        return;
      case 0x0b:
        this.eoi();
        return;
      case 0x0d:
        this.ldr = (value & 0xff000000) >>> 0;
        return;
      case 0x0e:
        this.dfr = (value | 0x0fffffff) >>> 0;
        return;
      case 0x0f:
        this.writeSvr(value);
        return;
      case 0x30:
        this.icrLow = value & ICR_LOW_WRITABLE;
        this.sendIpi();
        return;
      case 0x31:
        this.icrHigh = value; // all 32 bits kept (QEMU)
        return;
      case 0x38:
        this.writeInitialCount(value);
        return;
      case 0x3e:
        this.writeDivideConfig(value);
        return;
      default:
        if (index >= 0x10 && index <= 0x27) return; // ISR, TMR, IRR are read-only
        if (index >= 0x32 && index <= 0x37) {
          this.writeLvt(index - 0x32, value);
          return;
        }
        this.esr |= ESR_ILLEGAL_REGISTER;
    }
  }

  // ---- priorities (SDM 10.8.3) ------------------------------------------------------------

  /** PPR: TPR if its class is at least that of the highest in-service vector, else ISRV & F0. */
  ppr(): number {
    const isrv = Math.max(highestBit(this.isr), 0);
    return (this.tpr >> 4) >= (isrv >> 4) ? this.tpr : isrv & 0xf0;
  }

  /** APR (SDM 10.8.3.1 for P6/Pentium arbitration): TPR, or the highest class in play. */
  apr(): number {
    const isrv = Math.max(highestBit(this.isr), 0);
    const irrv = Math.max(highestBit(this.irr), 0);
    const tc = this.tpr >> 4;
    if (tc >= irrv >> 4 && tc > isrv >> 4) return this.tpr;
    return Math.max(this.tpr & 0xf0, isrv & 0xf0, irrv & 0xf0);
  }

  /** The IRR vector the APIC presents to the CPU now, or -1. */
  private deliverableVector(): number {
    if (!(this.svr & SVR_ENABLE)) return -1;
    const v = highestBit(this.irr);
    // A class at or below the PPR's waits; with PPR 0 every vector goes, 0-15 too (QEMU).
    const ppr = this.ppr();
    if (v < 0 || (ppr !== 0 && v >> 4 <= ppr >> 4)) return -1;
    return v;
  }

  /**
   * The 8259's INTR reaches the CPU: LINT0 unmasked in ExtINT mode, also with the APIC
   * globally disabled (QEMU applies the LVT then too; measured).
   */
  private picPassThrough(): boolean {
    if (!this.lint0) return false;
    const l = this.lvt[LVT_LINT0]!;
    return !(l & LVT_MASKED) && ((l >>> 8) & 7) === DM_EXTINT;
  }

  private update(): void {
    const level = this.picPassThrough() || this.extIntPending || this.deliverableVector() >= 0;
    if (level !== this.intr) {
      this.intr = level;
      this.onIntr(level);
    }
  }

  /** The INTR level presented to the CPU. */
  get intrLevel(): boolean {
    return this.intr;
  }

  /**
   * INTA: ExtINT first (its vector comes from the 8259 and ignores priorities, as in
   * QEMU), then the highest IRR vector above the PPR moves to the ISR; when nothing is
   * deliverable any more the answer is the spurious vector and no ISR bit is set.
   */
  acknowledge(): number {
    let vector: number;
    if (this.picPassThrough() || this.extIntPending) {
      this.extIntPending = false;
      vector = this.extInt ? this.extInt.acknowledge() & 0xff : this.svr & 0xff;
      this.extIntAcks++;
    } else {
      const v = this.deliverableVector();
      if (v >= 0) {
        setBit(this.irr, v, false);
        setBit(this.isr, v, true);
        this.delivered++;
        vector = v;
      } else {
        this.spurious++;
        vector = this.svr & 0xff;
      }
    }
    this.update();
    return vector;
  }

  /** What acknowledge() would return, without side effects (for a debugger). */
  peekVector(): number | null {
    if (this.picPassThrough() || this.extIntPending) {
      const pic = this.extInt as (InterruptController & { peekVector?: () => number | null }) | null;
      return pic?.peekVector ? pic.peekVector() : null;
    }
    const v = this.deliverableVector();
    return v >= 0 ? v : null;
  }

  /** EOI: retire the highest in-service vector; level-triggered ones are broadcast. */
  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    setBit(this.isr, v, false);
    if (testBit(this.tmr, v)) {
      this.lintEoi(v);
      this.onEoiBroadcast(v);
    }
    this.update();
  }

  private writeSvr(value: number): void {
    // Software disable leaves the LVTs alone (QEMU 7.2, measured; the SDM masks them).
    this.svr = value & SVR_WRITABLE;
    this.update();
  }

  // ---- accepting interrupts ---------------------------------------------------------------

  /**
   * A fixed interrupt enters the IRR (SDM 10.8.4); TMR records its trigger mode. Vectors
   * 0-15 too: QEMU 7.2 delivers them and reports no error (measured).
   */
  private accept(vector: number, level: boolean): void {
    setBit(this.irr, vector, true);
    setBit(this.tmr, vector, level);
    this.update();
  }

  /** An interrupt from a local source through its LVT entry. */
  private localDeliver(slot: number): void {
    const l = this.lvt[slot]!;
    if (l & LVT_MASKED) return;
    const mode = slot === LVT_TIMER || slot === LVT_ERROR ? DM_FIXED : (l >>> 8) & 7;
    switch (mode) {
      case DM_FIXED:
        this.accept(l & 0xff, false);
        break;
      case DM_NMI:
        this.onNmi();
        break;
      default: // SMI (no SMM), INIT (one CPU), ExtINT (LINT0 handles it in picPassThrough)
        break;
    }
  }

  /** I/O APIC or MSI message (ApicBus). */
  deliverMessage(m: ApicMessage): boolean {
    if (!this.matchesDestination(m.dest & 0xff, m.logical)) return false;
    this.deliverHere(m.deliveryMode, m.vector, m.level);
    return true;
  }

  /**
   * An interrupt message addressed to this APIC (the destination already resolved):
   * fixed and lowest priority enter the IRR, NMI and INIT go to the CPU, STARTUP to the
   * board (`onSipi`); SMI has no SMM to reach.
   */
  deliverHere(mode: number, vector: number, level: boolean): void {
    switch (mode & 7) {
      case DM_FIXED:
      case DM_LOWEST:
        this.accept(vector & 0xff, level);
        break;
      case DM_NMI:
        this.onNmi();
        break;
      case DM_EXTINT:
        this.extIntPending = true;
        this.update();
        break;
      case DM_INIT:
        this.init();
        break;
      case DM_STARTUP:
        this.onSipi(vector & 0xff);
        break;
      default: // SMI (no SMM)
        break;
    }
  }

  /** An MSI write (SDM 10.11): address 0xFEExxxxx, data with vector and modes. */
  deliverMsi(address: number, data: number): boolean {
    return this.deliverMessage({
      dest: (address >>> 12) & 0xff,
      logical: (address & 4) !== 0,
      deliveryMode: (data >>> 8) & 7,
      vector: data & 0xff,
      level: (data & (1 << 15)) !== 0,
    });
  }

  /** Physical: our ID or the 0xFF broadcast; logical: flat or cluster model (SDM 10.6.2.2). */
  matchesDestination(dest: number, logical: boolean): boolean {
    if (!logical) return dest === 0xff || dest === this.id;
    const ldr = this.ldr >>> 24;
    switch (this.dfr >>> 28) {
      case 0xf: return (dest & ldr) !== 0;
      case 0x0: return (dest & 0xf0) === (ldr & 0xf0) && (dest & ldr & 0x0f) !== 0;
      default: return false;
    }
  }

  // ---- IPIs (SDM 10.6) ---------------------------------------------------------------------

  private sendIpi(): void {
    const lo = this.icrLow;
    if (this.ipiBus !== null) {
      this.ipiBus.sendIpi(this, lo, this.icrHigh >>> 24);
      return;
    }
    const vector = lo & 0xff;
    const mode = (lo >>> 8) & 7;
    let toSelf: boolean;
    switch ((lo >>> 18) & 3) {
      case ICR_SHORTHAND_SELF:
      case ICR_SHORTHAND_ALL:
        toSelf = true;
        break;
      case ICR_SHORTHAND_OTHERS:
        toSelf = false;
        break;
      default:
        toSelf = this.matchesDestination(this.icrHigh >>> 24, (lo & ICR_DEST_LOGICAL) !== 0);
    }
    switch (mode) {
      case DM_FIXED:
      case DM_LOWEST:
        // The trigger mode bit goes into the TMR, so the EOI is broadcast (QEMU, measured).
        if (toSelf) this.accept(vector, (lo & ICR_TRIGGER_LEVEL) !== 0);
        return;
      case DM_NMI:
        if (toSelf) this.onNmi();
        return;
      case DM_INIT:
        // INIT level de-assert (level 0, trigger level) only synchronises arbitration IDs.
        if (toSelf && !(!(lo & ICR_LEVEL_ASSERT) && lo & ICR_TRIGGER_LEVEL)) this.init();
        return;
      default:
        // STARTUP reaches no other CPU and the BSP waits for none; SMI: no SMM.
        return;
    }
  }

  // ---- LINT0 / LINT1 --------------------------------------------------------------------------

  /** LINT0: the 8259's INTR output. */
  setLint0(level: boolean): void {
    const old = this.lint0;
    this.lint0 = level;
    if (level !== old) this.lintEdge(LVT_LINT0, level);
    this.update();
  }

  /** LINT1: the board's NMI source, through its LVT (also while globally disabled, as QEMU). */
  setLint1(level: boolean): void {
    const old = this.lint1;
    this.lint1 = level;
    if (level === old) return;
    this.lintEdge(LVT_LINT1, level);
    this.update();
  }

  /** An IrqLine for LINT0 (the 8259's INTR) or LINT1 (NMI). */
  lintLine(pin: 0 | 1): IrqLine {
    return pin === 0 ? { set: (l) => this.setLint0(l) } : { set: (l) => this.setLint1(l) };
  }

  private lintEdge(slot: number, level: boolean): void {
    const l = this.lvt[slot]!;
    if (l & LVT_MASKED) return;
    switch ((l >>> 8) & 7) {
      case DM_FIXED:
        if (this.lintLevelTriggered(slot)) {
          if (level) this.lintAssertLevel(slot);
          else if (l & LVT_REMOTE_IRR && testBit(this.irr, l & 0xff) && !testBit(this.isr, l & 0xff)) {
            // Deasserted before the CPU took it (QEMU drops the request too).
            setBit(this.irr, l & 0xff, false);
            this.lvt[slot] = l & ~LVT_REMOTE_IRR;
          }
        } else if (level) this.accept(l & 0xff, false);
        break;
      case DM_NMI:
        if (level) this.onNmi();
        break;
      default: // ExtINT: picPassThrough(); SMI, INIT: ignored
        break;
    }
  }

  /** LINT1 is edge-only (SDM 10.5.1); LINT0 honours the trigger mode bit in fixed mode. */
  private lintLevelTriggered(slot: number): boolean {
    return slot === LVT_LINT0 && (this.lvt[slot]! & LVT_LEVEL) !== 0;
  }

  /** A level-triggered fixed LINT request: Remote IRR holds it until the EOI. */
  private lintAssertLevel(slot: number): void {
    const l = this.lvt[slot]!;
    if (l & LVT_REMOTE_IRR) return;
    if ((l & 0xff) >= 16) this.lvt[slot] = l | LVT_REMOTE_IRR; // an illegal vector is refused
    this.accept(l & 0xff, true);
  }

  /** EOI of a level-triggered vector clears a LINT's Remote IRR; a line still high re-requests. */
  private lintEoi(vector: number): void {
    for (const slot of [LVT_LINT0, LVT_LINT1]) {
      const l = this.lvt[slot]!;
      if (!(l & LVT_REMOTE_IRR) || (l & 0xff) !== vector) continue;
      this.lvt[slot] = l & ~LVT_REMOTE_IRR;
      const high = slot === LVT_LINT0 ? this.lint0 : this.lint1;
      if (high && !(l & LVT_MASKED) && ((l >>> 8) & 7) === DM_FIXED) this.lintAssertLevel(slot);
    }
  }

  private writeLvt(slot: number, value: number): void {
    const old = this.lvt[slot]!;
    // All 32 bits are kept as written, also while software-disabled (QEMU 7.2, measured).
    let v = value >>> 0;
    // Remote IRR survives only while the entry stays fixed, level-triggered.
    if (slot === LVT_LINT0 || slot === LVT_LINT1) {
      const levelFixed = ((v >>> 8) & 7) === DM_FIXED && (slot === LVT_LINT0 ? (v & LVT_LEVEL) !== 0 : false);
      v = levelFixed ? (v & ~LVT_REMOTE_IRR) | (old & LVT_REMOTE_IRR) : v;
    }
    if (slot === LVT_TIMER) {
      const oldMode = timerModeOf(old);
      const newMode = timerModeOf(v);
      if (oldMode !== newMode) this.rebase(this.clock.now());
      this.lvt[slot] = v;
      this.timerUpdate();
    } else this.lvt[slot] = v;
    // A level-triggered LINT0 that is still high requests again once unmasked.
    if ((slot === LVT_LINT0 && this.lint0) || (slot === LVT_LINT1 && this.lint1)) {
      if (!(v & LVT_MASKED) && ((v >>> 8) & 7) === DM_FIXED && this.lintLevelTriggered(slot)) this.lintAssertLevel(slot);
    }
    this.update();
  }

  // ---- timer (SDM 10.5.4) ------------------------------------------------------------------

  get timerMode(): number {
    return timerModeOf(this.lvt[LVT_TIMER]!);
  }

  /** Divisor of the DCR: bits 3,1,0 = 000 → 2 ... 110 → 128, 111 → 1. */
  get timerDivisor(): number {
    const v = (this.divideConfig & 3) | ((this.divideConfig >> 1) & 4);
    return 1 << ((v + 1) & 7);
  }

  private writeInitialCount(value: number): void {
    this.initialCount = value >>> 0;
    if (this.initialCount === 0) this.countStartNs = null; // a write of 0 stops the timer
    else {
      this.countStartNs = this.clock.now();
      this.countStartValue = this.initialCount;
    }
    this.timerUpdate();
  }

  private writeDivideConfig(value: number): void {
    // Continue from the current count at the new rate.
    this.rebase(this.clock.now());
    this.divideConfig = value & 0xb;
    this.timerUpdate();
  }

  /** Restart the count arithmetic at `now` from the current count. */
  private rebase(now: number): void {
    if (this.countStartNs === null) return;
    const c = this.currentCount(now);
    this.countStartNs = now;
    this.countStartValue = c;
  }

  /**
   * The current-count register at virtual time `now`: down from the start value to 0; the
   * expiry comes one tick after 0 (QEMU), then a periodic count restarts at `initial`.
   */
  currentCount(now: number): number {
    if (this.countStartNs === null) return 0;
    const e = Math.floor((now - this.countStartNs) / this.timerDivisor);
    if (e <= this.countStartValue) return this.countStartValue - e;
    if (this.timerMode !== TIMER_PERIODIC) return 0;
    return this.initialCount - ((e - this.countStartValue - 1) % (this.initialCount + 1));
  }

  /** Virtual ns of the next count expiry after `now` (one-shot: at or after), or null. */
  private nextExpiry(now: number): number | null {
    if (this.countStartNs === null) return null;
    const d = this.timerDivisor;
    const first = this.countStartNs + (this.countStartValue + 1) * d;
    if (this.timerMode !== TIMER_PERIODIC) return first >= now ? first : null;
    if (first > now) return first;
    const period = (this.initialCount + 1) * d;
    let t = first + (Math.floor((now - first) / period) + 1) * period;
    while (t <= now) t += period;
    return t;
  }

  /** Arm the clock timer for the next interrupt the timer can raise. */
  private timerUpdate(): void {
    const now = this.clock.now();
    let at: number | null = null;
    if (!(this.lvt[LVT_TIMER]! & LVT_MASKED)) {
      at = this.nextExpiry(now);
    }
    if (at === null) this.timer.cancel();
    else this.timer.arm(at);
  }

  private timerExpired(now: number): void {
    this.localDeliver(LVT_TIMER);
    if (this.timerMode !== TIMER_PERIODIC) this.countStartNs = null; // one-shot: count stays 0
    this.timer.cancel();
    if (this.timerMode === TIMER_PERIODIC) {
      const next = this.nextExpiry(now);
      if (next !== null && !(this.lvt[LVT_TIMER]! & LVT_MASKED)) this.timer.arm(next);
    } else this.timerUpdate();
  }

  // ---- reset and state ------------------------------------------------------------------------

  /**
   * Register state of SDM 10.4.7.1; `virtualWire` gives the BSP's LINT0 QEMU's 0x700;
   * `keepId` for INIT.
   */
  private registersReset(virtualWire: boolean, keepId = false): void {
    if (!keepId) this.id = this.initialId;
    this.tpr = 0;
    this.svr = 0xff;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.isr.fill(0);
    this.tmr.fill(0);
    this.irr.fill(0);
    this.esr = 0;
    this.icrLow = 0;
    this.icrHigh = 0;
    this.lvt.fill(LVT_MASKED);
    if (virtualWire && this.bsp) this.lvt[LVT_LINT0] = DM_EXTINT << 8;
    this.divideConfig = 0;
    this.initialCount = 0;
    this.countStartNs = null;
    this.countStartValue = 0;
    this.extIntPending = false;
    this.timer.cancel();
  }

  /** RESET: enabled at 0xFEE00000, registers as after power-up. LINT inputs keep their level. */
  reset(): void {
    this.registersReset(true);
    this.base = APIC_DEFAULT_BASE;
    if (!this.enabled) {
      // RESET enables the APIC and CPUID reports it again (QEMU 7.2 leaves CPUID.1:EDX.APIC
      // clear after a global disable until the process ends; decisions.md).
      this.enabled = true;
      this.onEnableChange(true);
    }
    this.update();
  }

  /**
   * An INIT for our CPU: the registers take their INIT state (SDM 10.4.7.3; QEMU's
   * apic_init_reset: every LVT masked, LINT0 included; the APIC ID, the base and the enable
   * bit stay), then the CPU is told.
   */
  private init(): void {
    this.registersReset(false, true);
    this.update();
    this.onInit();
  }

  saveState(): LocalApicState {
    return {
      base: this.base, enabled: this.enabled, id: this.id, tpr: this.tpr, svr: this.svr, ldr: this.ldr, dfr: this.dfr,
      isr: [...this.isr], tmr: [...this.tmr], irr: [...this.irr], esr: this.esr,
      icrLow: this.icrLow, icrHigh: this.icrHigh, lvt: [...this.lvt], divideConfig: this.divideConfig,
      initialCount: this.initialCount, countStartNs: this.countStartNs, countStartValue: this.countStartValue,
      lint0: this.lint0, lint1: this.lint1, extIntPending: this.extIntPending,
      delivered: this.delivered, spurious: this.spurious, extIntAcks: this.extIntAcks,
    };
  }

  /** Restores registers, the page mapping and the timer; reports INTR to `onIntr` (always). */
  loadState(s: LocalApicState): void {
    this.base = s.base >>> 0;
    this.enabled = s.enabled;
    this.id = s.id & 0xff;
    this.tpr = s.tpr & 0xff;
    this.svr = s.svr & SVR_WRITABLE;
    this.ldr = s.ldr >>> 0;
    this.dfr = s.dfr >>> 0;
    for (let i = 0; i < 8; i++) {
      this.isr[i] = s.isr[i] ?? 0;
      this.tmr[i] = s.tmr[i] ?? 0;
      this.irr[i] = s.irr[i] ?? 0;
    }
    this.esr = s.esr;
    this.icrLow = s.icrLow >>> 0;
    this.icrHigh = s.icrHigh >>> 0;
    for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] = s.lvt[i] ?? LVT_MASKED;
    this.divideConfig = s.divideConfig & 0xb;
    this.initialCount = s.initialCount >>> 0;
    this.countStartNs = s.countStartNs;
    this.countStartValue = s.countStartValue;
    this.lint0 = s.lint0;
    this.lint1 = s.lint1;
    this.extIntPending = s.extIntPending;
    this.delivered = s.delivered;
    this.spurious = s.spurious;
    this.extIntAcks = s.extIntAcks;
    this.onEnableChange(this.enabled);
    this.timerUpdate();
    this.intr = this.picPassThrough() || this.extIntPending || this.deliverableVector() >= 0;
    this.onIntr(this.intr);
  }

  info(): LocalApicInfo {
    const now = this.clock.now();
    const lvt = {} as LocalApicInfo['lvt'];
    LVT_NAMES.forEach((n, i) => {
      const raw = this.lvt[i]!;
      lvt[n] = { raw, vector: raw & 0xff, masked: (raw & LVT_MASKED) !== 0, deliveryMode: (raw >>> 8) & 7 };
    });
    const mode = this.timerMode;
    return {
      base: this.base, globallyEnabled: this.enabled, softwareEnabled: this.softwareEnabled, id: this.id,
      version: APIC_VERSION, tpr: this.tpr, apr: this.apr(), ppr: this.ppr(), ldr: this.ldr,
      dfr: (this.dfr | 0x0fffffff) >>> 0, svr: this.svr, spuriousVector: this.svr & 0xff, esr: this.esr,
      icr: { low: this.icrLow, high: this.icrHigh },
      irr: bitList(this.irr), isr: bitList(this.isr), tmr: bitList(this.tmr), lvt,
      timer: {
        mode: mode === TIMER_PERIODIC ? 'periodic' : 'one-shot',
        divisor: this.timerDivisor, initialCount: this.initialCount, currentCount: this.currentCount(now),
        nextFireNs: this.timer.armed ? this.timer.deadline : null,
      },
      intr: this.intr, lint0: this.lint0, lint1: this.lint1, nextVector: this.peekVector(),
      stats: { delivered: this.delivered, spurious: this.spurious, extIntAcks: this.extIntAcks },
    };
  }
}

const DM_NAMES = ['Fixed', 'LowPri', 'SMI', 'Rsvd', 'NMI', 'INIT', 'SIPI', 'ExtINT'];
const hex = (v: number, w = 8) => (v >>> 0).toString(16).padStart(w, '0');

/** `info lapic` text, after QEMU's monitor command. */
export function describeLocalApic(i: LocalApicInfo): string {
  const lines = [
    `APIC 0x${hex(i.id, 2)} base 0x${hex(i.base)} ${i.globallyEnabled ? 'enabled' : 'globally disabled'}, ` +
      `software ${i.softwareEnabled ? 'enabled' : 'disabled'}, INTR ${i.intr ? 1 : 0}, LINT0 ${i.lint0 ? 1 : 0}, LINT1 ${i.lint1 ? 1 : 0}`,
  ];
  for (const [name, l] of Object.entries(i.lvt)) {
    const extra = name === 'timer' ? ` ${i.timer.mode}` : name === 'error' ? '' : ` ${DM_NAMES[l.deliveryMode]}`;
    lines.push(`LVT${name.padEnd(8)} 0x${hex(l.raw)}${extra} vec ${l.vector}${l.masked ? ' masked' : ''}`);
  }
  const t = i.timer;
  lines.push(
    `Timer     DCR ÷${t.divisor} initial ${t.initialCount} current ${t.currentCount}` +
      (t.nextFireNs !== null ? ` next at ${t.nextFireNs} ns` : ''),
    `SPIV      0x${hex(i.svr)} (spurious vector ${i.spuriousVector})  ESR 0x${hex(i.esr)}`,
    `ICR       0x${hex(i.icr.low)}  ICR2 0x${hex(i.icr.high)}`,
    `LDR 0x${hex(i.ldr)} DFR 0x${hex(i.dfr)}  TPR 0x${hex(i.tpr, 2)} APR 0x${hex(i.apr, 2)} PPR 0x${hex(i.ppr, 2)}`,
    `ISR       ${i.isr.length ? i.isr.join(' ') : '(none)'}`,
    `IRR       ${i.irr.length ? i.irr.map((v) => (i.tmr.includes(v) ? `${v}(level)` : `${v}`)).join(' ') : '(none)'}`,
    `delivered ${i.stats.delivered}, spurious ${i.stats.spurious}, ExtINT ${i.stats.extIntAcks}`,
  );
  return lines.join('\n') + '\n';
}

/** QEMU looks at bit 17 only: modes 00 and 10 (TSC-deadline, which it lacks) are one-shot, 01 and 11 periodic. */
function timerModeOf(lvtTimer: number): number {
  return lvtTimer & LVT_TIMER_PERIODIC ? TIMER_PERIODIC : TIMER_ONE_SHOT;
}

// Wiring on the PC board (pc-machine.ts), in qemu_init order:
//
//   const apic = new LocalApic(clock, { phys });              // page at 0xFEE00000
//   const pic = new DualPic(io, { log, onIntr: (l) => apic.setLint0(l) });  // INTR → LINT0
//   apic.extInt = pic;                                        // ExtINT vectors come from the 8259
//   connectLocalApic(cpu, apic);                              // cpu.intc, IRQ_HARD/NMI/INIT, APIC base MSR, CPUID
//   const ioapic = new IoApic(apic, { phys });                // 0xFEC00000, messages to the APIC
//   apic.onEoiBroadcast = (v) => ioapic.eoiBroadcast(v);
//   const irq = (n: number) => isaIrqLine(pic, ioapic, n);    // every ISA IRQ to both controllers
//   new Pit8254(io, clock, { irq0: irq(0) }); new Uart16550(io, clock, { irq: irq(4), ... });
//   reset(): cpu.reset(); pic.reset(); apic.reset(); ioapic.reset(); ...
//
// With the APIC globally disabled (or never touched: LINT0 is ExtINT at reset) the 8259's
// INTR reaches the CPU as before, through acknowledge() → pic.acknowledge().

/**
 * Wire a local APIC to the CPU it belongs to: CPUID advertises the APIC while IA32_APIC_BASE
 * enables it, the APIC becomes `cpu.intc`, its INTR drives IRQ_HARD, its NMIs IRQ_NMI and an
 * INIT IRQ_INIT (each leaving translated code at once), IA32_APIC_BASE reads and writes
 * reach the APIC. IA32_TSC_DEADLINE is not served: QEMU 7.2's TCG has none (the MSR reads
 * 0) and no model advertises it.
 */
export function connectLocalApic(cpu: Cpu, apic: LocalApic): void {
  const setCpuidApic = (on: boolean): void => {
    cpu.features.edx = on ? cpu.features.edx | CPUID_APIC : cpu.features.edx & ~CPUID_APIC;
  };
  setCpuidApic(apic.globallyEnabled);
  apic.onEnableChange = setCpuidApic;
  cpu.intc = apic;
  apic.onIntr = (level) => {
    if (level) {
      cpu.interruptRequest |= IRQ_HARD;
      cpu.requestExit();
    } else cpu.interruptRequest &= ~IRQ_HARD;
  };
  apic.onNmi = () => {
    cpu.interruptRequest |= IRQ_NMI;
    cpu.requestExit();
  };
  apic.onInit = () => {
    cpu.interruptRequest |= IRQ_INIT;
    cpu.requestExit();
  };
  cpu.apic = apic;
  // Report the current INTR level through the new callback.
  if (apic.intrLevel) cpu.interruptRequest |= IRQ_HARD;
  else cpu.interruptRequest &= ~IRQ_HARD;
}
