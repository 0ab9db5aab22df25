// Which 4 KiB pages of a memory (guest RAM's backing buffer, video memory) were written
// since the last snapshot, so the next snapshot copies only those (QEMU's dirty memory
// log for migration). Until the first snapshot every page counts as written: tracking
// costs nothing in a run that never takes one.

export class DirtyPages {
  /** 1: written since the last `clean()` (or never cleaned). */
  readonly flags: Uint8Array;
  /** The pages set in `flags` since the last clean, each once. */
  private readonly list: Int32Array;
  private count = 0;
  /** No clean() yet: every page is dirty and `list` is not kept. */
  private all = true;

  constructor(readonly pages: number) {
    this.flags = new Uint8Array(pages).fill(1);
    this.list = new Int32Array(pages);
  }

  /** Note a write to `page` (callers test `flags[page] === 0` first on hot paths). */
  mark(page: number): void {
    if (this.flags[page] !== 0) return;
    this.flags[page] = 1;
    this.list[this.count++] = page;
  }

  /** Mark every page of [offset, offset + length) (bytes). */
  markRange(offset: number, length: number): void {
    if (length <= 0) return;
    for (let p = offset >>> 12; p <= (offset + length - 1) >>> 12; p++) this.mark(p);
  }

  get allDirty(): boolean {
    return this.all;
  }

  /** The dirty pages, ascending when every page is dirty, in write order otherwise. */
  dirtyPages(): Int32Array {
    if (this.all) return Int32Array.from({ length: this.pages }, (_, i) => i);
    return this.list.slice(0, this.count);
  }

  /** Start a new interval: nothing is dirty. */
  clean(): void {
    if (this.all) this.flags.fill(0);
    else for (let i = 0; i < this.count; i++) this.flags[this.list[i]!] = 0;
    this.count = 0;
    this.all = false;
  }
}
