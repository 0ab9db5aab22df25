// Motorola MC146818A real-time clock and CMOS RAM at ports 0x70 (index; bit 7 masks NMI)
// and 0x71 (data), IRQ 8 (datasheet "MC146818A Real-Time Clock plus RAM"; QEMU
// hw/rtc/mc146818rtc.c where the datasheet leaves a choice).
//
// Time comes from the virtual clock: the RTC counts from a start date (default
// 2024-01-01 00:00:00 UTC, so runs are deterministic) plus the virtual time elapsed. The
// date registers are computed when read while the clock runs (register B SET clear and
// register A DV = 000/001/010, QEMU's rule); with SET they hold what was written, and
// clearing SET loads them as the new time keeping the sub-second phase (as QEMU).
// Leaving divider reset (DV 11x -> 010) puts the first update 500 ms later.
//
// UIP is set during the last 244 us of each second (QEMU's UIP_HOLD_LENGTH). PF, UF and AF
// are kept up to date lazily (computed when register C is read) and by timers only while
// the matching interrupt is enabled, so a guest that polls costs nothing. As QEMU (not
// the datasheet), PF sets only while PIE or SQWE is set.
// IRQF and the IRQ line follow (PF&PIE)|(AF&AIE)|(UF&UIE); reading C clears it.
import type { IoBus, PortHandler } from './io-bus.js';
import { NO_IRQ, type IrqLine, type Resettable, type SavesState } from './device.js';
import { NS_PER_S, Timer, clockTickToNs, clockTicksAt, floorDiv, type VirtualClock } from '../time/virtual-clock.js';

export const RTC_INDEX_PORT = 0x70;
export const RTC_DATA_PORT = 0x71;

export const RTC_SECONDS = 0x00;
export const RTC_SECONDS_ALARM = 0x01;
export const RTC_MINUTES = 0x02;
export const RTC_MINUTES_ALARM = 0x03;
export const RTC_HOURS = 0x04;
export const RTC_HOURS_ALARM = 0x05;
export const RTC_DAY_OF_WEEK = 0x06;
export const RTC_DAY_OF_MONTH = 0x07;
export const RTC_MONTH = 0x08;
export const RTC_YEAR = 0x09;
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;
/** IBM PC century byte (BCD), which QEMU keeps in step with the year. */
export const RTC_CENTURY = 0x32;
/** IBM PS/2 century byte, the same value. */
export const RTC_PS2_CENTURY = 0x37;

export const REG_A_UIP = 0x80;
export const REG_B_SET = 0x80;
export const REG_B_PIE = 0x40;
export const REG_B_AIE = 0x20;
export const REG_B_UIE = 0x10;
export const REG_B_SQWE = 0x08;
export const REG_B_DM = 0x04;
export const REG_B_24H = 0x02;
export const REG_B_DSE = 0x01;
export const REG_C_IRQF = 0x80;
export const REG_C_PF = 0x40;
export const REG_C_AF = 0x20;
export const REG_C_UF = 0x10;
export const REG_D_VRT = 0x80;

/** 8 cycles of the 32.768 kHz time base: UIP is high this long before each update. */
export const UIP_HOLD_NS = 244140;
const RTC_BASE_YEAR = 2000;
/** 2024-01-01T00:00:00Z */
export const RTC_DEFAULT_START = Date.UTC(2024, 0, 1) / 1000;

export interface RtcOptions {
  irq?: IrqLine;
  /** RTC time at virtual time 0, in Unix seconds (default 2024-01-01 00:00:00 UTC). */
  startTime?: number;
  /** Reports the NMI mask bit (port 0x70 bit 7) when it changes. */
  onNmiMask?: (masked: boolean) => void;
}

export interface RtcState {
  cmos: number[];
  index: number;
  nmiMasked: boolean;
  baseSec: number;
  anchorNs: number;
  anchorFrac: number;
  flagsSec: number;
  pfTick: number;
  irqLevel: boolean;
}

export interface RtcInfo {
  time: string;
  running: boolean;
  regA: number;
  regB: number;
  regC: number;
  mode: { bcd: boolean; hour24: boolean };
  periodicHz: number;
  irq: boolean;
  nmiMasked: boolean;
  index: number;
}

/** Options for `fillPcCmos`, QEMU's pc_cmos_init. */
export interface PcCmosConfig {
  /** RAM below 4 GiB, in bytes. */
  belowFourG: number;
  aboveFourG?: number;
  /** Boot order as QEMU's -boot order= (default "cad"): a/b floppy, c disk, d CD, n net. */
  bootOrder?: string;
  /** Check the floppy boot signature (QEMU fd_bootchk, default true). */
  fdBootCheck?: boolean;
  /** Floppy drive types (CMOS 0x10 nibbles: 0 none, 2 1.2M, 4 1.44M, 5 2.88M). */
  floppy?: [number, number];
  cpus?: number;
  /**
   * IDE hard disks by unit (primary master, primary slave, secondary master, secondary
   * slave): geometry and BIOS translation (QEMU's pc_cmos_init_late).
   */
  hardDisks?: ({ cylinders: number; heads: number; sectors: number; translation: 'none' | 'lba' | 'large' } | null)[];
  /** Also store the AT checksum of 0x10-0x2D at 0x2E/0x2F (QEMU does not). */
  checksum?: boolean;
}

function bootNibble(c: string): number {
  switch (c) {
    case 'a': case 'b': return 1;
    case 'c': return 2;
    case 'd': return 3;
    case 'n': return 4;
    default: throw new Error(`invalid boot device for PC: '${c}'`);
  }
}

/** 32.768 kHz time-base ticks at virtual ns. */
function ticks32k(ns: number): number {
  return clockTicksAt(ns, 32768);
}

function tick32kToNs(t: number): number {
  return clockTickToNs(t, 32768);
}

export class Mc146818Rtc implements PortHandler, Resettable, SavesState<RtcState> {
  readonly cmos = new Uint8Array(128);
  private index = 0;
  private nmiMasked = false;
  /** RTC seconds (Unix) at the anchor. */
  private baseSec: number;
  /** Virtual ns of the anchor, and the RTC's sub-second phase (ns) there. */
  private anchorNs = 0;
  private anchorFrac = 0;
  /** RTC second up to which UF/AF have been evaluated. */
  private flagsSec: number;
  /** 32 kHz tick up to which PF has been evaluated. */
  private pfTick = 0;
  private irqLevel = false;
  private readonly irq: IrqLine;
  private readonly onNmiMask: (masked: boolean) => void;
  private readonly periodicTimer: Timer;
  private readonly updateTimer: Timer;
  /** The alarm went off with AIE set (the board's S3 wake-up source). */
  onAlarm: () => void = () => {};

  constructor(io: IoBus, private readonly clock: VirtualClock, opts: RtcOptions = {}) {
    this.irq = opts.irq ?? NO_IRQ;
    this.onNmiMask = opts.onNmiMask ?? (() => {});
    this.baseSec = Math.floor(opts.startTime ?? RTC_DEFAULT_START);
    this.anchorNs = clock.now();
    this.flagsSec = this.baseSec;
    this.pfTick = ticks32k(clock.now());
    this.periodicTimer = new Timer(clock, 'rtc-periodic', () => this.onTimer());
    this.updateTimer = new Timer(clock, 'rtc-update', () => this.onTimer());
    io.register(RTC_INDEX_PORT, 2, this, 'rtc');
    this.cmos[RTC_REG_A] = 0x26;
    this.cmos[RTC_REG_B] = REG_B_24H;
    this.cmos[RTC_REG_C] = 0;
    this.cmos[RTC_REG_D] = REG_D_VRT;
    this.copyDate(this.baseSec);
    this.reset();
  }

  // ---- time base -----------------------------------------------------------------------

  private running(): boolean {
    return !(this.cmos[RTC_REG_B]! & REG_B_SET) && (this.cmos[RTC_REG_A]! & 0x70) <= 0x20;
  }

  /** RTC time as whole seconds and the phase within the second. */
  private now(): { sec: number; frac: number } {
    const e = this.clock.now() - this.anchorNs + this.anchorFrac;
    const s = floorDiv(Math.floor(e), NS_PER_S);
    return { sec: this.baseSec + s, frac: Math.floor(e) - s * NS_PER_S };
  }

  /** Re-anchor so that the RTC reads `sec` with phase `frac` now. */
  private setTime(sec: number, frac: number): void {
    this.baseSec = sec;
    this.anchorNs = this.clock.now();
    this.anchorFrac = frac;
    this.flagsSec = sec;
  }

  private bcd(): boolean {
    return !(this.cmos[RTC_REG_B]! & REG_B_DM);
  }

  private toReg(v: number): number {
    return this.bcd() ? ((Math.floor(v / 10) % 10) << 4) | (v % 10) : v;
  }

  private fromReg(v: number): number {
    return this.bcd() ? ((v >> 4) & 0x0f) * 10 + (v & 0x0f) : v;
  }

  private hourReg(h: number): number {
    if (this.cmos[RTC_REG_B]! & REG_B_24H) return this.toReg(h);
    return this.toReg(h % 12 || 12) | (h >= 12 ? 0x80 : 0);
  }

  /** rtc_copy_date: store `sec` in the date registers (and the century byte, as QEMU). */
  private copyDate(sec: number): void {
    const d = new Date(sec * 1000);
    const c = this.cmos;
    c[RTC_SECONDS] = this.toReg(d.getUTCSeconds());
    c[RTC_MINUTES] = this.toReg(d.getUTCMinutes());
    c[RTC_HOURS] = this.hourReg(d.getUTCHours());
    c[RTC_DAY_OF_WEEK] = this.toReg(d.getUTCDay() + 1);
    c[RTC_DAY_OF_MONTH] = this.toReg(d.getUTCDate());
    c[RTC_MONTH] = this.toReg(d.getUTCMonth() + 1);
    const year = d.getUTCFullYear() - RTC_BASE_YEAR;
    c[RTC_YEAR] = this.toReg(((year % 100) + 100) % 100);
    c[RTC_CENTURY] = this.toReg(Math.floor(year / 100) + RTC_BASE_YEAR / 100);
    c[RTC_PS2_CENTURY] = c[RTC_CENTURY]!;
  }

  /** rtc_set_time: the date registers as Unix seconds. */
  private registersTime(): number {
    const c = this.cmos;
    let hour = this.fromReg(c[RTC_HOURS]! & 0x7f);
    if (!(c[RTC_REG_B]! & REG_B_24H)) {
      hour %= 12;
      if (c[RTC_HOURS]! & 0x80) hour += 12;
    }
    const year = this.fromReg(c[RTC_YEAR]!) + RTC_BASE_YEAR;
    return Date.UTC(year, this.fromReg(c[RTC_MONTH]!) - 1, this.fromReg(c[RTC_DAY_OF_MONTH]!), hour,
      this.fromReg(c[RTC_MINUTES]!), this.fromReg(c[RTC_SECONDS]!)) / 1000;
  }

  // ---- flags and interrupts ------------------------------------------------------------

  private periodTicks(): number {
    let code = this.cmos[RTC_REG_A]! & 0x0f;
    if (code === 0) return 0;
    if (code <= 2) code += 7;
    return 1 << (code - 1);
  }

  private alarmMatches(sec: number): boolean {
    const d = new Date(sec * 1000);
    const c = this.cmos;
    const match = (alarm: number, cur: number) => (alarm & 0xc0) === 0xc0 || alarm === cur;
    return match(c[RTC_SECONDS_ALARM]!, this.toReg(d.getUTCSeconds())) &&
      match(c[RTC_MINUTES_ALARM]!, this.toReg(d.getUTCMinutes())) &&
      match(c[RTC_HOURS_ALARM]!, this.hourReg(d.getUTCHours()));
  }

  /** Bring PF, UF and AF up to the present (update cycles and periodic edges that passed). */
  private syncFlags(): void {
    const nowNs = this.clock.now();
    const period = this.periodTicks();
    const t = ticks32k(nowNs);
    // QEMU runs the periodic timer, and so sets PF, only for PIE or SQWE.
    const periodic = (this.cmos[RTC_REG_B]! & (REG_B_PIE | REG_B_SQWE)) !== 0;
    if (periodic && period && (this.cmos[RTC_REG_A]! & 0x60) !== 0x60 && Math.floor(t / period) > Math.floor(this.pfTick / period)) {
      this.cmos[RTC_REG_C]! |= REG_C_PF;
    }
    this.pfTick = t;
    if (this.running()) {
      const cur = this.now().sec;
      if (cur > this.flagsSec) {
        this.cmos[RTC_REG_C]! |= REG_C_UF;
        const from = Math.max(this.flagsSec + 1, cur - 86400);
        for (let s = cur; s >= from; s--) {
          if (this.alarmMatches(s)) {
            const was = this.cmos[RTC_REG_C]! & REG_C_AF;
            this.cmos[RTC_REG_C]! |= REG_C_AF;
            // QEMU asks the machine to wake up (from S3) when the alarm fires with AIE.
            if (!was && this.cmos[RTC_REG_B]! & REG_B_AIE) this.onAlarm();
            break;
          }
        }
        this.flagsSec = cur;
      }
    }
    this.updateIrq();
  }

  private updateIrq(): void {
    const c = this.cmos[RTC_REG_C]!;
    const b = this.cmos[RTC_REG_B]!;
    const level = ((c & b) & (REG_C_PF | REG_C_AF | REG_C_UF)) !== 0;
    this.cmos[RTC_REG_C] = level ? c | REG_C_IRQF : c & ~REG_C_IRQF;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  private onTimer(): void {
    this.syncFlags();
    this.armTimers();
  }

  /** Timers only for enabled interrupts whose flag is not already pending. */
  private armTimers(): void {
    const b = this.cmos[RTC_REG_B]!;
    const c = this.cmos[RTC_REG_C]!;
    const period = this.periodTicks();
    if (b & REG_B_PIE && period && (this.cmos[RTC_REG_A]! & 0x60) !== 0x60 && !(c & REG_C_PF)) {
      const next = (Math.floor(this.pfTick / period) + 1) * period;
      this.periodicTimer.arm(tick32kToNs(next));
    } else this.periodicTimer.cancel();
    if (this.running() && ((b & REG_B_UIE && !(c & REG_C_UF)) || (b & REG_B_AIE && !(c & REG_C_AF)))) {
      const { frac } = this.now();
      this.updateTimer.arm(this.clock.now() + (NS_PER_S - frac));
    } else this.updateTimer.cancel();
  }

  // ---- ports ---------------------------------------------------------------------------

  read(port: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte(port + i) << (8 * i);
    return v >>> 0;
  }

  write(port: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) this.writeByte(port + i, (value >>> (8 * i)) & 0xff);
  }

  private readByte(port: number): number {
    if (port !== RTC_DATA_PORT) return 0xff; // the index register is write-only (QEMU)
    return this.readRegister(this.index);
  }

  /** Read CMOS/RTC register `idx` as the guest would (with side effects). */
  readRegister(idx: number): number {
    const c = this.cmos;
    switch (idx) {
      case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY: case RTC_PS2_CENTURY:
        if (this.running()) this.copyDate(this.now().sec);
        return c[idx]!;
      case RTC_REG_A: {
        const uip = this.running() && this.now().frac >= NS_PER_S - UIP_HOLD_NS;
        return (c[RTC_REG_A]! & ~REG_A_UIP) | (uip ? REG_A_UIP : 0);
      }
      case RTC_REG_C: {
        this.syncFlags();
        const v = c[RTC_REG_C]!;
        c[RTC_REG_C] = 0;
        this.updateIrq();
        this.armTimers();
        return v;
      }
      case RTC_REG_D:
        return REG_D_VRT;
      default:
        return c[idx & 0x7f]!;
    }
  }

  private writeByte(port: number, val: number): void {
    if (port === RTC_INDEX_PORT) {
      this.index = val & 0x7f;
      const masked = (val & 0x80) !== 0;
      if (masked !== this.nmiMasked) {
        this.nmiMasked = masked;
        this.onNmiMask(masked);
      }
      return;
    }
    if (port === RTC_DATA_PORT) this.writeRegister(this.index, val);
  }

  /** Write CMOS/RTC register `idx` as the guest would. */
  writeRegister(idx: number, val: number): void {
    const c = this.cmos;
    switch (idx) {
      case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR:
        if (this.running()) this.copyDate(this.now().sec);
        c[idx] = val;
        // Written while running: the new date takes effect at once (QEMU).
        if (this.running()) this.setTime(this.registersTime(), this.now().frac);
        this.armTimers();
        return;
      case RTC_SECONDS_ALARM: case RTC_MINUTES_ALARM: case RTC_HOURS_ALARM:
        this.syncFlags();
        c[idx] = val;
        this.armTimers();
        return;
      case RTC_REG_A: {
        this.syncFlags();
        const wasReset = (c[RTC_REG_A]! & 0x60) === 0x60;
        if ((val & 0x60) === 0x60) {
          if (this.running()) this.freeze();
        } else if (wasReset && (val & 0x70) <= 0x20 && !(c[RTC_REG_B]! & REG_B_SET)) {
          // Divider reset removed: the first update cycle begins half a second later.
          c[RTC_REG_A] = val & ~REG_A_UIP;
          this.setTime(this.registersTime(), NS_PER_S / 2);
        }
        c[RTC_REG_A] = val & ~REG_A_UIP;
        this.pfTick = ticks32k(this.clock.now());
        this.armTimers();
        return;
      }
      case RTC_REG_B: {
        this.syncFlags();
        const old = c[RTC_REG_B]!;
        if (val & REG_B_SET) {
          if (this.running()) this.freeze();
          val &= ~REG_B_UIE; // datasheet: setting SET clears UIE
        } else if (old & REG_B_SET && (c[RTC_REG_A]! & 0x70) <= 0x20) {
          // Leaving set mode: the registers become the time, the phase keeps running.
          const frac = this.now().frac;
          c[RTC_REG_B] = val;
          this.setTime(this.registersTime(), frac);
        }
        c[RTC_REG_B] = val;
        this.updateIrq();
        this.armTimers();
        return;
      }
      case RTC_REG_C:
      case RTC_REG_D:
        return; // read-only
      default:
        c[idx & 0x7f] = val;
    }
  }

  /** The clock stops: latch the current date into the registers. */
  private freeze(): void {
    this.copyDate(this.now().sec);
  }

  /** The NMI mask written through port 0x70 bit 7. */
  get nmiMask(): boolean {
    return this.nmiMasked;
  }

  /** Seconds since the Unix epoch the RTC shows now (for the UI / monitor). */
  unixTime(): number {
    return this.running() ? this.now().sec : this.registersTime();
  }

  /** Plain CMOS byte access for the board (no side effects). */
  setCmos(idx: number, val: number): void {
    this.cmos[idx & 0x7f] = val & 0xff;
  }

  getCmos(idx: number): number {
    return this.cmos[idx & 0x7f]!;
  }

  /** The IBM AT checksum over 0x10-0x2D. */
  cmosChecksum(): number {
    let s = 0;
    for (let i = 0x10; i <= 0x2d; i++) s += this.cmos[i]!;
    return s & 0xffff;
  }

  /**
   * QEMU's pc_cmos_init: memory sizes (0x15-0x18, 0x30-0x31, 0x34-0x35, 0x5B-0x5D), CPU
   * count (0x5F), boot order (0x3D, 0x38), floppy types (0x10), equipment byte (0x14),
   * hard disks none (0x12, 0x19, 0x1A, 0x39).
   */
  fillPcCmos(cfg: PcCmosConfig): void {
    const KiB = 1024;
    const MiB = 1024 * KiB;
    const below = cfg.belowFourG;
    let val = Math.min(Math.floor(below / KiB), 640);
    this.setCmos(0x15, val);
    this.setCmos(0x16, val >> 8);
    val = below > MiB ? Math.min(Math.floor((below - MiB) / KiB), 65535) : 0;
    this.setCmos(0x17, val);
    this.setCmos(0x18, val >> 8);
    this.setCmos(0x30, val);
    this.setCmos(0x31, val >> 8);
    val = below > 16 * MiB ? Math.min(Math.floor((below - 16 * MiB) / (64 * KiB)), 65535) : 0;
    this.setCmos(0x34, val);
    this.setCmos(0x35, val >> 8);
    val = Math.floor((cfg.aboveFourG ?? 0) / (64 * KiB));
    this.setCmos(0x5b, val);
    this.setCmos(0x5c, val >> 8);
    this.setCmos(0x5d, val >> 16);
    this.setCmos(0x5f, (cfg.cpus ?? 1) - 1);
    const order = cfg.bootOrder ?? 'cad';
    if (order.length > 3) throw new Error('too many boot devices for PC');
    const bds = [0, 0, 0];
    for (let i = 0; i < order.length; i++) bds[i] = bootNibble(order[i]!);
    this.setCmos(0x3d, (bds[1]! << 4) | bds[0]!);
    this.setCmos(0x38, (bds[2]! << 4) | (cfg.fdBootCheck ?? true ? 0 : 1));
    const fd = cfg.floppy ?? [0, 0];
    this.setCmos(0x10, (fd[0] << 4) | fd[1]);
    const drives = (fd[0] ? 1 : 0) + (fd[1] ? 1 : 0);
    let equip = drives === 1 ? 0x01 : drives === 2 ? 0x41 : 0;
    equip |= 0x02; // FPU present
    equip |= 0x04; // PS/2 mouse present
    this.setCmos(0x14, equip);
    // Hard disks: types 0x12 (0xF: see 0x19/0x1A), user type 47 with its parameter table
    // at 0x1B (unit 0) and 0x24 (unit 1); 0x39 the translation of all four units.
    const hd = cfg.hardDisks ?? [];
    this.setCmos(0x12, (hd[0] ? 0xf0 : 0) | (hd[1] ? 0x0f : 0));
    this.setCmos(0x19, 0);
    this.setCmos(0x1a, 0);
    for (const u of [0, 1]) {
      const g = hd[u];
      if (!g) continue;
      const info = u === 0 ? 0x1b : 0x24;
      this.setCmos(0x19 + u, 47);
      this.setCmos(info, g.cylinders & 0xff);
      this.setCmos(info + 1, g.cylinders >> 8);
      this.setCmos(info + 2, g.heads);
      this.setCmos(info + 3, 0xff);
      this.setCmos(info + 4, 0xff);
      this.setCmos(info + 5, 0xc0 | (g.heads > 8 ? 0x08 : 0));
      this.setCmos(info + 6, g.cylinders & 0xff);
      this.setCmos(info + 7, g.cylinders >> 8);
      this.setCmos(info + 8, g.sectors);
    }
    let trans = 0;
    hd.slice(0, 4).forEach((g, u) => {
      if (g) trans |= (g.translation === 'lba' ? 1 : g.translation === 'large' ? 2 : 0) << (2 * u);
    });
    this.setCmos(0x39, trans);
    if (cfg.checksum) {
      const sum = this.cmosChecksum();
      this.setCmos(0x2e, sum >> 8);
      this.setCmos(0x2f, sum);
    }
  }

  // ---- lifecycle -----------------------------------------------------------------------

  /** System reset, as QEMU's rtc_reset: PIE, AIE and SQWE (not UIE) and register C clear; time runs on. */
  reset(): void {
    this.cmos[RTC_REG_B]! &= ~(REG_B_PIE | REG_B_AIE | REG_B_SQWE);
    this.cmos[RTC_REG_C] = 0;
    this.flagsSec = this.running() ? this.now().sec : this.flagsSec;
    this.pfTick = ticks32k(this.clock.now());
    this.updateIrq();
    this.armTimers();
  }

  saveState(): RtcState {
    return {
      cmos: Array.from(this.cmos), index: this.index, nmiMasked: this.nmiMasked, baseSec: this.baseSec,
      anchorNs: this.anchorNs, anchorFrac: this.anchorFrac, flagsSec: this.flagsSec, pfTick: this.pfTick,
      irqLevel: this.irqLevel,
    };
  }

  loadState(s: RtcState): void {
    this.cmos.set(s.cmos.slice(0, 128));
    this.index = s.index & 0x7f;
    this.nmiMasked = s.nmiMasked;
    this.baseSec = s.baseSec;
    this.anchorNs = s.anchorNs;
    this.anchorFrac = s.anchorFrac;
    this.flagsSec = s.flagsSec;
    this.pfTick = s.pfTick;
    this.irqLevel = s.irqLevel;
    this.irq.set(s.irqLevel);
    this.armTimers();
  }

  info(): RtcInfo {
    const b = this.cmos[RTC_REG_B]!;
    const period = this.periodTicks();
    return {
      time: new Date(this.unixTime() * 1000).toISOString(),
      running: this.running(),
      regA: this.cmos[RTC_REG_A]!,
      regB: b,
      regC: this.cmos[RTC_REG_C]!,
      mode: { bcd: !(b & REG_B_DM), hour24: (b & REG_B_24H) !== 0 },
      periodicHz: period ? 32768 / period : 0,
      irq: this.irqLevel,
      nmiMasked: this.nmiMasked,
      index: this.index,
    };
  }
}
