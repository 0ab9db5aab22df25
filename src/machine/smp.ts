// Several CPUs, run as the seed's round-robin loop runs them (qemu_tcg_rr_cpu_thread_fn:
// one host thread, CPU_FOREACH, each CPU until a kick or the end of its time slice).
//
// Translated code is compiled against one `Cpu` object (its registers, its TLB tables and
// its slow paths are closed over by every TB and template), so the CPUs take turns on
// that one engine: the CPU whose turn it is has its state in the engine, the others keep
// theirs as a saved record (cpu-state.ts), TLB entries included. So the TB cache, the
// code-page protection that catches self-modifying code and every chained link are
// shared by construction (a TB is keyed by physical pc, CS base and flags, never by CPU),
// an invalidation is seen by every CPU at once, and a CPU can never enter a TB another
// CPU invalidated. The jump cache is cleared when the engine changes hands (it is keyed
// by linear pc, which is per CPU).
//
// The schedule is a function of the instruction count only: a CPU runs RR_SLICE
// instructions, or until it halts, or until it interrupts another CPU (QEMU's rr kick:
// the running CPU leaves so the next one gets its turn). A halted CPU, or one waiting for
// a STARTUP IPI, is passed over without being loaded. The machine's count (the engine's
// icount) is the sum over the CPUs, as QEMU's icount clock with several CPUs (decisions.md
// 75); each CPU's own count is kept in `VCpu.icount`.
import { IRQ_HARD, IRQ_INIT, IRQ_NMI, type Cpu } from '../cpu/cpu.js';
import { loadCpuState, saveCpuState, type CpuState } from '../cpu/cpu-state.js';
import type { CpuExec, ExecStop, RunOptions } from '../cpu/cpu-exec.js';
import { FLAG_IF } from '../cpu/lazy-flags.js';
import { CPUID_APIC } from '../cpu/cpuid-msr.js';
import { SEG_CS } from '../cpu/instr.js';
import type { MmioHandler, PhysicalMemory } from '../memory/physical-memory.js';
import {
  APIC_DEFAULT_BASE, APIC_WINDOW_SIZE, DM_EXTINT, DM_INIT, DM_LOWEST, DM_SMI, ICR_DEST_LOGICAL, ICR_LEVEL_ASSERT,
  ICR_SHORTHAND_ALL, ICR_SHORTHAND_OTHERS, ICR_SHORTHAND_SELF, ICR_TRIGGER_LEVEL,
  type ApicBus, type ApicMessage, type IpiBus, type LocalApic,
} from '../devices/local-apic.js';

/** The most CPUs a board takes (-smp N). */
export const MAX_CPUS = 8;
/**
 * Instructions a CPU runs before the next one's turn: the seed's kick timer, counted in
 * instructions so that a run replays exactly. 100 µs of guest time at 1 ns each.
 */
export const RR_SLICE = 100_000;
/** CPUID.1:EDX.HTT: more than one logical processor per package (QEMU's cores). */
export const CPUID_HTT = 1 << 28;

/** One CPU of the board. */
export class VCpu {
  /** Its state while another CPU holds the engine; null while it is the engine's. */
  saved: CpuState | null = null;
  /** After RESET or INIT, an AP waits for a STARTUP IPI (QEMU's wait_for_sipi). */
  waitForSipi = false;
  /**
   * A STARTUP IPI not yet taken (its vector), or -1. As QEMU's CPU_INTERRUPT_SIPI it is
   * taken after a pending INIT: SeaBIOS sends INIT and SIPI back to back.
   */
  pendingSipi = -1;
  /** Instructions this CPU retired. */
  icount = 0;

  constructor(readonly index: number, readonly apic: LocalApic, readonly cpuidEbx1: number) {}
}

/** What the scheduler needs of a CPU's state, from the engine or from its saved record. */
interface RunState {
  halted: boolean;
  interruptRequest: number;
  eflags: number;
  nmiBlocked: boolean;
}

export interface SmpState {
  current: number;
  turn: number;
  turnEnd: number;
  kicked: boolean;
  cpus: { saved: CpuState | null; waitForSipi: boolean; pendingSipi: number; icount: number }[];
}

export class Smp implements MmioHandler, ApicBus, IpiBus {
  readonly name = 'lapic';
  readonly cpus: VCpu[];
  /** The CPU whose state is in the engine (the running one, or the one a debugger looks at). */
  current: VCpu;
  /** The CPU whose turn it is, and the machine count where its turn ends. */
  private turn: VCpu;
  private turnEnd = 0;
  /** Another CPU was interrupted: the running one leaves at its next block boundary. */
  private kicked = false;

  constructor(private readonly engine: Cpu, private readonly exec: CpuExec, apics: LocalApic[], phys: PhysicalMemory) {
    const n = apics.length;
    // QEMU 7.2 makes -smp N one socket of N cores: CPUID.1:EBX[23:16] = N and EDX.HTT.
    this.cpus = apics.map((a, i) => new VCpu(i, a, ((i << 24) | (n << 16) | 0x800) >>> 0));
    this.current = this.cpus[0]!;
    this.turn = this.current;
    engine.cpuidEbx1 = this.current.cpuidEbx1;
    engine.smpIndex = 0;
    engine.features.edx |= CPUID_HTT;
    for (const v of this.cpus) this.wire(v);
    engine.onPause = () => this.pause();
    // Every CPU sees its own APIC at 0xFEE00000.
    phys.mapMmio(APIC_DEFAULT_BASE, APIC_WINDOW_SIZE, this);
    this.resetAps();
  }

  private wire(v: VCpu): void {
    const a = v.apic;
    a.ipiBus = this;
    a.onIntr = (level) => (level ? this.raise(v, IRQ_HARD) : this.lower(v, IRQ_HARD));
    a.onNmi = () => this.raise(v, IRQ_NMI);
    a.onInit = () => this.raise(v, IRQ_INIT);
    a.onSipi = (vector) => this.sipi(v, vector);
    a.onEnableChange = (on) => {
      const bit = (edx: number): number => (on ? edx | CPUID_APIC : edx & ~CPUID_APIC);
      if (v === this.current) this.engine.features.edx = bit(this.engine.features.edx);
      else if (v.saved !== null) v.saved.cpuidEdx = bit(v.saved.cpuidEdx);
    };
  }

  // ---- the engine changing hands ---------------------------------------------------------

  /** Put `v`'s state in the engine (the one that held it saves its own). */
  select(v: VCpu): void {
    if (v === this.current) return;
    const e = this.engine;
    const icount = e.icount;
    this.current.saved = saveCpuState(e);
    loadCpuState(e, v.saved!);
    e.icount = icount; // the machine's count goes on; v.icount is the CPU's own
    v.saved = null;
    this.current = v;
    e.apic = v.apic;
    e.intc = v.apic;
    e.cpuidEbx1 = v.cpuidEbx1;
    e.smpIndex = v.index;
  }

  /** Before the board's reset: the engine resets the BSP's state. */
  selectBsp(): void {
    this.select(this.cpus[0]!);
  }

  /**
   * After RESET (the engine holds the BSP, just reset; the APICs are reset): every AP has
   * the RESET state, halted, waiting for a STARTUP IPI (QEMU's x86_cpu_reset_hold).
   */
  resetAps(): void {
    const base = saveCpuState(this.engine);
    for (const v of this.cpus) {
      if (v === this.current) continue;
      v.saved = { ...structuredClone(base), halted: true, interruptRequest: 0 };
      v.waitForSipi = true;
    }
    for (const v of this.cpus) v.pendingSipi = -1;
    this.turn = this.current;
    this.turnEnd = this.engine.icount + RR_SLICE;
    this.kicked = false;
  }

  /** An INIT taken by the engine's CPU: an AP re-initialises and waits for SIPI; false for the BSP. */
  apInit(): boolean {
    const v = this.current;
    if (v.index === 0) return false;
    this.engine.init();
    this.engine.halted = true;
    v.waitForSipi = true;
    return true;
  }

  private state(v: VCpu): RunState {
    return v === this.current ? this.engine : v.saved!;
  }

  /** The CPU would execute something if it had the engine. */
  runnable(v: VCpu): boolean {
    if (v.waitForSipi) return false;
    const s = this.state(v);
    if (!s.halted) return true;
    const irq = s.interruptRequest;
    return (irq & IRQ_INIT) !== 0 || ((irq & IRQ_NMI) !== 0 && !s.nmiBlocked) || ((irq & IRQ_HARD) !== 0 && (s.eflags & FLAG_IF) !== 0);
  }

  /** No CPU can ever run again without an input from outside. */
  allHaltedForever(): boolean {
    return this.cpus.every((v) => {
      if (v.waitForSipi) return true;
      const s = this.state(v);
      return s.halted && !(s.eflags & FLAG_IF) && !(s.interruptRequest & (IRQ_NMI | IRQ_INIT));
    });
  }

  // ---- interrupts to a CPU ------------------------------------------------------------------

  private raise(v: VCpu, bits: number): void {
    if (v === this.current) {
      this.engine.interruptRequest |= bits;
      this.engine.requestExit();
      return;
    }
    if (v.saved === null) return;
    v.saved.interruptRequest |= bits;
    this.kick();
  }

  private lower(v: VCpu, bits: number): void {
    if (v === this.current) this.engine.interruptRequest &= ~bits;
    else if (v.saved !== null) v.saved.interruptRequest &= ~bits;
  }

  /**
   * PAUSE (QEMU's helper_pause leaves the CPU loop "to let another CPU run"): a spinning
   * CPU gives its turn to the next one, if any other can run.
   */
  private pause(): boolean {
    for (const v of this.cpus) {
      if (v !== this.current && this.runnable(v)) {
        this.kick();
        return true;
      }
    }
    return false;
  }

  /** QEMU's rr kick: the running CPU leaves at its next block boundary. */
  private kick(): void {
    this.kicked = true;
    this.exec.timersChanged = true;
    this.engine.requestExit();
  }

  /** A STARTUP IPI arrives: taken by the loop after any INIT before it (serviceStartup). */
  private sipi(v: VCpu, vector: number): void {
    v.pendingSipi = vector;
    if (v === this.current) {
      this.engine.requestExit();
      this.exec.timersChanged = true;
    } else this.kick();
  }

  /** STARTUP: a CPU waiting for it starts in real mode at vector << 12 (QEMU's do_cpu_sipi). */
  private startup(v: VCpu, vector: number): void {
    if (!v.waitForSipi) return;
    v.waitForSipi = false;
    if (v === this.current) {
      const e = this.engine;
      e.setSegmentRaw(SEG_CS, vector << 8, vector << 12, e.segLimit[SEG_CS]!, e.segFlags[SEG_CS]!);
      e.eip = 0;
      e.halted = false;
      return;
    }
    const s = v.saved!;
    s.segSel[SEG_CS] = vector << 8;
    s.segBase[SEG_CS] = vector << 12;
    s.eip = 0;
    s.halted = false;
    this.kick();
  }

  // ---- the APIC bus ---------------------------------------------------------------------------

  /** An I/O APIC or MSI message: QEMU's apic_deliver_irq. */
  deliverMessage(m: ApicMessage): boolean {
    const targets = this.cpus.filter((v) => v.apic.matchesDestination(m.dest & 0xff, m.logical));
    if (targets.length === 0) return false;
    this.busDeliver(targets, m.deliveryMode & 7, m.vector, m.level);
    return true;
  }

  /** An ICR write (QEMU's apic_deliver): the shorthand or the destination picks the CPUs. */
  sendIpi(from: LocalApic, lo: number, dest: number): void {
    const mode = (lo >>> 8) & 7;
    let targets: VCpu[];
    switch ((lo >>> 18) & 3) {
      case ICR_SHORTHAND_SELF:
        targets = this.cpus.filter((v) => v.apic === from);
        break;
      case ICR_SHORTHAND_ALL:
        targets = this.cpus;
        break;
      case ICR_SHORTHAND_OTHERS:
        targets = this.cpus.filter((v) => v.apic !== from);
        break;
      default:
        targets = this.cpus.filter((v) => v.apic.matchesDestination(dest, (lo & ICR_DEST_LOGICAL) !== 0));
    }
    // INIT level de-assert only synchronises arbitration IDs; SMI (no SMM) and ExtINT by
    // IPI reach nobody.
    if (mode === DM_INIT && !(lo & ICR_LEVEL_ASSERT) && lo & ICR_TRIGGER_LEVEL) return;
    if (mode === DM_SMI || mode === DM_EXTINT) return;
    this.busDeliver(targets, mode, lo & 0xff, (lo & ICR_TRIGGER_LEVEL) !== 0);
  }

  /**
   * QEMU's apic_bus_deliver: lowest priority goes to the first CPU of the destination set
   * (QEMU 7.2 does no arbitration: the lowest APIC index), everything else to each.
   */
  private busDeliver(targets: VCpu[], mode: number, vector: number, level: boolean): void {
    if (mode === DM_LOWEST) {
      targets[0]?.apic.deliverHere(mode, vector, level);
      return;
    }
    for (const v of targets) v.apic.deliverHere(mode, vector, level);
  }

  // ---- the APIC page: each CPU sees its own ---------------------------------------------------

  read(offset: number, size: number): number {
    return this.current.apic.read(offset, size);
  }

  write(offset: number, value: number, size: number): void {
    this.current.apic.write(offset, value, size);
  }

  // ---- the round-robin loop -------------------------------------------------------------------

  /**
   * Run CPUs in turn until the machine's count reaches `end` (the next timer or the end of
   * the caller's budget) or something stops the loop. 'halted' when no CPU can run. A
   * step runs the engine's CPU only (the one a debugger selected).
   */
  run(end: number, opts: RunOptions): ExecStop {
    const e = this.engine;
    if (opts.single || opts.oneBlock) return this.runOne(this.current, end, opts);
    let idle = 0;
    for (;;) {
      this.serviceStartup();
      if (this.kicked || e.icount >= this.turnEnd || !this.runnable(this.turn)) {
        const kicked = this.kicked;
        this.kicked = false;
        const next = this.nextRunnable(this.turn);
        if (next === null) return 'halted';
        if (next === this.turn && !kicked && e.icount >= this.turnEnd) {
          // Alone, it ran past the end of its turn (below): its turns go on from where
          // they would have ended, so the schedule does not depend on where runs stop.
          this.turnEnd += Math.ceil((e.icount - this.turnEnd + 1) / RR_SLICE) * RR_SLICE;
        } else {
          this.turn = next;
          this.turnEnd = e.icount + RR_SLICE;
        }
      }
      const v = this.turn;
      this.select(v);
      const before = e.icount;
      // A CPU alone (no other can run, and only a kick could change that) runs on past
      // its turn's end: ending there would only give the turn back to it, at the cost of
      // one-instruction blocks up to the exact count.
      const alone = !this.cpus.some((o) => o !== v && this.runnable(o));
      const stop = this.runOne(v, alone ? end : Math.min(end, this.turnEnd), opts);
      if (stop === 'halted') {
        // Halted with nothing deliverable now: the next CPU's turn.
        idle = e.icount === before ? idle + 1 : 0;
        if (idle > this.cpus.length) return 'halted';
        this.turnEnd = e.icount;
        continue;
      }
      if (stop === 'budget' && e.icount >= this.turnEnd && e.icount < end && !this.kicked) continue;
      return stop;
    }
  }

  private runOne(v: VCpu, end: number, opts: RunOptions): ExecStop {
    const before = this.engine.icount;
    try {
      return this.exec.run(end, opts);
    } finally {
      v.icount += this.engine.icount - before;
    }
  }

  /** The next CPU after `from` (in index order, `from` itself last) that can run. */
  private nextRunnable(from: VCpu): VCpu | null {
    const n = this.cpus.length;
    for (let k = 1; k <= n; k++) {
      const v = this.cpus[(from.index + k) % n]!;
      if (this.runnable(v)) return v;
    }
    return null;
  }

  /**
   * INIT and STARTUP for CPUs that are not running code: an INIT for a CPU waiting for a
   * SIPI, or followed by one, is taken at once (QEMU takes INIT before SIPI), then the SIPI.
   */
  private serviceStartup(): void {
    for (const v of this.cpus) {
      if (!v.waitForSipi && v.pendingSipi < 0) continue;
      if (this.state(v).interruptRequest & IRQ_INIT) {
        this.select(v);
        this.engine.interruptRequest &= ~(IRQ_INIT | IRQ_NMI);
        this.engine.onInit();
      }
      if (v.pendingSipi >= 0) {
        const vector = v.pendingSipi;
        v.pendingSipi = -1;
        this.startup(v, vector);
      }
    }
  }

  // ---- snapshots --------------------------------------------------------------------------------

  saveState(): SmpState {
    return {
      current: this.current.index, turn: this.turn.index, turnEnd: this.turnEnd, kicked: this.kicked,
      cpus: this.cpus.map((v) => ({
        saved: v.saved === null ? null : structuredClone(v.saved), waitForSipi: v.waitForSipi, pendingSipi: v.pendingSipi, icount: v.icount,
      })),
    };
  }

  /** After the engine's state (the `current` CPU's) has been loaded. */
  loadState(s: SmpState): void {
    this.cpus.forEach((v, i) => {
      const c = s.cpus[i]!;
      v.saved = c.saved === null ? null : structuredClone(c.saved);
      v.waitForSipi = c.waitForSipi;
      v.pendingSipi = c.pendingSipi;
      v.icount = c.icount;
    });
    this.current = this.cpus[s.current]!;
    this.turn = this.cpus[s.turn]!;
    this.turnEnd = s.turnEnd;
    this.kicked = s.kicked;
    const e = this.engine;
    e.apic = this.current.apic;
    e.intc = this.current.apic;
    e.cpuidEbx1 = this.current.cpuidEbx1;
    e.smpIndex = this.current.index;
  }
}
