// Linear -> physical translation: 32-bit paging with 4 KiB and 4 MiB (PSE) pages, PAE
// paging, U/S, R/W, CR0.WP, accessed/dirty bits, CR2, global pages, and a software TLB.
//
// The TLB is four direct-mapped tables indexed by linear page number (reads and writes,
// supervisor and user). An entry is the page's offset in the physical memory backing
// buffer, or -1. Translated code reads them inline; anything not directly backed (MMIO,
// ROM writes, pages holding translated code, watched pages) never gets an entry and
// takes the slow path here.
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

export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_FETCH = 2;

const TLB_SIZE = 1 << 20;
const FILLED_MAX = 1 << 16;

export interface PageMapping {
  readonly linear: number;
  readonly physical: number;
  readonly size: number; // 4 KiB or 4 MiB / 2 MiB
  readonly writable: boolean;
  readonly user: boolean;
  readonly global: boolean;
}

export class Mmu {
  readonly tlbRK = new Int32Array(TLB_SIZE).fill(-1);
  readonly tlbWK = new Int32Array(TLB_SIZE).fill(-1);
  readonly tlbRU = new Int32Array(TLB_SIZE).fill(-1);
  readonly tlbWU = new Int32Array(TLB_SIZE).fill(-1);
  private readonly filled = new Int32Array(FILLED_MAX);
  private nFilled = 0;
  private readonly globalPages = new Set<number>();
  /** Linear pages holding write entries, by the backing offset they point at. */
  private readonly writers = new Map<number, number[]>();
  /** Physical pages that hold translated code: writes to them go through the slow path. */
  readonly codePages: Uint8Array = new Uint8Array(TLB_SIZE);
  /** Linear pages with watchpoints: every access takes the slow path. */
  readonly watchedPages = new Set<number>();
  a20Mask = 0xffffffff | 0;
  flushes = 0;
  fills = 0;

  constructor(private readonly cpu: Cpu, private readonly phys: PhysicalMemory) {}

  flush(keepGlobal = false): void {
    this.flushes++;
    const keep = keepGlobal && (this.cpu.cr4 & CR4_PGE) !== 0 && this.globalPages.size > 0;
    if (this.nFilled >= FILLED_MAX) {
      this.tlbRK.fill(-1);
      this.tlbWK.fill(-1);
      this.tlbRU.fill(-1);
      this.tlbWU.fill(-1);
    } else {
      for (let i = 0; i < this.nFilled; i++) {
        const v = this.filled[i]!;
        if (keep && this.globalPages.has(v)) continue;
        this.tlbRK[v] = -1;
        this.tlbWK[v] = -1;
        this.tlbRU[v] = -1;
        this.tlbWU[v] = -1;
      }
    }
    this.nFilled = 0;
    this.writers.clear();
    if (keep) {
      for (const v of this.globalPages) {
        this.filled[this.nFilled++] = v;
        for (const off of [this.tlbWK[v]!, this.tlbWU[v]!]) {
          if (off < 0) continue;
          const list = this.writers.get(off);
          if (list) list.push(v);
          else this.writers.set(off, [v]);
        }
      }
    } else this.globalPages.clear();
    this.cpu.onTlbFlush();
  }

  flushPage(lin: number): void {
    const v = lin >>> PAGE_SHIFT;
    this.tlbRK[v] = -1;
    this.tlbWK[v] = -1;
    this.tlbRU[v] = -1;
    this.tlbWU[v] = -1;
    this.globalPages.delete(v);
    // A 4 MiB page may have filled many entries; INVLPG must drop them all (SDM vol. 3, 4.10.4.1).
    if (this.cpu.cr4 & CR4_PSE || this.cpu.cr4 & CR4_PAE) this.flush(true);
    this.cpu.onTlbFlush();
  }

  /** Drop every write entry that points at a physical page (it now holds code). */
  protectCodePage(physPage: number): void {
    if (this.codePages[physPage]) return;
    this.codePages[physPage] = 1;
    const off = this.phys.writeOff[physPage]!;
    if (off < 0) return;
    if (this.nFilled >= FILLED_MAX) {
      for (let v = 0; v < TLB_SIZE; v++) {
        if (this.tlbWK[v] === off) this.tlbWK[v] = -1;
        if (this.tlbWU[v] === off) this.tlbWU[v] = -1;
      }
      return;
    }
    const vpages = this.writers.get(off);
    if (!vpages) return;
    for (const v of vpages) {
      if (this.tlbWK[v] === off) this.tlbWK[v] = -1;
      if (this.tlbWU[v] === off) this.tlbWU[v] = -1;
    }
    this.writers.delete(off);
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
   * descriptor-table and TSS accesses).
   */
  translate(lin: number, access: number, user: boolean): number {
    lin >>>= 0;
    const vpage = lin >>> PAGE_SHIFT;
    if (!this.pagingOn()) {
      const pa = (lin & this.a20Mask) >>> 0;
      this.fill(vpage, pa >>> PAGE_SHIFT, true, true, false);
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
    if (cr4 & CR4_PAE) {
      const pdptAddr = ((this.cpu.cr3 & ~0x1f) + ((lin >>> 30) << 3)) >>> 0;
      const pdpte = this.readPhys32(pdptAddr);
      const pdpteHi = this.readPhys32(pdptAddr + 4);
      if (!(pdpte & PTE_P)) this.pageFault(lin, 0, access, user);
      if (pdpte & 0x1e6 || pdpteHi & ~0xf) this.pageFault(lin, PF_P | PF_RSVD, access, user);
      const pdeAddr = ((pdpte & ~0xfff) + (((lin >>> 21) & 0x1ff) << 3)) >>> 0;
      let pde = this.readPhys32(pdeAddr);
      const pdeHi = this.readPhys32(pdeAddr + 4);
      if (!(pde & PTE_P)) this.pageFault(lin, 0, access, user);
      if (pdeHi & ~0xf) this.pageFault(lin, PF_P | PF_RSVD, access, user);
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
        pageMask = 0x1fffff;
        pte = pde;
        pteAddr = pdeAddr;
      } else {
        if (!(pde & PTE_A)) {
          pde |= PTE_A;
          this.writePhys32(pdeAddr, pde);
        }
        pteAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x1ff) << 3)) >>> 0;
        pte = this.readPhys32(pteAddr);
        const pteHi = this.readPhys32(pteAddr + 4);
        if (!(pte & PTE_P)) this.pageFault(lin, 0, access, user);
        if (pteHi & ~0xf) this.pageFault(lin, PF_P | PF_RSVD, access, user);
        rw = (pde & PTE_W) !== 0 && (pte & PTE_W) !== 0;
        us = (pde & PTE_U) !== 0 && (pte & PTE_U) !== 0;
        this.checkAccess(lin, rw, us, access, user);
        pageBase = pte & ~0xfff;
        pageMask = 0xfff;
      }
    } else {
      const pdeAddr = ((this.cpu.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
      let pde = this.readPhys32(pdeAddr);
      if (!(pde & PTE_P)) this.pageFault(lin, 0, access, user);
      if (pde & PTE_PS && cr4 & CR4_PSE) {
        // 4 MiB page; bits 13-21 are reserved without PSE-36, which we do not advertise.
        if (pde & 0x3fe000) this.pageFault(lin, PF_P | PF_RSVD, access, user);
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
    const dirty = (pte & PTE_D) !== 0;
    const kernelWrite = rw || !(this.cpu.cr0 & CR0_WP);
    this.fill(vpage, pa >>> PAGE_SHIFT, us, dirty && kernelWrite, dirty && rw && us);
    if (pte & PTE_G && cr4 & CR4_PGE) this.globalPages.add(vpage);
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

  private fill(vpage: number, ppage: number, userRead: boolean, kernelWrite: boolean, userWrite: boolean): void {
    if (this.watchedPages.size > 0 && this.watchedPages.has(vpage)) return;
    const rOff = this.phys.readOff[ppage]!;
    let wOff = this.phys.writeOff[ppage]!;
    if (this.codePages[ppage]) wOff = -1;
    if (rOff < 0 && wOff < 0) return;
    if (this.nFilled < FILLED_MAX) this.filled[this.nFilled++] = vpage;
    else this.nFilled = FILLED_MAX;
    this.fills++;
    this.tlbRK[vpage] = rOff;
    this.tlbRU[vpage] = userRead ? rOff : -1;
    this.tlbWK[vpage] = kernelWrite ? wOff : -1;
    this.tlbWU[vpage] = userWrite ? wOff : -1;
    if ((kernelWrite || userWrite) && wOff >= 0) {
      const list = this.writers.get(wOff);
      if (list) list.push(vpage);
      else this.writers.set(wOff, [vpage]);
    }
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

  /** Side-effect-free translation for debuggers; null when unmapped. */
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
    if (pde & PTE_PS && cr4 & CR4_PSE) return (((pde & 0xffc00000) | (lin & 0x3fffff)) & this.a20Mask) >>> 0;
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
    const seen = new Set<number>();
    const count = Math.min(this.nFilled, FILLED_MAX);
    for (let i = 0; i < count; i++) {
      const v = this.filled[i]!;
      if (!seen.has(v) && this.tlbRK[v] !== -1) {
        seen.add(v);
        n++;
      }
    }
    return n;
  }
}
