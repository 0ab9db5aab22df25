// QEMU's firmware configuration device in its x86 port form (QEMU docs/specs/fw_cfg.rst,
// hw/nvram/fw_cfg.c): selector 0x510 (16-bit writes), data 0x511 (8-bit reads; a byte
// read at 0x510 reads data too, as QEMU's combined region does), and the DMA interface at
// 0x514-0x51B (a big-endian 64-bit address of an FWCfgDmaAccess; writing the low half at
// 0x518 starts the transfer; reads return "QEMU CFG").
//
// Items are byte arrays under 16-bit keys (bit 15: architecture-specific); files live at
// keys 0x20 and up, kept sorted by name like QEMU 7.2 (so a file's key depends on the other
// names) and listed by the directory item 0x19 (a big-endian count and 64-byte entries for
// every slot; 32 slots as QEMU's pc machine, more if needed). Reading past an item's end,
// or an unknown item, returns 0. Port writes to the data register are ignored (QEMU >= 2.4);
// DMA writes go to items added as writable only, never resize them, and set the error bit
// otherwise.
import type { IoBus, PortHandler } from './io-bus.js';
import type { Resettable, SavesState } from './device.js';
import type { PhysicalMemory } from '../memory/physical-memory.js';

export const FW_CFG_PORT_SEL = 0x510;
export const FW_CFG_PORT_DATA = 0x511;
export const FW_CFG_PORT_DMA = 0x514;

export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_UUID = 0x02;
export const FW_CFG_RAM_SIZE = 0x03;
export const FW_CFG_NOGRAPHIC = 0x04;
export const FW_CFG_NB_CPUS = 0x05;
export const FW_CFG_MACHINE_ID = 0x06;
export const FW_CFG_KERNEL_ADDR = 0x07;
export const FW_CFG_KERNEL_SIZE = 0x08;
export const FW_CFG_KERNEL_CMDLINE = 0x09;
export const FW_CFG_INITRD_ADDR = 0x0a;
export const FW_CFG_INITRD_SIZE = 0x0b;
export const FW_CFG_BOOT_DEVICE = 0x0c;
export const FW_CFG_NUMA = 0x0d;
export const FW_CFG_BOOT_MENU = 0x0e;
export const FW_CFG_MAX_CPUS = 0x0f;
export const FW_CFG_KERNEL_ENTRY = 0x10;
export const FW_CFG_KERNEL_DATA = 0x11;
export const FW_CFG_INITRD_DATA = 0x12;
export const FW_CFG_CMDLINE_ADDR = 0x13;
export const FW_CFG_CMDLINE_SIZE = 0x14;
export const FW_CFG_CMDLINE_DATA = 0x15;
export const FW_CFG_SETUP_ADDR = 0x16;
export const FW_CFG_SETUP_SIZE = 0x17;
export const FW_CFG_SETUP_DATA = 0x18;
export const FW_CFG_FILE_DIR = 0x19;
export const FW_CFG_FILE_FIRST = 0x20;
export const FW_CFG_FILE_SLOTS_DEFAULT = 0x20;
export const FW_CFG_WRITE_CHANNEL = 0x4000;
export const FW_CFG_ARCH_LOCAL = 0x8000;
export const FW_CFG_ENTRY_MASK = 0x3fff;
// x86 (hw/i386/fw_cfg.h)
export const FW_CFG_ACPI_TABLES = FW_CFG_ARCH_LOCAL + 0;
export const FW_CFG_SMBIOS_ENTRIES = FW_CFG_ARCH_LOCAL + 1;
export const FW_CFG_IRQ0_OVERRIDE = FW_CFG_ARCH_LOCAL + 2;
export const FW_CFG_E820_TABLE = FW_CFG_ARCH_LOCAL + 3;
export const FW_CFG_HPET = FW_CFG_ARCH_LOCAL + 4;

export const FW_CFG_VERSION = 0x01;
export const FW_CFG_VERSION_DMA = 0x02;
export const FW_CFG_DMA_CTL_ERROR = 0x01;
export const FW_CFG_DMA_CTL_READ = 0x02;
export const FW_CFG_DMA_CTL_SKIP = 0x04;
export const FW_CFG_DMA_CTL_SELECT = 0x08;
export const FW_CFG_DMA_CTL_WRITE = 0x10;
/** "QEMU CFG" */
const DMA_SIGNATURE = [0x51, 0x45, 0x4d, 0x55, 0x20, 0x43, 0x46, 0x47];
const FILE_NAME_MAX = 56;
const INVALID = -1;

export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;
export const E820_UNUSABLE = 5;
const E820_NR_ENTRIES = 16;

export interface E820Entry {
  address: number;
  length: number;
  type: number;
}

export interface FwCfgOptions {
  /** Guest memory for the DMA interface (without it, DMA is not offered). */
  phys?: PhysicalMemory;
  /** Offer DMA (FW_CFG_ID bit 1; default true when `phys` is given). */
  dma?: boolean;
  /** DMA wrote guest memory (the board invalidates translated code there). */
  onDmaWrite?: (phys: number, length: number) => void;
  /** FW_CFG_NOGRAPHIC (default true: QEMU with -nographic, as the tests run it). */
  nographic?: boolean;
  /** FW_CFG_BOOT_MENU (default false). */
  bootMenu?: boolean;
  /** "etc/boot-fail-wait" seconds, -1 for none (QEMU's default -1). */
  rebootTimeout?: number;
  fileSlots?: number;
}

export interface FwCfgState {
  cur: number;
  offset: number;
  dmaHigh: number;
  /** DMA transfers so far (`info fw_cfg`). */
  dmaTransfers?: number;
  writable: { key: number; data: number[] }[];
}

export interface FwCfgInfo {
  selected: number | null;
  offset: number;
  dma: boolean;
  dmaTransfers: number;
  items: { key: number; name: string; size: number }[];
  files: { key: number; name: string; size: number }[];
}

interface Item {
  data: Uint8Array;
  writable: boolean;
}

const KEY_NAMES: Record<number, string> = {
  0x00: 'signature', 0x01: 'id', 0x02: 'uuid', 0x03: 'ram_size', 0x04: 'nographic', 0x05: 'nb_cpus',
  0x06: 'machine_id', 0x07: 'kernel_addr', 0x08: 'kernel_size', 0x09: 'kernel_cmdline', 0x0a: 'initrd_addr',
  0x0b: 'initrd_size', 0x0c: 'boot_device', 0x0d: 'numa', 0x0e: 'boot_menu', 0x0f: 'max_cpus',
  0x10: 'kernel_entry', 0x11: 'kernel_data', 0x12: 'initrd_data', 0x13: 'cmdline_addr', 0x14: 'cmdline_size',
  0x15: 'cmdline_data', 0x16: 'setup_addr', 0x17: 'setup_size', 0x18: 'setup_data', 0x19: 'file_dir',
  0x8000: 'acpi_tables', 0x8001: 'smbios_entries', 0x8002: 'irq0_override', 0x8003: 'e820_table', 0x8004: 'hpet',
};

export function le16(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff);
}

export function le32(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

export function le64(v: number | bigint): Uint8Array {
  let b = BigInt.asUintN(64, BigInt(v));
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) {
    out[i] = Number(b & 0xffn);
    b >>= 8n;
  }
  return out;
}

/** e820 entries in QEMU's packed layout: u64 address, u64 length, u32 type (LE). */
export function e820Bytes(entries: readonly E820Entry[]): Uint8Array {
  const out = new Uint8Array(20 * entries.length);
  entries.forEach((e, i) => {
    out.set(le64(e.address), 20 * i);
    out.set(le64(e.length), 20 * i + 8);
    out.set(le32(e.type), 20 * i + 16);
  });
  return out;
}

export class FwCfg implements PortHandler, Resettable, SavesState<FwCfgState> {
  private readonly items = new Map<number, Item>();
  /** File names in key order (key = FW_CFG_FILE_FIRST + index). */
  private files: { name: string; item: Item }[] = [];
  private cur = INVALID;
  private offset = 0;
  private dmaHigh = 0;
  private dmaTransfers = 0;
  private readonly phys: PhysicalMemory | null;
  readonly dmaEnabled: boolean;
  private readonly fileSlots: number;
  onDmaWrite: (phys: number, length: number) => void;

  constructor(io: IoBus, opts: FwCfgOptions = {}) {
    this.phys = opts.phys ?? null;
    this.dmaEnabled = (opts.dma ?? true) && this.phys !== null;
    this.fileSlots = opts.fileSlots ?? FW_CFG_FILE_SLOTS_DEFAULT;
    this.onDmaWrite = opts.onDmaWrite ?? (() => {});
    io.register(FW_CFG_PORT_SEL, 2, this, 'fw_cfg');
    if (this.dmaEnabled) {
      const dma: PortHandler = {
        read: (port, size) => this.dmaRead(port - FW_CFG_PORT_DMA, size),
        write: (port, value, size) => this.dmaWrite(port - FW_CFG_PORT_DMA, value, size),
      };
      io.register(FW_CFG_PORT_DMA, 8, dma, 'fw_cfg-dma');
    }
    // fw_cfg_common_realize
    this.addBytes(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.addBytes(FW_CFG_UUID, new Uint8Array(16));
    this.addI16(FW_CFG_NOGRAPHIC, opts.nographic ?? true ? 1 : 0);
    this.addI16(FW_CFG_BOOT_MENU, opts.bootMenu ? 1 : 0);
    this.updateDirectory();
    this.addFile('etc/boot-fail-wait', le32(opts.rebootTimeout ?? -1));
    this.addI32(FW_CFG_ID, FW_CFG_VERSION | (this.dmaEnabled ? FW_CFG_VERSION_DMA : 0));
    this.reset();
  }

  // ---- building items ------------------------------------------------------------------

  /** Add or replace the item under `key` (< 0x20 or arch-specific). */
  addBytes(key: number, data: Uint8Array, opts: { writable?: boolean } = {}): void {
    if ((key & FW_CFG_ENTRY_MASK) >= FW_CFG_FILE_FIRST && !(key & FW_CFG_ARCH_LOCAL)) {
      throw new Error(`fw_cfg key 0x${key.toString(16)} is in the file range: use addFile`);
    }
    this.items.set(key & (FW_CFG_ARCH_LOCAL | FW_CFG_ENTRY_MASK), { data, writable: opts.writable ?? false });
  }

  addI16(key: number, v: number): void {
    this.addBytes(key, le16(v));
  }

  addI32(key: number, v: number): void {
    this.addBytes(key, le32(v));
  }

  addI64(key: number, v: number | bigint): void {
    this.addBytes(key, le64(v));
  }

  /** A NUL-terminated string item (fw_cfg_add_string). */
  addString(key: number, s: string): void {
    const b = new TextEncoder().encode(s);
    const out = new Uint8Array(b.length + 1);
    out.set(b);
    this.addBytes(key, out);
  }

  /** Add a named file (or replace one of the same name); returns its selector key. */
  addFile(name: string, data: Uint8Array, opts: { writable?: boolean } = {}): number {
    if (new TextEncoder().encode(name).length >= FILE_NAME_MAX) throw new Error(`fw_cfg file name too long: ${name}`);
    const item = { data, writable: opts.writable ?? false };
    const i = this.files.findIndex((f) => f.name === name);
    if (i >= 0) this.files[i] = { name, item };
    else {
      this.files.push({ name, item });
      this.files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
    this.updateDirectory();
    return this.fileKey(name)!;
  }

  /** The selector of file `name`, or null. */
  fileKey(name: string): number | null {
    const i = this.files.findIndex((f) => f.name === name);
    return i < 0 ? null : FW_CFG_FILE_FIRST + i;
  }

  /** The current data of an item (by key) or file (by name). */
  item(keyOrName: number | string): Uint8Array | null {
    if (typeof keyOrName === 'string') return this.files.find((f) => f.name === keyOrName)?.item.data ?? null;
    return this.lookup(keyOrName)?.data ?? null;
  }

  /** "etc/e820" and the legacy FW_CFG_E820_TABLE (count + 16 slots, reserved entries only). */
  setE820(entries: readonly E820Entry[]): void {
    this.addFile('etc/e820', e820Bytes(entries));
    const reserved = entries.filter((e) => e.type === E820_RESERVED).slice(0, E820_NR_ENTRIES);
    const legacy = new Uint8Array(4 + 20 * E820_NR_ENTRIES);
    legacy.set(le32(reserved.length), 0);
    legacy.set(e820Bytes(reserved), 4);
    this.addBytes(FW_CFG_E820_TABLE, legacy);
  }

  /** The "bootorder" file: one OpenFirmware path a line, NUL-terminated (QEMU's format). */
  setBootOrder(paths: readonly string[]): void {
    if (paths.length === 0) {
      this.addFile('bootorder', new Uint8Array(0));
      return;
    }
    const b = new TextEncoder().encode(paths.join('\n'));
    const out = new Uint8Array(b.length + 1);
    out.set(b);
    this.addFile('bootorder', out);
  }

  /**
   * The items QEMU sets for -kernel/-initrd/-append (x86_load_linux, load_multiboot): each
   * address/size pair and data blob is optional.
   */
  setKernelItems(k: {
    kernelAddr?: number; kernelEntry?: number; kernel?: Uint8Array;
    initrdAddr?: number; initrd?: Uint8Array;
    cmdlineAddr?: number; cmdline?: string;
    setupAddr?: number; setup?: Uint8Array;
  }): void {
    if (k.kernelAddr !== undefined) this.addI32(FW_CFG_KERNEL_ADDR, k.kernelAddr);
    if (k.kernelEntry !== undefined) this.addI32(FW_CFG_KERNEL_ENTRY, k.kernelEntry);
    if (k.kernel) {
      this.addI32(FW_CFG_KERNEL_SIZE, k.kernel.length);
      this.addBytes(FW_CFG_KERNEL_DATA, k.kernel);
    }
    if (k.initrdAddr !== undefined) this.addI32(FW_CFG_INITRD_ADDR, k.initrdAddr);
    if (k.initrd) {
      this.addI32(FW_CFG_INITRD_SIZE, k.initrd.length);
      this.addBytes(FW_CFG_INITRD_DATA, k.initrd);
    }
    if (k.cmdlineAddr !== undefined) this.addI32(FW_CFG_CMDLINE_ADDR, k.cmdlineAddr);
    if (k.cmdline !== undefined) {
      const b = new TextEncoder().encode(k.cmdline);
      const z = new Uint8Array(b.length + 1);
      z.set(b);
      this.addI32(FW_CFG_CMDLINE_SIZE, z.length);
      this.addBytes(FW_CFG_CMDLINE_DATA, z);
      this.addString(FW_CFG_KERNEL_CMDLINE, k.cmdline);
    }
    if (k.setupAddr !== undefined) this.addI32(FW_CFG_SETUP_ADDR, k.setupAddr);
    if (k.setup) {
      this.addI32(FW_CFG_SETUP_SIZE, k.setup.length);
      this.addBytes(FW_CFG_SETUP_DATA, k.setup);
    }
  }

  private updateDirectory(): void {
    const slots = Math.max(this.fileSlots, this.files.length);
    const dir = new Uint8Array(4 + 64 * slots);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, this.files.length, false);
    this.files.forEach((f, i) => {
      const o = 4 + 64 * i;
      dv.setUint32(o, f.item.data.length, false);
      dv.setUint16(o + 4, FW_CFG_FILE_FIRST + i, false);
      dir.set(new TextEncoder().encode(f.name), o + 8);
    });
    this.items.set(FW_CFG_FILE_DIR, { data: dir, writable: false });
  }

  private maxEntry(): number {
    return FW_CFG_FILE_FIRST + Math.max(this.fileSlots, this.files.length);
  }

  private lookup(key: number): Item | null {
    if (key === INVALID) return null;
    const idx = key & FW_CFG_ENTRY_MASK;
    if (idx >= FW_CFG_FILE_FIRST && !(key & FW_CFG_ARCH_LOCAL)) return this.files[idx - FW_CFG_FILE_FIRST]?.item ?? null;
    if (idx === FW_CFG_FILE_DIR && !(key & FW_CFG_ARCH_LOCAL)) this.updateDirectorySizes();
    return this.items.get(key & (FW_CFG_ARCH_LOCAL | FW_CFG_ENTRY_MASK)) ?? null;
  }

  /** File sizes may change when their data is replaced in place; keep the directory honest. */
  private updateDirectorySizes(): void {
    const dir = this.items.get(FW_CFG_FILE_DIR)?.data;
    if (!dir) return;
    const dv = new DataView(dir.buffer, dir.byteOffset, dir.byteLength);
    this.files.forEach((f, i) => dv.setUint32(4 + 64 * i + 0, f.item.data.length, false));
  }

  // ---- guest interface -----------------------------------------------------------------

  /** fw_cfg_select */
  select(key: number): void {
    key &= 0xffff;
    this.offset = 0;
    this.cur = (key & FW_CFG_ENTRY_MASK) >= this.maxEntry() ? INVALID : key;
  }

  private readDataByte(): number {
    const it = this.lookup(this.cur);
    if (!it || this.offset >= it.data.length) return 0;
    return it.data[this.offset++]!;
  }

  read(port: number, size: number): number {
    // QEMU's combined region accepts byte reads (of the data register) at either port;
    // wider reads are invalid accesses, which read 0 there.
    if (size !== 1) return 0;
    void port;
    return this.readDataByte();
  }

  write(_port: number, value: number, size: number): void {
    if (size === 2) this.select(value);
    // Byte writes to the data register are ignored since QEMU 2.4.
  }

  private dmaRead(off: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= (DMA_SIGNATURE[off + i] ?? 0xff) << (8 * i);
    return v >>> 0;
  }

  private dmaWrite(off: number, value: number, size: number): void {
    if (size !== 4) return;
    // The register is big-endian: the guest's little-endian dword holds bytes in memory order.
    const be = (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;
    if (off === 0) this.dmaHigh = be;
    else if (off === 4) {
      const high = this.dmaHigh;
      this.dmaHigh = 0;
      this.dmaTransfer(high, be);
    }
  }

  private be32At(pa: number): number {
    const p = this.phys!;
    return ((p.read8(pa) << 24) | (p.read8(pa + 1) << 16) | (p.read8(pa + 2) << 8) | p.read8(pa + 3)) >>> 0;
  }

  private writeControl(pa: number, control: number): void {
    const p = this.phys!;
    for (let i = 0; i < 4; i++) p.write8((pa + i) >>> 0, (control >>> (24 - 8 * i)) & 0xff);
    this.onDmaWrite(pa, 4);
  }

  /** fw_cfg_dma_transfer */
  private dmaTransfer(high: number, low: number): void {
    this.dmaTransfers++;
    if (high !== 0 || low > 0xfffffff0) {
      if (high === 0) this.writeControl(low, FW_CFG_DMA_CTL_ERROR);
      return;
    }
    const p = this.phys!;
    let control = this.be32At(low);
    let length = this.be32At(low + 4);
    const addrHigh = this.be32At(low + 8);
    let address = this.be32At(low + 12);
    if (control & FW_CFG_DMA_CTL_SELECT) this.select(control >>> 16);
    let read = false;
    let write = false;
    if (control & FW_CFG_DMA_CTL_READ) read = true;
    else if (control & FW_CFG_DMA_CTL_WRITE) write = true;
    else if (!(control & FW_CFG_DMA_CTL_SKIP)) length = 0;
    control = 0;
    const it = this.lookup(this.cur);
    while (length > 0 && !(control & FW_CFG_DMA_CTL_ERROR)) {
      let len: number;
      if (!it || this.offset >= it.data.length) {
        len = length;
        if (read) {
          if (addrHigh !== 0 || address + len > 0x100000000) control |= FW_CFG_DMA_CTL_ERROR;
          else {
            for (let i = 0; i < len; i++) p.write8((address + i) >>> 0, 0);
            this.onDmaWrite(address, len);
          }
        }
        if (write) control |= FW_CFG_DMA_CTL_ERROR;
      } else {
        len = Math.min(length, it.data.length - this.offset);
        if (read) {
          if (addrHigh !== 0 || address + len > 0x100000000) control |= FW_CFG_DMA_CTL_ERROR;
          else {
            const d = it.data;
            for (let i = 0; i < len; i++) p.write8((address + i) >>> 0, d[this.offset + i]!);
            this.onDmaWrite(address, len);
          }
        }
        if (write) {
          if (!it.writable || len !== length || addrHigh !== 0) control |= FW_CFG_DMA_CTL_ERROR;
          else for (let i = 0; i < len; i++) it.data[this.offset + i] = p.read8((address + i) >>> 0);
        }
        this.offset += len;
      }
      address = (address + len) >>> 0;
      length -= len;
    }
    this.writeControl(low, control);
  }

  // ---- lifecycle -----------------------------------------------------------------------

  reset(): void {
    this.select(FW_CFG_SIGNATURE);
    this.dmaHigh = 0;
  }

  saveState(): FwCfgState {
    const writable: { key: number; data: number[] }[] = [];
    for (const [key, it] of this.items) if (it.writable) writable.push({ key, data: Array.from(it.data) });
    this.files.forEach((f, i) => {
      if (f.item.writable) writable.push({ key: FW_CFG_FILE_FIRST + i, data: Array.from(f.item.data) });
    });
    return { cur: this.cur, offset: this.offset, dmaHigh: this.dmaHigh, dmaTransfers: this.dmaTransfers, writable };
  }

  loadState(s: FwCfgState): void {
    this.cur = s.cur;
    this.offset = s.offset;
    this.dmaHigh = s.dmaHigh >>> 0;
    this.dmaTransfers = s.dmaTransfers ?? 0;
    for (const w of s.writable) {
      const it = this.lookup(w.key);
      if (it && it.writable && it.data.length === w.data.length) it.data.set(w.data);
    }
  }

  info(): FwCfgInfo {
    const items = [...this.items.entries()]
      .map(([key, it]) => ({ key, name: KEY_NAMES[key] ?? 'unknown', size: it.data.length }))
      .sort((a, b) => a.key - b.key);
    return {
      selected: this.cur === INVALID ? null : this.cur,
      offset: this.offset,
      dma: this.dmaEnabled,
      dmaTransfers: this.dmaTransfers,
      items,
      files: this.files.map((f, i) => ({ key: FW_CFG_FILE_FIRST + i, name: f.name, size: f.item.data.length })),
    };
  }
}
