// The ACPI tables and their AML: the encoder's primitives, the loader script linking the
// tables as a BIOS does, and the DSDT accepted by the ACPICA disassembler (iasl, Debian's
// acpica-tools) when it is installed. What a guest sees of them is compared with QEMU in
// tests/devices/board-guests.test.ts (board-acpi.elf).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eisaId, int, nameString, pkgLength, resourceTemplate, ioPort } from '../../src/acpi/aml.js';
import {
  ACPI_RSDP_FILE, ACPI_TABLES_FILE, ACPI_TABLES_BLOB_SIZE, TABLE_LOADER_FILE, buildAcpiTables, linkAcpiTables,
} from '../../src/acpi/tables.js';
import { PcMachine } from '../../src/machine/pc-machine.js';

const haveIasl = spawnSync('which', ['iasl']).status === 0;

describe('AML encoder', () => {
  it('encodes package lengths, names, integers and EISA IDs as ACPI 6.4 chapter 20 says', () => {
    expect(pkgLength(0x3e)).toEqual([0x3f]);
    expect(pkgLength(0x3f)).toEqual([0x41, 0x04]); // 0x41 bytes in all: two-byte form
    expect(pkgLength(0x1000)).toEqual([0x83, 0x00, 0x01]); // 0x1003 bytes: three-byte form
    expect(nameString('\\_SB.PCI0')).toEqual([0x5c, 0x2e, 0x5f, 0x53, 0x42, 0x5f, 0x50, 0x43, 0x49, 0x30]);
    expect(nameString('PCI0.S08.P40C')[0]).toBe(0x2f);
    expect(nameString('RTC')).toEqual([0x52, 0x54, 0x43, 0x5f]);
    expect(int(0)).toEqual([0x00]);
    expect(int(1)).toEqual([0x01]);
    expect(int(0x0b)).toEqual([0x0a, 0x0b]);
    expect(int(0xafe0)).toEqual([0x0b, 0xe0, 0xaf]);
    expect(int(0xfed00000)).toEqual([0x0c, 0x00, 0x00, 0xd0, 0xfe]);
    expect(eisaId('PNP0A03')).toEqual([0x0c, 0x41, 0xd0, 0x0a, 0x03]);
    expect(resourceTemplate(ioPort(0x70, 0x70, 1, 8))).toEqual([0x11, 0x0d, 0x0a, 0x0a, 0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x08, 0x79, 0x00]);
    expect(() => nameString('TOOLONG')).toThrow();
  });
});

describe('ACPI tables for the fw_cfg loader', () => {
  const build = buildAcpiTables({ belowFourG: 128 << 20 });

  it('serves QEMU\'s three files, the tables padded to 128 KiB and the script to 4 KiB', () => {
    expect(build.files.get(ACPI_TABLES_FILE)!.length).toBe(ACPI_TABLES_BLOB_SIZE);
    expect(build.files.get(ACPI_RSDP_FILE)!.length).toBe(20);
    expect(build.files.get(TABLE_LOADER_FILE)!.length).toBe(4096);
    const m = new PcMachine({ memoryMiB: 32 });
    const names = m.fwCfg.info().files.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining([ACPI_TABLES_FILE, ACPI_RSDP_FILE, TABLE_LOADER_FILE, 'etc/system-states']));
  });

  it('links into memory with every pointer and checksum right', () => {
    const base = 0x7fe0000;
    const rsdpAt = 0xf5a00;
    const linked = linkAcpiTables(build, new Map([[ACPI_TABLES_FILE, base], [ACPI_RSDP_FILE, rsdpAt]]));
    const t = linked.get(ACPI_TABLES_FILE)!;
    const r = linked.get(ACPI_RSDP_FILE)!;
    const sum = (b: Uint8Array, s: number, n: number) => b.subarray(s, s + n).reduce((a, x) => a + x, 0) & 0xff;
    expect(sum(r, 0, 20)).toBe(0);
    const dv = new DataView(t.buffer);
    const at = (addr: number) => addr - base;
    const sig = (addr: number) => String.fromCharCode(...t.subarray(at(addr), at(addr) + 4));
    const rsdt = new DataView(r.buffer).getUint32(16, true);
    expect(sig(rsdt)).toBe('RSDT');
    const entries = (dv.getUint32(at(rsdt) + 4, true) - 36) / 4;
    const sigs: string[] = [];
    for (let i = 0; i < entries; i++) {
      const a = dv.getUint32(at(rsdt) + 36 + 4 * i, true);
      sigs.push(sig(a));
      expect(sum(t, at(a), dv.getUint32(at(a) + 4, true))).toBe(0);
    }
    expect(sigs).toEqual(['FACP', 'APIC', 'HPET', 'WAET']);
    const fadt = build.offsets.FACP;
    expect(sig(dv.getUint32(fadt + 36, true))).toBe('FACS');
    expect(sig(dv.getUint32(fadt + 40, true))).toBe('DSDT');
    expect(dv.getUint32(fadt + 56, true)).toBe(0x600); // PM1a_EVT_BLK
    expect(dv.getUint32(fadt + 64, true)).toBe(0x604); // PM1a_CNT_BLK
    expect(dv.getUint32(fadt + 76, true)).toBe(0x608); // PM_TMR_BLK
  });

  it.skipIf(!haveIasl && !process.env.CI)('has a DSDT the ACPICA disassembler reads without errors, with the objects Linux needs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-dsdt-'));
    const t = build.files.get(ACPI_TABLES_FILE)!;
    const d = build.offsets.DSDT;
    const len = new DataView(t.buffer).getUint32(d + 4, true);
    // A valid checksum, as the loader would leave it.
    const dsdt = t.slice(d, d + len);
    dsdt[9] = -dsdt.reduce((a, x) => a + x, 0) & 0xff;
    writeFileSync(join(dir, 'dsdt.aml'), dsdt);
    const r = spawnSync('iasl', ['-d', join(dir, 'dsdt.aml')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/error/i);
    const dsl = readFileSync(join(dir, 'dsdt.dsl'), 'utf8');
    for (const want of ['Name (_S3, Package (0x04)', 'Name (_S5, Package (0x04)', 'Device (PCI0)', 'EisaId ("PNP0103")',
      'Memory32Fixed (ReadOnly,', 'Device (LNKA)', 'Processor (C000', 'Device (KBD)', 'Device (COM1)',
      // QEMU's hot-plug namespace: slots 3-31 with _SUN and _EJ0 (Linux's acpiphp registers
      // them), the GPE methods (Linux enables GPEs 1 and 2), the register blocks.
      'Device (S18)', 'Name (_SUN, 0x03)', 'Device (SF8)', 'Name (_SUN, 0x1F)', 'Method (_EJ0, 1', 'Method (_E01, 0',
      'Method (\\_GPE._E02, 0', 'OperationRegion (PCST, SystemIO, 0xAE00, 0x08)', 'OperationRegion (PRST, SystemIO, 0xAF00, 0x0C)']) {
      expect(dsl).toContain(want);
    }
    // The slots of the built-in devices (host bridge, PIIX, VGA) cannot be ejected.
    const slotText = (n: string) => dsl.slice(dsl.indexOf(`Device (${n})`), dsl.indexOf('Device (S', dsl.indexOf(`Device (${n})`) + 1));
    for (const slot of ['S00', 'S08', 'S10']) expect(slotText(slot)).not.toContain('_EJ0');
    expect(slotText('S18')).toContain('_EJ0');
    // Recompiling the disassembly must succeed too.
    const c = spawnSync('iasl', ['-p', join(dir, 'again'), join(dir, 'dsdt.dsl')], { encoding: 'utf8' });
    expect(c.status).toBe(0);
  });
});

describe('the DSDT as QEMU 7.2 builds it for this board', () => {
  it('is as long as QEMU\'s under -nodefaults -vga std (0x18E5 bytes), so the tables after it sit where QEMU puts them', () => {
    // QEMU's length, read by Linux ("ACPI: DSDT ... 0018E5"); the AML itself is compared
    // with QEMU's by board-acpi.elf (length and hash).
    const b = buildAcpiTables({ belowFourG: 128 << 20 });
    const t = b.files.get(ACPI_TABLES_FILE)!;
    expect(new DataView(t.buffer).getUint32(b.offsets.DSDT + 4, true)).toBe(0x18e5);
  });
});

describe('the floppy controller in the DSDT (QEMU 7.2: always there, a FLPx per drive)', () => {
  /** The bytes of Device (FDC0) in the DSDT of a board with these CMOS drive types. */
  function fdc0(drives: [number, number]): string {
    const b = buildAcpiTables({ belowFourG: 128 << 20, floppyDrives: drives });
    const t = Buffer.from(b.files.get(ACPI_TABLES_FILE)!);
    const at = t.indexOf('FDC0', b.offsets.DSDT);
    // ExtOpPrefix DeviceOp, a two-byte PkgLength, then the name.
    expect(t[at - 4]).toBe(0x5b);
    const len = (t[at - 2]! & 0x0f) | (t[at - 1]! << 4);
    return t.subarray(at - 4, at - 2 + len).toString('hex');
  }

  it('with no drive: PNP0700 with QEMU\'s _CRS (0x3F2-0x3F5, 0x3F7, IRQ 6, DMA 2) and an empty _FDE, byte for byte', () => {
    // QEMU 7.2 -nodefaults: /sys/firmware/acpi/tables/DSDT read by Linux.
    expect(fdc0([0, 0])).toBe('5b824e044644433008' + '5f4849440c41d00700' +
      '085f435253111b0a184701f203f2030004' + '4701f703f7030001' + '224000' + '2a0400' + '7900' +
      '085f4644451117' + '0a14' + '00'.repeat(16) + '02000000');
  });

  it('with a 2.88 MB drive A: and a 1.44 MB drive B: as QEMU lists them (_FDI with the drive type\'s limits)', () => {
    const hex = fdc0([5, 4]);
    const fdi = (unit: number, type: number, cyl: number, sec: number) =>
      Buffer.from([0x12, 0x20, 0x10, ...[unit, type, cyl, sec, 1, 0xaf, 2, 0x25, 2, 0x12, 0x1b, 0xff, 0x6c, 0xf6, 0x0f, 8]
        .flatMap((v) => (v === 0 ? [0] : v === 1 ? [1] : [0x0a, v]))]).toString('hex');
    expect(hex).toContain(Buffer.from('FLPA').toString('hex') + '085f414452' + '00' + '085f464449' + fdi(0, 5, 0x4f, 0x30));
    expect(hex).toContain(Buffer.from('FLPB').toString('hex') + '085f414452' + '01' + '085f464449' + fdi(1, 4, 0x52, 0x18));
    expect(hex.endsWith('01000000' + '01000000' + '00'.repeat(8) + '02000000')).toBe(true);
  });
});
