// Linear -> physical translation: 32-bit paging with 4 KiB and 4 MiB (PSE) pages, PAE
// paging, U/S, R/W, CR0.WP, accessed/dirty bits, CR2, global pages, and a software TLB.
//
// The TLB is four direct-mapped tables indexed by linear page number (reads and writes,
// supervisor and user). An entry is the page's offset in the physical memory backing
// buffer, or -1, stored complemented (`~entry`) so that an empty entry is 0: the pages of
// the four 4 MiB tables a guest never maps are never written and cost no memory.
// Translated code reads them inline; anything not directly backed (MMIO,
// ROM writes, pages holding translated code, watched pages) never gets an entry and
// takes the slow path here. A write entry for a page not written since the last snapshot
// (physical-memory.ts: `dirty`) is held back as -2 - offset: the first store takes the
// slow path, which marks the page and restores the entry without a page walk
// (`dirtyWriteHit`), so snapshots see every write and the TLB behaves as without them.
import { PhysicalMemory, PAGE_SHIFT } from '../memory/physical-memory.js';
import { EXC_PF } from './cpu-exception.js';
import type { Cpu } from './cpu.js';

export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31;

export const CR4_VME = 1 << 0;
export const CR4_PVI = 1 << 1;
export const CR4_TSD = 1 << 2;
export const CR4_DE = 1 << 3;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_MCE = 1 << 6;
export const CR4_PGE = 1 << 7;
export const CR4_PCE = 1 << 8;
export const CR4_OSFXSR = 1 << 9;

const PTE_P = 1;
const PTE_W = 2;
const PTE_U = 4;
const PTE_A = 0x20;
const PTE_D = 0x40;
const PTE_PS = 0x80;
const PTE_G = 0x100;

export const PF_P = 1;
export const PF_W = 2;
export const PF_U = 4;
export const PF_RSVD = 8;

/** Physical addresses from here up are unassigned memory (no RAM or device above 4 GiB). */
export const PHYS_4G = 0x1_0000_0000;

export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_FETCH = 2;

const TLB_SIZE = 1 << 20;
/** Filled entries tracked one by one; past this many a flush clears the whole tables. */
const FILLED_MAX = 1 << 17;
/** `tlbState` bits of a linear page. */
const ST_LISTED = 1; // in `filled`
const ST_GLOBAL = 2; // filled from a global page (kept by a flush that keeps globals)

/** The TLB's contents (snapshots restore it, so a stale entry stays stale, as it was). */
export interface TlbState {
  /** Filled linear pages, with their four entries and state bits (5 numbers each; JSON-able). */
  entries: number[];
  largeAddr: number;
  largeMask: number;
  /** The fill list had overflowed: the entries are not listed (restore flushes). */
  overflowed: boolean;
}

export interface PageMapping {
  readonly linear: number;
  readonly physical: number;
  readonly size: number; // 4 KiB or 4 MiB / 2 MiB
  readonly writable: boolean;
  readonly user: boolean;
  readonly global: boolean;
}

export class Mmu {
  /** The tables, entries complemented (`~entry`; 0: none). Read one with tlbEntry. */
  readonly tlbRK = new Int32Array(TLB_SIZE);
  readonly tlbWK = new Int32Array(TLB_SIZE);
  readonly tlbRU = new Int32Array(TLB_SIZE);
  readonly tlbWU = new Int32Array(TLB_SIZE);
  /**
   * The linear pages filled since the last flush (each once, `ST_LISTED`), so a flush
   * clears only those: a kernel flushes thousands of times per boot. Past FILLED_MAX the
   * list is abandoned (`overflowed`) and the next flush clears the whole tables.
   */
  private readonly filled = new Int32Array(FILLED_MAX);
  private nFilled = 0;
  private overflowed = false;
  private readonly tlbState = new Uint8Array(TLB_SIZE);
  /**
   * The linear range covered by the 4 MiB / 2 MiB pages filled since the last flush
   * (grown to one aligned block, as QEMU's large_page_addr/mask): INVLPG inside it must
   * drop every entry the large page filled, elsewhere only the one page.
   */
  private largeAddr = -1;
  private largeMask = 0;
  /** Physical pages that hold translated code: writes to them go through the slow path. */
  readonly codePages: Uint8Array = new Uint8Array(TLB_SIZE);
  /** Linear pages with watchpoints: every access takes the slow path. */
  readonly watchedPages = new Set<number>();
  a20Mask = 0xffffffff | 0;
  flushes = 0;
  pageFlushes = 0;
  fills = 0;

  constructor(private readonly cpu: Cpu, private readonly phys: PhysicalMemory) {}

  /** An entry of one of the tables, as it means: a backing offset, -1 (none) or held back (< -1). */
  tlbEntry(table: Int32Array, vpage: number): number {
    return ~table[vpage]!;
  }

  flush(keepGlobal = false): void {
    this.flushes++;
    const keep = keepGlobal && (this.cpu.cr4 & CR4_PGE) !== 0 && !this.overflowed;
    const st = this.tlbState;
    if (this.overflowed) {
      this.tlbRK.fill(0);
      this.tlbWK.fill(0);
      this.tlbRU.fill(0);
      this.tlbWU.fill(0);
      st.fill(0);
      this.nFilled = 0;
      this.overflowed = false;
    } else {
      let kept = 0;
      for (let i = 0; i < this.nFilled; i++) {
        const v = this.filled[i]!;
        if (keep && st[v]! & ST_GLOBAL) {
          this.filled[kept++] = v;
          continue;
        }
        st[v] = 0;
        this.tlbRK[v] = 0;
        this.tlbWK[v] = 0;
        this.tlbRU[v] = 0;
        this.tlbWU[v] = 0;
      }
      this.nFilled = kept;
    }
    // Kept global entries may come from a large page: keep its range too.
    if (!keep) {
      this.largeAddr = -1;
      this.largeMask = 0;
    }
    this.cpu.onTlbFlush();
  }

  /** INVLPG: the entries of one page, or all of them when a large page covers it. */
  flushPage(lin: number): void {
    if (this.largeAddr !== -1 && ((lin & this.largeMask) >>> 0) === this.largeAddr) {
      // A 4 MiB page may have filled many entries; INVLPG must drop them all (SDM vol. 3, 4.10.4.1).
      this.flush(false);
      return;
    }
    this.pageFlushes++;
    const v = lin >>> PAGE_SHIFT;
    this.tlbRK[v] = 0;
    this.tlbWK[v] = 0;
    this.tlbRU[v] = 0;
    this.tlbWU[v] = 0;
    this.tlbState[v]! &= ~ST_GLOBAL;
    this.cpu.onTlbFlushPage(v);
  }

  /** Drop every write entry that points at a physical page (it now holds code). */
  protectCodePage(physPage: number): void {
    if (this.codePages[physPage]) return;
    this.codePages[physPage] = 1;
    const off = this.phys.writeOffset(physPage);
    if (off < 0) return;
    const wk = this.tlbWK;
    const wu = this.tlbWU;
    // (as stored: complemented)
    const live = ~off;
    const held = ~(-2 - off);
    if (this.overflowed) {
      for (let v = 0; v < TLB_SIZE; v++) {
        if (wk[v] === live || wk[v] === held) wk[v] = 0;
        if (wu[v] === live || wu[v] === held) wu[v] = 0;
      }
      return;
    }
    const f = this.filled;
    for (let i = 0; i < this.nFilled; i++) {
      const v = f[i]!;
      if (wk[v] === live || wk[v] === held) wk[v] = 0;
      if (wu[v] === live || wu[v] === held) wu[v] = 0;
    }
  }

  /** A write entry held back for dirty tracking: mark the page, give the entry back. */
  dirtyWriteHit(vpage: number): number {
    const wk = this.tlbWK;
    const wu = this.tlbWU;
    const e = ~wk[vpage]! < -1 ? ~wk[vpage]! : ~wu[vpage]!;
    const off = -2 - e;
    this.phys.dirty.mark(off >>> PAGE_SHIFT);
    if (wk[vpage] === ~e) wk[vpage] = ~off;
    if (wu[vpage] === ~e) wu[vpage] = ~off;
    return off;
  }

  /**
   * A snapshot was taken: every page is clean again, so hold back every write entry
   * (the next store to each page is noted, then runs at full speed).
   */
  holdBackWriteEntries(): void {
    const wk = this.tlbWK;
    const wu = this.tlbWU;
    const hold = (v: number): void => {
      if (~wk[v]! >= 0) wk[v] = ~(-2 - ~wk[v]!);
      if (~wu[v]! >= 0) wu[v] = ~(-2 - ~wu[v]!);
    };
    if (this.overflowed) for (let v = 0; v < TLB_SIZE; v++) hold(v);
    else for (let i = 0; i < this.nFilled; i++) hold(this.filled[i]!);
  }

  saveTlb(): TlbState {
    const n = this.overflowed ? 0 : this.nFilled;
    const e: number[] = new Array<number>(5 * n);
    for (let i = 0; i < n; i++) {
      const v = this.filled[i]!;
      // The state bits ride in the page number's top bits (linear pages are 20 bits).
      e[5 * i] = v | (this.tlbState[v]! << 24);
      e[5 * i + 1] = ~this.tlbRK[v]!;
      e[5 * i + 2] = ~this.tlbWK[v]!;
      e[5 * i + 3] = ~this.tlbRU[v]!;
      e[5 * i + 4] = ~this.tlbWU[v]!;
    }
    return { entries: e, largeAddr: this.largeAddr, largeMask: this.largeMask, overflowed: this.overflowed };
  }

  /**
   * Put back the read entries saveTlb() saw (a stale one stays stale, as it was). Write
   * entries are not: the pages may hold translated code now (the TB cache outlives a
   * load), so the first store to each page walks the tables and fills it again. Pages a
   * debugger watches get no entry.
   */
  loadTlb(s: TlbState): void {
    this.flush(false);
    if (s.overflowed) return;
    const e = s.entries;
    const watched = this.watchedPages;
    for (let i = 0; i < e.length; i += 5) {
      const v = e[i]! & 0xfffff;
      if (watched.size > 0 && watched.has(v)) continue;
      if (this.nFilled >= FILLED_MAX) break;
      this.filled[this.nFilled++] = v;
      this.tlbState[v] = e[i]! >>> 24;
      this.tlbRK[v] = ~e[i + 1]!;
      this.tlbWK[v] = 0;
      this.tlbRU[v] = ~e[i + 3]!;
      this.tlbWU[v] = 0;
    }
    this.largeAddr = s.largeAddr;
    this.largeMask = s.largeMask;
  }

  unprotectCodePage(physPage: number): void {
    this.codePages[physPage] = 0;
  }

  private pagingOn(): boolean {
    return (this.cpu.cr0 & CR0_PG) !== 0;
  }

  /**
   * Translate for an access, setting accessed/dirty bits and filling the TLB; raises #PF.
   * `user` is the privilege of the access (CPL 3 for ordinary accesses, supervisor for
   * descriptor-table and TSS accesses). The physical address comes back whole: at or
   * above 4 GiB (a PSE-36 or PAE page there) it is a number >= 2^32 (`PHYS_4G`), which
   * the callers treat as unassigned memory.
   */
  translate(lin: number, access: number, user: boolean): number {
    lin >>>= 0;
    const vpage = lin >>> PAGE_SHIFT;
    if (!this.pagingOn()) {
      const pa = (lin & this.a20Mask) >>> 0;
      this.fill(vpage, pa >>> PAGE_SHIFT, true, true, false, false, access === ACCESS_WRITE);
      return pa;
    }
    const cr4 = this.cpu.cr4;
    const write = access === ACCESS_WRITE;
    let pteAddr: number;
    let pte: number;
    let pageBase: number;
    let pageMask: number;
    let rw: boolean;
    let us: boolean;
    // Physical address bits 32 and up (PSE-36, PAE): such a page is unassigned memory.
    let high = 0;
    if (cr4 & CR4_PAE) {
      // Bits of an entry's high dword above the model's physical address width are reserved
      // (QEMU: 36 bits with PSE-36, else 32).
      const hiRsvd = ~((1 << (this.cpu.model.physBits - 32)) - 1);
      const pdptAddr = ((this.cpu.cr3 & ~0x1f) + ((lin >>> 30) << 3)) >>> 0;
      const pdpte = this.readPhys32(pdptAddr);
      const pdpteHi = this.readPhys32(pdptAddr + 4);
      if (!(pdpte & PTE_P)) this.pageFault(lin, 0, access, user);
      if (pdpte & 0x1e6 || pdpteHi & hiRsvd) this.pageFault(lin, PF_P | PF_RSVD, access, user);
      const pdeAddr = ((pdpte & ~0xfff) + (((lin >>> 21) & 0x1ff) << 3)) >>> 0;
      // A page directory above 4 GiB is unassigned memory: it reads 0 (not present).
      let pde = pdpteHi ? 0 : this.readPhys32(pdeAddr);
      const pdeHi = pdpteHi ? 0 : this.readPhys32(pdeAddr + 4);
      if (!(pde & PTE_P)) this.pageFault(lin, 0, access, user);
      if (pdeHi & hiRsvd) this.pageFault(lin, PF_P | PF_RSVD, access, user);
      if (pde & PTE_PS) {
        if (pde & 0x1fe000) this.pageFault(lin, PF_P | PF_RSVD, access, user);
        rw = (pde & PTE_W) !== 0;
        us = (pde & PTE_U) !== 0;
        this.checkAccess(lin, rw, us, access, user);
        const want = PTE_A | (write ? PTE_D : 0);
        if ((pde & want) !== want) {
          pde |= want;
          this.writePhys32(pdeAddr, pde);
        }
        pageBase = pde & 0xffe00000;
        high = pdeHi;
        pageMask = 0x1fffff;
        pte = pde;
        pteAddr = pdeAddr;
      } else {
        if (!(pde & PTE_A)) {
          pde |= PTE_A;
          this.writePhys32(pdeAddr, pde);
        }
        pteAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x1ff) << 3)) >>> 0;
        pte = pdeHi ? 0 : this.readPhys32(pteAddr);
        const pteHi = pdeHi ? 0 : this.readPhys32(pteAddr + 4);
        if (!(pte & PTE_P)) this.pageFault(lin, 0, access, user);
        if (pteHi & hiRsvd) this.pageFault(lin, PF_P | PF_RSVD, access, user);
        rw = (pde & PTE_W) !== 0 && (pte & PTE_W) !== 0;
        us = (pde & PTE_U) !== 0 && (pte & PTE_U) !== 0;
        this.checkAccess(lin, rw, us, access, user);
        pageBase = pte & ~0xfff;
        pageMask = 0xfff;
        high = pteHi;
      }
    } else {
      const pdeAddr = ((this.cpu.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
      let pde = this.readPhys32(pdeAddr);
      if (!(pde & PTE_P)) this.pageFault(lin, 0, access, user);
      if (pde & PTE_PS && cr4 & CR4_PSE) {
        // 4 MiB page. PSE-36: bits 13-20 are physical address bits 32-39, bit 21 is
        // reserved; QEMU 7.2 applies this on every CPU model, whatever CPUID says.
        if (pde & 0x200000) this.pageFault(lin, PF_P | PF_RSVD, access, user);
        rw = (pde & PTE_W) !== 0;
        us = (pde & PTE_U) !== 0;
        this.checkAccess(lin, rw, us, access, user);
        const want = PTE_A | (write ? PTE_D : 0);
        if ((pde & want) !== want) {
          pde |= want;
          this.writePhys32(pdeAddr, pde);
        }
        pageBase = pde & 0xffc00000;
        pageMask = 0x3fffff;
        high = (pde >>> 13) & 0xff;
        pte = pde;
        pteAddr = pdeAddr;
      } else {
        if (!(pde & PTE_A)) {
          pde |= PTE_A;
          this.writePhys32(pdeAddr, pde);
        }
        pteAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
        pte = this.readPhys32(pteAddr);
        if (!(pte & PTE_P)) this.pageFault(lin, 0, access, user);
        rw = (pde & PTE_W) !== 0 && (pte & PTE_W) !== 0;
        us = (pde & PTE_U) !== 0 && (pte & PTE_U) !== 0;
        this.checkAccess(lin, rw, us, access, user);
        pageBase = pte & ~0xfff;
        pageMask = 0xfff;
      }
    }
    if (pageMask === 0xfff) {
      const want = PTE_A | (write ? PTE_D : 0);
      if ((pte & want) !== want) {
        pte |= want;
        this.writePhys32(pteAddr, pte);
      }
    }
    const pa = (((pageBase & ~pageMask) | (lin & pageMask)) & this.a20Mask) >>> 0;
    // Above 4 GiB: no TLB entry (every access takes the slow path, which reads 0 and drops
    // writes there; see Cpu.load8); the address is returned whole.
    if (high !== 0) return high * PHYS_4G + pa;
    const dirty = (pte & PTE_D) !== 0;
    const kernelWrite = rw || !(this.cpu.cr0 & CR0_WP);
    if (pageMask !== 0xfff) this.addLargePage(lin, ~pageMask);
    this.fill(vpage, pa >>> PAGE_SHIFT, us, dirty && kernelWrite, dirty && rw && us, (pte & PTE_G) !== 0 && (cr4 & CR4_PGE) !== 0, write);
    return pa;
  }

  private checkAccess(lin: number, rw: boolean, us: boolean, access: number, user: boolean): void {
    if (user) {
      if (!us || (access === ACCESS_WRITE && !rw)) this.pageFault(lin, PF_P, access, user);
    } else if (access === ACCESS_WRITE && !rw && this.cpu.cr0 & CR0_WP) {
      this.pageFault(lin, PF_P, access, user);
    }
  }

  private pageFault(lin: number, code: number, access: number, user: boolean): never {
    this.cpu.cr2 = lin | 0;
    const err = code | (access === ACCESS_WRITE ? PF_W : 0) | (user ? PF_U : 0);
    return this.cpu.raiseException(EXC_PF, err);
  }

  private fill(vpage: number, ppage: number, userRead: boolean, kernelWrite: boolean, userWrite: boolean, global: boolean, write: boolean): void {
    if (this.watchedPages.size > 0 && this.watchedPages.has(vpage)) return;
    const rOff = this.phys.readOffset(ppage);
    let wOff = this.phys.writeOffset(ppage);
    if (this.codePages[ppage]) wOff = -1;
    if (rOff < 0 && wOff < 0) return;
    if (wOff >= 0 && this.phys.dirty.flags[wOff >>> PAGE_SHIFT] === 0) {
      // A clean page: a write now dirties it; otherwise the entry is held back.
      if (write) this.phys.dirty.mark(wOff >>> PAGE_SHIFT);
      else wOff = -2 - wOff;
    }
    const st = this.tlbState;
    const s0 = st[vpage]!;
    if (!(s0 & ST_LISTED) && !this.overflowed) {
      if (this.nFilled < FILLED_MAX) this.filled[this.nFilled++] = vpage;
      else this.overflowed = true;
    }
    st[vpage] = global ? ST_LISTED | ST_GLOBAL : ST_LISTED;
    this.fills++;
    this.tlbRK[vpage] = ~rOff;
    this.tlbRU[vpage] = userRead ? ~rOff : 0;
    this.tlbWK[vpage] = kernelWrite ? ~wOff : 0;
    this.tlbWU[vpage] = userWrite ? ~wOff : 0;
  }

  /** Note a large page's range (QEMU's tlb_add_large_page): one block covering all of them. */
  private addLargePage(lin: number, mask: number): void {
    const size = ~mask;
    if (this.largeAddr === -1) {
      this.largeAddr = (lin & mask) >>> 0;
      this.largeMask = mask;
      return;
    }
    let m = this.largeMask;
    if (size > ~m) m = mask;
    // Widen the mask until the old range and the new page share one block.
    while (((this.largeAddr ^ lin) & m) !== 0) m = m << 1;
    this.largeMask = m;
    this.largeAddr = (this.largeAddr & m) >>> 0;
  }

  private readPhys32(pa: number): number {
    return this.phys.read32((pa & this.a20Mask) >>> 0);
  }

  private writePhys32(pa: number, v: number): void {
    // Page-table updates can hit a page with translated code: let the CPU see the write.
    this.cpu.physWriteNotify((pa & this.a20Mask) >>> 0, 4);
    this.phys.write32((pa & this.a20Mask) >>> 0, v);
  }

  /**
   * PAE loads the four PDPTEs when CR3 is written or PAE paging is turned on; a present
   * entry with reserved bits set is #GP(0) there (SDM vol. 3, 4.4.1).
   */
  pdptesValid(cr3: number): boolean {
    const base = (cr3 & ~0x1f) >>> 0;
    for (let i = 0; i < 4; i++) {
      const lo = this.readPhys32(base + i * 8);
      const hi = this.readPhys32(base + i * 8 + 4);
      if (lo & PTE_P && (lo & 0x1e6 || hi & ~0xf)) return false;
    }
    return true;
  }

  /** Side-effect-free translation for debuggers; null when unmapped or above 4 GiB (PSE-36). */
  debugTranslate(lin: number): number | null {
    lin >>>= 0;
    if (!this.pagingOn()) return (lin & this.a20Mask) >>> 0;
    const cr4 = this.cpu.cr4;
    const rd = (pa: number): number => this.phys.read32((pa & this.a20Mask) >>> 0);
    if (cr4 & CR4_PAE) {
      const pdpte = rd(((this.cpu.cr3 & ~0x1f) + ((lin >>> 30) << 3)) >>> 0);
      if (!(pdpte & PTE_P)) return null;
      const pde = rd(((pdpte & ~0xfff) + (((lin >>> 21) & 0x1ff) << 3)) >>> 0);
      if (!(pde & PTE_P)) return null;
      if (pde & PTE_PS) return (((pde & 0xffe00000) | (lin & 0x1fffff)) & this.a20Mask) >>> 0;
      const pte = rd(((pde & ~0xfff) + (((lin >>> 12) & 0x1ff) << 3)) >>> 0);
      if (!(pte & PTE_P)) return null;
      return (((pte & ~0xfff) | (lin & 0xfff)) & this.a20Mask) >>> 0;
    }
    const pde = rd(((this.cpu.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0);
    if (!(pde & PTE_P)) return null;
    if (pde & PTE_PS && cr4 & CR4_PSE) {
      if (pde & 0x3fe000) return null;
      return (((pde & 0xffc00000) | (lin & 0x3fffff)) & this.a20Mask) >>> 0;
    }
    const pte = rd(((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0);
    if (!(pte & PTE_P)) return null;
    return (((pte & ~0xfff) | (lin & 0xfff)) & this.a20Mask) >>> 0;
  }

  /** Every present mapping, merged into runs, for `info tlb` / `info mem`. */
  mappings(limit = 4096): PageMapping[] {
    const out: PageMapping[] = [];
    if (!this.pagingOn()) return out;
    const cr4 = this.cpu.cr4;
    const rd = (pa: number): number => this.phys.read32((pa & this.a20Mask) >>> 0);
    const push = (linear: number, physical: number, size: number, e: number, parent: number): void => {
      if (out.length >= limit) return;
      out.push({
        linear: linear >>> 0, physical: physical >>> 0, size,
        writable: (e & parent & PTE_W) !== 0, user: (e & parent & PTE_U) !== 0, global: (e & PTE_G) !== 0,
      });
    };
    if (cr4 & CR4_PAE) {
      for (let i = 0; i < 4; i++) {
        const pdpte = rd(((this.cpu.cr3 & ~0x1f) + i * 8) >>> 0);
        if (!(pdpte & PTE_P)) continue;
        for (let j = 0; j < 512; j++) {
          const pde = rd(((pdpte & ~0xfff) + j * 8) >>> 0);
          if (!(pde & PTE_P)) continue;
          const lin = i * 0x40000000 + j * 0x200000;
          if (pde & PTE_PS) {
            push(lin, pde & 0xffe00000, 0x200000, pde, -1);
            continue;
          }
          for (let k = 0; k < 512; k++) {
            const pte = rd(((pde & ~0xfff) + k * 8) >>> 0);
            if (pte & PTE_P) push(lin + k * 4096, pte & ~0xfff, 4096, pte, pde);
          }
        }
      }
      return out;
    }
    for (let i = 0; i < 1024; i++) {
      const pde = rd(((this.cpu.cr3 & ~0xfff) + i * 4) >>> 0);
      if (!(pde & PTE_P)) continue;
      if (pde & PTE_PS && cr4 & CR4_PSE) {
        push(i * 0x400000, pde & 0xffc00000, 0x400000, pde, -1);
        continue;
      }
      for (let k = 0; k < 1024; k++) {
        const pte = rd(((pde & ~0xfff) + k * 4) >>> 0);
        if (pte & PTE_P) push(i * 0x400000 + k * 4096, pte & ~0xfff, 4096, pte, pde);
      }
    }
    return out;
  }

  /** Number of valid TLB entries (for `info tlb`). */
  validEntries(): number {
    let n = 0;
    if (this.overflowed) {
      for (let v = 0; v < TLB_SIZE; v++) if (this.tlbRK[v] !== 0) n++;
      return n;
    }
    for (let i = 0; i < this.nFilled; i++) if (this.tlbRK[this.filled[i]!] !== 0) n++;
    return n;
  }
}
