import { describe, it, expect } from 'vitest';
import { cfgAddr, cfgRead, cfgWrite, makeBoard } from './pci-support.js';
import { Piix3Ide } from '../../src/devices/pci/piix3-ide.js';
import { Piix4Pm } from '../../src/devices/pci/piix4-pm.js';
import { PciTestdev } from '../../src/devices/pci/pci-testdev.js';
import { StdVgaPci } from '../../src/devices/pci/std-vga.js';
import { Vga } from '../../src/devices/vga.js';
import { pciSlotPirq } from '../../src/devices/pci/pci-bus.js';

function fullBoard() {
  const b = makeBoard();
  const ide = new Piix3Ide(b.io, b.bus, { irqPrimary: b.line(14), irqSecondary: b.line(15) });
  const pm = new Piix4Pm(b.io, b.bus, b.clock, { sci: b.line(9) });
  const vga = new Vga(b.io);
  const stdvga = new StdVgaPci(b.bus, vga, { rom: Uint8Array.from([0x55, 0xaa, 0x40, 0xcb]) });
  return { ...b, ide, pm, vga, stdvga };
}

describe('PCI configuration mechanism #1', () => {
  it('CONFIG_ADDRESS takes dword writes only and keeps every bit, as QEMU', () => {
    const { io } = makeBoard();
    io.write(0xcf8, 0xffffffff, 4);
    expect(io.read(0xcf8, 4)).toBe(0xffffffff);
    io.write(0xcf8, 0x1234, 2); // not a dword: ignored
    expect(io.read(0xcf8, 4)).toBe(0xffffffff);
    io.write(0xcf8, 0x80001234, 4);
    // Narrower reads see the register from its low byte, whatever the port (QEMU 7.2).
    expect(io.read(0xcfa, 2)).toBe(0x1234);
    expect(io.read(0xcf8, 1)).toBe(0x34);
  });

  it('ORs CONFIG_ADDRESS bits 0-1 with the data port offset (QEMU 7.2)', () => {
    const { io } = makeBoard();
    const rd = (sel: number, port: number, size: number) => {
      io.write(0xcf8, sel, 4);
      return io.read(port, size);
    };
    expect(rd(0x80000002, 0xcfc, 2)).toBe(0x1237); // device ID through offset 2
    expect(rd(0x80000001, 0xcfd, 1)).toBe(0x80); // 1 | 1 = 1, not 1 + 1
    expect(rd(0x80000001, 0xcfe, 1)).toBe(0x12); // 1 | 2 = 3
    const bytes4to6 = rd(0x80000004, 0xcfc, 4) & 0xffffff;
    expect(rd(0x80000003, 0xcfc, 4)).toBe((0x12 | (bytes4to6 << 8)) >>> 0); // bytes 3-6
    expect(rd(0x800000ff, 0xcfc, 2)).toBe(0x0000); // clipped at the end of the space
    const wr = (sel: number, port: number, size: number, v: number) => {
      io.write(0xcf8, sel, 4);
      io.write(port, v, size);
    };
    // Interrupt line (0x3C) of the host bridge: a dword write at 0x3B puts byte 1 there.
    wr(0x8000003b, 0xcfc, 4, 0x11223344);
    expect(rd(0x8000003c, 0xcfc, 1)).toBe(0x33);
    wr(0x8000003d, 0xcfc, 1, 0x5a); // interrupt pin: read-only
    expect(rd(0x8000003c, 0xcfc, 1)).toBe(0x33);
  });

  it('reads vendor/device at any offset and width through 0xCFC-0xCFF', () => {
    const { io } = makeBoard();
    expect(cfgRead(io, 0, 0, 0, 4)).toBe(0x12378086);
    expect(cfgRead(io, 0, 0, 0, 2)).toBe(0x8086);
    expect(cfgRead(io, 0, 0, 2, 2)).toBe(0x1237);
    expect(cfgRead(io, 0, 0, 1, 1)).toBe(0x80);
    expect(cfgRead(io, 0, 0, 3, 1)).toBe(0x12);
  });

  it('absent functions, other buses and a clear enable bit read all ones', () => {
    const { io } = makeBoard();
    expect(cfgRead(io, 5, 0, 0, 4)).toBe(0xffffffff);
    io.write(0xcf8, (cfgAddr(0, 0, 0) | (1 << 16)) >>> 0, 4);
    expect(io.read(0xcfc, 4)).toBe(0xffffffff);
    io.write(0xcf8, 0x00000000, 4);
    expect(io.read(0xcfc, 2)).toBe(0xffff);
  });

  it('leaves port 0xCF9 to the PIIX3 reset control register', () => {
    const { io, resets } = makeBoard();
    expect(io.ownerOf(0xcf9)).toBe('piix3-reset-control');
    io.write(0xcf9, 0x02, 1);
    expect(io.read(0xcf9, 1)).toBe(0x02);
    expect(resets).toEqual([]);
    io.write(0xcf9, 0x06, 1);
    expect(resets).toEqual([true]);
    io.write(0xcf9, 0x04, 1);
    expect(resets).toEqual([true, false]);
  });
});

describe('PCI functions of the pc machine', () => {
  it('have QEMU\'s IDs, class codes and header types', () => {
    const { io } = fullBoard();
    const id = (s: number, f: number) => cfgRead(io, s, f, 0, 4);
    const cls = (s: number, f: number) => cfgRead(io, s, f, 8, 4) >>> 8;
    const rev = (s: number, f: number) => cfgRead(io, s, f, 8, 1);
    const hdr = (s: number, f: number) => cfgRead(io, s, f, 0x0e, 1);
    expect([id(0, 0), cls(0, 0), rev(0, 0), hdr(0, 0)]).toEqual([0x12378086, 0x060000, 0x02, 0x00]);
    expect([id(1, 0), cls(1, 0), hdr(1, 0)]).toEqual([0x70008086, 0x060100, 0x80]); // multi-function
    expect([id(1, 1), cls(1, 1), hdr(1, 1)]).toEqual([0x70108086, 0x010180, 0x00]);
    expect([id(1, 3), cls(1, 3), rev(1, 3), cfgRead(io, 1, 3, 0x3d, 1)]).toEqual([0x71138086, 0x068000, 0x03, 1]);
    expect([id(2, 0), cls(2, 0), rev(2, 0)]).toEqual([0x11111234, 0x030000, 0x02]);
    expect(id(1, 2)).toBe(0xffffffff);
    for (const [s, f] of [[0, 0], [1, 0], [1, 1], [1, 3], [2, 0]] as const) {
      expect(cfgRead(io, s, f, 0x2c, 4)).toBe(0x11001af4); // QEMU's default subsystem IDs
    }
  });

  it('protects read-only header fields and applies the command mask', () => {
    const { io } = fullBoard();
    cfgWrite(io, 1, 1, 0, 0xdeadbeef, 4);
    expect(cfgRead(io, 1, 1, 0, 4)).toBe(0x70108086);
    cfgWrite(io, 1, 1, 0x04, 0xffff, 2);
    expect(cfgRead(io, 1, 1, 0x04, 2)).toBe(0x0507);
    cfgWrite(io, 1, 1, 0x08, 0xffffffff, 4);
    expect(cfgRead(io, 1, 1, 0x08, 4)).toBe(0x01018000);
    cfgWrite(io, 1, 3, 0x3d, 0x04, 1); // interrupt pin is read-only
    expect(cfgRead(io, 1, 3, 0x3d, 1)).toBe(1);
    cfgWrite(io, 1, 3, 0x3c, 0x09, 1);
    expect(cfgRead(io, 1, 3, 0x3c, 1)).toBe(0x09);
  });

  it('clears status error bits by writing ones and keeps the others', () => {
    const { io, ide } = fullBoard();
    ide.set16(0x06, 0x0280 | 0x2000 | 0x0100);
    cfgWrite(io, 1, 1, 0x06, 0x2000, 2);
    expect(cfgRead(io, 1, 1, 0x06, 2)).toBe(0x0380);
  });

  it('sizes BARs: all ones reads back the size mask with the type bits', () => {
    const { io } = fullBoard();
    cfgWrite(io, 1, 1, 0x20, 0xffffffff, 4);
    expect(cfgRead(io, 1, 1, 0x20, 4)).toBe(0xfffffff1); // 16 ports, I/O (upper half writable as in QEMU)
    cfgWrite(io, 2, 0, 0x10, 0xffffffff, 4);
    expect(cfgRead(io, 2, 0, 0x10, 4)).toBe(0xff000008); // 16 MiB prefetchable memory
    cfgWrite(io, 2, 0, 0x18, 0xffffffff, 4);
    expect(cfgRead(io, 2, 0, 0x18, 4)).toBe(0xfffff000);
    cfgWrite(io, 2, 0, 0x14, 0xffffffff, 4); // no BAR1
    expect(cfgRead(io, 2, 0, 0x14, 4)).toBe(0);
    cfgWrite(io, 2, 0, 0x30, 0xffffffff, 4);
    expect(cfgRead(io, 2, 0, 0x30, 4)).toBe(0xfffff801); // 2 KiB ROM (4-byte image)
    cfgWrite(io, 1, 0, 0x10, 0xffffffff, 4); // the ISA bridge has no BARs
    expect(cfgRead(io, 1, 0, 0x10, 4)).toBe(0);
  });

  it('decodes an I/O BAR only while the command register enables I/O', () => {
    const { io, ide } = fullBoard();
    cfgWrite(io, 1, 1, 0x20, 0xc000, 4);
    io.write(0xc000, 0xff, 1);
    expect(io.read(0xc000, 1)).toBe(0xff); // unclaimed: decoding is off
    cfgWrite(io, 1, 1, 0x04, 0x0001, 2);
    io.write(0xc000, 0x09, 1); // bus-master command: bits 0 and 3 only
    io.write(0xc004, 0x12345679, 4);
    expect(io.read(0xc000, 1)).toBe(0x09);
    expect(io.read(0xc004, 4)).toBe(0x12345678);
    expect(ide.deviceInfo().busMaster.base).toBe(0xc000);
    cfgWrite(io, 1, 1, 0x20, 0xc040, 4); // move it
    expect(io.read(0xc000, 1)).toBe(0xff);
    expect(io.read(0xc040, 1)).toBe(0x09);
    cfgWrite(io, 1, 1, 0x04, 0, 2);
    expect(io.read(0xc040, 1)).toBe(0xff);
  });

  it('maps memory BARs and the expansion ROM into physical memory on demand', () => {
    const { io, phys, vga } = fullBoard();
    cfgWrite(io, 2, 0, 0x10, 0xfd000000, 4);
    cfgWrite(io, 2, 0, 0x30, 0xfebe0000, 4);
    expect(phys.read8(0xfd000000)).toBe(0); // not decoded yet: unassigned reads 0 (QEMU 7.2)
    cfgWrite(io, 2, 0, 0x04, 0x0002, 2);
    vga.vram[5] = 0x77;
    expect(phys.read8(0xfd000005)).toBe(0x77);
    phys.write8(0xfd000006, 0x42);
    expect(vga.vram[6]).toBe(0x42);
    expect(phys.read8(0xfebe0000)).toBe(0); // ROM enable bit clear: unassigned
    cfgWrite(io, 2, 0, 0x30, 0xfebe0001, 4);
    expect(phys.read32(0xfebe0000)).toBe(0xcb40aa55 | 0);
    expect(phys.read8(0xfebe0010)).toBe(0); // past the image, inside the BAR
    cfgWrite(io, 2, 0, 0x04, 0, 2);
    expect(phys.read8(0xfd000005)).toBe(0);
    expect(phys.read8(0xfebe0000)).toBe(0);
  });

  it('never maps a memory BAR over RAM', () => {
    const { io, phys } = fullBoard();
    cfgWrite(io, 2, 0, 0x18, 0x00200000, 4); // inside the 4 MiB of RAM
    cfgWrite(io, 2, 0, 0x04, 0x0002, 2);
    expect(phys.read8(0x00200000)).toBe(0x11);
  });

  it('routes INTx through PIRQ registers to ISA IRQs with the slot swizzle', () => {
    const b = fullBoard();
    const t = new PciTestdev(b.bus, { slot: 3 });
    t.set8(0x3d, 1); // give it an INTA# pin for the test
    expect(pciSlotPirq(3, 1)).toBe(2); // slot 3 INTA# -> PIRQC
    cfgWrite(b.io, 1, 0, 0x62, 0x0b, 1); // PIRQC -> IRQ 11
    t.setIrq(true);
    expect(b.irqs.get(11)).toEqual([true]);
    expect(b.isa.deviceInfo().pirq[2]).toEqual({ pirq: 'C', route: 11, level: true });
    cfgWrite(b.io, 1, 0, 0x62, 0x0a, 1); // re-route while high
    expect(b.irqs.get(11)).toEqual([true, false]);
    expect(b.irqs.get(10)).toEqual([true]);
    cfgWrite(b.io, 1, 0, 0x04, 0x0400, 2); // (the ISA bridge's own INTx disable is irrelevant)
    t.writeConfig(0x04, 0x0400, 2); // INTx Disable on the function
    t.setIrq(true);
    expect(b.irqs.get(10)).toEqual([true, false]);
    expect(cfgRead(b.io, 3, 0, 0x06, 2) & 0x08).toBe(0x08); // interrupt status still shows it
  });

  it('PIIX3: PIRQ registers reset to disabled, keep bit 7 and the IRQ nibble', () => {
    const { io, isa } = makeBoard();
    expect(cfgRead(io, 1, 0, 0x60, 4)).toBe(0x80808080);
    cfgWrite(io, 1, 0, 0x60, 0xffffffff, 4);
    expect(cfgRead(io, 1, 0, 0x60, 4)).toBe(0x8f8f8f8f);
    expect(isa.route(0)).toBe(null);
    cfgWrite(io, 1, 0, 0x60, 0x0b0b0a0a, 4); // SeaBIOS: 10, 10, 11, 11
    expect([0, 1, 2, 3].map((p) => isa.route(p))).toEqual([10, 10, 11, 11]);
    expect(cfgRead(io, 1, 0, 0x04, 2)).toBe(0x0000);
    expect(cfgRead(io, 1, 0, 0x4c, 1)).toBe(0x4d);
  });

  it('PIIX3: ELCR ports keep the valid bits and drive the PIC trigger modes', () => {
    const { io, elcr, isa } = makeBoard();
    io.write(0x4d0, 0xff, 1);
    io.write(0x4d1, 0xff, 1);
    expect(io.read(0x4d0, 2)).toBe(0xdef8);
    expect(elcr.at(-1)).toBe(0xdef8);
    io.write(0x4d0, 0x0c00, 2); // SeaBIOS: IRQ 10 and 11 level
    expect(elcr.at(-1)).toBe(0x0c00);
    expect(isa.levelTriggered).toBe(0x0c00);
  });

  it('reset restores QEMU\'s defaults', () => {
    const { io, bus } = fullBoard();
    cfgWrite(io, 1, 0, 0x60, 0x0b, 1);
    cfgWrite(io, 1, 1, 0x04, 0x0001, 2);
    bus.reset();
    expect(cfgRead(io, 1, 0, 0x60, 1)).toBe(0x80);
    expect(cfgRead(io, 1, 1, 0x04, 2)).toBe(0);
    expect(cfgRead(io, 1, 0, 0x0e, 1)).toBe(0x80);
  });

  it('saves and restores a function\'s configuration space', () => {
    const a = fullBoard();
    cfgWrite(a.io, 1, 1, 0x20, 0xc000, 4);
    cfgWrite(a.io, 1, 1, 0x04, 0x0001, 2);
    a.io.write(0xc004, 0xabcd0000, 4);
    const saved = a.ide.saveState();
    const b = fullBoard();
    b.ide.loadState(JSON.parse(JSON.stringify(saved)));
    expect(cfgRead(b.io, 1, 1, 0x20, 4)).toBe(0xc001);
    expect(b.io.read(0xc004, 4)).toBe(0xabcd0000);
  });
});
