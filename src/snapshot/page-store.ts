// Memory images for snapshots: a memory's contents at one moment as a two-level table of
// immutable 4 KiB page copies shared between images. An image costs the pages written
// since the image before it (the memory's dirty-page log, src/memory/dirty-pages.ts),
// plus a table of references; an all-zero page costs nothing. Restoring an image copies
// back only the pages that differ from the memory's present contents.
//
// Pages and chunks are reference-counted so the store knows exactly how many bytes the
// images alive hold (the reverse-execution ring is bounded in bytes).
import type { DirtyPages } from '../memory/dirty-pages.js';

export const PAGE_BYTES = 4096;
const CHUNK_SHIFT = 8;
/** Pages per chunk (1 MiB): an image shares whole chunks with the one it came from. */
const CHUNK_PAGES = 1 << CHUNK_SHIFT;

/** One page's bytes; never written once made. */
export class PageCopy {
  refs = 0;
  constructor(readonly data: Uint8Array) {}
}

class Chunk {
  refs = 0;
  constructor(readonly pages: (PageCopy | null)[]) {}
}

/** A memory's contents at one moment. Hold it (`retain`) while you keep it. */
export class MemoryImage {
  holders = 0;
  constructor(
    readonly store: PageStore,
    /** chunks[c].pages[i] is page c * 256 + i; null: all zero. */
    readonly chunks: readonly Chunk[],
  ) {}

  page(p: number): PageCopy | null {
    return this.chunks[p >>> CHUNK_SHIFT]!.pages[p & (CHUNK_PAGES - 1)]!;
  }

  /** Non-zero pages, in ascending order, with the copies they share with other images. */
  *pageCopies(): Generator<[number, PageCopy]> {
    for (let c = 0; c < this.chunks.length; c++) {
      const pages = this.chunks[c]!.pages;
      for (let i = 0; i < pages.length; i++) if (pages[i] !== null) yield [c * CHUNK_PAGES + i, pages[i]!];
    }
  }

  /** Bytes of its non-zero pages. */
  get nonZeroBytes(): number {
    let n = 0;
    for (const ch of this.chunks) for (const pg of ch.pages) if (pg !== null) n += PAGE_BYTES;
    return n;
  }
}

/** A memory snapshots keep: its bytes and the log of pages written since the last image. */
export interface TrackedMemory {
  readonly bytes: Uint8Array;
  readonly dirty: DirtyPages;
}

export class PageStore {
  /** Bytes of page copies alive (held by some image). */
  bytes = 0;
  /** The image the memory's contents equal, apart from its dirty pages; null before the first. */
  private base: MemoryImage | null = null;
  readonly pageCount: number;

  constructor(readonly mem: TrackedMemory) {
    this.pageCount = mem.dirty.pages;
  }

  /**
   * A store for images of a memory this process does not have (the snapshots of another
   * machine configuration in a snapshot file): they can be kept and written back, never
   * captured or restored.
   */
  static detached(pageCount: number): PageStore {
    return new PageStore({ bytes: new Uint8Array(0), dirty: { pages: pageCount } as DirtyPages });
  }

  /** An image of the memory now; it becomes the base the dirty log is relative to. */
  capture(): MemoryImage {
    const mem = this.mem;
    const nChunks = Math.ceil(this.pageCount / CHUNK_PAGES);
    const base = this.base;
    const chunks: Chunk[] = base ? [...base.chunks] : Array.from({ length: nChunks }, (_, c) => this.zeroChunk(c));
    const dirty = mem.dirty.dirtyPages();
    // Group the dirty pages by chunk: one new chunk per chunk touched.
    const byChunk = new Map<number, number[]>();
    for (const p of dirty) {
      const c = p >>> CHUNK_SHIFT;
      let list = byChunk.get(c);
      if (!list) byChunk.set(c, (list = []));
      list.push(p);
    }
    for (const [c, list] of byChunk) {
      const pages = [...chunks[c]!.pages];
      for (const p of list) pages[p & (CHUNK_PAGES - 1)] = this.copyPage(p, pages[p & (CHUNK_PAGES - 1)]!);
      for (const pg of pages) if (pg !== null) this.refPage(pg);
      chunks[c] = new Chunk(pages);
    }
    const img = new MemoryImage(this, chunks);
    for (const ch of chunks) ch.refs++;
    this.setBase(img);
    mem.dirty.clean();
    return img;
  }

  /**
   * Make the memory hold `img`'s contents. Returns the pages whose bytes changed (so
   * translated code on them can be dropped).
   */
  restore(img: MemoryImage): number[] {
    if (img.store !== this) throw new Error('memory image of another store');
    const mem = this.mem;
    const bytes = mem.bytes;
    const flags = mem.dirty.flags;
    const base = this.base;
    const changed: number[] = [];
    for (let c = 0; c < img.chunks.length; c++) {
      const want = img.chunks[c]!;
      const cur = base?.chunks[c] ?? null;
      const first = c * CHUNK_PAGES;
      const n = Math.min(CHUNK_PAGES, this.pageCount - first);
      if (cur === want && !anySet(flags, first, n)) continue;
      for (let i = 0; i < n; i++) {
        const p = first + i;
        const w = want.pages[i]!;
        if (cur !== null && cur.pages[i] === w && flags[p] === 0) continue;
        const at = p * PAGE_BYTES;
        const view = bytes.subarray(at, at + PAGE_BYTES);
        if (w === null) {
          if (!isZero(view)) {
            view.fill(0);
            changed.push(p);
          }
        } else if (!equalBytes(view, w.data)) {
          view.set(w.data);
          changed.push(p);
        }
      }
    }
    this.setBase(img);
    mem.dirty.clean();
    return changed;
  }

  retain(img: MemoryImage): void {
    img.holders++;
  }

  release(img: MemoryImage): void {
    if (--img.holders > 0) return;
    if (img.holders < 0) throw new Error('memory image released twice');
    for (const ch of img.chunks) {
      if (--ch.refs > 0) continue;
      for (const pg of ch.pages) if (pg !== null && --pg.refs === 0) this.bytes -= PAGE_BYTES;
    }
  }

  /**
   * An image made from saved pages (a snapshot file; images may share PageCopy objects);
   * every other page is zero. False when a page number is out of range.
   */
  fromPages(pages: Iterable<[number, PageCopy]>): MemoryImage | null {
    const nChunks = Math.ceil(this.pageCount / CHUNK_PAGES);
    const tables = Array.from({ length: nChunks }, (_, c) => new Array<PageCopy | null>(Math.min(CHUNK_PAGES, this.pageCount - c * CHUNK_PAGES)).fill(null));
    for (const [p, pg] of pages) {
      if (!Number.isInteger(p) || p < 0 || p >= this.pageCount || pg.data.length !== PAGE_BYTES) return null;
      tables[p >>> CHUNK_SHIFT]![p & (CHUNK_PAGES - 1)] = isZero(pg.data) ? null : pg;
    }
    const chunks = tables.map((t) => {
      for (const pg of t) if (pg !== null) this.refPage(pg);
      const ch = new Chunk(t);
      ch.refs++;
      return ch;
    });
    return new MemoryImage(this, chunks);
  }

  private zeroChunk(c: number): Chunk {
    const n = Math.min(CHUNK_PAGES, this.pageCount - c * CHUNK_PAGES);
    return new Chunk(new Array<PageCopy | null>(n).fill(null));
  }

  private setBase(img: MemoryImage): void {
    this.retain(img);
    if (this.base !== null) this.release(this.base);
    this.base = img;
  }

  private refPage(pg: PageCopy): void {
    if (pg.refs++ === 0) this.bytes += PAGE_BYTES;
  }

  /** The page's bytes now, sharing `prev` when they did not change (or null for zeros). */
  private copyPage(p: number, prev: PageCopy | null): PageCopy | null {
    const at = p * PAGE_BYTES;
    const view = this.mem.bytes.subarray(at, at + PAGE_BYTES);
    if (prev === null ? isZero(view) : equalBytes(view, prev.data)) return prev;
    if (isZero(view)) return null;
    return new PageCopy(view.slice());
  }
}

function anySet(flags: Uint8Array, first: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (flags[first + i] !== 0) return true;
  return false;
}

export function isZero(b: Uint8Array): boolean {
  if ((b.byteOffset & 3) === 0 && (b.length & 3) === 0) {
    const w = new Int32Array(b.buffer, b.byteOffset, b.length >>> 2);
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if ((a.byteOffset & 3) === 0 && (b.byteOffset & 3) === 0 && (a.length & 3) === 0) {
    const x = new Int32Array(a.buffer, a.byteOffset, a.length >>> 2);
    const y = new Int32Array(b.buffer, b.byteOffset, b.length >>> 2);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
