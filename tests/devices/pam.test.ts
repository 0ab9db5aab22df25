import { describe, it, expect } from 'vitest';
import { cfgRead, cfgWrite, makeBoard } from './pci-support.js';
import { pamSegment } from '../../src/devices/pci/pam.js';

/** Segment bases in PAM register order: 0xF0000, then 0xC0000 + 16 KiB steps. */
const SEGMENTS = Array.from({ length: 13 }, (_, i) => pamSegment(i));

/** Set the 2-bit attribute of segment i through PCI config space like a BIOS would. */
function setPam(io: ReturnType<typeof makeBoard>['io'], i: number, attr: number) {
  const reg = 0x59 + ((i + 1) >> 1);
  const shift = i & 1 ? 0 : 4;
  const old = cfgRead(io, 0, 0, reg, 1);
  cfgWrite(io, 0, 0, reg, (old & ~(3 << shift)) | (attr << shift), 1);
}

describe('i440FX PAM routing of 0xC0000-0xFFFFF', () => {
  it('at reset every segment reads the ROM side and ignores writes', () => {
    const { phys, io } = makeBoard();
    expect(cfgRead(io, 0, 0, 0x59, 4) >>> 8).toBe(0); // PAM0-2
    expect(cfgRead(io, 0, 0, 0x5c, 4)).toBe(0);
    expect(phys.read8(0xc0000)).toBe(0xc3); // pc.rom
    expect(phys.read8(0xdffff)).toBe(0xc3);
    expect(phys.read8(0xe0000)).toBe(0xb1); // BIOS alias
    expect(phys.read8(0xffff0)).toBe(0xb1);
    phys.write8(0xf0000, 0x99);
    expect(phys.read8(0xf0000)).toBe(0xb1);
  });

  it('routes reads and writes of each segment independently, as the attribute says', () => {
    for (let i = 0; i < 13; i++) {
      const b = makeBoard();
      const { base, size } = SEGMENTS[i]!;
      const romByte = base >= 0xe0000 ? 0xb1 : 0xc3;
      const ramAt = (pa: number) => b.phys.u8[b.ram.offset + pa];
      // 1: read DRAM, write to ROM (ignored)
      setPam(b.io, i, 1);
      expect(b.phys.read8(base)).toBe(0x11);
      b.phys.write8(base, 0x21);
      expect(ramAt(base)).toBe(0x11);
      // 2: "write-only" is DRAM both ways under QEMU 7.2 (the datasheet reads ROM)
      setPam(b.io, i, 2);
      expect(b.phys.read8(base + size - 1)).toBe(ramAt(base + size - 1));
      b.phys.write8(base + size - 1, 0x22);
      expect(ramAt(base + size - 1)).toBe(0x22);
      expect(b.phys.read8(base + size - 1)).toBe(0x22);
      // 3: DRAM both ways
      setPam(b.io, i, 3);
      expect(b.phys.read8(base + size - 1)).toBe(0x22);
      b.phys.write8(base, 0x23);
      expect(b.phys.read8(base)).toBe(0x23);
      // 0 again: back to ROM, the shadow copy stays in DRAM underneath
      setPam(b.io, i, 0);
      expect(b.phys.read8(base)).toBe(romByte);
      // neighbouring segments are untouched
      for (let j = 0; j < 13; j++) {
        if (j === i) continue;
        const n = SEGMENTS[j]!;
        expect(b.phys.read8(n.base)).toBe(n.base >= 0xe0000 ? 0xb1 : 0xc3);
      }
    }
  });

  it('follows SeaBIOS\'s make_bios_writable / make_bios_readonly sequence', () => {
    const { io, phys, ram } = makeBoard();
    // dword read-modify-write at 0x58/0x5C as SeaBIOS does, keeping 0x58 (DRAMT)
    cfgWrite(io, 0, 0, 0x58, 0x33333000 | cfgRead(io, 0, 0, 0x58, 1), 4);
    cfgWrite(io, 0, 0, 0x5c, 0x33333333, 4);
    expect(cfgRead(io, 0, 0, 0x59, 1)).toBe(0x30);
    phys.write32(0xffff0, 0x12345678);
    phys.write32(0xc8000, 0xcafef00d);
    expect(phys.read32(0xffff0)).toBe(0x12345678);
    cfgWrite(io, 0, 0, 0x59, 0x10, 1); // read-only shadow of 0xF0000
    phys.write32(0xffff0, 0);
    expect(phys.read32(0xffff0)).toBe(0x12345678);
    expect(phys.u8[ram.offset + 0xffff0]).toBe(0x78);
  });

  it('keeps only the attribute bits of the PAM registers', () => {
    const { io } = makeBoard();
    cfgWrite(io, 0, 0, 0x59, 0xff, 1);
    expect(cfgRead(io, 0, 0, 0x59, 1)).toBe(0x30);
    cfgWrite(io, 0, 0, 0x5a, 0xff, 1);
    expect(cfgRead(io, 0, 0, 0x5a, 1)).toBe(0x33);
  });

  it('reports read-routing changes so translated code can be dropped', () => {
    const { io, remaps } = makeBoard();
    remaps.length = 0;
    setPam(io, 0, 1); // read enable only: reads move to DRAM
    expect(remaps).toEqual([[0xf0000, 0x10000]]);
    setPam(io, 0, 3); // reads stay on DRAM
    expect(remaps).toEqual([[0xf0000, 0x10000]]);
  });

  it('a system reset keeps PAM as it was (QEMU 7.2: no reset handler; SeaBIOS relies on it)', () => {
    const { io, phys, host, pam } = makeBoard();
    setPam(io, 0, 3);
    phys.write8(0xf0000, 0x77);
    host.reset();
    expect(pam.pam(0)).toBe(3);
    expect(phys.read8(0xf0000)).toBe(0x77);
  });
});

describe('i440FX SMRAM window 0xA0000-0xBFFFF', () => {
  it('is closed at reset: the window belongs to VGA', () => {
    const { io, phys, vgaWrites } = makeBoard();
    expect(cfgRead(io, 0, 0, 0x72, 1)).toBe(0x02);
    expect(phys.read8(0xb8000)).toBe(0x56);
    phys.write8(0xb8001, 1);
    expect(vgaWrites).toEqual([0x18001]);
  });

  it('D_OPEN shows DRAM, closing gives it back to VGA', () => {
    const { io, phys, ram } = makeBoard();
    cfgWrite(io, 0, 0, 0x72, 0x4a, 1); // SeaBIOS: D_OPEN | G_SMRAME | C_BASE_SEG
    expect(phys.read8(0xa8000)).toBe(0x11);
    phys.write8(0xa8000, 0x5a);
    expect(phys.u8[ram.offset + 0xa8000]).toBe(0x5a);
    cfgWrite(io, 0, 0, 0x72, 0x0a, 1);
    expect(phys.read8(0xa8000)).toBe(0x56);
  });

  it('C_BASE_SEG is fixed; D_LCK closes the window and freezes it until reset', () => {
    const { io, phys, host } = makeBoard();
    cfgWrite(io, 0, 0, 0x72, 0x47, 1);
    expect(cfgRead(io, 0, 0, 0x72, 1)).toBe(0x42);
    cfgWrite(io, 0, 0, 0x72, 0x5a, 1); // D_OPEN | D_LCK | G_SMRAME
    expect(cfgRead(io, 0, 0, 0x72, 1)).toBe(0x1a);
    expect(phys.read8(0xa0000)).toBe(0x56);
    cfgWrite(io, 0, 0, 0x72, 0x4a, 1);
    expect(cfgRead(io, 0, 0, 0x72, 1)).toBe(0x1a);
    host.reset();
    // The reset clears D_LCK (datasheet) and keeps the rest (QEMU keeps the register).
    expect(cfgRead(io, 0, 0, 0x72, 1)).toBe(0x0a);
    cfgWrite(io, 0, 0, 0x72, 0x4a, 1);
    expect(cfgRead(io, 0, 0, 0x72, 1)).toBe(0x4a);
  });

  it('register 0x57 holds the RAM size in 8 MiB units', () => {
    const { io } = makeBoard();
    expect(cfgRead(io, 0, 0, 0x57, 1)).toBe(0);
  });
});

describe('PAM segments outside every ROM window (issue 9)', () => {
  it('read 0 and drop writes when not routed to DRAM, as QEMU 7.2\'s unassigned memory (a BIOS copying option ROMs copies zeros)', async () => {
    const { PhysicalMemory } = await import('../../src/memory/physical-memory.js');
    const { PamController } = await import('../../src/devices/pci/pam.js');
    const phys = new PhysicalMemory(1 << 20);
    const ram = phys.allocate('pc.ram', 1 << 20);
    phys.u8.fill(0x11, ram.offset, ram.offset + (1 << 20));
    const pam = new PamController(phys, { ram, rom: [], vga: { name: 'vga', read: () => 0x56, write: () => {} }, onRemap: () => {} });
    expect(phys.read8(0xc0000)).toBe(0);
    expect(phys.read32(0xdfffc)).toBe(0);
    phys.write8(0xc0000, 0x99);
    expect(phys.read8(0xc0000)).toBe(0);
    pam.setPam(1, 3); // 0xC0000-0xC7FFF to DRAM: the RAM underneath shows
    expect(phys.read8(0xc0000)).toBe(0x11);
  });
});
