// PIIX3 IDE function 00:01.1, 8086:7010 (82371SB datasheet §2.4; QEMU hw/ide/piix.c),
// with no drives attached. Config space: class 01.01 prog-if 0x80 (legacy-mode primary
// and secondary channels, bus-master capable), BAR4 = 16 bytes of bus-master registers
// (stored, no DMA engine). The legacy task files at 0x1F0-0x1F7/0x3F6 (IRQ 14) and
// 0x170-0x177/0x376 (IRQ 15) always decode, as in QEMU (IDETIM's decode-enable bits are
// plain storage there too).
//
// An empty channel answers as QEMU's does: every task-file register, the status and the
// alternate status read 0x00 (so "BSY clear, DRDY clear": no device), the data port reads
// 0, and writes are accepted. A command written while the master is selected is aborted,
// which raises the channel's IRQ unless nIEN is set (QEMU's ide_abort_command); reading
// the status register lowers it. Commands to an absent slave are ignored.
import type { IoBus, PortHandler } from '../io-bus.js';
import { NO_IRQ, type IrqLine } from '../device.js';
import { PciDevice, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM, PCI_STATUS_FAST_BACK } from './pci-device.js';
import type { PciBus } from './pci-bus.js';

export const PIIX3_IDE_DEVICE = 0x7010;
export const IDE_PRIMARY_BASE = 0x1f0;
export const IDE_PRIMARY_CTRL = 0x3f6;
export const IDE_SECONDARY_BASE = 0x170;
export const IDE_SECONDARY_CTRL = 0x376;

// Task file register offsets
const ATA_DATA = 0;
const ATA_FEATURE = 1;
const ATA_NSECTOR = 2;
const ATA_SECTOR = 3;
const ATA_LCYL = 4;
const ATA_HCYL = 5;
const ATA_SELECT = 6;
const ATA_COMMAND = 7;
const ATA_DEV_SLAVE = 0x10;
const IDE_CTRL_DISABLE_IRQ = 0x02;

interface IdeChannelState {
  feature: number;
  nsector: number;
  sector: number;
  lcyl: number;
  hcyl: number;
  select: number;
  ctrl: number;
  irq: boolean;
  bmCmd: number;
  bmStatus: number;
  bmPrd: number;
  commands: number;
}

export interface Piix3IdeOptions {
  /** IRQ 14 and IRQ 15. */
  irqPrimary?: IrqLine;
  irqSecondary?: IrqLine;
  /** Where on bus 0 (default 00:01.1). */
  slot?: number;
  fn?: number;
}

export interface Piix3IdeInfo {
  channels: { base: number; ctrl: number; select: number; irq: boolean; commands: number; drives: string[] }[];
  busMaster: { base: number | null; cmd: number[]; status: number[]; prd: number[] };
}

function freshChannel(): IdeChannelState {
  return { feature: 0, nsector: 0, sector: 0, lcyl: 0, hcyl: 0, select: 0, ctrl: 0, irq: false, bmCmd: 0, bmStatus: 0, bmPrd: 0, commands: 0 };
}

export class Piix3Ide extends PciDevice {
  private ch: [IdeChannelState, IdeChannelState] = [freshChannel(), freshChannel()];
  private readonly irqs: [IrqLine, IrqLine];

  constructor(io: IoBus, bus: PciBus, opts: Piix3IdeOptions = {}) {
    super('piix3-ide', { vendor: 0x8086, device: PIIX3_IDE_DEVICE, classCode: 0x010180 });
    this.irqs = [opts.irqPrimary ?? NO_IRQ, opts.irqSecondary ?? NO_IRQ];
    const bases = [IDE_PRIMARY_BASE, IDE_SECONDARY_BASE];
    const ctrls = [IDE_PRIMARY_CTRL, IDE_SECONDARY_CTRL];
    for (const c of [0, 1] as const) {
      const taskFile: PortHandler = {
        read: (port, size) => this.taskFileRead(c, port - bases[c]!, size),
        write: (port, value, size) => this.taskFileWrite(c, port - bases[c]!, value, size),
      };
      const ctrl: PortHandler = {
        read: (_port, size) => this.widen(0, size), // alternate status: no device
        write: (_port, value) => { this.ch[c].ctrl = value & 0xff; this.updateIrq(c); },
      };
      io.register(bases[c]!, 8, taskFile, c ? 'ide1' : 'ide0');
      io.register(ctrls[c]!, 1, ctrl, c ? 'ide1-ctrl' : 'ide0-ctrl');
    }
    this.defineBar(4, {
      kind: 'io', size: 16, name: 'piix-bmdma',
      block: { read: (off, size) => this.bmRead(off, size), write: (off, v, size) => this.bmWrite(off, v, size) },
    });
    bus.attach(this, opts.slot ?? 1, opts.fn ?? 1);
  }

  protected override resetDevice(): void {
    this.set16(PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_FAST_BACK);
    this.ch = [freshChannel(), freshChannel()];
    this.updateIrq(0);
    this.updateIrq(1);
  }

  /** A byte value repeated into the high bytes of a wider access (0 stays 0). */
  private widen(b: number, size: number): number {
    return size === 1 ? b : size === 2 ? b * 0x101 : (b * 0x01010101) >>> 0;
  }

  private taskFileRead(c: 0 | 1, reg: number, _size: number): number {
    if (reg === ATA_COMMAND) {
      // Reading the status register acknowledges the interrupt.
      this.ch[c].irq = false;
      this.updateIrq(c);
    }
    return 0;
  }

  private taskFileWrite(c: 0 | 1, reg: number, value: number, _size: number): void {
    const s = this.ch[c];
    const b = value & 0xff;
    switch (reg) {
      case ATA_DATA: break;
      case ATA_FEATURE: s.feature = b; break;
      case ATA_NSECTOR: s.nsector = b; break;
      case ATA_SECTOR: s.sector = b; break;
      case ATA_LCYL: s.lcyl = b; break;
      case ATA_HCYL: s.hcyl = b; break;
      case ATA_SELECT: s.select = b; break;
      case ATA_COMMAND:
        s.irq = false;
        if (!(s.select & ATA_DEV_SLAVE)) {
          s.commands++;
          s.irq = true; // aborted: no device behind the master
        }
        this.updateIrq(c);
        break;
    }
  }

  private readonly lines: [boolean, boolean] = [false, false];

  private updateIrq(c: 0 | 1): void {
    const s = this.ch[c];
    const level = s.irq && !(s.ctrl & IDE_CTRL_DISABLE_IRQ);
    if (level === this.lines[c]) return;
    this.lines[c] = level;
    this.irqs[c].set(level);
  }

  // Bus-master IDE registers (82371SB §2.7): per channel, command (bits 0 and 3), status
  // (bit 0 active read-only, bits 1-2 write-1-to-clear, bits 5-6 read/write), PRD pointer.
  private bmRead(off: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const o = off + i;
      const s = this.ch[o >= 8 ? 1 : 0];
      const r = o & 7;
      let b: number;
      if (r === 0) b = s.bmCmd;
      else if (r === 2) b = s.bmStatus;
      else if (r >= 4) b = (s.bmPrd >>> (8 * (r - 4))) & 0xff;
      else b = 0xff;
      v |= b << (8 * i);
    }
    return v >>> 0;
  }

  private bmWrite(off: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) {
      const o = off + i;
      const s = this.ch[o >= 8 ? 1 : 0];
      const r = o & 7;
      const b = (value >>> (8 * i)) & 0xff;
      if (r === 0) s.bmCmd = b & 0x09;
      else if (r === 2) s.bmStatus = (b & 0x60) | (s.bmStatus & 0x01) | (s.bmStatus & ~b & 0x06);
      else if (r >= 4) {
        const sh = 8 * (r - 4);
        s.bmPrd = ((s.bmPrd & ~(0xff << sh)) | (b << sh)) & 0xfffffffc;
        s.bmPrd >>>= 0;
      }
    }
  }

  protected override saveExtra(): IdeChannelState[] {
    return this.ch.map((s) => ({ ...s }));
  }

  protected override loadExtra(e: unknown): void {
    const a = e as IdeChannelState[] | undefined;
    if (!a) return;
    this.ch = [{ ...freshChannel(), ...a[0] }, { ...freshChannel(), ...a[1] }];
    this.updateIrq(0);
    this.updateIrq(1);
  }

  deviceInfo(): Piix3IdeInfo {
    return {
      channels: this.ch.map((s, i) => ({
        base: i ? IDE_SECONDARY_BASE : IDE_PRIMARY_BASE,
        ctrl: i ? IDE_SECONDARY_CTRL : IDE_PRIMARY_CTRL,
        select: s.select, irq: s.irq, commands: s.commands, drives: [],
      })),
      busMaster: {
        base: this.barAddress(4),
        cmd: this.ch.map((s) => s.bmCmd),
        status: this.ch.map((s) => s.bmStatus),
        prd: this.ch.map((s) => s.bmPrd),
      },
    };
  }
}
