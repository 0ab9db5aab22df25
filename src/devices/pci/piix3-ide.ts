// PIIX3 IDE function 00:01.1, 8086:7010 (82371SB datasheet §2.4; QEMU hw/ide/piix.c).
// Config space: class 01.01 prog-if 0x80 (legacy-mode primary and secondary channels, bus
// master capable), BAR4 = 16 bytes of bus-master registers. The legacy task files at
// 0x1F0-0x1F7/0x3F6 (IRQ 14) and 0x170-0x177/0x376 (IRQ 15) always decode, as in QEMU
// (IDETIM's decode-enable bits are plain storage there too). The channels and their
// drives are src/devices/ide/ide-channel.ts; here is the bus master, which moves a DMA
// command's sectors between the image and guest memory through the PRD table.
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
import type { PhysicalMemory } from '../../memory/physical-memory.js';
import { IdeChannel, type IdeChannelState, type IdeCommandRecord, type IdeDriveConfig, type IdeDriveInfo } from '../ide/ide-channel.js';
import { SECTOR_SIZE } from '../../block/block-image.js';

export const PIIX3_IDE_DEVICE = 0x7010;
export const IDE_PRIMARY_BASE = 0x1f0;
export const IDE_PRIMARY_CTRL = 0x3f6;
export const IDE_SECONDARY_BASE = 0x170;
export const IDE_SECONDARY_CTRL = 0x376;

// Bus-master registers (82371SB §2.7)
const BM_CMD_START = 0x01;
const BM_STATUS_ACTIVE = 0x01;
const BM_STATUS_ERROR = 0x02;
const BM_STATUS_INT = 0x04;

interface BusMasterState {
  cmd: number;
  status: number;
  prd: number;
}

export interface Piix3IdeOptions {
  /** IRQ 14 and IRQ 15. */
  irqPrimary?: IrqLine;
  irqSecondary?: IrqLine;
  /** Where on bus 0 (default 00:01.1). */
  slot?: number;
  fn?: number;
  /** Drives: [primary master, primary slave, secondary master, secondary slave]. */
  drives?: (IdeDriveConfig | null)[];
  /** Guest memory for bus-master DMA, and what to tell when DMA writes it (drop TBs). */
  phys?: PhysicalMemory;
  onDmaWrite?: (pa: number, len: number) => void;
}

export interface Piix3IdeInfo {
  channels: {
    base: number; ctrl: number; select: number; irq: boolean; commands: number;
    drives: IdeDriveInfo[]; recent: IdeCommandRecord[];
  }[];
  busMaster: { base: number | null; cmd: number[]; status: number[]; prd: number[] };
}

interface Piix3IdeExtra {
  channels: IdeChannelState[];
  bm: BusMasterState[];
  commands: number[];
}

export class Piix3Ide extends PciDevice {
  readonly channels: [IdeChannel, IdeChannel];
  private bm: [BusMasterState, BusMasterState] = [{ cmd: 0, status: 0, prd: 0 }, { cmd: 0, status: 0, prd: 0 }];
  /** Commands written per channel (for `info`). */
  private commandCount: [number, number] = [0, 0];
  private readonly phys: PhysicalMemory | null;
  private readonly onDmaWrite: (pa: number, len: number) => void;

  constructor(io: IoBus, bus: PciBus, opts: Piix3IdeOptions = {}) {
    super('piix3-ide', { vendor: 0x8086, device: PIIX3_IDE_DEVICE, classCode: 0x010180 });
    const d = opts.drives ?? [];
    const irqs = [opts.irqPrimary ?? NO_IRQ, opts.irqSecondary ?? NO_IRQ];
    this.phys = opts.phys ?? null;
    this.onDmaWrite = opts.onDmaWrite ?? (() => {});
    this.channels = [0, 1].map((c) => new IdeChannel(irqs[c]!, [d[2 * c] ?? null, d[2 * c + 1] ?? null], 2 * c + 1)) as [IdeChannel, IdeChannel];
    const bases = [IDE_PRIMARY_BASE, IDE_SECONDARY_BASE];
    const ctrls = [IDE_PRIMARY_CTRL, IDE_SECONDARY_CTRL];
    for (const c of [0, 1] as const) {
      const ch = this.channels[c];
      ch.onIrqRaised = () => { this.bm[c].status |= BM_STATUS_INT; };
      ch.dmaHost = { dmaReady: () => this.runDma(c) };
      const taskFile: PortHandler = {
        read: (port, size) => ch.read(port - bases[c]!, size),
        write: (port, value, size) => {
          if (port - bases[c]! === 7) this.commandCount[c]++;
          ch.write(port - bases[c]!, value, size);
        },
      };
      const ctrl: PortHandler = {
        read: (_port, size) => this.widen(ch.altStatus(), size),
        write: (_port, value) => ch.writeControl(value),
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
    this.bm = [{ cmd: 0, status: 0, prd: 0 }, { cmd: 0, status: 0, prd: 0 }];
    this.commandCount = [0, 0];
    for (const ch of this.channels) ch.reset();
  }

  /** A byte value repeated into the high bytes of a wider access (0 stays 0). */
  private widen(b: number, size: number): number {
    return size === 1 ? b : size === 2 ? b * 0x101 : (b * 0x01010101) >>> 0;
  }

  // Bus-master IDE registers (82371SB §2.7): per channel, command (bits 0 and 3), status
  // (bit 0 active read-only, bits 1-2 write-1-to-clear, bits 5-6 read/write), PRD pointer.
  private bmRead(off: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const o = off + i;
      const s = this.bm[o >= 8 ? 1 : 0];
      const r = o & 7;
      let b: number;
      if (r === 0) b = s.cmd;
      else if (r === 2) b = s.status;
      else if (r >= 4) b = (s.prd >>> (8 * (r - 4))) & 0xff;
      else b = 0xff;
      v |= b << (8 * i);
    }
    return v >>> 0;
  }

  private bmWrite(off: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) {
      const o = off + i;
      const c = o >= 8 ? 1 : 0;
      const s = this.bm[c];
      const r = o & 7;
      const b = (value >>> (8 * i)) & 0xff;
      if (r === 0) {
        // Start/stop (QEMU's bmdma_cmd_writeb): a new start runs a waiting DMA command.
        const old = s.cmd;
        s.cmd = b & 0x09;
        if ((b ^ old) & BM_CMD_START) {
          if (!(b & BM_CMD_START)) s.status &= ~BM_STATUS_ACTIVE;
          else if (!(s.status & BM_STATUS_ACTIVE)) {
            s.status |= BM_STATUS_ACTIVE;
            this.runDma(c);
          }
        }
      } else if (r === 2) s.status = (b & 0x60) | (s.status & BM_STATUS_ACTIVE) | (s.status & ~b & (BM_STATUS_ERROR | BM_STATUS_INT));
      else if (r >= 4) {
        const sh = 8 * (r - 4);
        s.prd = ((s.prd & ~(0xff << sh)) | (b << sh)) & 0xfffffffc;
        s.prd >>>= 0;
      }
    }
  }

  /**
   * Run channel c's DMA command if the bus master is started (QEMU's ide_dma_cb, done in
   * one go): the PRD table's regions, in order, carry the sectors.
   */
  private runDma(c: 0 | 1): void {
    const s = this.bm[c];
    const ch = this.channels[c];
    if (!(s.status & BM_STATUS_ACTIVE) || this.phys === null) return;
    const p = ch.pendingDma();
    if (p === null) return;
    const phys = this.phys;
    const total = p.bytes;
    if (!ch.dmaCheck(p.unit)) {
      s.status &= ~BM_STATUS_ACTIVE;
      ch.dmaDone(p.unit, false);
      return;
    }
    // The regions first: PRDs that cannot hold the whole command move nothing (measured:
    // the registers stay, no interrupt, Active clears).
    const regions: [number, number][] = [];
    let room = 0;
    let prd = s.prd;
    let lastUsedUp = false;
    for (let entries = 0; room < total && entries < 8192; entries++) {
      const addr = phys.read32(prd) >>> 0;
      const word = phys.read32((prd + 4) >>> 0) >>> 0;
      prd = (prd + 8) >>> 0;
      const len = (word & 0xfffe) || 0x10000;
      const take = Math.min(len, total - room);
      regions.push([addr, take]);
      room += take;
      if (word & 0x80000000) {
        lastUsedUp = take === len;
        break;
      }
    }
    if (room < total) {
      s.status &= ~BM_STATUS_ACTIVE;
      ch.dmaShort(p.unit);
      return;
    }
    const data = p.toMemory ? ch.dmaFetch(p.unit) : new Uint8Array(total);
    let done = 0;
    for (const [addr, take] of regions) {
      if (p.toMemory) {
        for (let i = 0; i < take; i++) phys.write8((addr + i) >>> 0, data[done + i]!);
        this.onDmaWrite(addr, take);
      } else {
        for (let i = 0; i < take; i++) data[done + i] = phys.read8((addr + i) >>> 0);
      }
      done += take;
    }
    if (!p.toMemory) ch.dmaStore(p.unit, data);
    // PRDs left over keep Active set (the command ended before the table did).
    if (lastUsedUp) s.status &= ~BM_STATUS_ACTIVE;
    ch.dmaDone(p.unit, true);
  }

  protected override saveExtra(): Piix3IdeExtra {
    return { channels: this.channels.map((ch) => ch.saveState()), bm: this.bm.map((b) => ({ ...b })), commands: [...this.commandCount] };
  }

  protected override loadExtra(e: unknown): void {
    const x = e as Piix3IdeExtra | undefined;
    if (!x) return;
    x.channels.forEach((s, i) => this.channels[i]!.loadState(s));
    this.bm = [{ ...x.bm[0]! }, { ...x.bm[1]! }];
    this.commandCount = [x.commands[0] ?? 0, x.commands[1] ?? 0];
  }

  deviceInfo(): Piix3IdeInfo {
    return {
      channels: this.channels.map((ch, i) => {
        const inf = ch.info();
        return {
          base: i ? IDE_SECONDARY_BASE : IDE_PRIMARY_BASE,
          ctrl: i ? IDE_SECONDARY_CTRL : IDE_PRIMARY_CTRL,
          select: ch.read(6, 1), irq: inf.irq, commands: this.commandCount[i]!,
          drives: inf.drives, recent: inf.commands,
        };
      }),
      busMaster: {
        base: this.barAddress(4),
        cmd: this.bm.map((s) => s.cmd),
        status: this.bm.map((s) => s.status),
        prd: this.bm.map((s) => s.prd),
      },
    };
  }
}
