// PCI bus 0 behind configuration mechanism #1 (PCI 3.0 §3.2.2.3.2): CONFIG_ADDRESS at
// 0xCF8 (enable bit 31, bus 23-16, device 15-11, function 10-8, register 7-0) and
// CONFIG_DATA at 0xCFC-0xCFF. As QEMU 7.2 (measured, tests/guests/board/pci.c):
// - CONFIG_ADDRESS stores every bit of a dword write at 0xCF8 (bits 24-30 and 0-1
//   included) and ignores narrower writes; any read of 0xCF8-0xCFB returns the register
//   from its low byte up, truncated to the access size, whatever the port's offset.
// - A data access reaches register (CONFIG_ADDRESS[7:0] | port & 3): the low bits of the
//   address are ORed with the port's, not dropped (the PCI spec leaves bits 0-1 "00"), and
//   `size` bytes are read or written from there, clipped at the end of the 256-byte space.
// Absent functions, other buses and a clear enable bit read all ones.
// 0xCF9 is not ours: on a PIIX it is the reset control register (piix3-isa.ts), so this
// bus claims 0xCF8 and 0xCFA-0xCFB around it, as QEMU's overlapping regions resolve.
//
// The bus also maps BARs: I/O BARs through a DynamicIoSpace, memory BARs and expansion
// ROMs as MMIO pages of the PhysicalMemory, only on pages nothing else occupies (RAM and
// fixed devices win, as the host bridge's decode does), and routes INTx# pins to the
// four PIRQ lines with the i440FX/PIIX swizzle (QEMU's pci_slot_get_pirq).
import type { IoBus, PortHandler } from '../io-bus.js';
import type { MmioHandler, PhysicalMemory } from '../../memory/physical-memory.js';
import { PAGE_SIZE } from '../../memory/physical-memory.js';
import type { Resettable } from '../device.js';
import { DynamicIoSpace, type RegisterBlock } from './pci-io-space.js';
import { PCI_INTERRUPT_PIN, type PciDevice, type PciDeviceInfo, type PciDeviceState } from './pci-device.js';

export const PCI_CONFIG_ADDRESS = 0xcf8;
export const PCI_CONFIG_DATA = 0xcfc;

export interface PciBusOptions {
  /** Port-space helper shared with devices that relocate fixed blocks (PIIX4 PMBA). */
  ioSpace?: DynamicIoSpace;
  /** Memory BARs decode only at or above this address (default 0: any free page). */
  memoryHoleStart?: number;
}

export interface PciBusInfo {
  configAddress: number;
  devices: PciDeviceInfo[];
  pirqLevels: boolean[];
}

export interface PciBusState {
  configAddress: number;
  pirqLevels: boolean[];
  /** INTx# output levels of the functions that drove theirs: [bdf, level]. */
  intx: [string, boolean][];
  devices: Record<string, PciDeviceState>;
}

interface MemMapping {
  phys: number;
  size: number;
  handlers: MmioHandler[];
}

/** The PIRQ line (0-3 = PIRQA-D) an INTx# pin (1-4) of a slot drives on an i440FX board. */
export function pciSlotPirq(slot: number, pin: number): number {
  return (pin - 1 + slot - 1) & 3;
}

export class PciBus implements PortHandler, Resettable {
  readonly ioSpace: DynamicIoSpace;
  private readonly fns: (PciDevice | undefined)[] = new Array<PciDevice | undefined>(256);
  private configAddress = 0;
  private readonly memMaps = new Map<string, MemMapping>();
  private readonly ioBlocks = new Map<string, RegisterBlock>();
  private readonly intxLevels = new Map<PciDevice, boolean>();
  private readonly pirqLevels = [false, false, false, false];
  private readonly memoryHoleStart: number;
  /** Receives PIRQA-D level changes (the PIIX3 routes them to ISA IRQs). */
  onPirq: (pirq: number, level: boolean) => void = () => {};

  constructor(io: IoBus, private readonly phys: PhysicalMemory, opts: PciBusOptions = {}) {
    this.ioSpace = opts.ioSpace ?? new DynamicIoSpace(io);
    this.memoryHoleStart = opts.memoryHoleStart ?? 0;
    io.register(PCI_CONFIG_ADDRESS, 1, this, 'pci-conf-addr');
    io.register(PCI_CONFIG_ADDRESS + 2, 2, this, 'pci-conf-addr');
    io.register(PCI_CONFIG_DATA, 4, this, 'pci-conf-data');
  }

  /** Plug `dev` in at slot/function; function 0 becomes multi-function when others exist. */
  attach(dev: PciDevice, slot: number, fn = 0): void {
    const devfn = (slot << 3) | fn;
    if (this.fns[devfn]) throw new Error(`PCI 00:${slot.toString(16)}.${fn} is taken by ${this.fns[devfn]!.name}`);
    this.fns[devfn] = dev;
    dev.bus = this;
    dev.devfn = devfn;
    const f0 = this.fns[slot << 3];
    if (f0) f0.setMultiFunction(this.isMultiFunctionSlot(slot));
    dev.reset();
  }

  /** The lowest slot with no function plugged in (where QEMU puts a -device card). */
  firstFreeSlot(): number {
    for (let slot = 0; slot < 32; slot++) {
      let used = false;
      for (let fn = 0; fn < 8; fn++) if (this.fns[(slot << 3) | fn]) used = true;
      if (!used) return slot;
    }
    throw new Error('no free PCI slot');
  }

  isMultiFunctionSlot(slot: number): boolean {
    for (let fn = 1; fn < 8; fn++) if (this.fns[(slot << 3) | fn]) return true;
    return false;
  }

  device(slot: number, fn = 0): PciDevice | undefined {
    return this.fns[(slot << 3) | fn];
  }

  devices(): PciDevice[] {
    return this.fns.filter((d): d is PciDevice => d !== undefined);
  }

  // ---- configuration mechanism #1 ------------------------------------------------------

  read(port: number, size: number): number {
    if (port >= PCI_CONFIG_DATA) return this.dataRead(port, size);
    // QEMU hands the whole register to every read; the port bus truncates it to `size`.
    return this.configAddress;
  }

  write(port: number, value: number, size: number): void {
    if (port >= PCI_CONFIG_DATA) {
      this.dataWrite(port, value, size);
      return;
    }
    // Only a dword write at 0xCF8 reaches CONFIG_ADDRESS; others go to the ISA bus.
    if (port === PCI_CONFIG_ADDRESS && size === 4) this.configAddress = value >>> 0;
  }

  /** The function and register CONFIG_ADDRESS selects for a data port access, or null. */
  private target(port: number): { dev: PciDevice; reg: number } | null {
    const a = this.configAddress;
    if (!(a & 0x80000000)) return null;
    if (((a >>> 16) & 0xff) !== 0) return null;
    const dev = this.fns[(a >>> 8) & 0xff];
    if (!dev) return null;
    return { dev, reg: (a & 0xff) | (port & 3) };
  }

  private dataRead(port: number, size: number): number {
    const t = this.target(port);
    if (!t) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    return t.dev.readConfig(t.reg, size);
  }

  private dataWrite(port: number, value: number, size: number): void {
    const t = this.target(port);
    if (t) t.dev.writeConfig(t.reg, value, size);
  }

  /** Direct configuration access for the board and tests (bus 0 only). */
  configRead(slot: number, fn: number, reg: number, size: number): number {
    const dev = this.fns[(slot << 3) | fn];
    if (!dev) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    return dev.readConfig(reg, size);
  }

  configWrite(slot: number, fn: number, reg: number, value: number, size: number): void {
    this.fns[(slot << 3) | fn]?.writeConfig(reg, value, size);
  }

  // ---- BAR decoding --------------------------------------------------------------------

  /** Re-map `dev`'s BARs and expansion ROM after a command/BAR change or reset. */
  updateMappings(dev: PciDevice): void {
    for (let i = 0; i < 7; i++) {
      const key = `${dev.devfn}:${i}`;
      let want: { kind: 'io' | 'mem'; phys: number; size: number; block: RegisterBlock; name: string } | null = null;
      if (i < 6) {
        const def = dev.barDef(i);
        const a = dev.barAddress(i);
        if (def && a !== null) want = { kind: def.kind, phys: a, size: def.size, block: def.block, name: def.name };
      } else {
        const rom = dev.romBlock();
        const a = dev.romAddress();
        if (rom && a !== null) want = { kind: 'mem', phys: a, size: rom.size, block: rom.block, name: `${dev.name}.rom` };
      }
      // I/O
      const ioBlock = this.ioBlocks.get(key);
      if (want?.kind === 'io') {
        const cur = ioBlock ? this.ioSpace.where(ioBlock) : null;
        if (!cur || cur.base !== want.phys || ioBlock !== want.block) {
          if (ioBlock) this.ioSpace.unmap(ioBlock);
          this.ioSpace.map(want.phys, want.size, want.block, want.name);
          this.ioBlocks.set(key, want.block);
        }
      } else if (ioBlock) {
        this.ioSpace.unmap(ioBlock);
        this.ioBlocks.delete(key);
      }
      // Memory
      const mem = this.memMaps.get(key);
      if (want?.kind === 'mem') {
        if (!mem || mem.phys !== want.phys) {
          if (mem) this.unmapMem(mem);
          this.memMaps.set(key, this.mapMem(want.phys, want.size, want.block, want.name));
        }
      } else if (mem) {
        this.unmapMem(mem);
        this.memMaps.delete(key);
      }
    }
  }

  private pageFree(pa: number): boolean {
    return pa >= this.memoryHoleStart && !this.phys.isDirect(pa) && this.phys.writeOffset(pa >>> 12) < 0 && !this.phys.mmioAt(pa);
  }

  private mapMem(base: number, size: number, block: RegisterBlock, name: string): MemMapping {
    const handlers: MmioHandler[] = [];
    const span = Math.max(size, PAGE_SIZE);
    let run = -1;
    const flush = (end: number) => {
      if (run < 0) return;
      const delta = run - base;
      const h: MmioHandler = {
        name,
        read: (off, sz) => block.read(off + delta, sz),
        write: (off, v, sz) => block.write(off + delta, v, sz),
      };
      this.phys.mapMmio(run >>> 0, end - run, h);
      handlers.push(h);
      run = -1;
    };
    for (let p = 0; p < span && base + p <= 0xffffffff; p += PAGE_SIZE) {
      const pa = base + p;
      if (this.pageFree(pa >>> 0)) {
        if (run < 0) run = pa;
      } else flush(pa);
    }
    flush(Math.min(base + span, 0x100000000));
    return { phys: base, size: span, handlers };
  }

  private unmapMem(m: MemMapping): void {
    for (let p = 0; p < m.size; p += PAGE_SIZE) {
      const pa = (m.phys + p) >>> 0;
      const cur = this.phys.mmioAt(pa);
      if (cur && m.handlers.includes(cur.handler)) this.phys.unmap(pa, PAGE_SIZE);
    }
  }

  // ---- interrupts ----------------------------------------------------------------------

  /** A function's INTx# output changed (already gated by its INTx Disable bit). */
  setIntx(dev: PciDevice, level: boolean): void {
    const pin = dev.get8(PCI_INTERRUPT_PIN);
    if (pin < 1 || pin > 4) return;
    this.intxLevels.set(dev, level);
    const pirq = pciSlotPirq(dev.slot, pin);
    let any = false;
    for (const [d, l] of this.intxLevels) if (l && pciSlotPirq(d.slot, d.get8(PCI_INTERRUPT_PIN)) === pirq) any = true;
    if (any !== this.pirqLevels[pirq]) {
      this.pirqLevels[pirq] = any;
      this.onPirq(pirq, any);
    }
  }

  pirqLevel(pirq: number): boolean {
    return this.pirqLevels[pirq & 3]!;
  }

  reset(): void {
    this.configAddress = 0;
    this.intxLevels.clear();
    for (const d of this.devices()) d.reset();
    for (let p = 0; p < 4; p++) {
      if (!this.pirqLevels[p]) continue;
      this.pirqLevels[p] = false;
      this.onPirq(p, false);
    }
  }

  /** The bus and every function on it (by bus/device/function). */
  saveState(): PciBusState {
    return {
      configAddress: this.configAddress,
      pirqLevels: [...this.pirqLevels],
      intx: [...this.intxLevels].map(([d, l]) => [d.bdf, l]),
      devices: Object.fromEntries(this.devices().map((d) => [d.bdf, d.saveState()])),
    };
  }

  /**
   * The functions' registers (and the mappings their BARs make), then the interrupt line
   * levels as saved, without telling the PIIX3: the interrupt controllers load their
   * input levels themselves.
   */
  loadState(s: PciBusState): void {
    this.configAddress = s.configAddress >>> 0;
    for (const d of this.devices()) {
      const ds = s.devices[d.bdf];
      if (ds) d.loadState(ds);
    }
    const byBdf = new Map(this.devices().map((d) => [d.bdf, d]));
    this.intxLevels.clear();
    for (const [bdf, l] of s.intx) {
      const d = byBdf.get(bdf);
      if (d) this.intxLevels.set(d, l);
    }
    for (let p = 0; p < 4; p++) this.pirqLevels[p] = s.pirqLevels[p] ?? false;
  }

  info(): PciBusInfo {
    return { configAddress: this.configAddress, devices: this.devices().map((d) => d.info()), pirqLevels: [...this.pirqLevels] };
  }
}
