// The TB cache: lookup by (physical pc, CS base, flags, cflags), a per-CPU jump cache by
// linear pc, direct chaining between TBs, invalidation by physical range (self-modifying
// code) and flushes. Bounded: when full it is flushed, and the flush is reported.
import type { EventLog } from '../events/machine-events.js';
import { TranslationBlock, type Region } from './translation-block.js';

/** The default byte bound of the TB cache (TbCache.maxBytes). */
export const DEFAULT_TB_CACHE_BYTES = 32 * 1024 * 1024;

/** What a TB holds for the byte bound: its generated code (V8 keeps the source) and guest bytes. */
function footprint(tb: TranslationBlock): number {
  return tb.codeSize + tb.size;
}

function sizeText(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(0)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

const JMP_CACHE_BITS = 12;
const JMP_CACHE_SIZE = 1 << JMP_CACHE_BITS;

/** Buckets of TbCache.execCountHistogram: 0, 1, 2-9, 10-99, ..., 100000 and more. */
export const RUN_BUCKETS = 8;

function runBucket(n: number): number {
  if (n <= 1) return n;
  let k = 2;
  for (let limit = 10; n >= limit && k < RUN_BUCKETS - 1; limit *= 10) k++;
  return k;
}

/** The label of bucket k of TbCache.execCountHistogram. */
export function runBucketLabel(k: number): string {
  if (k <= 1) return String(k);
  const lo = k === 2 ? 2 : 10 ** (k - 2);
  return k === RUN_BUCKETS - 1 ? `${lo}+` : `${lo}-${10 ** (k - 1) - 1}`;
}

export interface TbStats {
  translations: number;
  bytesTranslated: number;
  insnsTranslated: number;
  lookups: number;
  jmpCacheHits: number;
  hashHits: number;
  chainsMade: number;
  invalidations: number;
  flushes: number;
  regionsBuilt: number;
  regionsDissolved: number;
  /** First-tier TBs compiled as a whole because they kept running. */
  tierUps: number;
  /** TBs taken from the persistent translation cache instead of translated (tb-store.ts). */
  storeHits: number;
}

export interface InvalidationRecord {
  id: number;
  pc: number;
  phys: number;
  icount: number;
  reason: string;
  execCount: number;
}

export class TbCache {
  private readonly byPhys = new Map<number, TranslationBlock[]>();
  private readonly byPage = new Map<number, Set<TranslationBlock>>();
  readonly jmpCache: (TranslationBlock | null)[] = new Array<TranslationBlock | null>(JMP_CACHE_SIZE).fill(null);
  /**
   * Slots set since the last clear: a BIOS flushes the TLB at every mode switch, and
   * clearing only what was used keeps that cheap (QEMU clears the whole array).
   */
  private readonly jmpUsed = new Int32Array(JMP_CACHE_SIZE >> 3);
  private jmpUsedCount = 0;
  readonly stats: TbStats = {
    translations: 0, bytesTranslated: 0, insnsTranslated: 0, lookups: 0, jmpCacheHits: 0, hashHits: 0,
    chainsMade: 0, invalidations: 0, flushes: 0, regionsBuilt: 0, regionsDissolved: 0, tierUps: 0, storeHits: 0,
  };
  /** Recent invalidations, newest last (bounded). */
  readonly invalidated: InvalidationRecord[] = [];
  private nextId = 1;
  private readonly droppedRuns: number[] = new Array<number>(RUN_BUCKETS).fill(0);
  private count = 0;
  /** Called when a page no longer holds any TB (its writes may take the fast path again). */
  onPageEmpty: (page: number) => void = () => {};
  onPageUsed: (page: number) => void = () => {};
  icount: () => number = () => 0;

  /** What the live TBs hold, in bytes: their generated code and guest bytes (see footprint). */
  private liveBytes = 0;

  constructor(
    private readonly events: EventLog | null,
    readonly maxTbs = 1 << 15,
    /**
     * The bound in bytes (QEMU bounds its code buffer in bytes, `-accel tcg,tb-size`): a
     * count alone lets a guest of long blocks hold 32 k times the largest. The Debian 686
     * boot peaks at 16 MiB, about 570 bytes of generated code per TB.
     */
    readonly maxBytes = DEFAULT_TB_CACHE_BYTES,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Bytes the live TBs hold (generated code and guest bytes). */
  get bytes(): number {
    return this.liveBytes;
  }

  newId(): number {
    return this.nextId++;
  }

  static jmpHash(pc: number): number {
    return (pc ^ (pc >>> JMP_CACHE_BITS)) & (JMP_CACHE_SIZE - 1);
  }

  /** Fast lookup by linear pc; validated against the current CPU state by the caller. */
  jmpLookup(pc: number): TranslationBlock | null {
    return this.jmpCache[TbCache.jmpHash(pc)]!;
  }

  /** A TB for this physical pc and state; the caller checks a second page if it has one. */
  lookup(phys: number, pc: number, csBase: number, flags: number, cflags: number): TranslationBlock | null {
    this.stats.lookups++;
    const list = this.byPhys.get(phys);
    if (!list) return null;
    for (const tb of list) {
      if (tb.pc === pc && tb.csBase === csBase && tb.flags === flags && tb.cflags === cflags) {
        this.stats.hashHits++;
        return tb;
      }
    }
    return null;
  }

  insert(tb: TranslationBlock): void {
    const bytes = footprint(tb);
    if (this.count >= this.maxTbs) this.flush('cache full');
    else if (this.liveBytes + bytes > this.maxBytes) this.flush(`cache full (${sizeText(this.maxBytes)} of code)`);
    tb.cacheBytes = bytes;
    this.liveBytes += bytes;
    let list = this.byPhys.get(tb.phys);
    if (!list) this.byPhys.set(tb.phys, (list = []));
    list.push(tb);
    for (const page of tb.pages()) {
      let set = this.byPage.get(page);
      if (!set) {
        this.byPage.set(page, (set = new Set()));
        this.onPageUsed(page);
      }
      set.add(tb);
    }
    this.count++;
    this.stats.translations++;
    this.stats.bytesTranslated += tb.size;
    this.stats.insnsTranslated += tb.ninsns;
    this.events?.emit({
      kind: 'tb-translate', icount: this.icount(), pc: tb.pc, phys: tb.phys, size: tb.size, ninsns: tb.ninsns, id: tb.id,
    });
  }

  setJmpCache(tb: TranslationBlock): void {
    const h = TbCache.jmpHash(tb.pc);
    if (this.jmpCache[h] === null) {
      // Past the list's end the next clear fills the whole array.
      if (this.jmpUsedCount < this.jmpUsed.length) this.jmpUsed[this.jmpUsedCount] = h;
      this.jmpUsedCount++;
    }
    this.jmpCache[h] = tb;
  }

  /**
   * QEMU's tb_add_jump: link `from`'s exit `slot` directly to `to`; `gen` is the
   * address-space generation for a link to another page, -1 within the page.
   */
  tbAddJump(from: TranslationBlock, slot: number, to: TranslationBlock, gen = -1): void {
    if (!to.valid || !from.valid) return;
    const old = from.jmpAt(slot);
    from.setJmp(slot, to, gen);
    if (old === to) return;
    old?.deleteJmpIn(from);
    to.addJmpIn(from);
    this.stats.chainsMade++;
    this.events?.emit({ kind: 'tb-chain', icount: this.icount(), from: from.pc, to: to.pc, slot, fromId: from.id, toId: to.id });
  }

  invalidate(tb: TranslationBlock, reason: string): void {
    if (!tb.valid) return;
    tb.valid = false;
    if (tb.region) this.dissolve(tb.region);
    tb.invalidatedAt = this.icount();
    tb.invalidationReason = reason;
    this.liveBytes -= tb.cacheBytes;
    const list = this.byPhys.get(tb.phys);
    if (list) {
      const i = list.indexOf(tb);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byPhys.delete(tb.phys);
    }
    for (const page of tb.pages()) {
      const set = this.byPage.get(page);
      if (!set) continue;
      set.delete(tb);
      if (set.size === 0) {
        this.byPage.delete(page);
        this.onPageEmpty(page);
      }
    }
    // Unlink every TB that jumps here, and this TB's own outgoing links.
    for (const src of tb.jmpIn) {
      if (src.jmp0 === tb) src.setJmp(0, null, -1);
      if (src.jmp1 === tb) src.setJmp(1, null, -1);
    }
    tb.clearJmpIn();
    tb.jmp0?.deleteJmpIn(tb);
    tb.jmp1?.deleteJmpIn(tb);
    tb.setJmp(0, null, -1);
    tb.setJmp(1, null, -1);
    const h = TbCache.jmpHash(tb.pc);
    if (this.jmpCache[h] === tb) this.jmpCache[h] = null;
    this.count--;
    this.countRuns(tb);
    this.stats.invalidations++;
    this.invalidated.push({ id: tb.id, pc: tb.pc, phys: tb.phys, icount: tb.invalidatedAt, reason, execCount: tb.execCount });
    if (this.invalidated.length > 1024) this.invalidated.splice(0, this.invalidated.length - 1024);
    this.events?.emit({ kind: 'tb-invalidate', icount: tb.invalidatedAt, pc: tb.pc, phys: tb.phys, id: tb.id, reason });
  }

  /** QEMU's tb_invalidate_phys_page_range: drop every TB overlapping [pa, pa+len). */
  tbInvalidatePhysRange(pa: number, len: number, reason = 'code write'): TranslationBlock[] {
    const hit: TranslationBlock[] = [];
    const first = pa >>> 12;
    const last = (pa + len - 1) >>> 12;
    for (let page = first; page <= last; page++) {
      const set = this.byPage.get(page);
      if (!set) continue;
      for (const tb of [...set]) if (tb.overlaps(pa, len)) hit.push(tb);
    }
    for (const tb of hit) this.invalidate(tb, reason);
    return hit;
  }

  /** Invalidate every TB whose linear range contains `lin` (breakpoint changes). */
  invalidateLinear(lin: number, reason: string, flagsMask = -1): number {
    let n = 0;
    for (const tb of this.all()) {
      if ((tb.flags & flagsMask) === 0) continue;
      // (tb.pc === lin: a TB that starts at a breakpoint holds no instruction, size 0)
      if (lin === tb.pc || (lin >= tb.pc && lin < tb.pc + tb.size)) {
        this.invalidate(tb, reason);
        n++;
      }
    }
    return n;
  }

  /** A region stops being used as soon as one of its members is gone. */
  dissolve(r: Region): void {
    for (const m of r.members) {
      if (m.region === r) {
        m.region = null;
        m.regionIndex = -1;
      }
    }
    this.stats.regionsDissolved++;
  }

  /** The valid TBs whose code starts on physical page `page`. */
  onPage(page: number): TranslationBlock[] {
    return [...(this.byPage.get(page) ?? [])].filter((t) => t.valid && t.phys >>> 12 === page);
  }

  hasPage(page: number): boolean {
    return this.byPage.has(page);
  }

  clearJmpCache(): void {
    if (this.jmpUsedCount > this.jmpUsed.length) this.jmpCache.fill(null);
    else for (let i = 0; i < this.jmpUsedCount; i++) this.jmpCache[this.jmpUsed[i]!] = null;
    this.jmpUsedCount = 0;
  }

  /**
   * Forget the jump-cache entries of TBs with code on linear page `vpage` (they may start
   * on the page before it), as QEMU's tlb_flush_page does for its jump cache.
   */
  clearJmpCachePage(vpage: number): void {
    const jc = this.jmpCache;
    const hit = (tb: TranslationBlock | null): boolean =>
      tb !== null && (tb.pc >>> 12 === vpage || ((tb.pc + tb.size - 1) >>> 12) === vpage);
    if (this.jmpUsedCount > this.jmpUsed.length) {
      for (let h = 0; h < JMP_CACHE_SIZE; h++) if (hit(jc[h]!)) jc[h] = null;
      return;
    }
    // Cleared slots stay listed; the next full clear resets them anyway.
    for (let i = 0; i < this.jmpUsedCount; i++) {
      const h = this.jmpUsed[i]!;
      if (hit(jc[h]!)) jc[h] = null;
    }
  }

  /** QEMU's tb_flush: drop everything. */
  flush(reason: string): void {
    const n = this.count;
    for (const tb of this.all()) {
      this.countRuns(tb);
      tb.valid = false;
      tb.region = null;
      tb.invalidatedAt = this.icount();
      tb.invalidationReason = `flush: ${reason}`;
      tb.setJmp(0, null, -1);
      tb.setJmp(1, null, -1);
      tb.clearJmpIn();
    }
    const pages = [...this.byPage.keys()];
    this.byPhys.clear();
    this.byPage.clear();
    for (const p of pages) this.onPageEmpty(p);
    this.jmpCache.fill(null);
    this.jmpUsedCount = 0;
    this.count = 0;
    this.liveBytes = 0;
    this.stats.flushes++;
    this.events?.emit({ kind: 'tb-flush', icount: this.icount(), reason, count: n });
  }

  /**
   * How often TBs ran, over every TB translated so far (dropped or live): the count of
   * TBs that ran 0 times, once, 2-9 times, 10-99, ... (index k >= 2: 10^(k-2)+ runs
   * below 10^(k-1)), the last bucket open-ended.
   */
  execCountHistogram(): number[] {
    const h = [...this.droppedRuns];
    for (const tb of this.all()) h[runBucket(tb.execCount)]!++;
    return h;
  }

  private countRuns(tb: TranslationBlock): void {
    this.droppedRuns[runBucket(tb.execCount)]!++;
  }

  /** The TBs with code on physical page `page` (address >>> 12), also those starting before it. */
  touchingPage(page: number): TranslationBlock[] {
    const set = this.byPage.get(page);
    return set ? [...set] : [];
  }

  all(): TranslationBlock[] {
    const out: TranslationBlock[] = [];
    for (const list of this.byPhys.values()) out.push(...list);
    return out;
  }

  /** TBs whose linear range contains `lin`. */
  findByLinear(lin: number): TranslationBlock[] {
    return this.all().filter((tb) => lin >= tb.pc && lin < tb.pc + tb.size);
  }

  findById(id: number): TranslationBlock | undefined {
    return this.all().find((tb) => tb.id === id);
  }
}
