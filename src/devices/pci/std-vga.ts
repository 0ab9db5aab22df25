// QEMU's standard VGA as a PCI function ("VGA" device, hw/display/vga-pci.c): 1234:1111
// rev 02, class 03.00, at 00:02.0 on the `pc` machine. BAR0 is the linear frame buffer
// (prefetchable, the whole video memory), BAR2 4 KiB of MMIO (QEMU's qemu-extended-regs:
// VGA ports 0x3C0-0x3DF at 0x400, the Bochs DISPI registers as 16-bit words at 0x500, and
// the QEMU extension block at 0x600: its size and the framebuffer byte order), and an
// expansion ROM when the board gives one (SeaBIOS's vgabios-stdvga.bin, which SeaBIOS
// copies to 0xC0000 and runs). The legacy ports and window belong to the Vga core.
import { PciDevice } from './pci-device.js';
import type { PciBus } from './pci-bus.js';
import type { Vga } from '../vga.js';

export const STD_VGA_VENDOR = 0x1234;
export const STD_VGA_DEVICE = 0x1111;
const MMIO_SIZE = 4096;
const PCI_VGA_IOPORT_OFFSET = 0x400;
const PCI_VGA_IOPORT_SIZE = 0x20;
const PCI_VGA_BOCHS_OFFSET = 0x500;
const PCI_VGA_BOCHS_SIZE = 0x16;
const PCI_VGA_QEXT_OFFSET = 0x600;
const PCI_VGA_QEXT_SIZE = 8;
const QEXT_LITTLE_ENDIAN = 0x1e1e1e1e;

export interface StdVgaPciOptions {
  /** Expansion ROM image (the VGA BIOS), or none. */
  rom?: Uint8Array;
  slot?: number;
}

export class StdVgaPci extends PciDevice {
  constructor(bus: PciBus, readonly vga: Vga, opts: StdVgaPciOptions = {}) {
    super('std-vga', { vendor: STD_VGA_VENDOR, device: STD_VGA_DEVICE, revision: 0x02, classCode: 0x030000 });
    this.defineBar(0, { kind: 'mem', size: vga.vramSize, prefetchable: true, name: 'vga.vram', block: vga.vramBlock });
    this.defineBar(2, {
      kind: 'mem', size: MMIO_SIZE, name: 'vga.mmio',
      block: { read: (off, size) => this.mmioRead(off, size), write: (off, v, size) => this.mmioWrite(off, v, size) },
    });
    if (opts.rom) this.defineRom(opts.rom);
    bus.attach(this, opts.slot ?? 2, 0);
  }

  private mmioRead(off: number, size: number): number {
    if (off >= PCI_VGA_IOPORT_OFFSET && off < PCI_VGA_IOPORT_OFFSET + PCI_VGA_IOPORT_SIZE) {
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.vga.ioportRead(0x3c0 + off - PCI_VGA_IOPORT_OFFSET + i) << (8 * i);
      return v >>> 0;
    }
    if (off >= PCI_VGA_BOCHS_OFFSET && off < PCI_VGA_BOCHS_OFFSET + PCI_VGA_BOCHS_SIZE) {
      this.vga.vbeSelect((off - PCI_VGA_BOCHS_OFFSET) >> 1);
      return this.vga.vbeReadData();
    }
    if (off >= PCI_VGA_QEXT_OFFSET && off < PCI_VGA_QEXT_OFFSET + PCI_VGA_QEXT_SIZE) {
      return off - PCI_VGA_QEXT_OFFSET < 4 ? PCI_VGA_QEXT_SIZE : QEXT_LITTLE_ENDIAN;
    }
    return 0;
  }

  private mmioWrite(off: number, value: number, size: number): void {
    if (off >= PCI_VGA_IOPORT_OFFSET && off < PCI_VGA_IOPORT_OFFSET + PCI_VGA_IOPORT_SIZE) {
      for (let i = 0; i < size; i++) this.vga.ioportWrite(0x3c0 + off - PCI_VGA_IOPORT_OFFSET + i, (value >>> (8 * i)) & 0xff);
    } else if (off >= PCI_VGA_BOCHS_OFFSET && off < PCI_VGA_BOCHS_OFFSET + PCI_VGA_BOCHS_SIZE) {
      this.vga.vbeSelect((off - PCI_VGA_BOCHS_OFFSET) >> 1);
      this.vga.vbeWriteData(value & 0xffff);
    }
  }

  protected override resetDevice(): void {
    this.vga.reset();
  }
}
