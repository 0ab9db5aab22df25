// The ACPI tables of the board, built the way QEMU 7.2 builds them for its `pc` machine
// and handed over the same way (measured: the fw_cfg files of QEMU 7.2 read by a guest):
//
//   etc/acpi/tables  FACS (64-byte aligned, first), DSDT, FACP (rev 1, 116 bytes), APIC
//                    (MADT), HPET, WAET, RSDT; unlinked (pointers hold offsets inside the
//                    blob, checksums 0), padded to 128 KiB
//   etc/acpi/rsdp    the 20-byte ACPI 1.0 RSDP
//   etc/table-loader the BIOS linker/loader script (128-byte commands, padded to 4 KiB):
//                    allocate both files, patch the pointers, compute the checksums
//
// SeaBIOS runs the script; without a BIOS, `linkAcpiTables` runs the same script into
// guest memory (src/boot/firmware-tables.ts). OEM IDs are QEMU's ("BOCHS ", "BXPC"), since
// software keys quirks on them. The PM block is at 0x600 as QEMU's (SeaBIOS moves PMBA
// there when it finds etc/table-loader).
import { buildDsdtAml, DEFAULT_DSDT } from './dsdt.js';
import { HPET_BASE, HPET_CAPABILITIES } from '../devices/hpet.js';

export const ACPI_PM_BASE = 0x600;
export const ACPI_GPE0_BASE = 0xafe0;
export const ACPI_SMI_CMD = 0xb2;
export const ACPI_ENABLE_VALUE = 0xf1;
export const ACPI_DISABLE_VALUE = 0xf0;
export const ACPI_SCI_IRQ = 9;
export const LOCAL_APIC_BASE = 0xfee00000;
export const IO_APIC_BASE = 0xfec00000;

export const ACPI_TABLES_FILE = 'etc/acpi/tables';
export const ACPI_RSDP_FILE = 'etc/acpi/rsdp';
export const TABLE_LOADER_FILE = 'etc/table-loader';
/** QEMU pads the tables blob to this size (so its size does not depend on the tables). */
export const ACPI_TABLES_BLOB_SIZE = 0x20000;
const LOADER_BLOB_ALIGN = 0x1000;

export const LOADER_ZONE_HIGH = 1;
export const LOADER_ZONE_FSEG = 2;

export type LoaderCommand =
  | { kind: 'allocate'; file: string; align: number; zone: number }
  | { kind: 'add-pointer'; dest: string; src: string; offset: number; size: number }
  | { kind: 'add-checksum'; file: string; offset: number; start: number; length: number };

export interface AcpiConfig {
  /** RAM below 4 GiB (the PCI window starts there). */
  belowFourG: number;
  /** CMOS types of the floppy drives A: and B: (0: none; the DSDT's FDC0 lists them). */
  floppyDrives?: readonly [number, number];
  /** Bus-0 slots of the built-in PCI devices (not hot-pluggable); default host bridge, PIIX, VGA. */
  fixedSlots?: readonly number[];
  /** The number of CPUs, APIC IDs 0..N-1 (default 1). */
  cpus?: number;
}

export interface AcpiBuild {
  files: Map<string, Uint8Array>;
  loader: LoaderCommand[];
  /** Offsets of the tables inside etc/acpi/tables. */
  offsets: Record<'FACS' | 'DSDT' | 'FACP' | 'APIC' | 'HPET' | 'WAET' | 'RSDT', number>;
}

const OEM_ID = 'BOCHS ';
const OEM_TABLE_ID = 'BXPC    ';
const CREATOR_ID = 'BXPC';
const HEADER_LEN = 36;

class Blob {
  bytes: number[] = [];
  get length(): number {
    return this.bytes.length;
  }
  align(n: number): void {
    while (this.bytes.length % n) this.bytes.push(0);
  }
  u8(v: number): void {
    this.bytes.push(v & 0xff);
  }
  u16(v: number): void {
    this.u8(v);
    this.u8(v >>> 8);
  }
  u32(v: number): void {
    this.u16(v & 0xffff);
    this.u16(v >>> 16);
  }
  u64(v: bigint): void {
    this.u32(Number(v & 0xffffffffn));
    this.u32(Number(v >> 32n));
  }
  ascii(s: string): void {
    for (const c of s) this.u8(c.charCodeAt(0));
  }
  raw(b: ArrayLike<number>): void {
    for (let i = 0; i < b.length; i++) this.u8(b[i]!);
  }
  patch32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.bytes[at + i] = (v >>> (8 * i)) & 0xff;
  }
}

/** A table with the standard header (SDT); length patched by `end`, checksum left 0. */
function begin(b: Blob, sig: string, rev: number): number {
  const at = b.length;
  b.ascii(sig);
  b.u32(0); // length
  b.u8(rev);
  b.u8(0); // checksum (the loader computes it)
  b.ascii(OEM_ID);
  b.ascii(OEM_TABLE_ID);
  b.u32(1); // OEM revision
  b.ascii(CREATOR_ID);
  b.u32(1); // creator revision
  return at;
}

function end(b: Blob, at: number): number {
  const len = b.length - at;
  b.patch32(at + 4, len);
  return len;
}

export function buildAcpiTables(cfg: AcpiConfig): AcpiBuild {
  const b = new Blob();
  const loader: LoaderCommand[] = [
    { kind: 'allocate', file: ACPI_RSDP_FILE, align: 16, zone: LOADER_ZONE_FSEG },
    { kind: 'allocate', file: ACPI_TABLES_FILE, align: 64, zone: LOADER_ZONE_HIGH },
  ];
  const checksum = (at: number, len: number) =>
    loader.push({ kind: 'add-checksum', file: ACPI_TABLES_FILE, offset: at + 9, start: at, length: len });
  const pointer = (at: number, target: number) => {
    b.patch32(at, target);
    loader.push({ kind: 'add-pointer', dest: ACPI_TABLES_FILE, src: ACPI_TABLES_FILE, offset: at, size: 4 });
  };

  // FACS (ACPI 1.0 §5.2.9): no SDT header, 64 bytes, 64-byte aligned; no checksum.
  const facs = b.length;
  b.ascii('FACS');
  b.u32(64);
  while (b.length < facs + 64) b.u8(0);

  // DSDT
  const dsdt = begin(b, 'DSDT', 1);
  b.raw(buildDsdtAml({ ...DEFAULT_DSDT, belowFourG: cfg.belowFourG, floppyDrives: cfg.floppyDrives ?? [0, 0], fixedSlots: cfg.fixedSlots ?? DEFAULT_DSDT.fixedSlots, cpus: cfg.cpus }));
  checksum(dsdt, end(b, dsdt));

  // FADT (ACPI 1.0 §5.2.5, revision 1, 116 bytes)
  const fadt = begin(b, 'FACP', 1);
  const facsField = b.length;
  b.u32(0); // FIRMWARE_CTRL
  const dsdtField = b.length;
  b.u32(0); // DSDT
  b.u8(1); // INT_MODEL: multiple APIC
  b.u8(0);
  b.u16(ACPI_SCI_IRQ);
  b.u32(ACPI_SMI_CMD);
  b.u8(ACPI_ENABLE_VALUE);
  b.u8(ACPI_DISABLE_VALUE);
  b.u8(0); // S4BIOS_REQ
  b.u8(0);
  b.u32(ACPI_PM_BASE); // PM1a_EVT_BLK
  b.u32(0);
  b.u32(ACPI_PM_BASE + 4); // PM1a_CNT_BLK
  b.u32(0);
  b.u32(0); // PM2_CNT_BLK
  b.u32(ACPI_PM_BASE + 8); // PM_TMR_BLK
  b.u32(ACPI_GPE0_BASE);
  b.u32(0);
  b.u8(4); // PM1_EVT_LEN
  b.u8(2); // PM1_CNT_LEN
  b.u8(0);
  b.u8(4); // PM_TM_LEN
  b.u8(4); // GPE0_BLK_LEN
  b.u8(0);
  b.u8(0);
  b.u8(0);
  b.u16(0x0fff); // P_LVL2_LAT: C2 not supported
  b.u16(0x0fff); // P_LVL3_LAT: C3 not supported
  b.u16(0);
  b.u16(0);
  b.u8(0);
  b.u8(0);
  b.u8(0); // DAY_ALRM
  b.u8(0); // MON_ALRM
  b.u8(0x32); // CENTURY (CMOS index)
  b.u8(0);
  b.u8(0);
  b.u8(0);
  // WBINVD, PROC_C1, SLP_BUTTON, RTC_S4, USE_PLATFORM_CLOCK (QEMU's set).
  b.u32((1 << 0) | (1 << 2) | (1 << 5) | (1 << 7) | (1 << 15));
  pointer(facsField, facs);
  pointer(dsdtField, dsdt);
  checksum(fadt, end(b, fadt));

  // MADT (ACPI 1.0 §5.2.8)
  const madt = begin(b, 'APIC', 1);
  b.u32(LOCAL_APIC_BASE);
  b.u32(1); // PCAT_COMPAT: 8259s present
  for (let i = 0; i < (cfg.cpus ?? 1); i++) {
    b.raw([0, 8, i, i]); // processor local APIC: ACPI id i, APIC id i
    b.u32(1); // enabled
  }
  b.raw([1, 12, 0, 0]); // I/O APIC id 0
  b.u32(IO_APIC_BASE);
  b.u32(0); // GSI base
  // Interrupt source overrides: the PIT's IRQ 0 is GSI 2; the PCI link IRQs (and the SCI)
  // are level-triggered, active high.
  const iso = (irq: number, gsi: number, flags: number) => {
    b.raw([2, 10, 0, irq]);
    b.u32(gsi);
    b.u16(flags);
  };
  iso(0, 2, 0);
  for (const irq of [5, 9, 10, 11]) iso(irq, irq, 0x000d);
  b.raw([4, 6, 0xff, 0, 0, 1]); // local APIC NMI: all processors, LINT1
  checksum(madt, end(b, madt));

  // HPET (IA-PC HPET specification 1.0a §3.2.4)
  const hpet = begin(b, 'HPET', 1);
  b.u32(HPET_CAPABILITIES); // event timer block ID
  b.raw([0, 0, 0, 0]); // generic address: system memory
  b.u64(BigInt(HPET_BASE));
  b.u8(0); // HPET number
  b.u16(0); // minimum clock tick
  b.u8(0); // page protection
  checksum(hpet, end(b, hpet));

  // WAET (Windows ACPI Emulated devices Table): the PM timer needs one read.
  const waet = begin(b, 'WAET', 1);
  b.u32(1 << 1);
  checksum(waet, end(b, waet));

  // RSDT
  const rsdt = begin(b, 'RSDT', 1);
  for (const t of [fadt, madt, hpet, waet]) {
    const at = b.length;
    b.u32(0);
    pointer(at, t);
  }
  checksum(rsdt, end(b, rsdt));

  if (b.length > ACPI_TABLES_BLOB_SIZE) throw new Error('ACPI tables exceed their blob');
  const tables = new Uint8Array(ACPI_TABLES_BLOB_SIZE);
  tables.set(b.bytes);

  // RSDP (ACPI 1.0 §5.2.4.3)
  const r = new Blob();
  r.ascii('RSD PTR ');
  r.u8(0); // checksum
  r.ascii(OEM_ID);
  r.u8(0); // revision 0: ACPI 1.0
  r.u32(rsdt);
  loader.push({ kind: 'add-pointer', dest: ACPI_RSDP_FILE, src: ACPI_TABLES_FILE, offset: 16, size: 4 });
  loader.push({ kind: 'add-checksum', file: ACPI_RSDP_FILE, offset: 8, start: 0, length: 20 });

  const files = new Map<string, Uint8Array>([
    [ACPI_TABLES_FILE, tables],
    [ACPI_RSDP_FILE, Uint8Array.from(r.bytes)],
    [TABLE_LOADER_FILE, encodeLoader(loader)],
  ]);
  return { files, loader, offsets: { FACS: facs, DSDT: dsdt, FACP: fadt, APIC: madt, HPET: hpet, WAET: waet, RSDT: rsdt } };
}

/** The loader script in QEMU's binary form (BiosLinkerLoaderEntry, 128 bytes each). */
export function encodeLoader(cmds: readonly LoaderCommand[]): Uint8Array {
  const size = Math.ceil((cmds.length * 128) / LOADER_BLOB_ALIGN) * LOADER_BLOB_ALIGN;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  const name = (at: number, s: string) => {
    const e = new TextEncoder().encode(s);
    if (e.length >= 56) throw new Error(`loader file name too long: ${s}`);
    out.set(e, at);
  };
  cmds.forEach((c, i) => {
    const o = 128 * i;
    if (c.kind === 'allocate') {
      dv.setUint32(o, 1, true);
      name(o + 4, c.file);
      dv.setUint32(o + 60, c.align, true);
      out[o + 64] = c.zone;
    } else if (c.kind === 'add-pointer') {
      dv.setUint32(o, 2, true);
      name(o + 4, c.dest);
      name(o + 60, c.src);
      dv.setUint32(o + 116, c.offset, true);
      out[o + 120] = c.size;
    } else {
      dv.setUint32(o, 3, true);
      name(o + 4, c.file);
      dv.setUint32(o + 60, c.offset, true);
      dv.setUint32(o + 64, c.start, true);
      dv.setUint32(o + 68, c.length, true);
    }
  });
  return out;
}

/** Where the loader's allocations were placed in guest memory. */
export type Placement = Map<string, number>;

/**
 * Run the loader's pointer and checksum commands on copies of the files placed at
 * `placement` (what a BIOS does after allocating them). Returns the linked bytes.
 */
export function linkAcpiTables(build: AcpiBuild, placement: Placement): Map<string, Uint8Array> {
  const linked = new Map<string, Uint8Array>();
  for (const [n, data] of build.files) if (placement.has(n)) linked.set(n, data.slice());
  for (const c of build.loader) {
    if (c.kind === 'add-pointer') {
      const dest = linked.get(c.dest)!;
      const dv = new DataView(dest.buffer, dest.byteOffset, dest.byteLength);
      const v = dv.getUint32(c.offset, true) + placement.get(c.src)!;
      if (c.size === 4) dv.setUint32(c.offset, v >>> 0, true);
      else throw new Error(`loader pointer size ${c.size} not used by these tables`);
    } else if (c.kind === 'add-checksum') {
      const f = linked.get(c.file)!;
      f[c.offset] = 0;
      let sum = 0;
      for (let i = c.start; i < c.start + c.length; i++) sum += f[i]!;
      f[c.offset] = -sum & 0xff;
    }
  }
  return linked;
}

/** The used length of the tables blob (without its padding). */
export function acpiTablesLength(build: AcpiBuild): number {
  const t = build.files.get(ACPI_TABLES_FILE)!;
  const rsdt = build.offsets.RSDT;
  return rsdt + new DataView(t.buffer, t.byteOffset).getUint32(rsdt + 4, true);
}
