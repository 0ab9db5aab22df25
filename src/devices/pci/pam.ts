// The i440FX's legacy-memory routing (82441FX datasheet §3.2.20 PAM, §3.2.24 SMRAM),
// applied to a PhysicalMemory. The board builds one PamController with the RAM area and
// what sits behind the PCI side below 1 MiB; the host bridge (i440fx.ts) drives it from
// its configuration registers.
//
// 0xC0000-0xFFFFF is 13 segments: 0xF0000-0xFFFFF (64 KiB, PAM0 bits 5:4) and twelve
// 16 KiB segments from 0xC0000 (PAM1-PAM6, low nibble first). Each has two attributes:
// RE (reads from DRAM) and WE (writes to DRAM). Reads without RE and writes without WE go
// to PCI, which here means the ROM windows the board lists (the BIOS's last 128 KiB at
// 0xE0000, QEMU's read-only "pc.rom" at 0xC0000) for reads, and nowhere for writes (ROM
// ignores them). Attribute 2 (write-only) maps DRAM both ways, as QEMU 7.2 does
// (decisions.md 26: the datasheet's "reads from ROM" is not what software is tested on).
//
// 0xA0000-0xBFFFF is the SMRAM window: with SMRAM.D_OPEN clear it decodes to the PCI side
// (the VGA handler, or nothing), with D_OPEN set to DRAM. There is no SMM in our CPU, so
// G_SMRAME and the SMM-mode view do not change anything (docs/decisions.md).
//
// A RAM overlay (`setRamOverlay`) maps a page range to DRAM, readable and writable, over
// whatever PAM or SMRAM routes there: QEMU's kvmvapic device does this to its option ROM
// (an alias of pc.ram at priority 1000 above the PAM regions), so the ROM stays writable
// after the BIOS write-protects its shadow RAM.
import type { BackingArea, MmioHandler, PhysicalMemory } from '../../memory/physical-memory.js';
import { PAGE_SIZE } from '../../memory/physical-memory.js';

/** PAM attribute bits (per segment). */
export const PAM_RE = 1;
export const PAM_WE = 2;
export const PAM_SEGMENT_COUNT = 13;

export const SMRAM_BASE = 0xa0000;
export const SMRAM_SIZE = 0x20000;
export const PAM_BASE = 0xc0000;
export const PAM_END = 0x100000;

/** A read-only image that shows through where a segment is not routed to DRAM. */
export interface LegacyRomWindow {
  /** Physical address in 0xC0000-0xFFFFF (page aligned). */
  phys: number;
  size: number;
  area: BackingArea;
  /** Offset in `area` of the byte that appears at `phys`. */
  offset: number;
}

export interface PamControllerOptions {
  /** Guest RAM: physical address A below 1 MiB is byte A of this area. */
  ram: BackingArea;
  /** What PCI/ISA memory shows at 0xC0000-0xFFFFF; pages outside every window are unassigned. */
  rom?: LegacyRomWindow[];
  /** The device behind 0xA0000-0xBFFFF while SMRAM is closed (VGA), or none. */
  vga?: MmioHandler | null;
  /**
   * Called with a physical range whose read routing changed, so translated code built from
   * the old bytes can be dropped (the board calls the TB cache's range invalidation).
   */
  onRemap?: (phys: number, size: number) => void;
}

export interface PamSegmentInfo {
  base: number;
  size: number;
  attr: number;
  read: 'ram' | 'rom' | 'none';
  write: 'ram' | 'none';
}

export interface PamInfo {
  segments: PamSegmentInfo[];
  smramOpen: boolean;
  vgaWindow: 'vga' | 'ram' | 'none';
  /** Pages mapped to DRAM read-write over the routing above (kvmvapic's ROM), if any. */
  ramOverlay: PageRange | null;
}

/** A page-aligned physical range. */
export interface PageRange {
  base: number;
  size: number;
}

export interface PamState {
  attrs: number[];
  smramOpen: boolean;
  ramOverlay?: PageRange | null;
}

/** Base and size of PAM segment `i` (0: 0xF0000 64 KiB; 1-12: 0xC0000 + 16 KiB steps). */
export function pamSegment(i: number): { base: number; size: number } {
  return i === 0 ? { base: 0xf0000, size: 0x10000 } : { base: PAM_BASE + (i - 1) * 0x4000, size: 0x4000 };
}

export class PamController {
  private readonly attrs = new Uint8Array(PAM_SEGMENT_COUNT);
  private smramOpen = false;
  private ramOverlay: PageRange | null = null;
  private readonly ram: BackingArea;
  private readonly rom: LegacyRomWindow[];
  private readonly vga: MmioHandler | null;
  onRemap: (phys: number, size: number) => void;

  constructor(private readonly phys: PhysicalMemory, opts: PamControllerOptions) {
    if (opts.ram.size < PAM_END) throw new Error('PamController: RAM must cover the first MiB');
    this.ram = opts.ram;
    this.rom = opts.rom ?? [];
    this.vga = opts.vga ?? null;
    this.onRemap = opts.onRemap ?? (() => {});
    for (let i = 0; i < PAM_SEGMENT_COUNT; i++) this.applySegment(i, true);
    this.applySmram(true);
  }

  /** Set segment `i`'s attribute (0-3: bit 0 RE, bit 1 WE). */
  setPam(i: number, attr: number): void {
    attr &= 3;
    if (this.attrs[i] === attr) return;
    const readsRam = (a: number) => (a & PAM_RE) !== 0 || a === PAM_WE;
    const readChanged = readsRam(this.attrs[i]!) !== readsRam(attr);
    this.attrs[i] = attr;
    this.applySegment(i, readChanged);
  }

  pam(i: number): number {
    return this.attrs[i]!;
  }

  setSmramOpen(open: boolean): void {
    if (open === this.smramOpen) return;
    this.smramOpen = open;
    this.applySmram(true);
  }

  /**
   * Map [base, base + size) (page aligned) to DRAM both ways over the PAM and SMRAM
   * routing, replacing the previous overlay; null removes it. Only the legacy window
   * 0xA0000-0xFFFFF is affected: RAM elsewhere is RAM already.
   */
  setRamOverlay(range: PageRange | null): void {
    const old = this.ramOverlay;
    this.ramOverlay = range && range.size > 0 ? { base: range.base >>> 0, size: range.size } : null;
    for (const r of [old, this.ramOverlay]) {
      if (!r) continue;
      for (let i = 0; i < PAM_SEGMENT_COUNT; i++) {
        const seg = pamSegment(i);
        if (overlaps(r, seg)) this.applySegment(i, true);
      }
      if (overlaps(r, { base: SMRAM_BASE, size: SMRAM_SIZE })) this.applySmram(true);
    }
  }

  /** Power-on routing: every segment to ROM, SMRAM closed. */
  reset(): void {
    for (let i = 0; i < PAM_SEGMENT_COUNT; i++) this.setPam(i, 0);
    this.setSmramOpen(false);
  }

  private romPage(pa: number): { area: BackingArea; offset: number } | null {
    for (const w of this.rom) {
      if (pa >= w.phys && pa < w.phys + w.size) return { area: w.area, offset: w.offset + (pa - w.phys) };
    }
    return null;
  }

  private applySegment(i: number, readChanged: boolean): void {
    const { base, size } = pamSegment(i);
    const attr = this.attrs[i]!;
    const readsRam = (attr & PAM_RE) !== 0 || attr === PAM_WE;
    for (let pa = base; pa < base + size; pa += PAGE_SIZE) {
      if (readsRam) this.phys.mapDirect(pa, PAGE_SIZE, this.ram, pa, true, false);
      else {
        const r = this.romPage(pa);
        if (r) this.phys.mapDirect(pa, PAGE_SIZE, r.area, r.offset, true, false);
        else this.phys.unmap(pa, PAGE_SIZE, true, false);
      }
      if (attr & PAM_WE) this.phys.mapDirect(pa, PAGE_SIZE, this.ram, pa, false, true);
      else this.phys.unmap(pa, PAGE_SIZE, false, true);
    }
    this.applyOverlay(base, size);
    if (readChanged) this.onRemap(base, size);
  }

  /** The overlay's pages inside [base, base + size) to DRAM, read and write. */
  private applyOverlay(base: number, size: number): void {
    const r = this.ramOverlay;
    if (!r) return;
    const from = Math.max(base, r.base);
    const to = Math.min(base + size, r.base + r.size);
    for (let pa = from; pa < to; pa += PAGE_SIZE) this.phys.mapDirect(pa, PAGE_SIZE, this.ram, pa, true, true);
  }

  private applySmram(notify: boolean): void {
    if (this.smramOpen) this.phys.mapDirect(SMRAM_BASE, SMRAM_SIZE, this.ram, SMRAM_BASE, true, true);
    else if (this.vga) this.phys.mapMmio(SMRAM_BASE, SMRAM_SIZE, this.vga);
    else this.phys.unmap(SMRAM_BASE, SMRAM_SIZE);
    this.applyOverlay(SMRAM_BASE, SMRAM_SIZE);
    if (notify) this.onRemap(SMRAM_BASE, SMRAM_SIZE);
  }

  saveState(): PamState {
    return { attrs: Array.from(this.attrs), smramOpen: this.smramOpen, ramOverlay: this.ramOverlay && { ...this.ramOverlay } };
  }

  loadState(s: PamState): void {
    for (let i = 0; i < PAM_SEGMENT_COUNT; i++) this.setPam(i, s.attrs[i] ?? 0);
    this.setSmramOpen(s.smramOpen);
    this.setRamOverlay(s.ramOverlay ?? null);
  }

  info(): PamInfo {
    const segments: PamSegmentInfo[] = [];
    for (let i = 0; i < PAM_SEGMENT_COUNT; i++) {
      const { base, size } = pamSegment(i);
      const attr = this.attrs[i]!;
      segments.push({
        base, size, attr,
        read: attr & PAM_RE ? 'ram' : this.romPage(base) ? 'rom' : 'none',
        write: attr & PAM_WE ? 'ram' : 'none',
      });
    }
    return {
      segments, smramOpen: this.smramOpen, vgaWindow: this.smramOpen ? 'ram' : this.vga ? 'vga' : 'none',
      ramOverlay: this.ramOverlay && { ...this.ramOverlay },
    };
  }
}

function overlaps(a: PageRange, b: PageRange): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}
