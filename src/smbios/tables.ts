// The SMBIOS tables QEMU 7.2's `pc-i440fx-7.2` machine hands the BIOS (SMBIOS 2.8, the
// 32-bit entry point), measured byte for byte with tests/guests/board/smbios.c:
//
//   etc/smbios/smbios-anchor  the 31-byte entry point, table address and checksums left 0
//                             (the BIOS fills them when it places the tables)
//   etc/smbios/smbios-tables  type 1 (system), 3 (chassis), 4 (processor, one per CPU),
//                             16 (physical memory array), 17 (memory device, one per
//                             16 GiB), 19 (memory array mapped address), 32 (system boot)
//                             and 127 (end of table); no type 0: the BIOS adds its own
//
// Strings are QEMU's defaults without -smbios options (manufacturer "QEMU", the machine's
// long name and its versioned type name); the UUID is all zeros (no -uuid); handles are
// type << 8 plus the instance. SeaBIOS copies the tables to the F segment (or high memory)
// and prepends its type 0; src/smbios/seabios.ts does the same for a boot without a BIOS.
import type { FwCfg } from '../devices/fw-cfg.js';

export const SMBIOS_ANCHOR_FILE = 'etc/smbios/smbios-anchor';
export const SMBIOS_TABLES_FILE = 'etc/smbios/smbios-tables';

/** What QEMU's `pc-i440fx-7.2` names itself in types 1, 3 and 4. */
export const SMBIOS_MANUFACTURER = 'QEMU';
export const SMBIOS_PRODUCT = 'Standard PC (i440FX + PIIX, 1996)';
export const SMBIOS_MACHINE_VERSION = 'pc-i440fx-7.2';

/** The 2.x (32-bit) entry point: "_SM_" ... "_DMI_" ... (SMBIOS 3.6 §5.2.1). */
export const SMBIOS_EP_LENGTH = 0x1f;
const SMBIOS_MAJOR = 2;
const SMBIOS_MINOR = 8;

/** QEMU's processor speed (MHz) in type 4, with no -smbios type=4,max-speed=. */
const CPU_SPEED_MHZ = 2000;
/** QEMU splits RAM into DIMMs of at most this size (type 17 entries). */
const MAX_DIMM_SIZE = 16 * 1024 * 1024 * 1024;

export interface SmbiosConfig {
  /** RAM in bytes (all below 4 GiB on this board). */
  ramSize: number;
  /** CPUID.1 EAX and EDX of the processor: type 4's processor ID, as QEMU copies them. */
  cpuSignature: number;
  cpuFeatures: number;
}

export interface SmbiosBuild {
  /** etc/smbios/smbios-anchor */
  anchor: Uint8Array;
  /** etc/smbios/smbios-tables */
  tables: Uint8Array;
}

/** One structure: the formatted area (type, length and handle filled in) and its strings. */
class Structure {
  private readonly bytes: number[];
  private readonly strings: string[] = [];

  constructor(type: number, handle: number) {
    this.bytes = [type, 0, handle & 0xff, handle >>> 8];
  }
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.u8(0);
    return this;
  }
  /** A string field: its number in the string set (0: none). */
  str(s: string | null): this {
    if (s === null || s === '') return this.u8(0);
    this.strings.push(s);
    return this.u8(this.strings.length);
  }
  /** The formatted area, then each string and its NUL, then the closing NUL (two NULs without strings). */
  encode(): number[] {
    const out = [...this.bytes];
    out[1] = out.length;
    if (this.strings.length === 0) return [...out, 0, 0];
    for (const s of this.strings) {
      for (const c of s) out.push(c.charCodeAt(0) & 0xff);
      out.push(0);
    }
    out.push(0);
    return out;
  }
}

const TYPE_SYSTEM = 1;
const TYPE_CHASSIS = 3;
const TYPE_PROCESSOR = 4;
const TYPE_MEMORY_ARRAY = 16;
const TYPE_MEMORY_DEVICE = 17;
const TYPE_MEMORY_ARRAY_MAPPED = 19;
const TYPE_BOOT_INFO = 32;
const TYPE_END = 127;
const NO_HANDLE = 0xfffe;
const NOT_PROVIDED = 0xffff;

function handle(type: number, instance: number): number {
  return (type << 8) + instance;
}

export function buildSmbiosTables(cfg: SmbiosConfig): SmbiosBuild {
  const structs: Structure[] = [];

  // Type 1: system information. Wake-up type 6: power switch.
  structs.push(new Structure(TYPE_SYSTEM, handle(TYPE_SYSTEM, 0))
    .str(SMBIOS_MANUFACTURER).str(SMBIOS_PRODUCT).str(SMBIOS_MACHINE_VERSION).str(null)
    .zeros(16) // UUID: not set
    .u8(6).str(null).str(null));

  // Type 3: chassis "other" (1); boot-up, power-supply and thermal state safe (3),
  // security status unknown (2).
  structs.push(new Structure(TYPE_CHASSIS, handle(TYPE_CHASSIS, 0))
    .str(SMBIOS_MANUFACTURER).u8(1).str(SMBIOS_MACHINE_VERSION).str(null).str(null)
    .u8(3).u8(3).u8(3).u8(2)
    .u32(0) // OEM-defined
    .u8(0).u8(0) // height, power cords
    .u8(0).u8(0) // no contained elements
    .str(null)); // SKU

  // Type 4: one per CPU (one here). Central processor (3), family "other" (1), processor
  // ID = CPUID.1 EAX, EDX; CPU enabled and populated (0x41), upgrade "other" (1), no cache
  // structures; one core, one thread; 64-bit capable clear, characteristics "unknown" (2).
  structs.push(new Structure(TYPE_PROCESSOR, handle(TYPE_PROCESSOR, 0))
    .str('CPU 0').u8(3).u8(1).str(SMBIOS_MANUFACTURER)
    .u32(cfg.cpuSignature).u32(cfg.cpuFeatures)
    .str(SMBIOS_MACHINE_VERSION)
    .u8(0).u16(0) // voltage, external clock: unknown
    .u16(CPU_SPEED_MHZ).u16(CPU_SPEED_MHZ)
    .u8(0x41).u8(1)
    .u16(NOT_PROVIDED).u16(NOT_PROVIDED).u16(NOT_PROVIDED)
    .str(null).str(null).str(null)
    .u8(1).u8(1).u8(1)
    .u16(2)
    .u16(1)); // processor family 2: "other"

  // Type 16: system-board memory (location "other" 1, use "system memory" 3, multi-bit
  // ECC 6), its capacity in KiB, one device per 16 GiB.
  const dimms = Math.ceil(cfg.ramSize / MAX_DIMM_SIZE);
  structs.push(new Structure(TYPE_MEMORY_ARRAY, handle(TYPE_MEMORY_ARRAY, 0))
    .u8(1).u8(3).u8(6)
    .u32(cfg.ramSize / 1024)
    .u16(NO_HANDLE)
    .u16(dimms)
    .u32(0).u32(0)); // extended capacity: unused below 2 TiB

  // Type 17: each DIMM, its size in MiB (the board's at most 2 GiB never needs the
  // extended size field); DIMM form factor (9), type RAM (7), detail
  // "other" (2).
  for (let i = 0; i < dimms; i++) {
    const size = Math.min(MAX_DIMM_SIZE, cfg.ramSize - i * MAX_DIMM_SIZE);
    structs.push(new Structure(TYPE_MEMORY_DEVICE, handle(TYPE_MEMORY_DEVICE, i))
      .u16(handle(TYPE_MEMORY_ARRAY, 0)).u16(NO_HANDLE)
      .u16(NOT_PROVIDED).u16(NOT_PROVIDED) // total and data width unknown
      .u16(Math.ceil(size / (1 << 20)))
      .u8(9).u8(0).str(`DIMM ${i}`).str(null).u8(7).u16(2)
      .u16(0) // speed unknown
      .str(SMBIOS_MANUFACTURER).str(null).str(null).str(null)
      .u8(0) // attributes
      .u32(0) // extended size
      .u16(0) // configured speed
      .u16(0).u16(0).u16(0)); // minimum, maximum, configured voltage
  }

  // Type 19: the RAM below 4 GiB (the board has none above), in KiB, one partition.
  structs.push(new Structure(TYPE_MEMORY_ARRAY_MAPPED, handle(TYPE_MEMORY_ARRAY_MAPPED, 0))
    .u32(0).u32(cfg.ramSize / 1024 - 1)
    .u16(handle(TYPE_MEMORY_ARRAY, 0)).u8(1)
    .u32(0).u32(0).u32(0).u32(0)); // extended addresses: unused

  // Type 32: boot status "no errors".
  structs.push(new Structure(TYPE_BOOT_INFO, handle(TYPE_BOOT_INFO, 0)).zeros(6).u8(0));
  structs.push(new Structure(TYPE_END, handle(TYPE_END, 0)));

  const encoded = structs.map((s) => s.encode());
  const tables = Uint8Array.from(encoded.flat());
  const anchor = new Uint8Array(SMBIOS_EP_LENGTH);
  const dv = new DataView(anchor.buffer);
  anchor.set(ascii('_SM_'), 0);
  anchor[5] = SMBIOS_EP_LENGTH;
  anchor[6] = SMBIOS_MAJOR;
  anchor[7] = SMBIOS_MINOR;
  dv.setUint16(8, Math.max(...encoded.map((e) => e.length)), true);
  anchor.set(ascii('_DMI_'), 0x10);
  dv.setUint16(0x16, tables.length, true);
  dv.setUint16(0x1c, structs.length, true);
  anchor[0x1e] = (SMBIOS_MAJOR << 4) | SMBIOS_MINOR;
  return { anchor, tables };
}

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

/** The two files on fw_cfg, as QEMU's fw_cfg_build_smbios adds them for a 7.2 machine. */
export function serveSmbiosTables(fwCfg: FwCfg, build: SmbiosBuild): void {
  fwCfg.addFile(SMBIOS_ANCHOR_FILE, build.anchor);
  fwCfg.addFile(SMBIOS_TABLES_FILE, build.tables);
}
