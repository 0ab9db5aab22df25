// Intel 8254 programmable interval timer (ports 0x40-0x43) and the PC/AT system control
// port B bits that belong to it (port 0x61: channel 2 gate, speaker data, refresh toggle,
// channel 2 OUT). Semantics follow the 8254 datasheet (Intel 231164): the counting element
// (CE) is loaded on the CLK pulse after the count is written, modes 2/3 pick up a new count
// at the end of the period / half-cycle, GATE suspends or retriggers per mode. As QEMU, a
// mode 1 or 5 count written to channel 0 or 1 (GATE tied high) starts counting, and the
// refresh bit of port 0x61 toggles at every read. QEMU 7.2 measured otherwise and kept
// here (decisions.md 17): its OUT is inverted in modes 1, 2, 4 and 5 and GATE low never
// suspends counting.
//
// Nothing is polled: every value is a closed-form function of the PIT clock tick derived
// from the virtual clock (1,193,182 Hz, ticks = floor(ns * f / 1e9)), and channel 0's OUT,
// which drives IRQ 0, is advanced by a Timer armed at its next edge. Same clock, same results.
import type { IoBus, PortHandler } from './io-bus.js';
import { NO_IRQ, type IrqLine, type Resettable, type SavesState } from './device.js';
import { NS_PER_S, Timer, clockTickToNs, clockTicksAt, type VirtualClock } from '../time/virtual-clock.js';

export const PIT_FREQ = 1_193_182;
export const PIT_PORT_BASE = 0x40;
export const PIT_CONTROL = 0x43;
export const SYSTEM_CONTROL_B = 0x61;
/** Port 0x61 bits (PC/AT). */
export const PORT61_TIMER2_GATE = 0x01;
export const PORT61_SPEAKER_DATA = 0x02;
export const PORT61_REFRESH = 0x10;
export const PORT61_TIMER2_OUT = 0x20;

/** PIT input clock pulses seen by virtual time `ns`. */
export function pitTicksAt(ns: number): number {
  return clockTicksAt(ns, PIT_FREQ);
}

/** The first virtual nanosecond at which the PIT clock has reached tick `tick`. */
export function pitTickToNs(tick: number): number {
  return clockTickToNs(tick, PIT_FREQ);
}

/** Plain-JSON state of one counter. Ticks are absolute PIT clock ticks. */
export interface PitChannelState {
  /** Control word bits 5-0 as programmed (RW1 RW0 M2 M1 M0 BCD), reported in the status byte. */
  ctrl: number;
  /** Mode 0-5 (6 and 7 alias 2 and 3). */
  mode: number;
  bcd: boolean;
  /** Access: 1 lobyte, 2 hibyte, 3 lobyte then hibyte. */
  rw: number;
  /** Count register as last written. */
  cr: number;
  /** A full count has been written since the control word. */
  crWritten: boolean;
  /** Initial count of the current counting epoch (1-65536, or 1-10000 in BCD). */
  n: number;
  /** Tick at which CE held `n`; null when the counter is not counting. */
  start: number | null;
  /** Mode 3: ticks into the square-wave period at `start` (a new count can start low). */
  phase: number;
  /** Modes 2/3: a new count waiting for the end of the period / half-cycle. */
  pendingStart: number | null;
  pendingN: number;
  pendingPhase: number;
  /** GATE low in modes 0/2/3/4: tick at which counting stopped. */
  suspendedAt: number | null;
  /** OUT and CE before `start` (idle, or waiting for the load pulse). */
  outBefore: boolean;
  ceBefore: number;
  gate: boolean;
  nullCount: boolean;
  /** Tick at which the null-count flag clears (the CE load); null: waits for a trigger. */
  nullClearTick: number | null;
  writeHi: boolean;
  writeLo: number;
  readHi: boolean;
  latched: number | null;
  latchedHi: boolean;
  status: number | null;
}

export interface Pit8254State {
  channels: PitChannelState[];
  speakerData: boolean;
  /** Port 0x61's refresh bit as last read. */
  refresh: boolean;
  irqLevel: boolean;
  irqEdgeTick: number | null;
  irqRaises: number;
}

export interface PitChannelInfo {
  channel: number;
  mode: number;
  bcd: boolean;
  access: 'lobyte' | 'hibyte' | 'lobyte/hibyte';
  counting: boolean;
  count: number;
  reload: number;
  periodNs: number;
  out: boolean;
  gate: boolean;
  nullCount: boolean;
  latchedCount: number | null;
  latchedStatus: number | null;
}

export interface Pit8254Info {
  tick: number;
  channels: PitChannelInfo[];
  irq0: { level: boolean; raises: number; nextEdgeNs: number | null };
  port61: { gate2: boolean; speakerData: boolean; out2: boolean; refresh: boolean };
}

export interface Pit8254Options {
  /** Driven by channel 0's OUT (IRQ 0 on a PC). */
  irq0?: IrqLine;
}

/** Modes in which GATE low stops counting (1 and 5 use GATE only as a trigger). */
function gateSuspends(mode: number): boolean {
  return mode !== 1 && mode !== 5;
}

function fromBcd(v: number): number {
  return ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf);
}

function toBcd(v: number): number {
  return ((Math.floor(v / 1000) % 10) << 12) | ((Math.floor(v / 100) % 10) << 8) | ((Math.floor(v / 10) % 10) << 4) | (v % 10);
}

function newChannel(gate: boolean): PitChannelState {
  return {
    ctrl: 0, mode: 0, bcd: false, rw: 3, cr: 0, crWritten: false, n: 65536, start: null, phase: 0,
    pendingStart: null, pendingN: 65536, pendingPhase: 0, suspendedAt: null, outBefore: false,
    ceBefore: 0, gate, nullCount: false, nullClearTick: null, writeHi: false, writeLo: 0,
    readHi: false, latched: null, latchedHi: false, status: null,
  };
}

export class Pit8254 implements PortHandler, Resettable, SavesState<Pit8254State> {
  private channels: PitChannelState[] = [newChannel(true), newChannel(true), newChannel(false)];
  private speakerData = false;
  private refresh = false;
  private readonly irq0: IrqLine;
  private irqLevel = false;
  private irqEdgeTick: number | null = null;
  private irqRaises = 0;
  private readonly irqTimer: Timer;

  constructor(io: IoBus, private readonly clock: VirtualClock, opts: Pit8254Options = {}) {
    this.irq0 = opts.irq0 ?? NO_IRQ;
    this.irqTimer = new Timer(clock, 'pit-ch0', () => this.irqEdge());
    io.register(PIT_PORT_BASE, 4, this, 'pit');
    io.register(SYSTEM_CONTROL_B, 1, {
      read: (_port, size) => this.readPort61() | (size > 1 ? 0xffffff00 : 0),
      write: (_port, value) => this.writePort61(value & 0xff),
    }, 'pit-port61');
    this.reset();
  }

  /** The current PIT clock tick. */
  tick(): number {
    return pitTicksAt(this.clock.now());
  }

  // ---- the closed-form counter ----

  private effectiveCount(c: PitChannelState, v: number): number {
    if (c.bcd) {
      const d = fromBcd(v);
      return d === 0 ? 10000 : d;
    }
    return v === 0 ? 65536 : v;
  }

  /** Fold a pending mode 2/3 reload once its time has come. */
  private normalize(c: PitChannelState, t: number): void {
    if (c.pendingStart !== null && t >= c.pendingStart) {
      c.start = c.pendingStart;
      c.n = c.pendingN;
      c.phase = c.pendingPhase;
      c.pendingStart = null;
    }
  }

  /** Clock pulses counted since `start` at tick t; negative before the load pulse. */
  private elapsed(c: PitChannelState, t: number): number {
    const start = c.start!;
    if (t < start) return t - start;
    if (c.suspendedAt !== null) return Math.max(0, Math.min(t, c.suspendedAt) - start);
    return t - start;
  }

  private outAt(c: PitChannelState, t: number): boolean {
    if (c.start === null) return c.outBefore;
    this.normalize(c, t);
    const e = this.elapsed(c, t);
    if (e < 0) return c.outBefore;
    const n = c.n;
    switch (c.mode) {
      case 0: // interrupt on terminal count: low until CE reaches 0
      case 1: // hardware one-shot: low from the load until CE reaches 0
        return e >= n;
      case 2: // rate generator: low for the one clock in which CE is 1
        if (c.suspendedAt !== null) return true;
        return n < 2 || e % n !== n - 1;
      case 3: // square wave: high for ceil(n/2), low for floor(n/2)
        if (c.suspendedAt !== null) return true;
        return n < 2 || (e + c.phase) % n < (n + 1) >> 1;
      default: // 4, 5: strobe: low for the one clock in which CE is 0
        return e !== n;
    }
  }

  /** The counting element (binary, 0-65535) at tick t. */
  private countAt(c: PitChannelState, t: number): number {
    if (c.start === null) return c.ceBefore;
    this.normalize(c, t);
    const e = this.elapsed(c, t);
    if (e < 0) return c.ceBefore;
    const n = c.n;
    const m = c.bcd ? 10000 : 65536;
    let v: number;
    switch (c.mode) {
      case 2:
        v = n - (e % n);
        break;
      case 3: {
        const p = (e + c.phase) % n;
        if (n % 2 === 0) {
          v = n - 2 * (p % (n / 2));
        } else {
          // Odd counts: n-1 then by twos while OUT is high; n-3 then by twos while low.
          const high = (n + 1) >> 1;
          if (p < high) v = p === 0 ? n : n + 1 - 2 * p;
          else v = p === high ? n : n - 1 - 2 * (p - high);
        }
        break;
      }
      default: // 0, 1, 4, 5 count down and wrap
        v = n - e;
        break;
    }
    return ((v % m) + m) % m;
  }

  /** The first tick after t at which OUT changes, or null if it never does by itself. */
  private nextEdge(c: PitChannelState, t: number): number | null {
    if (c.start === null) return null;
    this.normalize(c, t);
    if (c.suspendedAt !== null) return null;
    const start = c.start;
    if (t < start) {
      if (this.outAt(c, start) !== c.outBefore) return start;
      t = start;
    }
    const e = t - start;
    const n = c.n;
    switch (c.mode) {
      case 0:
      case 1:
        return e < n ? start + n : null;
      case 2: {
        if (n < 2) return null;
        const p = e % n;
        return p < n - 1 ? t + (n - 1 - p) : t + 1;
      }
      case 3: {
        if (n < 2) return null;
        const p = (e + c.phase) % n;
        const high = (n + 1) >> 1;
        return p < high ? t + (high - p) : t + (n - p);
      }
      default:
        if (e < n) return start + n;
        if (e === n) return start + n + 1;
        return null;
    }
  }

  private nullCountAt(c: PitChannelState, t: number): boolean {
    if (c.nullCount && c.nullClearTick !== null && t >= c.nullClearTick) c.nullCount = false;
    return c.nullCount;
  }

  /** Start an epoch with CE = count `n` loaded on the pulse at tick `at`. */
  private startEpoch(c: PitChannelState, t: number, at: number, n: number): void {
    c.outBefore = this.outAt(c, t);
    c.ceBefore = this.countAt(c, t);
    c.start = at;
    c.n = n;
    c.phase = 0;
    c.pendingStart = null;
    if (c.nullCount && c.nullClearTick === null) c.nullClearTick = at;
  }

  // ---- programming ----

  private writeControl(val: number, t: number): void {
    const sc = val >> 6;
    if (sc === 3) {
      this.readBack(val, t);
      return;
    }
    const c = this.channels[sc]!;
    const rw = (val >> 4) & 3;
    if (rw === 0) {
      this.latchCount(c, t);
      return;
    }
    // A control word resets the counter's control logic; OUT goes to its mode's initial level.
    this.normalize(c, t);
    c.ceBefore = this.countAt(c, t);
    let mode = (val >> 1) & 7;
    if (mode > 5) mode -= 4;
    c.ctrl = val & 0x3f;
    c.mode = mode;
    c.bcd = (val & 1) !== 0;
    c.rw = rw;
    c.crWritten = false;
    c.start = null;
    c.pendingStart = null;
    c.phase = 0;
    c.outBefore = mode !== 0;
    c.suspendedAt = !c.gate && gateSuspends(mode) ? t : null;
    c.nullCount = true;
    c.nullClearTick = null;
    c.writeHi = false;
    c.readHi = false;
    c.latched = null;
    c.latchedHi = false;
    c.status = null;
  }

  private readBack(val: number, t: number): void {
    for (let i = 0; i < 3; i++) {
      if (!(val & (2 << i))) continue;
      const c = this.channels[i]!;
      if (!(val & 0x20)) this.latchCount(c, t);
      if (!(val & 0x10) && c.status === null) {
        c.status = (this.outAt(c, t) ? 0x80 : 0) | (this.nullCountAt(c, t) ? 0x40 : 0) | c.ctrl;
      }
    }
  }

  private latchCount(c: PitChannelState, t: number): void {
    // Further latch commands are ignored until the latched count has been read.
    if (c.latched !== null) return;
    const v = this.countAt(c, t);
    c.latched = c.bcd ? toBcd(v) : v;
    c.latchedHi = c.rw === 2;
  }

  private writeCounter(c: PitChannelState, val: number, t: number): void {
    switch (c.rw) {
      case 1:
        this.loadCount(c, val, t);
        break;
      case 2:
        this.loadCount(c, val << 8, t);
        break;
      default:
        if (!c.writeHi) {
          c.writeLo = val;
          c.writeHi = true;
          // Mode 0: writing the first byte disables counting and sets OUT low at once.
          if (c.mode === 0 && c.start !== null) {
            c.ceBefore = this.countAt(c, t);
            c.outBefore = false;
            c.start = null;
          }
        } else {
          c.writeHi = false;
          this.loadCount(c, c.writeLo | (val << 8), t);
        }
        break;
    }
  }

  /** A complete count arrived in CR at tick t. */
  private loadCount(c: PitChannelState, value: number, t: number): void {
    this.normalize(c, t);
    c.cr = value;
    c.crWritten = true;
    c.nullCount = true;
    c.nullClearTick = null;
    const n = this.effectiveCount(c, value);
    // Modes 0 and 4 (and 1/5 on channels 0 and 1) count from the next CLK pulse, as the
    // datasheet says, but the new count reads back at once, as under QEMU 7.2 (which loads
    // it at the write): Linux's quick PIT calibration writes 0xFFFF and reads the MSB back a
    // few instructions later, expecting 0xFF (decisions.md 17).
    switch (c.mode) {
      case 0:
        this.startReadableEpoch(c, t, n);
        c.outBefore = false; // a new count sets OUT low
        break;
      case 4:
        this.startReadableEpoch(c, t, n);
        break;
      case 1:
      case 5:
        // Takes effect at the next GATE trigger. Channels 0 and 1 have GATE tied high and
        // never see one: there, as QEMU, the count write starts counting (decisions.md 17).
        if (c !== this.channels[2]) this.startReadableEpoch(c, t, n);
        break;
      default: // 2, 3
        if (c.start === null || t < c.start) {
          this.startEpoch(c, t, t + 1, n);
        } else if (c.suspendedAt !== null) {
          // GATE low: the rising edge will load CR.
        } else {
          const boundary = this.nextReload(c, t);
          if (boundary === null) {
            this.startEpoch(c, t, t + 1, n);
          } else {
            c.pendingStart = boundary;
            c.pendingN = n;
            // Mode 3 after a high half-cycle continues with the low half of the new count.
            c.pendingPhase = c.mode === 3 && this.outAt(c, t) ? (n + 1) >> 1 : 0;
            c.nullClearTick = boundary;
          }
        }
        break;
    }
  }

  /** Count from the next pulse, the new count reading back until then (see loadCount). */
  private startReadableEpoch(c: PitChannelState, t: number, n: number): void {
    this.startEpoch(c, t, t + 1, n);
    c.ceBefore = n % (c.bcd ? 10000 : 65536);
  }

  /** Modes 2/3: where a new count is picked up (end of period / end of half-cycle). */
  private nextReload(c: PitChannelState, t: number): number | null {
    const start = c.start!;
    const n = c.n;
    if (c.mode === 2) {
      const e = t - start;
      return start + (Math.floor(e / n) + 1) * n;
    }
    return this.nextEdge(c, t);
  }

  private setGate(c: PitChannelState, level: boolean, t: number): void {
    if (c.gate === level) return;
    c.gate = level;
    this.normalize(c, t);
    if (!level) {
      if (gateSuspends(c.mode) && c.suspendedAt === null) c.suspendedAt = t;
      return;
    }
    // Rising edge.
    switch (c.mode) {
      case 0:
      case 4: {
        const s = c.suspendedAt;
        c.suspendedAt = null;
        if (s !== null && c.start !== null) {
          // Resume: the pulses counted before GATE fell stay counted.
          c.start = c.start <= s ? c.start + (t - s) : Math.max(c.start, t);
        }
        break;
      }
      case 2:
      case 3:
        // Trigger: reload CE from CR on the next pulse (OUT was held high while low).
        c.suspendedAt = null;
        if (c.crWritten) this.startEpoch(c, t, t + 1, this.effectiveCount(c, c.cr));
        break;
      default: // 1, 5: trigger (retriggerable)
        if (c.crWritten) this.startEpoch(c, t, t + 1, this.effectiveCount(c, c.cr));
        break;
    }
  }

  private readCounter(c: PitChannelState, t: number): number {
    if (c.status !== null) {
      const s = c.status;
      c.status = null;
      return s;
    }
    if (c.latched !== null) {
      const v = c.latched;
      if (c.rw === 3 && !c.latchedHi) {
        c.latchedHi = true;
        return v & 0xff;
      }
      c.latched = null;
      c.latchedHi = false;
      return c.rw === 1 ? v & 0xff : (v >> 8) & 0xff;
    }
    let v = this.countAt(c, t);
    if (c.bcd) v = toBcd(v);
    switch (c.rw) {
      case 1:
        return v & 0xff;
      case 2:
        return (v >> 8) & 0xff;
      default:
        c.readHi = !c.readHi;
        return c.readHi ? v & 0xff : (v >> 8) & 0xff;
    }
  }

  // ---- channel 0 -> IRQ 0 ----

  private setIrqLevel(level: boolean): void {
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    if (level) this.irqRaises++;
    this.irq0.set(level);
  }

  /** Arm the timer for channel 0's next OUT edge after tick t. */
  private scheduleIrq(t: number): void {
    const e = this.nextEdge(this.channels[0]!, t);
    this.irqEdgeTick = e;
    if (e === null) this.irqTimer.cancel();
    else this.irqTimer.arm(pitTickToNs(e));
  }

  /** Timer callback: OUT changes at the scheduled tick (evaluated there, so late runs catch up). */
  private irqEdge(): void {
    const t = this.irqEdgeTick;
    if (t === null) return;
    this.setIrqLevel(this.outAt(this.channels[0]!, t));
    this.scheduleIrq(t);
  }

  /** Deliver channel 0 edges that are due but whose timer has not run yet. */
  private catchUp(): void {
    const now = this.clock.now();
    while (this.irqEdgeTick !== null && pitTickToNs(this.irqEdgeTick) <= now) this.irqEdge();
  }

  private updateIrq(t: number): void {
    this.setIrqLevel(this.outAt(this.channels[0]!, t));
    this.scheduleIrq(t);
  }

  // ---- ports ----

  read(port: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte(port + i) << (8 * i);
    return v >>> 0;
  }

  write(port: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) this.writeByte(port + i, (value >>> (8 * i)) & 0xff);
  }

  private readByte(port: number): number {
    const idx = port - PIT_PORT_BASE;
    if (idx < 0 || idx > 3) return 0xff;
    // The control word register is write-only; QEMU reads it as 0.
    if (idx === 3) return 0;
    this.catchUp();
    return this.readCounter(this.channels[idx]!, this.tick());
  }

  private writeByte(port: number, val: number): void {
    const idx = port - PIT_PORT_BASE;
    if (idx < 0 || idx > 3) return;
    this.catchUp();
    const t = this.tick();
    if (idx === 3) this.writeControl(val, t);
    else this.writeCounter(this.channels[idx]!, val, t);
    this.updateIrq(t);
  }

  private readPort61(): number {
    this.catchUp();
    const t = this.tick();
    const c2 = this.channels[2]!;
    return (c2.gate ? PORT61_TIMER2_GATE : 0)
      | (this.speakerData ? PORT61_SPEAKER_DATA : 0)
      | (this.refreshToggle() ? PORT61_REFRESH : 0)
      | (this.outAt(c2, t) ? PORT61_TIMER2_OUT : 0);
  }

  /**
   * The refresh bit flips at every read, as QEMU's pcspk (a PC/AT toggles it every 18 PIT
   * clocks, ~15 µs; a delay loop counting toggles ends at once here, as under QEMU).
   */
  private refreshToggle(): boolean {
    this.refresh = !this.refresh;
    return this.refresh;
  }

  private writePort61(val: number): void {
    this.catchUp();
    this.speakerData = (val & PORT61_SPEAKER_DATA) !== 0;
    this.setGate(this.channels[2]!, (val & PORT61_TIMER2_GATE) !== 0, this.tick());
  }

  // ---- lifecycle ----

  /** As QEMU's reset: every counter in mode 3 with count 0 (65536), GATE 2 low. */
  reset(): void {
    const t = this.tick();
    this.channels = [newChannel(true), newChannel(true), newChannel(false)];
    this.speakerData = false;
    this.refresh = false;
    this.channels.forEach((c, i) => {
      this.writeControl((i << 6) | 0x36, t);
      this.loadCount(c, 0, t);
    });
    this.updateIrq(t);
  }

  saveState(): Pit8254State {
    return {
      channels: this.channels.map((c) => ({ ...c })),
      speakerData: this.speakerData,
      refresh: this.refresh,
      irqLevel: this.irqLevel,
      irqEdgeTick: this.irqEdgeTick,
      irqRaises: this.irqRaises,
    };
  }

  loadState(s: Pit8254State): void {
    this.channels = s.channels.map((c) => ({ ...c }));
    this.speakerData = s.speakerData;
    this.refresh = s.refresh;
    this.irqRaises = s.irqRaises;
    this.irqLevel = s.irqLevel;
    this.irq0.set(s.irqLevel);
    this.irqEdgeTick = s.irqEdgeTick;
    if (s.irqEdgeTick === null) this.irqTimer.cancel();
    else this.irqTimer.arm(pitTickToNs(s.irqEdgeTick));
  }

  info(): Pit8254Info {
    const t = this.tick();
    const channels = this.channels.map((c, channel): PitChannelInfo => ({
      channel,
      mode: c.mode,
      bcd: c.bcd,
      access: c.rw === 1 ? 'lobyte' : c.rw === 2 ? 'hibyte' : 'lobyte/hibyte',
      counting: c.start !== null && c.suspendedAt === null,
      count: this.countAt(c, t),
      reload: this.effectiveCount(c, c.cr),
      periodNs: (this.effectiveCount(c, c.cr) * NS_PER_S) / PIT_FREQ,
      out: this.outAt(c, t),
      gate: c.gate,
      nullCount: this.nullCountAt(c, t),
      latchedCount: c.latched,
      latchedStatus: c.status,
    }));
    const c2 = this.channels[2]!;
    return {
      tick: t,
      channels,
      irq0: {
        level: this.irqLevel,
        raises: this.irqRaises,
        nextEdgeNs: this.irqEdgeTick === null ? null : pitTickToNs(this.irqEdgeTick),
      },
      port61: {
        gate2: c2.gate,
        speakerData: this.speakerData,
        out2: this.outAt(c2, t),
        refresh: this.refresh,
      },
    };
  }
}
