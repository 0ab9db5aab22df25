// What SeaBIOS makes of QEMU's SMBIOS files, for a boot without a BIOS: it puts its own
// type 0 (BIOS information) in front of QEMU's structures (QEMU sends none), counts it in
// the entry point (structures, table length, largest structure), stores the table's
// address and computes both checksums. Measured under QEMU 7.2 with
// tests/guests/board/smbios.c: the 24-byte type 0 with handle 0, vendor "SeaBIOS", the
// release of the SeaBIOS QEMU runs, date "04/01/2014", start segment 0xE800, ROM size 0,
// characteristics "not supported" (bit 3), extension byte 2 = 0x04, release 0.0 and no
// embedded controller (0xFF 0xFF).
import { SMBIOS_EP_LENGTH, type SmbiosBuild } from './tables.js';

export const SEABIOS_VENDOR = 'SeaBIOS';
/**
 * The SeaBIOS that QEMU 7.2 runs on Debian 12 (package seabios 1.16.2-1, bios-256k.bin):
 * what Linux prints as the BIOS version in its "DMI:" line under QEMU. A direct boot
 * stands for that firmware (docs/decisions.md, "A boot without a BIOS gets what SeaBIOS
 * leaves"); tests/smbios.test.ts checks it against the installed image.
 */
export const SEABIOS_VERSION = '1.16.2-debian-1.16.2-1';
export const SEABIOS_DATE = '04/01/2014';
const SEABIOS_START_SEGMENT = 0xe800;

export interface PlacedSmbios {
  /** The 31-byte entry point, for the F segment (16-byte aligned). */
  entryPoint: Uint8Array;
  /** Type 0 and QEMU's structures, for `tablesAddr`. */
  tables: Uint8Array;
}

/** SeaBIOS's type 0 structure. */
export function seabiosType0(): Uint8Array {
  const strings = [SEABIOS_VENDOR, SEABIOS_VERSION, SEABIOS_DATE];
  const formatted = [
    0, 24, 0, 0, // type 0, length, handle 0
    1, 2, // vendor, version strings
    SEABIOS_START_SEGMENT & 0xff, SEABIOS_START_SEGMENT >>> 8,
    3, // release date string
    0, // ROM size
    0x08, 0, 0, 0, 0, 0, 0, 0, // characteristics: "not supported"
    0x00, 0x04, // extension bytes
    0, 0, // BIOS release
    0xff, 0xff, // no embedded controller
  ];
  const bytes = [...formatted];
  for (const s of strings) bytes.push(...Array.from(s, (c) => c.charCodeAt(0)), 0);
  bytes.push(0);
  return Uint8Array.from(bytes);
}

/** The entry point and tables as SeaBIOS leaves them, the tables at `tablesAddr`. */
export function placeSmbiosAsSeabios(build: SmbiosBuild, tablesAddr: number): PlacedSmbios {
  const t0 = seabiosType0();
  const tables = new Uint8Array(t0.length + build.tables.length);
  tables.set(t0, 0);
  tables.set(build.tables, t0.length);
  const ep = Uint8Array.from(build.anchor);
  const dv = new DataView(ep.buffer);
  dv.setUint16(0x08, Math.max(dv.getUint16(0x08, true), t0.length), true);
  dv.setUint16(0x16, tables.length, true);
  dv.setUint32(0x18, tablesAddr >>> 0, true);
  dv.setUint16(0x1c, dv.getUint16(0x1c, true) + 1, true);
  // The intermediate checksum covers "_DMI_" to the end; the entry point's covers all of it.
  ep[0x15] = 0;
  ep[0x15] = -sum(ep, 0x10, SMBIOS_EP_LENGTH - 0x10) & 0xff;
  ep[0x04] = 0;
  ep[0x04] = -sum(ep, 0, SMBIOS_EP_LENGTH) & 0xff;
  return { entryPoint: ep, tables };
}

function sum(b: Uint8Array, from: number, len: number): number {
  let s = 0;
  for (let i = from; i < from + len; i++) s += b[i]!;
  return s;
}
