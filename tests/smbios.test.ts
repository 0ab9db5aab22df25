// The SMBIOS tables of the board (src/smbios): QEMU 7.2's fw_cfg files for every RAM size
// (types 16, 17 and 19 follow it), compared with a live QEMU through the board guest
// (tests/guests/board/smbios.c, whose 128 MiB output is also compared in
// tests/devices/board-guests.test.ts), and SeaBIOS's type 0 that a boot without a BIOS
// puts in front of them.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { skipWithoutQemu } from './support/qemu.js';
import { runOursGuest, runQemuGuest } from './support/board-guest.js';
import { buildSmbiosTables } from '../src/smbios/tables.js';
import { SEABIOS_DATE, SEABIOS_VERSION, placeSmbiosAsSeabios, seabiosType0 } from '../src/smbios/seabios.js';
import { PcMachine } from '../src/machine/pc-machine.js';

describe('SMBIOS tables', () => {
  // Sizes around the rules: the smallest RAM, a size that is not a power of two, the
  // largest the board takes.
  for (const mib of [2, 129, 2047]) {
    it.skipIf(skipWithoutQemu())(`with -m ${mib}: the fw_cfg files and the tables in memory are QEMU's, booted directly`, async () => {
      const q = await runQemuGuest('smbios', ['-cpu', 'pentium2', '-m', String(mib)]);
      const ours = await runOursGuest('smbios', { args: ['-m', String(mib)] });
      expect(q.out).toContain('failures: 0');
      expect(ours.out).toBe(q.out);
    }, 120_000);
  }

  it('ends every structure with its strings and a NUL, and sizes the entry point from them', () => {
    const b = buildSmbiosTables({ ramSize: 128 << 20, cpuSignature: 0x652, cpuFeatures: 0x0101fbfd });
    const dv = new DataView(b.anchor.buffer);
    expect(dv.getUint16(0x16, true)).toBe(b.tables.length);
    expect(dv.getUint16(0x1c, true)).toBe(8);
    // Type 32 has no strings: two NULs after its 11 bytes, then type 127 and its two NULs.
    expect(Array.from(b.tables.subarray(-6))).toEqual([0x7f, 4, 0x00, 0x7f, 0, 0]);
    const placed = placeSmbiosAsSeabios(b, 0xf5b00);
    const sum = (a: Uint8Array, from: number, n: number) => a.subarray(from, from + n).reduce((x, y) => x + y, 0) & 0xff;
    expect(sum(placed.entryPoint, 0, 31)).toBe(0);
    expect(sum(placed.entryPoint, 0x10, 15)).toBe(0);
    expect(new DataView(placed.entryPoint.buffer).getUint32(0x18, true)).toBe(0xf5b00);
    expect(placed.tables.length).toBe(b.tables.length + seabiosType0().length);
  });

  it('is served on fw_cfg as etc/smbios/smbios-anchor and etc/smbios/smbios-tables', () => {
    const m = new PcMachine({ memoryMiB: 64 });
    const files = m.fwCfg.info().files.filter((f) => f.name.startsWith('etc/smbios/'));
    expect(files.map((f) => [f.name, f.size])).toEqual([['etc/smbios/smbios-anchor', 31], ['etc/smbios/smbios-tables', 321]]);
  });

  // The type 0 of a boot without a BIOS names the SeaBIOS that QEMU runs: check the
  // release string against Debian's images (QEMU's default bios-256k.bin and bios.bin).
  for (const image of ['/usr/share/seabios/bios-256k.bin', '/usr/share/seabios/bios.bin']) {
    it.skipIf(!existsSync(image))(`names the installed SeaBIOS release (${image})`, () => {
      const text = readFileSync(image, 'latin1');
      expect(text).toContain(`\0${SEABIOS_VERSION}\0`);
      expect(text).toContain(`\0${SEABIOS_DATE}\0`);
    });
  }
});
