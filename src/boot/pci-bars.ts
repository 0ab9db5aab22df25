// PCI resources as SeaBIOS 1.16 assigns them on QEMU's pc machine (its pciinit), for
// boots without a BIOS: under QEMU a -kernel boot runs SeaBIOS first, and kernels find
// every BAR assigned and decoding on. Measured with tests/guests/board/firmware.c under
// QEMU 7.2 (-nodefaults -vga std): the IDE's BAR 4 at 0xC000, the std VGA's framebuffer
// (16 MiB, prefetchable) at 0xFD000000, its registers (4 KiB) at 0xFEBF0000 and its
// expansion ROM (64 KiB, not enabled) at 0xFEBE0000; command 0x0103 (I/O, memory, SERR)
// on every function. The rule that gives those addresses:
//
// - BARs go into three regions, I/O, memory and prefetchable memory (expansion ROMs are
//   memory); inside a region the largest come first, each at the region's next address
//   (sizes are powers of two, so each is aligned), in bus order among equals.
// - I/O starts at 0xC000 when the region fits below 0x10000 from there, else 0x1000.
// - The two memory regions sit at the top of the 32-bit PCI window, which ends at
//   0xFEC00000: the region with the larger alignment goes below the other; each starts at
//   its end minus its size, aligned down to its largest BAR.
import type { PciBus } from '../devices/pci/pci-bus.js';
import {
  PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MEMORY, PCI_COMMAND_SERR, PCI_ROM_ADDRESS,
} from '../devices/pci/pci-device.js';

/** Where SeaBIOS's 32-bit PCI memory window ends on the i440FX (below the I/O APIC). */
export const PCI_MEM_END = 0xfec00000;
const PCI_IO_BASE = 0xc000;
const PCI_IO_LOW_BASE = 0x1000;
const PCI_IO_END = 0x10000;
/** SeaBIOS turns these on in every function's command register. */
const COMMAND_BITS = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_SERR;

interface BarEntry {
  slot: number;
  fn: number;
  /** Config register of the BAR (0x10-0x24, or 0x30 for the ROM). */
  reg: number;
  size: number;
}

interface Region {
  entries: BarEntry[];
  base: number;
}

const sum = (r: Region): number => r.entries.reduce((a, e) => a + e.size, 0);
const align = (r: Region): number => r.entries.reduce((a, e) => Math.max(a, e.size), 1);
const alignDown = (v: number, a: number): number => v - (v % a);

/** Assign every BAR of the bus as SeaBIOS does and turn decoding on. */
export function assignPciBars(pci: PciBus): void {
  const io: Region = { entries: [], base: 0 };
  const mem: Region = { entries: [], base: 0 };
  const pref: Region = { entries: [], base: 0 };
  for (const dev of pci.devices()) {
    const slot = dev.devfn >> 3;
    const fn = dev.devfn & 7;
    for (const bar of dev.info().bars) {
      const entry: BarEntry = { slot, fn, reg: bar.kind === 'rom' ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * bar.index, size: bar.size };
      if (bar.kind === 'io') io.entries.push(entry);
      else if (bar.kind === 'mem' && dev.barDef(bar.index)?.prefetchable) pref.entries.push(entry);
      else mem.entries.push(entry);
    }
  }
  // Largest first; Array.prototype.sort is stable, so equals keep bus order.
  for (const r of [io, mem, pref]) r.entries.sort((a, b) => b.size - a.size);

  io.base = PCI_IO_BASE + sum(io) <= PCI_IO_END ? PCI_IO_BASE : PCI_IO_LOW_BASE;
  const [lower, upper] = align(mem) < align(pref) ? [pref, mem] : [mem, pref];
  upper.base = alignDown(PCI_MEM_END - sum(upper), align(upper));
  lower.base = alignDown(upper.base - sum(lower), align(lower));

  for (const r of [io, mem, pref]) {
    let at = r.base;
    for (const e of r.entries) {
      // The type bits are read-only; a ROM's enable bit stays clear, as SeaBIOS leaves it.
      pci.configWrite(e.slot, e.fn, e.reg, at, 4);
      at += e.size;
    }
  }
  for (const dev of pci.devices()) {
    const cmd = pci.configRead(dev.devfn >> 3, dev.devfn & 7, PCI_COMMAND, 2);
    pci.configWrite(dev.devfn >> 3, dev.devfn & 7, PCI_COMMAND, cmd | COMMAND_BITS, 2);
  }
}
