// High Precision Event Timer at 0xFED00000 (IA-PC HPET specification 1.0a), as QEMU 7.2's
// `pc` machine has it (hw/timer/hpet.c; measured with tests/guests/board/hpet.c):
//
// - Capabilities 0x8086A201: revision 1, 3 timers, 64-bit counter, LegacyReplacement
//   capable, vendor 8086; period 10,000,000 fs (a 100 MHz counter on the virtual clock).
// - Registers take 32-bit accesses only (narrower reads give 0, narrower writes are
//   dropped). Unknown offsets read 0. Timer register blocks exist up to timer 3: QEMU's
//   range check is off by one, so a fourth, never reset, never interrupting block of
//   registers answers at 0x160-0x17F.
// - Each timer: periodic and 64-bit capable, no FSB delivery advertised (the FSB route
//   register and FSB_EN are stored, as QEMU), interrupt route capability "IRQ 2 only"
//   (QEMU's value for i440FX). Writable config bits 0x7F4E; 32-bit mode truncates the
//   comparator; SETVAL lets a periodic timer's comparator be written, and any comparator
//   write clears it (so the high half of a 64-bit periodic set-up goes to the period).
// - The counter runs only while ENABLE_CNF is set; writes to it are kept but take effect
//   at the next enable. Enabling (re)arms every timer whose comparator is not all ones,
//   whether or not its interrupt is enabled; a comparator that has passed fires one tick
//   later. A periodic timer adds its period until the comparator is ahead of the counter;
//   a 32-bit one-shot timer also fires when the counter's low half wraps.
// - Interrupts: level timers set their status bit and hold the line until software
//   writes the bit (or turns the timer off); edge timers pulse it. Routes are GSIs: route
//   n < 16 reaches 8259 input n and I/O APIC pin n (GSI 0 is pin 2), higher routes the I/O
//   APIC only; GSI 2 (the only route QEMU offers outside legacy mode) is I/O APIC pin 2
//   alone here, where QEMU also drives the master 8259's cascade input. LegacyReplacement sends timer 0 to GSI 0 and timer 1 to GSI 8 and cuts the
//   PIT's and the RTC's own interrupts off (`pitLine`/`rtcLine` are their inputs).
//
// Deviation (docs/decisions.md): QEMU advances a periodic comparator only while the
// counter is strictly past it; its timer callback normally runs late, but when it runs
// exactly on time (with -icount) it fires a second time one tick later. Our clock is
// always exact, so we advance while the counter has reached the comparator: one
// interrupt per period, as QEMU gives in its default mode and as hardware does.
import type { MmioHandler, PhysicalMemory } from '../memory/physical-memory.js';
import { NO_IRQ, type IrqLine, type Resettable, type SavesState } from './device.js';
import { Timer, type VirtualClock } from '../time/virtual-clock.js';

export const HPET_BASE = 0xfed00000;
export const HPET_LEN = 0x400;
export const HPET_NUM_TIMERS = 3;
/** ns per counter tick (QEMU's HPET_CLK_PERIOD): 100 MHz. */
export const HPET_CLK_PERIOD_NS = 10;
/** Capabilities and ID (low dword): rev 1, NUM_TIM_CAP 2, COUNT_SIZE_CAP, LEG_RT_CAP, vendor 8086. */
export const HPET_CAPABILITIES = 0x8086a201;
export const HPET_PERIOD_FS = HPET_CLK_PERIOD_NS * 1_000_000;
/** Interrupt route capability of every timer: IRQ 2 (QEMU's i440FX value). */
export const HPET_INT_ROUTE_CAP = 0x00000004;

export const HPET_ID = 0x000;
export const HPET_PERIOD = 0x004;
export const HPET_CFG = 0x010;
export const HPET_STATUS = 0x020;
export const HPET_COUNTER = 0x0f0;
const HPET_TN_CFG = 0x00;
const HPET_TN_CMP = 0x08;
const HPET_TN_ROUTE = 0x10;

export const HPET_CFG_ENABLE = 0x1;
export const HPET_CFG_LEGACY = 0x2;
const HPET_CFG_WRITE_MASK = 0x3;
export const HPET_TN_TYPE_LEVEL = 0x002;
export const HPET_TN_ENABLE = 0x004;
export const HPET_TN_PERIODIC = 0x008;
const HPET_TN_PERIODIC_CAP = 0x010;
const HPET_TN_SIZE_CAP = 0x020;
export const HPET_TN_SETVAL = 0x040;
export const HPET_TN_32BIT = 0x100;
const HPET_TN_INT_ROUTE_SHIFT = 9;
const HPET_TN_INT_ROUTE_MASK = 0x3e00;
export const HPET_TN_FSB_ENABLE = 0x4000;
const HPET_TN_CFG_WRITE_MASK = 0x7f4e;

const RTC_ISA_IRQ = 8;
const ALL_ONES = 0xffff_ffff_ffff_ffffn;
const U32 = 0xffff_ffffn;

/** The board's interrupt inputs the HPET can drive (GSI n). */
export type GsiLines = (gsi: number) => IrqLine;

export interface HpetOptions {
  phys?: PhysicalMemory;
  base?: number;
  /** GSI n as an interrupt line (the board maps GSIs to the 8259s and the I/O APIC). */
  gsi?: GsiLines;
}

interface HpetTimerState {
  config: string;
  cmp: string;
  fsb: string;
  period: string;
  wrap: boolean;
  deadline: number | null;
}

export interface HpetState {
  config: number;
  isr: number;
  counter: string;
  offsetNs: string;
  rtcLevel: boolean;
  timers: HpetTimerState[];
}

export interface HpetInfo {
  enabled: boolean;
  legacy: boolean;
  counter: bigint;
  status: number;
  timers: { config: bigint; comparator: bigint; period: bigint; armedNs: number | null }[];
}

class HpetTimer {
  config = 0n;
  cmp = 0n;
  fsb = 0n;
  period = 0n;
  wrap = false;
  readonly timer: Timer;

  constructor(readonly tn: number, clock: VirtualClock, onFire: (t: HpetTimer) => void) {
    this.timer = new Timer(clock, `hpet-timer${tn}`, () => onFire(this));
  }

  get periodic(): boolean {
    return (this.config & BigInt(HPET_TN_PERIODIC)) !== 0n;
  }
  get is32(): boolean {
    return (this.config & BigInt(HPET_TN_32BIT)) !== 0n;
  }
  get enabled(): boolean {
    return (this.config & BigInt(HPET_TN_ENABLE)) !== 0n;
  }
  get level(): boolean {
    return (this.config & BigInt(HPET_TN_TYPE_LEVEL)) !== 0n;
  }
  get fsbRoute(): boolean {
    return (this.config & BigInt(HPET_TN_FSB_ENABLE)) !== 0n;
  }
  get route(): number {
    return Number((this.config & BigInt(HPET_TN_INT_ROUTE_MASK)) >> BigInt(HPET_TN_INT_ROUTE_SHIFT));
  }
}

/** b after a (wrapping), in `bits` bits: QEMU's hpet_time_after(64). */
function after(a: bigint, b: bigint, bits: number): boolean {
  return BigInt.asIntN(bits, b - a) < 0n;
}

export class Hpet implements MmioHandler, Resettable, SavesState<HpetState> {
  readonly name = 'hpet';
  readonly base: number;
  private config = 0;
  private isr = 0;
  /** The counter while stopped (and what was last written to it). */
  private counter = 0n;
  /** Counter = (virtual ns + offset) / 10 while enabled. */
  private offsetNs = 0n;
  private rtcLevel = false;
  private readonly timers: HpetTimer[] = [];
  private readonly lines: IrqLine[] = [];
  /** The PIT's channel 0 output: GSI 0 unless LegacyReplacement is on. */
  readonly pitLine: IrqLine;
  /** The RTC's interrupt output: GSI 8 unless LegacyReplacement is on. */
  readonly rtcLine: IrqLine;

  constructor(private readonly clock: VirtualClock, opts: HpetOptions = {}) {
    this.base = opts.base ?? HPET_BASE;
    const gsi = opts.gsi ?? (() => NO_IRQ);
    for (let i = 0; i < 32; i++) this.lines.push(gsi(i));
    // Timer 3 exists for QEMU's off-by-one register range; it is never reset or armed by
    // the enable loop.
    for (let i = 0; i <= HPET_NUM_TIMERS; i++) this.timers.push(new HpetTimer(i, clock, (t) => this.fire(t)));
    this.pitLine = { set: (level) => { if (!this.legacy) this.lines[0]!.set(level); } };
    this.rtcLine = {
      set: (level) => {
        this.rtcLevel = level;
        if (!this.legacy) this.lines[RTC_ISA_IRQ]!.set(level);
      },
    };
    opts.phys?.mapMmio(this.base, HPET_LEN, this);
    this.reset();
  }

  private get enabled(): boolean {
    return (this.config & HPET_CFG_ENABLE) !== 0;
  }
  private get legacy(): boolean {
    return (this.config & HPET_CFG_LEGACY) !== 0;
  }

  private nowNs(): bigint {
    return BigInt(Math.floor(this.clock.now()));
  }

  /** The main counter now. */
  ticks(): bigint {
    if (!this.enabled) return this.counter;
    return BigInt.asUintN(64, (this.nowNs() + this.offsetNs) / BigInt(HPET_CLK_PERIOD_NS));
  }

  /** Ticks until the comparator, at least 1 (hpet_calculate_diff). */
  private diff(t: HpetTimer, cur: bigint): bigint {
    if (t.is32) {
      const d = BigInt.asUintN(32, (t.cmp & U32) - (cur & U32));
      return BigInt.asIntN(32, d) > 0n ? d : 1n;
    }
    const d = BigInt.asUintN(64, t.cmp - cur);
    return BigInt.asIntN(64, d) > 0n ? d : 1n;
  }

  private arm(t: HpetTimer, ticks: bigint): void {
    t.timer.arm(this.clock.now() + Number(ticks) * HPET_CLK_PERIOD_NS);
  }

  /** hpet_set_timer */
  private setTimer(t: HpetTimer): void {
    // A disabled one-shot timer's expiry changes nothing a guest sees (enabling it arms it
    // afresh), so it is not armed: Linux's hpet_calibrate rewrites timer 2's comparator
    // 150,000 times in a row, and each armed timer would stop the CPU loop one tick later
    // (docs/decisions.md, "A disabled HPET one-shot timer is not armed").
    if (!t.enabled && !t.periodic) {
      t.wrap = false;
      t.timer.cancel();
      return;
    }
    const cur = this.ticks();
    t.wrap = false;
    let d = this.diff(t, cur);
    // In 32-bit one-shot mode the counter's wrap also interrupts (spec 2.3.9.2.4).
    if (t.is32 && !t.periodic) {
      const wrapDiff = BigInt.asUintN(32, U32 - (cur & U32));
      if (wrapDiff < (d & U32)) {
        d = wrapDiff;
        t.wrap = true;
      }
    }
    this.arm(t, d);
  }

  private delTimer(t: HpetTimer): void {
    t.timer.cancel();
    this.updateIrq(t, false);
  }

  /** The timer's deadline passed (hpet_timer). */
  private fire(t: HpetTimer): void {
    const cur = this.ticks();
    if (t.periodic && t.period !== 0n) {
      // Advance until the comparator is ahead of the counter (see the deviation above).
      if (t.is32) {
        while (!after(t.cmp, cur, 32)) t.cmp = BigInt.asUintN(32, t.cmp + t.period);
      } else {
        while (!after(t.cmp, cur, 64)) t.cmp = BigInt.asUintN(64, t.cmp + t.period);
      }
      this.arm(t, this.diff(t, cur));
    } else if (t.is32 && !t.periodic && t.wrap) {
      t.wrap = false;
      this.arm(t, this.diff(t, cur));
    }
    this.updateIrq(t, true);
  }

  /** update_irq */
  private updateIrq(t: HpetTimer, set: boolean): void {
    const route = t.tn <= 1 && this.legacy ? (t.tn === 0 ? 0 : RTC_ISA_IRQ) : t.route;
    const line = this.lines[route]!;
    const mask = 1 << t.tn;
    if (!set || !t.enabled || !this.enabled) {
      this.isr &= ~mask;
      if (!t.fsbRoute) line.set(false);
    } else if (t.fsbRoute) {
      // No FSB delivery is advertised: QEMU would write the FSB route's message to
      // memory; nothing is delivered here (the capability bit is clear).
    } else if (t.level) {
      this.isr |= mask;
      line.set(true);
    } else {
      this.isr &= ~mask;
      line.set(true);
      line.set(false);
    }
  }

  // ---- registers -------------------------------------------------------------------------

  read(offset: number, size: number): number {
    if (size !== 4) return 0;
    return this.read32(offset);
  }

  private read32(addr: number): number {
    if (addr >= 0x100 && addr <= 0x3ff) {
      const id = (addr - 0x100) >> 5;
      const t = this.timers[id];
      if (!t) return 0;
      switch ((addr - 0x100) & 0x1f) {
        case HPET_TN_CFG: return Number(t.config & U32);
        case HPET_TN_CFG + 4: return Number(t.config >> 32n);
        case HPET_TN_CMP: return Number(t.cmp & U32);
        case HPET_TN_CMP + 4: return Number(t.cmp >> 32n);
        case HPET_TN_ROUTE: return Number(t.fsb & U32);
        case HPET_TN_ROUTE + 4: return Number(t.fsb >> 32n);
        default: return 0;
      }
    }
    switch (addr) {
      case HPET_ID: return HPET_CAPABILITIES;
      case HPET_PERIOD: return HPET_PERIOD_FS;
      case HPET_CFG: return this.config;
      case HPET_STATUS: return this.isr;
      case HPET_COUNTER: return Number(this.ticks() & U32);
      case HPET_COUNTER + 4: return Number(this.ticks() >> 32n);
      default: return 0;
    }
  }

  write(offset: number, value: number, size: number): void {
    if (size !== 4) return;
    this.write32(offset, value >>> 0);
  }

  private write32(addr: number, value: number): void {
    const old = this.read32(addr);
    let nv = BigInt(value);
    if (addr >= 0x100 && addr <= 0x3ff) {
      const t = this.timers[(addr - 0x100) >> 5];
      if (!t) return;
      switch ((addr - 0x100) & 0x1f) {
        case HPET_TN_CFG: {
          if (!(old & HPET_TN_FSB_ENABLE) && value & HPET_TN_FSB_ENABLE) this.updateIrq(t, false);
          const v = (value & HPET_TN_CFG_WRITE_MASK) | (old & ~HPET_TN_CFG_WRITE_MASK);
          t.config = (t.config & ~U32) | BigInt(v >>> 0);
          if (value & HPET_TN_32BIT) {
            t.cmp &= U32;
            t.period &= U32;
          }
          if (!(old & HPET_TN_ENABLE) && value & HPET_TN_ENABLE) {
            if (this.enabled) this.setTimer(t);
          } else if (old & HPET_TN_ENABLE && !(value & HPET_TN_ENABLE)) this.delTimer(t);
          return;
        }
        case HPET_TN_CFG + 4: return; // the route capability is read-only
        case HPET_TN_CMP: {
          if (t.is32) nv &= U32;
          if (!t.periodic || t.config & BigInt(HPET_TN_SETVAL)) t.cmp = (t.cmp & ~U32 & ALL_ONES) | nv;
          if (t.periodic) {
            nv &= (t.is32 ? U32 : ALL_ONES) >> 1n;
            t.period = (t.period & ~U32 & ALL_ONES) | nv;
          }
          t.config &= ~BigInt(HPET_TN_SETVAL);
          if (this.enabled) this.setTimer(t);
          return;
        }
        case HPET_TN_CMP + 4: {
          if (!t.periodic || t.config & BigInt(HPET_TN_SETVAL)) t.cmp = (t.cmp & U32) | (nv << 32n);
          else {
            nv &= (t.is32 ? U32 : ALL_ONES) >> 1n;
            t.period = BigInt.asUintN(64, (t.period & U32) | (nv << 32n));
          }
          t.config &= ~BigInt(HPET_TN_SETVAL);
          if (this.enabled) this.setTimer(t);
          return;
        }
        case HPET_TN_ROUTE: t.fsb = (t.fsb & ~U32 & ALL_ONES) | nv; return;
        case HPET_TN_ROUTE + 4: t.fsb = (nv << 32n) | (t.fsb & U32); return;
        default: return;
      }
    }
    switch (addr) {
      case HPET_CFG: {
        const cur = this.ticks();
        this.config = (value & HPET_CFG_WRITE_MASK) | (old & ~HPET_CFG_WRITE_MASK);
        if (!(old & HPET_CFG_ENABLE) && value & HPET_CFG_ENABLE) {
          this.offsetNs = this.counter * BigInt(HPET_CLK_PERIOD_NS) - this.nowNs();
          for (let i = 0; i < HPET_NUM_TIMERS; i++) {
            const t = this.timers[i]!;
            if (t.cmp !== ALL_ONES) this.setTimer(t);
          }
        } else if (old & HPET_CFG_ENABLE && !(value & HPET_CFG_ENABLE)) {
          this.counter = cur;
          for (let i = 0; i < HPET_NUM_TIMERS; i++) this.delTimer(this.timers[i]!);
        }
        // The 8254's and the RTC's outputs are cut off in legacy mode.
        if (!(old & HPET_CFG_LEGACY) && value & HPET_CFG_LEGACY) {
          this.lines[0]!.set(false);
          this.lines[RTC_ISA_IRQ]!.set(false);
        } else if (old & HPET_CFG_LEGACY && !(value & HPET_CFG_LEGACY)) {
          this.lines[0]!.set(false);
          this.lines[RTC_ISA_IRQ]!.set(this.rtcLevel);
        }
        return;
      }
      case HPET_STATUS: {
        const clear = value & this.isr;
        for (let i = 0; i < HPET_NUM_TIMERS; i++) if (clear & (1 << i)) this.updateIrq(this.timers[i]!, false);
        return;
      }
      case HPET_COUNTER: this.counter = (this.counter & ~U32 & ALL_ONES) | nv; return;
      case HPET_COUNTER + 4: this.counter = (this.counter & U32) | (nv << 32n); return;
      default: return;
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------

  reset(): void {
    for (let i = 0; i < HPET_NUM_TIMERS; i++) {
      const t = this.timers[i]!;
      this.delTimer(t);
      t.cmp = ALL_ONES;
      t.config = BigInt(HPET_TN_PERIODIC_CAP | HPET_TN_SIZE_CAP) | (BigInt(HPET_INT_ROUTE_CAP) << 32n);
      t.period = 0n;
      t.wrap = false;
    }
    this.counter = 0n;
    this.offsetNs = 0n;
    this.config = 0;
    this.rtcLevel = false;
  }

  saveState(): HpetState {
    return {
      config: this.config, isr: this.isr, counter: this.counter.toString(), offsetNs: this.offsetNs.toString(),
      rtcLevel: this.rtcLevel,
      timers: this.timers.map((t) => ({
        config: t.config.toString(), cmp: t.cmp.toString(), fsb: t.fsb.toString(), period: t.period.toString(),
        wrap: t.wrap, deadline: t.timer.armed ? t.timer.deadline : null,
      })),
    };
  }

  loadState(s: HpetState): void {
    this.config = s.config;
    this.isr = s.isr;
    this.counter = BigInt(s.counter);
    this.offsetNs = BigInt(s.offsetNs);
    this.rtcLevel = s.rtcLevel;
    s.timers.forEach((ts, i) => {
      const t = this.timers[i];
      if (!t) return;
      t.config = BigInt(ts.config);
      t.cmp = BigInt(ts.cmp);
      t.fsb = BigInt(ts.fsb);
      t.period = BigInt(ts.period);
      t.wrap = ts.wrap;
      if (ts.deadline === null) t.timer.cancel();
      else t.timer.arm(ts.deadline);
    });
  }

  info(): HpetInfo {
    return {
      enabled: this.enabled, legacy: this.legacy, counter: this.ticks(), status: this.isr,
      timers: this.timers.slice(0, HPET_NUM_TIMERS).map((t) => ({
        config: t.config, comparator: t.cmp, period: t.period, armedNs: t.timer.armed ? t.timer.deadline : null,
      })),
    };
  }
}
