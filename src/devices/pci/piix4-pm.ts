// PIIX4 power management function 00:01.3, 8086:7113 rev 03 (82371AB datasheet §3.5 and
// §7; QEMU hw/acpi/piix4.c, hw/acpi/core.c, hw/i2c/pm_smbus.c, hw/isa/apm.c), as QEMU's
// `pc` machine has it next to the PIIX3.
//
// - PMBA (0x40, bits 15:6, bit 0 reads 1) and PMREGMISC.PMIOSE (0x80 bit 0) place the
//   64-byte ACPI block: PM1a_STS (0x00, write 1 to clear), PM1a_EN (0x02), PM1a_CNT
//   (0x04: SCI_EN, SLP_TYP 12:10, SLP_EN 13 write-only) and the PM timer (0x08: 24 bits
//   at 3.579545 MHz from the virtual clock, free-running from time 0 like QEMU's; a read
//   of any size at any of its offsets gives its low bytes, as QEMU).
//   TMR_STS is set each time bit 23 of the timer toggles. Other offsets of the block read
//   all ones (QEMU implements only these registers).
// - SLP_EN with SLP_TYP 0 is soft-off (S5: `onPowerOff`), 2 is S4 (QEMU powers off as well),
//   1 is S3 (`onSuspend`; QEMU's _S3/_S4/_S5 values are 1, 2, 0). The board suspends and
//   wakes through a reset, then `wokeUp` sets WAK_STS and the cause (RTC_STS for the RTC
//   alarm, which wakes only with RTC_EN set; PWRBTN_STS for anything else), as QEMU.
// - SCI is the level OR of enabled PM1 and GPE0 events; QEMU wires it to GSI 9, not gated
//   by SCI_EN, and so do we (board: `sci: pic.irqLine(9)`, ELCR bit 9 makes it level).
// - GPE0 (4 bytes at 0xAFE0, QEMU's fixed GPE0_BLK: status 2 bytes, enable 2 bytes).
// - APM control/status ports 0xB2/0xB3: writing 0xF1/0xF0 to APMC sets/clears SCI_EN (ACPI
//   enable/disable through SMI_CMD, as QEMU does it); other values raise an SMI when
//   DEVACTB.APMC_EN (0x58 bit 25) is set and SMM exists. Without SMM the function reports
//   APMC_EN already set (QEMU: "mark SMM as already inited"), so SeaBIOS skips SMM setup.
// - SMBus host (SMBBA 0x90 = 0xB101 at reset, SMBHSTCFG 0xD2 = 0x09: QEMU's pc values):
//   the registers exist, there are no slave devices, every transaction ends in DEV_ERR.
import type { IoBus, PortHandler } from '../io-bus.js';
import { NO_IRQ, type IrqLine } from '../device.js';
import { Timer, clockTickToNs, clockTicksAt, type VirtualClock } from '../../time/virtual-clock.js';
import { PciDevice, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM } from './pci-device.js';
import type { PciBus } from './pci-bus.js';

export const PIIX4_PM_DEVICE = 0x7113;
export const PIIX4_PMBA = 0x40;
export const PIIX4_PMREGMISC = 0x80;
export const PIIX4_DEVACTB = 0x58;
export const PIIX4_SMBBA = 0x90;
export const PIIX4_SMBHSTCFG = 0xd2;
export const PM_IO_SIZE = 64;
export const SMB_IO_SIZE = 16;
export const GPE0_BASE = 0xafe0;
export const GPE0_LEN = 4;
export const APM_CNT_PORT = 0xb2;
export const APM_STS_PORT = 0xb3;
export const ACPI_ENABLE = 0xf1;
export const ACPI_DISABLE = 0xf0;
export const PM_TIMER_FREQUENCY = 3579545;
/** QEMU pc: SMBus base before the BIOS moves it. */
export const PIIX4_SMB_DEFAULT_BASE = 0xb100;

// PM1 status/enable bits (ACPI 1.0 §4.7.3.1)
export const PM1_TMR = 0x0001;
export const PM1_BM = 0x0010;
export const PM1_GBL = 0x0020;
export const PM1_PWRBTN = 0x0100;
export const PM1_RTC = 0x0400;
export const PM1_WAK = 0x8000;
const PM1_SCI_EVENTS = PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_RTC;
// PM1 control
export const PM1_CNT_SCI_EN = 0x0001;
export const PM1_CNT_SLP_EN = 0x2000;
const SLP_TYP_SHIFT = 10;
const SLP_TYP_S5 = 0;
const SLP_TYP_S3 = 1;
const SLP_TYP_S4 = 2;

const APMC_EN = 1 << 25;
const TMR_BIT23 = 1 << 23;

// SMBus host status bits
const SMB_STS_DEV_ERR = 0x04;
const SMB_CNT_START = 0x40;

/** ACPI PM timer ticks elapsed at virtual time `ns`. */
export function pmTimerTicksAt(ns: number): number {
  return clockTicksAt(ns, PM_TIMER_FREQUENCY);
}

/** The first virtual nanosecond at which the PM timer has counted `tick` ticks. */
export function pmTimerTickToNs(tick: number): number {
  return clockTickToNs(tick, PM_TIMER_FREQUENCY);
}

export interface Piix4PmOptions {
  /** SCI: ISA IRQ 9 (level). */
  sci?: IrqLine;
  /** S5 (or S4) requested: the board ends the run. */
  onPowerOff?: () => void;
  /** S3 requested (no resume path here). */
  onSuspend?: () => void;
  /** An SMI was raised through APMC (only with `smm`). */
  onSmi?: () => void;
  /** The CPU has SMM (default false: DEVACTB reports SMM as already set up). */
  smm?: boolean;
  smbBase?: number;
  gpeBase?: number;
  slot?: number;
  fn?: number;
}

interface PmExtra {
  pm1Sts: number;
  pm1En: number;
  pm1Cnt: number;
  tmrEpoch: number;
  gpeSts: number;
  gpeEn: number;
  apmc: number;
  apms: number;
  smb: number[];
  sci: boolean;
  sleeps: number[];
}

export interface Piix4PmInfo {
  pmBase: number | null;
  smbusBase: number | null;
  pmTimer: number;
  pm1Sts: number;
  pm1En: number;
  pm1Cnt: number;
  sciEnabled: boolean;
  sci: boolean;
  gpe0: { sts: number; en: number };
  apm: { control: number; status: number };
  /** Sleep requests seen (SLP_TYP values written with SLP_EN). */
  sleeps: number[];
}

export class Piix4Pm extends PciDevice {
  private readonly clock: VirtualClock;
  private readonly sciLine: IrqLine;
  private readonly smm: boolean;
  private readonly smbDefault: number;
  onPowerOff: () => void;
  onSuspend: () => void;
  onSmi: () => void;
  private pm1Sts = 0;
  private pm1En = 0;
  private pm1Cnt = 0;
  /** PM timer bit-23 epoch already reflected in TMR_STS. */
  private tmrEpoch = 0;
  private gpeSts = 0;
  private gpeEn = 0;
  private apmc = 0;
  private apms = 0;
  private smb = new Uint8Array(SMB_IO_SIZE);
  private sci = false;
  private sleeps: number[] = [];
  private readonly tmrTimer: Timer;
  private readonly pmBlock = { read: (o: number, s: number) => this.pmRead(o, s), write: (o: number, v: number, s: number) => this.pmWrite(o, v, s) };
  private readonly smbBlock = { read: (o: number, s: number) => this.smbRead(o, s), write: (o: number, v: number, s: number) => this.smbWrite(o, v, s) };
  private readonly io: IoBus;
  private readonly pciBus: PciBus;

  constructor(io: IoBus, bus: PciBus, clock: VirtualClock, opts: Piix4PmOptions = {}) {
    super('piix4-pm', {
      vendor: 0x8086, device: PIIX4_PM_DEVICE, revision: 0x03, classCode: 0x068000, interruptPin: 1,
      status: PCI_STATUS_DEVSEL_MEDIUM | 0x80,
    });
    this.io = io;
    this.pciBus = bus;
    this.clock = clock;
    this.sciLine = opts.sci ?? NO_IRQ;
    this.smm = opts.smm ?? false;
    this.smbDefault = opts.smbBase ?? PIIX4_SMB_DEFAULT_BASE;
    this.onPowerOff = opts.onPowerOff ?? (() => {});
    this.onSuspend = opts.onSuspend ?? (() => {});
    this.onSmi = opts.onSmi ?? (() => {});
    this.tmrTimer = new Timer(clock, 'acpi-pm-timer', () => this.updateSci());
    const gpeBase = opts.gpeBase ?? GPE0_BASE;
    const gpe: PortHandler = {
      read: (port, size) => this.gpeRead(port - gpeBase, size),
      write: (port, value, size) => this.gpeWrite(port - gpeBase, value, size),
    };
    io.register(gpeBase, GPE0_LEN, gpe, 'acpi-gpe0');
    const apm: PortHandler = {
      read: (port, size) => this.widenByte(port === APM_CNT_PORT ? this.apmc : this.apms, size),
      write: (port, value) => (port === APM_CNT_PORT ? this.apmWrite(value & 0xff) : void (this.apms = value & 0xff)),
    };
    io.register(APM_CNT_PORT, 2, apm, 'apm');
    bus.attach(this, opts.slot ?? 1, opts.fn ?? 3);
  }

  private widenByte(b: number, size: number): number {
    return size === 1 ? b : size === 2 ? b | 0xff00 : (b | 0xffffff00) >>> 0;
  }

  protected override resetDevice(): void {
    const c = this.config;
    this.set16(PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM | 0x80);
    this.set32(PIIX4_PMBA, 0x00000001);
    this.wmask.fill(0, PIIX4_PMBA, PIIX4_PMBA + 4);
    this.wmask[PIIX4_PMBA] = 0xc0;
    this.wmask[PIIX4_PMBA + 1] = 0xff;
    c[PIIX4_PMREGMISC] = 0;
    this.wmask[PIIX4_PMREGMISC] = 0x01;
    this.set32(PIIX4_DEVACTB, this.smm ? 0 : APMC_EN);
    this.set32(PIIX4_SMBBA, this.smbDefault | 1);
    this.wmask.fill(0, PIIX4_SMBBA, PIIX4_SMBBA + 4);
    this.wmask[PIIX4_SMBBA] = 0xf0;
    this.wmask[PIIX4_SMBBA + 1] = 0xff;
    c[PIIX4_SMBHSTCFG] = 0x09;
    // QEMU's piix4_pm_machine_ready: DEVRESD/DEVRESA/DEVRESB say which legacy ports exist.
    const present = (port: number) => this.io.ownerOf(port) !== undefined;
    c[0x5f] = 0x10 | (present(0x378) ? 0x80 : 0);
    c[0x63] = 0x60;
    c[0x67] = (present(0x3f8) ? 0x08 : 0) | (present(0x2f8) ? 0x90 : 0);
    this.pm1Sts = 0;
    this.pm1En = 0;
    this.pm1Cnt = 0;
    // QEMU's overflow time starts at 0, so TMR_STS reads set until the guest clears it.
    this.tmrEpoch = -1;
    this.gpeSts = 0;
    this.gpeEn = 0;
    this.apmc = 0;
    this.apms = 0;
    this.smb = new Uint8Array(SMB_IO_SIZE);
    this.smb[0x0d] = 0x02; // as QEMU 7.2 reads it after reset
    this.updateIoSpaces();
    this.updateSci();
  }

  protected override configWritten(off: number, size: number): void {
    const end = off + size;
    const hits = (a: number, n: number) => off < a + n && end > a;
    if (hits(PIIX4_PMBA, 4) || hits(PIIX4_PMREGMISC, 1) || hits(PIIX4_SMBBA, 4) || hits(PIIX4_SMBHSTCFG, 1)) this.updateIoSpaces();
  }

  /** pm_io_space_update / smbus_io_space_update. */
  private updateIoSpaces(): void {
    const space = this.pciBus.ioSpace;
    if (this.config[PIIX4_PMREGMISC]! & 1) space.map(this.get32(PIIX4_PMBA) & 0xffc0, PM_IO_SIZE, this.pmBlock, 'piix4-pm');
    else space.unmap(this.pmBlock);
    if (this.config[PIIX4_SMBHSTCFG]! & 1) space.map(this.get32(PIIX4_SMBBA) & 0xfff0, SMB_IO_SIZE, this.smbBlock, 'piix4-smbus');
    else space.unmap(this.smbBlock);
  }

  get pmBase(): number | null {
    return this.pciBus.ioSpace.where(this.pmBlock)?.base ?? null;
  }

  private timerTicks(): number {
    return pmTimerTicksAt(this.clock.now());
  }

  /** The 24-bit PM timer value now. */
  pmTimer(): number {
    return this.timerTicks() & 0xffffff;
  }

  /** PM1 status with TMR_STS brought up to date (acpi_pm1_evt_get_sts). */
  private pm1Status(): number {
    const epoch = Math.floor(this.timerTicks() / TMR_BIT23);
    if (epoch > this.tmrEpoch) {
      this.pm1Sts |= PM1_TMR;
      this.tmrEpoch = epoch;
    }
    return this.pm1Sts;
  }

  private updateSci(): void {
    const sts = this.pm1Status();
    const level = ((sts & this.pm1En & PM1_SCI_EVENTS) !== 0) || (this.gpeSts & this.gpeEn) !== 0;
    if (level !== this.sci) {
      this.sci = level;
      this.sciLine.set(level);
    }
    // Wake up for the next timer overflow only when it would raise SCI.
    if (this.pm1En & PM1_TMR && !(sts & PM1_TMR)) this.tmrTimer.arm(pmTimerTickToNs((this.tmrEpoch + 1) * TMR_BIT23));
    else this.tmrTimer.cancel();
  }

  /** Whether PM1_EN lets the RTC alarm wake the machine from S3 (QEMU: RTC_EN). */
  get rtcWakeEnabled(): boolean {
    return (this.pm1En & PM1_RTC) !== 0;
  }

  /**
   * The machine woke from S3 (after its reset): WAK_STS plus the cause, as QEMU's
   * acpi_notify_wakeup sets them; anything but the RTC counts as the power button.
   */
  wokeUp(reason: 'rtc' | 'other'): void {
    this.pm1Sts |= PM1_WAK | (reason === 'rtc' ? PM1_RTC : PM1_PWRBTN);
    this.updateSci();
  }

  /** Press the power button (PWRBTN_STS; the guest's ACPI handler powers off). */
  pressPowerButton(): void {
    this.pm1Sts |= PM1_PWRBTN;
    this.updateSci();
  }

  /** Raise GPE0 status bits (e.g. hotplug events). */
  raiseGpe(bits: number): void {
    this.gpeSts |= bits & 0xffff;
    this.updateSci();
  }

  private pmByte(o: number): number {
    switch (o) {
      case 0: return this.pm1Status() & 0xff;
      case 1: return this.pm1Status() >>> 8;
      case 2: return this.pm1En & 0xff;
      case 3: return this.pm1En >>> 8;
      case 4: return this.pm1Cnt & 0xff;
      case 5: return (this.pm1Cnt >>> 8) & ~(PM1_CNT_SLP_EN >>> 8);
      case 8: case 9: case 10: return (this.pmTimer() >>> (8 * (o - 8))) & 0xff;
      case 11: return 0;
      default: return 0xff;
    }
  }

  private pmRead(off: number, size: number): number {
    // QEMU reads the timer as a dword whatever the offset and keeps the low `size` bytes.
    if (off >= 8 && off < 12) return size === 4 ? this.pmTimer() : this.pmTimer() & (size === 1 ? 0xff : 0xffff);
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.pmByte(off + i) << (8 * i);
    return v >>> 0;
  }

  private pmWrite(off: number, value: number, size: number): void {
    let stsClear = 0;
    let en = this.pm1En;
    let cnt = this.pm1Cnt & ~PM1_CNT_SLP_EN;
    let touchedCnt = false;
    for (let i = 0; i < size; i++) {
      const o = off + i;
      const b = (value >>> (8 * i)) & 0xff;
      if (o === 0) stsClear |= b;
      else if (o === 1) stsClear |= b << 8;
      else if (o === 2) en = (en & 0xff00) | b;
      else if (o === 3) en = (en & 0x00ff) | (b << 8);
      else if (o === 4) { cnt = (cnt & 0xff00) | b; touchedCnt = true; }
      else if (o === 5) { cnt = (cnt & 0x00ff) | (b << 8); touchedCnt = true; }
    }
    if (stsClear) {
      this.pm1Status();
      this.pm1Sts &= ~stsClear;
    }
    this.pm1En = en;
    if (touchedCnt) this.writeCnt(cnt);
    this.updateSci();
  }

  /** acpi_pm1_cnt_write: SLP_EN starts the sleep state named by SLP_TYP. */
  private writeCnt(val: number): void {
    this.pm1Cnt = val & ~PM1_CNT_SLP_EN;
    if (!(val & PM1_CNT_SLP_EN)) return;
    const typ = (val >>> SLP_TYP_SHIFT) & 7;
    this.sleeps.push(typ);
    if (this.sleeps.length > 16) this.sleeps.shift();
    if (typ === SLP_TYP_S5 || typ === SLP_TYP_S4) this.onPowerOff();
    else if (typ === SLP_TYP_S3) this.onSuspend();
  }

  private gpeRead(off: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const o = off + i;
      const b = o < 2 ? (this.gpeSts >>> (8 * o)) & 0xff : o < 4 ? (this.gpeEn >>> (8 * (o - 2))) & 0xff : 0xff;
      v |= b << (8 * i);
    }
    return v >>> 0;
  }

  private gpeWrite(off: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) {
      const o = off + i;
      const b = (value >>> (8 * i)) & 0xff;
      if (o < 2) this.gpeSts &= ~(b << (8 * o));
      else if (o < 4) this.gpeEn = (this.gpeEn & ~(0xff << (8 * (o - 2)))) | (b << (8 * (o - 2)));
    }
    this.updateSci();
  }

  private apmWrite(val: number): void {
    this.apmc = val;
    if (val === ACPI_ENABLE) this.pm1Cnt |= PM1_CNT_SCI_EN;
    else if (val === ACPI_DISABLE) this.pm1Cnt &= ~PM1_CNT_SCI_EN;
    if (val === ACPI_ENABLE || val === ACPI_DISABLE) return;
    if (this.smm && this.get32(PIIX4_DEVACTB) & APMC_EN) this.onSmi();
  }

  // SMBus host controller registers (pm_smbus.c offsets): 0 status (write 1 to clear),
  // 2 control (START bit 6 self-clears), 3 command, 4 slave address, 5/6 data, 7 block.
  private smbRead(off: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const o = off + i;
      let b = o < SMB_IO_SIZE ? this.smb[o]! : 0xff;
      if (o === 2) b &= ~SMB_CNT_START;
      v |= b << (8 * i);
    }
    return v >>> 0;
  }

  private smbWrite(off: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) {
      const o = off + i;
      const b = (value >>> (8 * i)) & 0xff;
      if (o === 0) this.smb[0] = this.smb[0]! & ~b;
      else if (o < SMB_IO_SIZE) {
        this.smb[o] = b;
        // A transaction to any address finds no device.
        if (o === 2 && b & SMB_CNT_START) this.smb[0] = this.smb[0]! | SMB_STS_DEV_ERR;
      }
    }
  }

  protected override saveExtra(): PmExtra {
    return {
      pm1Sts: this.pm1Sts, pm1En: this.pm1En, pm1Cnt: this.pm1Cnt, tmrEpoch: this.tmrEpoch,
      gpeSts: this.gpeSts, gpeEn: this.gpeEn, apmc: this.apmc, apms: this.apms,
      smb: Array.from(this.smb), sci: this.sci, sleeps: [...this.sleeps],
    };
  }

  protected override loadExtra(e: unknown): void {
    const s = e as PmExtra | undefined;
    if (!s) return;
    this.pm1Sts = s.pm1Sts;
    this.pm1En = s.pm1En;
    this.pm1Cnt = s.pm1Cnt;
    this.tmrEpoch = s.tmrEpoch;
    this.gpeSts = s.gpeSts;
    this.gpeEn = s.gpeEn;
    this.apmc = s.apmc;
    this.apms = s.apms;
    this.smb = Uint8Array.from(s.smb);
    this.sleeps = [...s.sleeps];
    this.sci = !s.sci; // force the line to be driven
    this.updateIoSpaces();
    this.updateSci();
  }

  deviceInfo(): Piix4PmInfo {
    return {
      pmBase: this.pmBase,
      smbusBase: this.pciBus.ioSpace.where(this.smbBlock)?.base ?? null,
      pmTimer: this.pmTimer(),
      pm1Sts: this.pm1Status(),
      pm1En: this.pm1En,
      pm1Cnt: this.pm1Cnt,
      sciEnabled: (this.pm1Cnt & PM1_CNT_SCI_EN) !== 0,
      sci: this.sci,
      gpe0: { sts: this.gpeSts, en: this.gpeEn },
      apm: { control: this.apmc, status: this.apms },
      sleeps: [...this.sleeps],
    };
  }
}
