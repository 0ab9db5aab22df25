// QEMU's ISA "pc-testdev" (hw/misc/pc-testdev.c), which kvm-unit-tests use on x86:
// - 0xE0-0xE3: a 32-bit data register, readable and writable with any access size at any
//   of its four ports (byte lane = port & 3);
// - 0xE4: write a physical address (32-bit) to "flush" its page: QEMU re-protects the host
//   page; here the board drops translated code of that page (`onFlushPage`);
// - 0xE8-0xEB: the same data register through byte-wide accesses;
// - 0x2000-0x2017: a byte write to 0x2000+n drives interrupt line n (GSI 0-23) to !!value;
// - 0xFF000000: 64 KiB of scratch memory (MMIO, read back as written).
import type { IoBus, PortHandler } from './io-bus.js';
import type { Resettable, SavesState } from './device.js';
import type { MmioHandler, PhysicalMemory } from '../memory/physical-memory.js';

export const PC_TESTDEV_IOPORT = 0xe0;
export const PC_TESTDEV_FLUSH = 0xe4;
export const PC_TESTDEV_IOPORT_BYTE = 0xe8;
export const PC_TESTDEV_IRQ = 0x2000;
export const PC_TESTDEV_IRQ_COUNT = 24;
export const PC_TESTDEV_IOMEM = 0xff000000;
export const PC_TESTDEV_IOMEM_SIZE = 0x10000;

export interface PcTestdevOptions {
  /** Memory for the 0xFF000000 scratch area (not mapped without it). */
  phys?: PhysicalMemory;
  /** Drive GSI `line` (the board routes 0-15 to the PICs and all to the I/O APIC). */
  setIrq?: (line: number, level: boolean) => void;
  onFlushPage?: (phys: number) => void;
  /**
   * Ports another device created after it took (QEMU: of two overlapping ISA devices, the
   * later one answers); pc-testdev leaves them to that device.
   */
  leave?: readonly number[];
}

/** Every port pc-testdev decodes. */
export function pcTestdevPorts(): number[] {
  const ports: number[] = [];
  for (let p = PC_TESTDEV_IOPORT; p < PC_TESTDEV_IOPORT_BYTE + 4; p++) ports.push(p);
  for (let i = 0; i < PC_TESTDEV_IRQ_COUNT; i++) ports.push(PC_TESTDEV_IRQ + i);
  return ports;
}

export interface PcTestdevState {
  data: number;
  iomem: number[];
  /** The IRQ lines it drives. */
  irqLevels: boolean[];
}

export class PcTestdev implements PortHandler, Resettable, SavesState<PcTestdevState> {
  private data = 0;
  private readonly iomem = new Uint8Array(PC_TESTDEV_IOMEM_SIZE);
  private readonly irqLevels = new Array<boolean>(PC_TESTDEV_IRQ_COUNT).fill(false);
  setIrq: (line: number, level: boolean) => void;
  onFlushPage: (phys: number) => void;

  constructor(io: IoBus, opts: PcTestdevOptions = {}) {
    this.setIrq = opts.setIrq ?? (() => {});
    this.onFlushPage = opts.onFlushPage ?? (() => {});
    const leave = new Set(opts.leave ?? []);
    const claim = (first: number, count: number, h: PortHandler, name: string): void => {
      for (let p = first; p < first + count; p++) if (!leave.has(p)) io.register(p, 1, h, name);
    };
    claim(PC_TESTDEV_IOPORT, 4, this, 'pc-testdev-ioport');
    claim(PC_TESTDEV_FLUSH, 4, this, 'pc-testdev-flush-page');
    claim(PC_TESTDEV_IOPORT_BYTE, 4, this, 'pc-testdev-ioport-byte');
    const irq: PortHandler = {
      read: (_p, size) => (size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff),
      write: (port, value, size) => {
        // 1-byte accesses only; a wider one is split into bytes at consecutive lines.
        for (let i = 0; i < size; i++) {
          const line = port - PC_TESTDEV_IRQ + i;
          if (line >= PC_TESTDEV_IRQ_COUNT) break;
          const level = ((value >>> (8 * i)) & 0xff) !== 0;
          this.irqLevels[line] = level;
          this.setIrq(line, level);
        }
      },
    };
    claim(PC_TESTDEV_IRQ, PC_TESTDEV_IRQ_COUNT, irq, 'pc-testdev-irq-line');
    if (opts.phys) {
      const mem = this.iomem;
      const h: MmioHandler = {
        name: 'pc-testdev-iomem',
        read: (off, size) => {
          let v = 0;
          for (let i = 0; i < size; i++) v |= (mem[off + i] ?? 0) << (8 * i);
          return v >>> 0;
        },
        write: (off, value, size) => {
          for (let i = 0; i < size && off + i < mem.length; i++) mem[off + i] = (value >>> (8 * i)) & 0xff;
        },
      };
      opts.phys.mapMmio(PC_TESTDEV_IOMEM, PC_TESTDEV_IOMEM_SIZE, h);
    }
  }

  read(port: number, size: number): number {
    if (port >= PC_TESTDEV_FLUSH && port < PC_TESTDEV_FLUSH + 4) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    const shift = 8 * (port & 3);
    const bits = 8 * size;
    const mask = bits === 32 ? 0xffffffff : ((1 << bits) - 1);
    return ((this.data >>> shift) & mask) >>> 0;
  }

  write(port: number, value: number, size: number): void {
    if (port >= PC_TESTDEV_FLUSH && port < PC_TESTDEV_FLUSH + 4) {
      if (port === PC_TESTDEV_FLUSH && size === 4) this.onFlushPage((value & ~0xfff) >>> 0);
      return;
    }
    const shift = 8 * (port & 3);
    const bits = 8 * size;
    const mask = (bits === 32 ? 0xffffffff : (1 << bits) - 1) << shift;
    this.data = ((this.data & ~mask) | ((value << shift) & mask)) >>> 0;
  }

  reset(): void {}

  saveState(): PcTestdevState {
    return { data: this.data, iomem: Array.from(this.iomem), irqLevels: [...this.irqLevels] };
  }

  loadState(s: PcTestdevState): void {
    this.data = s.data >>> 0;
    this.iomem.set(s.iomem.slice(0, PC_TESTDEV_IOMEM_SIZE));
    // The levels it drives (the interrupt controllers load their inputs themselves).
    s.irqLevels.forEach((l, i) => { if (i < PC_TESTDEV_IRQ_COUNT) this.irqLevels[i] = l; });
  }

  info(): { data: number; irqLines: number } {
    let lines = 0;
    this.irqLevels.forEach((l, i) => { if (l) lines |= 1 << i; });
    return { data: this.data, irqLines: lines >>> 0 };
  }
}
