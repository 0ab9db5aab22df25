// QEMU's kvmvapic device on port 0x7E (src/devices/kvmvapic.ts), driven by a small ROM of
// our own in the shape of kvmvapic.bin (header, init code reporting its state block, one
// hypercall). What QEMU's real ROM leaves under SeaBIOS is compared with QEMU 7.2 by the
// board guest (tests/devices/board-guests.test.ts, board-vapic.elf); the CLI's lookup of
// kvmvapic.bin is checked here too.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { SEG_CS } from '../../src/cpu/instr.js';
import { kvmvapicRom } from '../../cli/firmware.js';

const ROM_AT = 0xca800;
/** PAM segment 3 is 0xC8000-0xCBFFF. */
const ROM_SEGMENT = 3;

/** 2 KiB: 55 AA, 4 blocks; at 3: mov ax, 0x20; out 0x7e, ax; hlt; the state at 0x20; a vmcall at 0x100. */
function romImage(blocks = 4): Uint8Array {
  const rom = new Uint8Array(2048);
  rom.set([0x55, 0xaa, blocks, 0xb8, 0x20, 0x00, 0xe7, 0x7e, 0xf4], 0);
  rom.set(Array.from('kvm aPiC', (c) => c.charCodeAt(0)), 0x20);
  rom.set([0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1], 0x100);
  rom.set([0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xd9], 0x200); // AMD's vmmcall
  return rom;
}

/** A board without a BIOS (PAM: DRAM everywhere), the ROM at 0xCA800, its init code run. */
function runRomInit(rom = romImage()): PcMachine {
  const m = new PcMachine({ memoryMiB: 32 });
  m.writePhysical(ROM_AT, rom);
  m.cpu.loadSegmentReal(SEG_CS, ROM_AT >>> 4);
  m.cpu.eip = 3;
  m.cpu.eflags &= ~0x200;
  m.cpu.updateHflags();
  expect(m.run(100).kind).toBe('halted-forever');
  return m;
}

describe('kvmvapic (port 0x7E)', () => {
  it('reads all ones at 0x7E, and 0 for 16- and 32-bit reads at 0x7F (QEMU: unaligned, invalid)', () => {
    const m = new PcMachine({ memoryMiB: 32 });
    expect([1, 2, 4].map((s) => m.io.read(0x7e, s))).toEqual([0xff, 0xffff, 0xffffffff]);
    expect([1, 2, 4].map((s) => m.io.read(0x7f, s))).toEqual([0xff, 0, 0]);
  });

  it('on the ROM\'s 16-bit report, finds its state in the block of the OUT, maps its pages writable and patches the hypercalls', () => {
    const m = runRomInit();
    expect(m.vapic.info()).toMatchObject({ standby: true, romState: ROM_AT + 0x20, romSize: 2048, romWritable: { base: 0xca000, size: 0x1000 } });
    expect(Array.from(m.readPhysical(ROM_AT + 0x105, 3))).toEqual([0x90, 0xe7, 0x7e]);
    expect(Array.from(m.readPhysical(ROM_AT + 0x205, 3))).toEqual([0x90, 0xe7, 0x7e]);
    // The BIOS write-protects the segment: the ROM's pages stay writable DRAM, the rest not.
    m.pam.setPam(ROM_SEGMENT, 1);
    m.phys.write8(ROM_AT + 0x300, 0x5a);
    m.phys.write8(0xcb000, 0x5a);
    m.phys.write8(0xc9000, 0x5a);
    expect([m.phys.read8(ROM_AT + 0x300), m.phys.read8(0xcb000), m.phys.read8(0xc9000)]).toEqual([0x5a, 0, 0]);
    expect(m.pam.info().ramOverlay).toEqual({ base: 0xca000, size: 0x1000 });
  });

  it('keeps the state address of the first report; a later 16-bit write only patches again', () => {
    const m = runRomInit();
    m.writePhysical(ROM_AT + 0x105, Uint8Array.of(0x0f, 0x01, 0xc1));
    m.io.write(0x7f, 0x40, 2); // unaligned: dropped
    expect(m.readPhysical(ROM_AT + 0x105, 1)[0]).toBe(0x0f);
    m.io.write(0x7e, 0, 4); // the patched hypercall: nothing to do here
    expect(m.readPhysical(ROM_AT + 0x105, 1)[0]).toBe(0x0f);
    m.io.write(0x7e, 0x40, 2);
    expect(m.vapic.info().romState).toBe(ROM_AT + 0x20);
    expect(Array.from(m.readPhysical(ROM_AT + 0x105, 3))).toEqual([0x90, 0xe7, 0x7e]);
  });

  it('with a ROM size of 0 forgets the report and maps nothing', () => {
    const m = runRomInit(romImage(0));
    expect(m.vapic.info()).toMatchObject({ standby: false, romState: 0, romWritable: null });
    expect(m.readPhysical(ROM_AT + 0x105, 1)[0]).toBe(0x0f);
  });

  it('on an 8-bit write relocates the ROM to where it runs and records the APIC\'s virtual TPR address', () => {
    const rom = romImage();
    const dv = new DataView(rom.buffer);
    dv.setUint32(0x28, 0x20, true); // linked at 0x20 (state vaddr)
    dv.setUint32(0x2c, 0x60, true); // fixup list from vaddr 0x60 ...
    dv.setUint32(0x30, 0x68, true); // ... to 0x68: two entries (vaddr = ROM offset here)
    dv.setUint32(0x60, 0x80, true); // state-relative offsets of the dwords to relocate
    dv.setUint32(0x64, 0x84, true);
    dv.setUint32(0xa0, 0x1000, true);
    dv.setUint32(0xa4, 0x2000, true);
    const m = runRomInit(rom);
    m.io.write(0x7e, 0, 1);
    const delta = ROM_AT + 0x20 - 0x20;
    const after = new DataView(m.readPhysical(ROM_AT, 0x100).buffer);
    expect([after.getUint32(0xa0, true), after.getUint32(0xa4, true)]).toEqual([0x1000 + delta, 0x2000 + delta]);
    // Paging is off: 0xFEE00000 maps itself; VCPU shift 7.
    expect(after.getUint32(0x40, true)).toBe(0xfee00080);
    expect(after.getUint32(0x3c, true)).toBe(7);
  });

  it('forgets the report at a reset and keeps the ROM writable (QEMU leaves its alias mapped)', () => {
    const m = runRomInit();
    m.reset('test');
    expect(m.vapic.info()).toMatchObject({ standby: false, romState: 0, romWritable: { base: 0xca000, size: 0x1000 } });
    expect(m.pam.info().ramOverlay).toEqual({ base: 0xca000, size: 0x1000 });
  });

  it('is offered to the BIOS as fw_cfg genroms/kvmvapic.bin when there is one', () => {
    const bios = new Uint8Array(65536);
    const withBios = new PcMachine({ memoryMiB: 32, bios, kvmvapicRom: romImage() });
    expect(withBios.fwCfg.item('genroms/kvmvapic.bin')?.length).toBe(2048);
    expect(new PcMachine({ memoryMiB: 32, kvmvapicRom: romImage() }).fwCfg.item('genroms/kvmvapic.bin')).toBeNull();
  });

  it('the CLI takes kvmvapic.bin from the firmware directories, and notes once when it is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-fw-'));
    expect(kvmvapicRom([dir])).toEqual({ rom: null, note: expect.stringContaining(`kvmvapic.bin not found in ${dir}`) });
    writeFileSync(join(dir, 'kvmvapic.bin'), romImage());
    const found = kvmvapicRom([dir]);
    expect(found.note).toBeNull();
    expect(found.rom?.length).toBe(2048);
  });
});
