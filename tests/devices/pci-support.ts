// Shared set-up for the PCI device tests: a small board with RAM, the BIOS alias and the
// functions QEMU's `pc` machine has on bus 0.
import { IoBus } from '../../src/devices/io-bus.js';
import { PhysicalMemory } from '../../src/memory/physical-memory.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { PciBus } from '../../src/devices/pci/pci-bus.js';
import { PamController } from '../../src/devices/pci/pam.js';
import { I440fx } from '../../src/devices/pci/i440fx.js';
import { Piix3Isa } from '../../src/devices/pci/piix3-isa.js';
import type { IrqLine } from '../../src/devices/device.js';

export const RAM_SIZE = 4 << 20;
export const BIOS_SIZE = 128 << 10;

export function cfgAddr(slot: number, fn: number, reg: number): number {
  return (0x80000000 | (slot << 11) | (fn << 8) | (reg & 0xfc)) >>> 0;
}

export function cfgRead(io: IoBus, slot: number, fn: number, reg: number, size: number): number {
  io.write(0xcf8, cfgAddr(slot, fn, reg), 4);
  return io.read(0xcfc + (reg & 3), size);
}

export function cfgWrite(io: IoBus, slot: number, fn: number, reg: number, value: number, size: number): void {
  io.write(0xcf8, cfgAddr(slot, fn, reg), 4);
  io.write(0xcfc + (reg & 3), value, size);
}

export function makeBoard(opts: { irqs?: Map<number, boolean[]>; reportedRam?: number } = {}) {
  const io = new IoBus();
  const m = { icount: 0 };
  const clock = new VirtualClock(() => m.icount, 1);
  const phys = new PhysicalMemory(RAM_SIZE + 2 * BIOS_SIZE);
  const ram = phys.allocate('pc.ram', RAM_SIZE);
  const bios = phys.allocate('pc.bios', BIOS_SIZE);
  const pcRom = phys.allocate('pc.rom', 0x20000);
  phys.mapDirect(0, 0xa0000, ram, 0, true, true);
  phys.mapDirect(0x100000, RAM_SIZE - 0x100000, ram, 0x100000, true, true);
  phys.mapDirect((0x100000000 - BIOS_SIZE) >>> 0, BIOS_SIZE, bios, 0, true, false);
  // Recognisable contents: RAM 0x11, the BIOS 0xB1, the option-ROM area 0xC3.
  phys.u8.fill(0x11, ram.offset, ram.offset + RAM_SIZE);
  phys.u8.fill(0xb1, bios.offset, bios.offset + BIOS_SIZE);
  phys.u8.fill(0xc3, pcRom.offset, pcRom.offset + 0x20000);
  const remaps: [number, number][] = [];
  const vgaWrites: number[] = [];
  const vga = {
    name: 'vga', read: () => 0x56,
    write: (off: number) => { vgaWrites.push(off); },
  };
  const pam = new PamController(phys, {
    ram,
    rom: [
      { phys: 0xc0000, size: 0x20000, area: pcRom, offset: 0 },
      { phys: 0xe0000, size: 0x20000, area: bios, offset: BIOS_SIZE - 0x20000 },
    ],
    vga,
    onRemap: (p, s) => remaps.push([p, s]),
  });
  const bus = new PciBus(io, phys, { memoryHoleStart: RAM_SIZE });
  const host = new I440fx(bus, { pam, ramSize: opts.reportedRam ?? RAM_SIZE });
  const irqs = opts.irqs ?? new Map<number, boolean[]>();
  const line = (n: number): IrqLine => ({ set: (l) => { if (!irqs.has(n)) irqs.set(n, []); irqs.get(n)!.push(l); } });
  const elcr: number[] = [];
  const resets: boolean[] = [];
  const isa = new Piix3Isa(io, bus, { isaIrq: line, setLevelTriggered: (mask) => elcr.push(mask), onReset: (hard) => resets.push(hard) });
  return { io, m, clock, phys, ram, bios, pcRom, pam, bus, host, isa, irqs, line, elcr, resets, remaps, vgaWrites };
}
