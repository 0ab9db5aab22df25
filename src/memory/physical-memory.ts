// The physical address space as BMBT flattens QEMU's region tree: a page-granular table
// (one entry per 4 KiB page of the 4 GiB space) that says, separately for reads and
// writes, where the page's bytes live in one backing buffer, or which MMIO handler
// serves it. RAM and ROM are direct; everything else goes through handlers.
import { DirtyPages } from './dirty-pages.js';

export interface MmioHandler {
  readonly name: string;
  read(offset: number, size: number): number;
  write(offset: number, value: number, size: number): void;
}

interface MmioMapping {
  readonly handler: MmioHandler;
  readonly base: number;
}

export const PAGE_SHIFT = 12;
/**
 * What a read of unassigned physical memory returns: 0, as QEMU 7.2 (its unassigned
 * region reads 0; writes are dropped). Unclaimed I/O ports still read all ones (IoBus).
 */
export const UNASSIGNED_READ = 0;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGES = 1 << 20;

/** A named area of the backing buffer (RAM, a ROM image). */
export interface BackingArea {
  readonly name: string;
  readonly offset: number; // in the backing buffer
  readonly size: number;
}

export class PhysicalMemory {
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  /**
   * Backing offset of each physical page for reads and for writes, stored complemented
   * (`~offset`): an unmapped page (-1: MMIO, ROM for writes, unassigned) is then 0, the
   * value a new array already holds, so the pages of these 4 MiB tables that nothing maps
   * are never written and cost no memory. Read them through readOffset/writeOffset.
   */
  private readonly rOff = new Int32Array(PAGES);
  private readonly wOff = new Int32Array(PAGES);
  /**
   * MMIO mappings by page: a few thousand pages at most (an array over all 2^20 pages was
   * 8 MiB of heap), and only accesses that miss RAM look here.
   */
  private readonly mmio = new Map<number, MmioMapping>();
  private readonly areas = new Map<string, BackingArea>();
  private used = 0;
  /** Called whenever the page map changes, so that TLBs can be flushed. */
  onMapChange: () => void = () => {};
  /**
   * Backing pages written since the last snapshot. Every write that does not go through
   * a TLB write entry marks its page here; the MMU gives translated code a write entry
   * only for a page already marked (mmu.ts), so its stores need no check.
   */
  readonly dirty: DirtyPages;

  constructor(readonly backingSize: number) {
    this.buffer = new ArrayBuffer(backingSize);
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.dirty = new DirtyPages(Math.ceil(backingSize / PAGE_SIZE));
  }

  /** Reserve a page-aligned area of the backing buffer. */
  allocate(name: string, size: number): BackingArea {
    const aligned = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    if (this.used + aligned > this.backingSize) throw new Error(`backing buffer too small for ${name}`);
    const area = { name, offset: this.used, size };
    this.used += aligned;
    this.areas.set(name, area);
    return area;
  }

  area(name: string): BackingArea | undefined {
    return this.areas.get(name);
  }

  /** Map [phys, phys+size) to an area for reads and/or writes. */
  mapDirect(phys: number, size: number, area: BackingArea, areaOffset: number, read: boolean, write: boolean): void {
    for (let p = 0; p < size; p += PAGE_SIZE) {
      const page = (phys + p) >>> PAGE_SHIFT;
      const off = area.offset + areaOffset + p;
      if (read) this.rOff[page] = ~off;
      if (write) this.wOff[page] = ~off;
      if (read && write) this.mmio.delete(page);
    }
    this.onMapChange();
  }

  mapMmio(phys: number, size: number, handler: MmioHandler): void {
    const mapping = { handler, base: phys };
    for (let p = 0; p < size; p += PAGE_SIZE) {
      const page = (phys + p) >>> PAGE_SHIFT;
      this.rOff[page] = 0;
      this.wOff[page] = 0;
      this.mmio.set(page, mapping);
    }
    this.onMapChange();
  }

  unmap(phys: number, size: number, read = true, write = true): void {
    for (let p = 0; p < size; p += PAGE_SIZE) {
      const page = (phys + p) >>> PAGE_SHIFT;
      if (read) this.rOff[page] = 0;
      if (write) this.wOff[page] = 0;
      if (read && write) this.mmio.delete(page);
    }
    this.onMapChange();
  }

  /**
   * Told about every guest access to an address nothing is mapped at (writes to ROM are
   * not such accesses): QEMU's -d guest_errors. Off (null) unless someone listens.
   */
  onUnassigned: ((pa: number, size: number, write: boolean) => void) | null = null;

  /** Backing offset of a physical page's reads, or -1 (MMIO / unassigned). */
  readOffset(page: number): number {
    return ~this.rOff[page]!;
  }

  /** Backing offset of a physical page's writes, or -1 (MMIO / ROM / unassigned). */
  writeOffset(page: number): number {
    return ~this.wOff[page]!;
  }

  mmioAt(phys: number): MmioMapping | undefined {
    return this.mmio.get(phys >>> PAGE_SHIFT);
  }

  /** True when the page's reads come straight from the backing buffer. */
  isDirect(phys: number): boolean {
    return ~this.rOff[phys >>> PAGE_SHIFT]! >= 0;
  }

  read8(pa: number): number {
    const off = ~this.rOff[pa >>> PAGE_SHIFT]!;
    if (off >= 0) return this.u8[off + (pa & 0xfff)]!;
    const m = this.mmio.get(pa >>> PAGE_SHIFT);
    if (m) return m.handler.read((pa - m.base) >>> 0, 1) & 0xff;
    this.onUnassigned?.(pa, 1, false);
    return UNASSIGNED_READ;
  }

  read16(pa: number): number {
    if ((pa & 0xfff) === 0xfff) return this.read8(pa) | (this.read8((pa + 1) >>> 0) << 8);
    const off = ~this.rOff[pa >>> PAGE_SHIFT]!;
    if (off >= 0) {
      const o = off + (pa & 0xfff);
      return o & 1 ? this.u8[o]! | (this.u8[o + 1]! << 8) : this.u16[o >> 1]!;
    }
    const m = this.mmio.get(pa >>> PAGE_SHIFT);
    if (m) return m.handler.read((pa - m.base) >>> 0, 2) & 0xffff;
    this.onUnassigned?.(pa, 2, false);
    return UNASSIGNED_READ;
  }

  read32(pa: number): number {
    if ((pa & 0xfff) > 0xffc) return (this.read16(pa) | (this.read16((pa + 2) >>> 0) << 16)) | 0;
    const off = ~this.rOff[pa >>> PAGE_SHIFT]!;
    if (off >= 0) {
      const o = off + (pa & 0xfff);
      if ((o & 3) === 0) return this.i32[o >> 2]!;
      const u = this.u8;
      return u[o]! | (u[o + 1]! << 8) | (u[o + 2]! << 16) | (u[o + 3]! << 24);
    }
    const m = this.mmio.get(pa >>> PAGE_SHIFT);
    if (m) return m.handler.read((pa - m.base) >>> 0, 4) | 0;
    this.onUnassigned?.(pa, 4, false);
    return UNASSIGNED_READ;
  }

  write8(pa: number, v: number): void {
    const off = ~this.wOff[pa >>> PAGE_SHIFT]!;
    if (off >= 0) {
      if (this.dirty.flags[off >>> PAGE_SHIFT] === 0) this.dirty.mark(off >>> PAGE_SHIFT);
      this.u8[off + (pa & 0xfff)] = v;
      return;
    }
    const m = this.mmio.get(pa >>> PAGE_SHIFT);
    if (m) m.handler.write((pa - m.base) >>> 0, v & 0xff, 1);
    else if (this.onUnassigned !== null && ~this.rOff[pa >>> PAGE_SHIFT]! < 0) this.onUnassigned(pa, 1, true);
  }

  write16(pa: number, v: number): void {
    if ((pa & 0xfff) === 0xfff) {
      this.write8(pa, v);
      this.write8((pa + 1) >>> 0, v >> 8);
      return;
    }
    const off = ~this.wOff[pa >>> PAGE_SHIFT]!;
    if (off >= 0) {
      if (this.dirty.flags[off >>> PAGE_SHIFT] === 0) this.dirty.mark(off >>> PAGE_SHIFT);
      const o = off + (pa & 0xfff);
      if (o & 1) {
        this.u8[o] = v;
        this.u8[o + 1] = v >> 8;
      } else this.u16[o >> 1] = v;
      return;
    }
    const m = this.mmio.get(pa >>> PAGE_SHIFT);
    if (m) m.handler.write((pa - m.base) >>> 0, v & 0xffff, 2);
    else if (this.onUnassigned !== null && ~this.rOff[pa >>> PAGE_SHIFT]! < 0) this.onUnassigned(pa, 2, true);
  }

  write32(pa: number, v: number): void {
    if ((pa & 0xfff) > 0xffc) {
      this.write16(pa, v);
      this.write16((pa + 2) >>> 0, v >>> 16);
      return;
    }
    const off = ~this.wOff[pa >>> PAGE_SHIFT]!;
    if (off >= 0) {
      if (this.dirty.flags[off >>> PAGE_SHIFT] === 0) this.dirty.mark(off >>> PAGE_SHIFT);
      const o = off + (pa & 0xfff);
      if ((o & 3) === 0) this.i32[o >> 2] = v;
      else {
        const u = this.u8;
        u[o] = v;
        u[o + 1] = v >> 8;
        u[o + 2] = v >> 16;
        u[o + 3] = v >> 24;
      }
      return;
    }
    const m = this.mmio.get(pa >>> PAGE_SHIFT);
    if (m) m.handler.write((pa - m.base) >>> 0, v >>> 0, 4);
    else if (this.onUnassigned !== null && ~this.rOff[pa >>> PAGE_SHIFT]! < 0) this.onUnassigned(pa, 4, true);
  }

  /** Copy bytes into physical memory, ignoring ROM protection (loaders, debuggers). */
  load(pa: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.poke8((pa + i) >>> 0, data[i]!);
  }

  /** Debugger/loader write: goes to the backing bytes of RAM or ROM, else to MMIO. */
  poke8(pa: number, v: number): void {
    const page = pa >>> PAGE_SHIFT;
    const off = ~this.wOff[page]! >= 0 ? ~this.wOff[page]! : ~this.rOff[page]!;
    if (off >= 0) {
      this.dirty.mark(off >>> PAGE_SHIFT);
      this.u8[off + (pa & 0xfff)] = v;
    } else this.write8(pa, v);
  }

  /**
   * `len` bytes from `pa` as peek8 reads them, into `out` at `at`; the range must stay in
   * one page (debuggers read a page at a time).
   */
  peekPage(pa: number, out: Uint8Array, at: number, len: number): void {
    const off = ~this.rOff[pa >>> PAGE_SHIFT]!;
    if (off >= 0) {
      const o = off + (pa & 0xfff);
      out.set(this.u8.subarray(o, o + len), at);
    } else out.fill(this.mmio.get(pa >>> PAGE_SHIFT) ? 0xff : UNASSIGNED_READ, at, at + len);
  }

  /**
   * Debugger read without side effects: MMIO devices are not called (0xff there);
   * unassigned pages read 0, as the guest sees them.
   */
  peek8(pa: number): number {
    const off = ~this.rOff[pa >>> PAGE_SHIFT]!;
    if (off >= 0) return this.u8[off + (pa & 0xfff)]!;
    return this.mmio.get(pa >>> PAGE_SHIFT) ? 0xff : UNASSIGNED_READ;
  }
}
