// A PCI function with a type-0 configuration header (PCI Local Bus Specification 3.0,
// chapter 6). The 256-byte configuration space is kept as bytes with two masks, as
// hardware and QEMU's hw/pci/pci.c do: `wmask` (bits software can write) and `w1cmask`
// (status bits a write of 1 clears). BARs are declared with their size; sizing works
// by the mask (write all ones, read back ~(size-1) | type bits). Mapping a BAR into the
// port or memory space follows the command register and is done by the bus.
import type { Resettable, SavesState } from '../device.js';
import type { RegisterBlock } from './pci-io-space.js';
import type { PciBus } from './pci-bus.js';

// Header offsets (PCI 3.0 §6.1)
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const PCI_COMMAND_IO = 0x0001;
export const PCI_COMMAND_MEMORY = 0x0002;
export const PCI_COMMAND_MASTER = 0x0004;
export const PCI_COMMAND_SERR = 0x0100;
export const PCI_COMMAND_INTX_DISABLE = 0x0400;

export const PCI_STATUS_INTERRUPT = 0x0008;
export const PCI_STATUS_FAST_BACK = 0x0080;
export const PCI_STATUS_DEVSEL_MEDIUM = 0x0200;
/** Error bits that are write-one-to-clear (QEMU's pci_init_w1cmask). */
export const PCI_STATUS_W1C = 0xf900;

export const PCI_HEADER_TYPE_MULTI_FUNCTION = 0x80;
export const PCI_BASE_ADDRESS_SPACE_IO = 0x01;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08;
export const PCI_ROM_ADDRESS_ENABLE = 0x01;

/** QEMU gives every function without its own subsystem IDs Red Hat's (1af4:1100). */
export const PCI_SUBVENDOR_ID_REDHAT_QUMRANET = 0x1af4;
export const PCI_SUBDEVICE_ID_QEMU = 0x1100;

export interface PciIds {
  vendor: number;
  device: number;
  revision?: number;
  /** class << 16 | subclass << 8 | prog-if */
  classCode: number;
  subsystemVendor?: number;
  subsystem?: number;
  /** INTA#..INTD# = 1..4, 0 for none. */
  interruptPin?: number;
  /** Status register at reset (e.g. DEVSEL timing bits). */
  status?: number;
}

export interface PciBarDef {
  kind: 'io' | 'mem';
  /** A power of two: at least 4 for I/O, 16 for memory. */
  size: number;
  prefetchable?: boolean;
  block: RegisterBlock;
  name: string;
}

export interface PciDeviceState {
  config: number[];
  extra?: unknown;
}

export interface PciBarInfo {
  index: number;
  kind: 'io' | 'mem' | 'rom';
  name: string;
  size: number;
  /** The base the BAR holds now (0 when unassigned). */
  address: number;
  /** True when the command register (and ROM enable) make it decode. */
  enabled: boolean;
}

export interface PciDeviceInfo {
  bdf: string;
  name: string;
  vendor: number;
  device: number;
  classCode: number;
  revision: number;
  command: number;
  status: number;
  headerType: number;
  interruptLine: number;
  interruptPin: number;
  bars: PciBarInfo[];
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

export class PciDevice implements Resettable, SavesState<PciDeviceState> {
  readonly config = new Uint8Array(256);
  readonly wmask = new Uint8Array(256);
  readonly w1cmask = new Uint8Array(256);
  protected readonly bars: (PciBarDef | undefined)[] = [undefined, undefined, undefined, undefined, undefined, undefined];
  protected romImage: Uint8Array | null = null;
  protected romSize = 0;
  /** Set by PciBus.attach. */
  bus: PciBus | null = null;
  devfn = -1;
  private intxLevel = false;

  constructor(readonly name: string, readonly ids: PciIds) {
    this.initMasks();
  }

  get slot(): number {
    return this.devfn >> 3;
  }

  get fn(): number {
    return this.devfn & 7;
  }

  get bdf(): string {
    const h = (n: number, w: number) => n.toString(16).padStart(w, '0');
    return `00:${h(this.slot, 2)}.${this.fn}`;
  }

  /** Declare BAR `index` (call from the subclass constructor, before reset()). */
  protected defineBar(index: number, def: PciBarDef): void {
    if (!isPow2(def.size) || def.size < (def.kind === 'io' ? 4 : 16)) throw new Error(`${this.name}: BAR${index} size ${def.size}`);
    this.bars[index] = def;
    const off = PCI_BASE_ADDRESS_0 + 4 * index;
    // QEMU leaves the upper 16 bits of I/O BARs writable too (sizing reads 0xFFFFxxx1).
    const mask = def.kind === 'io' ? ~(def.size - 1) & 0xfffffffc : ~(def.size - 1) & 0xfffffff0;
    this.setMask32(this.wmask, off, mask >>> 0);
  }

  /** Declare the expansion ROM BAR with its image (size rounded up to a power of two). */
  protected defineRom(image: Uint8Array): void {
    let size = 2048;
    while (size < image.length) size *= 2;
    this.romImage = image;
    this.romSize = size;
    this.setMask32(this.wmask, PCI_ROM_ADDRESS, ((~(size - 1) & 0xfffff800) | PCI_ROM_ADDRESS_ENABLE) >>> 0);
  }

  /** QEMU's pci_init_wmask / pci_init_w1cmask defaults; device-specific bytes are writable. */
  private initMasks(): void {
    this.wmask.fill(0);
    this.w1cmask.fill(0);
    this.wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    this.wmask[PCI_INTERRUPT_LINE] = 0xff;
    this.setMask16(this.wmask, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    this.setMask16(this.w1cmask, PCI_STATUS, PCI_STATUS_W1C);
    this.wmask.fill(0xff, 0x40, 0x100);
  }

  protected setMask16(mask: Uint8Array, off: number, v: number): void {
    mask[off] = v & 0xff;
    mask[off + 1] = (v >>> 8) & 0xff;
  }

  protected setMask32(mask: Uint8Array, off: number, v: number): void {
    for (let i = 0; i < 4; i++) mask[off + i] = (v >>> (8 * i)) & 0xff;
  }

  get8(off: number): number {
    return this.config[off]!;
  }

  get16(off: number): number {
    return this.config[off]! | (this.config[off + 1]! << 8);
  }

  get32(off: number): number {
    return (this.config[off]! | (this.config[off + 1]! << 8) | (this.config[off + 2]! << 16) | (this.config[off + 3]! << 24)) >>> 0;
  }

  set8(off: number, v: number): void {
    this.config[off] = v & 0xff;
  }

  set16(off: number, v: number): void {
    this.config[off] = v & 0xff;
    this.config[off + 1] = (v >>> 8) & 0xff;
  }

  set32(off: number, v: number): void {
    for (let i = 0; i < 4; i++) this.config[off + i] = (v >>> (8 * i)) & 0xff;
  }

  /** Configuration read of `size` bytes at `off` (little-endian). */
  readConfig(off: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size && off + i < 256; i++) v |= this.config[off + i]! << (8 * i);
    return v >>> 0;
  }

  /** Configuration write through the masks; subclasses react in `configWritten`. */
  writeConfig(off: number, value: number, size: number): void {
    let touchesMapping = false;
    for (let i = 0; i < size && off + i < 256; i++) {
      const a = off + i;
      const b = (value >>> (8 * i)) & 0xff;
      const wm = this.wmask[a]!;
      const w1c = this.w1cmask[a]!;
      this.config[a] = ((this.config[a]! & ~wm) | (b & wm)) & ~(b & w1c);
      if (a === PCI_COMMAND || (a >= PCI_BASE_ADDRESS_0 && a < PCI_BASE_ADDRESS_0 + 24) || (a >= PCI_ROM_ADDRESS && a < PCI_ROM_ADDRESS + 4)) touchesMapping = true;
    }
    if (touchesMapping) this.updateMappings();
    this.configWritten(off, size);
  }

  /** Hook: bytes [off, off+size) were written. */
  protected configWritten(_off: number, _size: number): void {}

  /** Hook: device-specific reset (config defaults beyond the header, internal state). */
  protected resetDevice(): void {}

  /** Re-derive where the BARs decode (command register or BAR changed). */
  updateMappings(): void {
    this.bus?.updateMappings(this);
  }

  /** The BAR's current address, or null when it does not decode. */
  barAddress(index: number): number | null {
    const def = this.bars[index];
    if (!def) return null;
    const cmd = this.get16(PCI_COMMAND);
    const raw = this.get32(PCI_BASE_ADDRESS_0 + 4 * index);
    if (def.kind === 'io') {
      if (!(cmd & PCI_COMMAND_IO)) return null;
      const a = raw & 0xfffc;
      return a === 0 || a === (~(def.size - 1) & 0xfffc) ? null : a;
    }
    if (!(cmd & PCI_COMMAND_MEMORY)) return null;
    const a = (raw & 0xfffffff0) >>> 0;
    return a === 0 || a === ((~(def.size - 1) & 0xfffffff0) >>> 0) ? null : a;
  }

  romAddress(): number | null {
    if (!this.romImage) return null;
    const raw = this.get32(PCI_ROM_ADDRESS);
    if (!(this.get16(PCI_COMMAND) & PCI_COMMAND_MEMORY) || !(raw & PCI_ROM_ADDRESS_ENABLE)) return null;
    const a = (raw & 0xfffff800) >>> 0;
    return a === 0 ? null : a;
  }

  barDef(index: number): PciBarDef | undefined {
    return this.bars[index];
  }

  romBlock(): { size: number; block: RegisterBlock } | null {
    const img = this.romImage;
    if (!img) return null;
    return {
      size: this.romSize,
      block: {
        read: (off, size) => {
          let v = 0;
          for (let i = 0; i < size; i++) v |= (off + i < img.length ? img[off + i]! : 0) << (8 * i);
          return v >>> 0;
        },
        write: () => {},
      },
    };
  }

  /** Drive this function's INTx# pin (routed by the bus to a PIRQ line). */
  setIrq(level: boolean): void {
    this.intxLevel = level;
    const st = this.get16(PCI_STATUS);
    this.set16(PCI_STATUS, level ? st | PCI_STATUS_INTERRUPT : st & ~PCI_STATUS_INTERRUPT);
    const masked = (this.get16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) !== 0;
    this.bus?.setIntx(this, level && !masked);
  }

  get irqLevel(): boolean {
    return this.intxLevel;
  }

  private initHeader(): void {
    const ids = this.ids;
    this.config.fill(0);
    this.set16(PCI_VENDOR_ID, ids.vendor);
    this.set16(PCI_DEVICE_ID, ids.device);
    this.set16(PCI_STATUS, ids.status ?? 0);
    this.set8(PCI_REVISION_ID, ids.revision ?? 0);
    this.set8(PCI_CLASS_PROG, ids.classCode & 0xff);
    this.set16(PCI_CLASS_DEVICE, (ids.classCode >>> 8) & 0xffff);
    this.set16(PCI_SUBSYSTEM_VENDOR_ID, ids.subsystemVendor ?? PCI_SUBVENDOR_ID_REDHAT_QUMRANET);
    this.set16(PCI_SUBSYSTEM_ID, ids.subsystem ?? PCI_SUBDEVICE_ID_QEMU);
    this.set8(PCI_INTERRUPT_PIN, ids.interruptPin ?? 0);
    for (let i = 0; i < 6; i++) {
      const def = this.bars[i];
      if (!def) continue;
      let low = 0;
      if (def.kind === 'io') low = PCI_BASE_ADDRESS_SPACE_IO;
      else if (def.prefetchable) low = PCI_BASE_ADDRESS_MEM_PREFETCH;
      this.set32(PCI_BASE_ADDRESS_0 + 4 * i, low);
    }
  }

  /** Set the multi-function bit of the header type (function 0 of a multi-function slot). */
  setMultiFunction(on: boolean): void {
    const h = this.get8(PCI_HEADER_TYPE);
    this.set8(PCI_HEADER_TYPE, on ? h | PCI_HEADER_TYPE_MULTI_FUNCTION : h & ~PCI_HEADER_TYPE_MULTI_FUNCTION);
  }

  reset(): void {
    this.initHeader();
    this.setMultiFunction(this.fn === 0 && (this.bus?.isMultiFunctionSlot(this.slot) ?? false));
    this.intxLevel = false;
    this.resetDevice();
    this.updateMappings();
  }

  /** Device-specific state beyond config space (override with saveExtra/loadExtra). */
  protected saveExtra(): unknown {
    return undefined;
  }

  protected loadExtra(_s: unknown): void {}

  saveState(): PciDeviceState {
    const s: PciDeviceState = { config: Array.from(this.config) };
    const extra = this.saveExtra();
    if (extra !== undefined) s.extra = extra;
    return s;
  }

  loadState(s: PciDeviceState): void {
    this.config.set(s.config.slice(0, 256));
    this.loadExtra(s.extra);
    this.updateMappings();
    this.configWritten(0, 256);
  }

  info(): PciDeviceInfo {
    const bars: PciBarInfo[] = [];
    for (let i = 0; i < 6; i++) {
      const def = this.bars[i];
      if (!def) continue;
      const raw = this.get32(PCI_BASE_ADDRESS_0 + 4 * i);
      const address = def.kind === 'io' ? raw & 0xfffc : (raw & 0xfffffff0) >>> 0;
      bars.push({ index: i, kind: def.kind, name: def.name, size: def.size, address, enabled: this.barAddress(i) !== null });
    }
    if (this.romImage) {
      bars.push({
        index: 6, kind: 'rom', name: `${this.name}.rom`, size: this.romSize,
        address: (this.get32(PCI_ROM_ADDRESS) & 0xfffff800) >>> 0, enabled: this.romAddress() !== null,
      });
    }
    return {
      bdf: this.bdf,
      name: this.name,
      vendor: this.get16(PCI_VENDOR_ID),
      device: this.get16(PCI_DEVICE_ID),
      classCode: (this.get16(PCI_CLASS_DEVICE) << 8) | this.get8(PCI_CLASS_PROG),
      revision: this.get8(PCI_REVISION_ID),
      command: this.get16(PCI_COMMAND),
      status: this.get16(PCI_STATUS),
      headerType: this.get8(PCI_HEADER_TYPE),
      interruptLine: this.get8(PCI_INTERRUPT_LINE),
      interruptPin: this.get8(PCI_INTERRUPT_PIN),
      bars,
    };
  }
}
