// A drive's medium: a raw image seen in 512-byte sectors. The backend is where the
// bytes live (a file, opened by file-image.ts; memory, for tests and -snapshot's
// overlay); `TrackedImage` is what the devices use: it sends every guest write to the
// backend at once and in order, and keeps the sectors changed in this run (and what
// they held before), so that a machine snapshot can capture and restore the disk's
// contents without copying the image (docs/decisions.md, "Drives in snapshots").

export const SECTOR_SIZE = 512;

/** Where an image's bytes are. Offsets and lengths are whole sectors. */
export interface BlockBackend {
  /** Size in bytes (a multiple of 512: a partial last sector is not part of the disk). */
  readonly size: number;
  readonly readOnly: boolean;
  /** What it is, for `info block` (the file name, or "memory"). */
  readonly name: string;
  read(offset: number, out: Uint8Array): void;
  write(offset: number, data: Uint8Array): void;
  /** Make every write so far durable (fsync for a file). */
  flush(): void;
  /** Flush and let go of the image (the lock too). Idempotent. */
  close(): void;
}

/** An image held in memory (tests; the base of nothing). */
export class MemoryBackend implements BlockBackend {
  readonly size: number;
  constructor(readonly bytes: Uint8Array, readonly readOnly = false, readonly name = 'memory') {
    this.size = Math.floor(bytes.length / SECTOR_SIZE) * SECTOR_SIZE;
  }
  read(offset: number, out: Uint8Array): void {
    out.set(this.bytes.subarray(offset, offset + out.length));
  }
  write(offset: number, data: Uint8Array): void {
    this.bytes.set(data, offset);
  }
  flush(): void {}
  close(): void {}
}

/**
 * QEMU's -snapshot: a read-only base with the guest's writes kept in memory, per
 * sector, and dropped at exit.
 */
export class OverlayBackend implements BlockBackend {
  readonly readOnly = false;
  private readonly sectors = new Map<number, Uint8Array>();
  constructor(readonly base: BlockBackend) {}
  get size(): number {
    return this.base.size;
  }
  get name(): string {
    return this.base.name;
  }
  /** Sectors written so far (for `info block`). */
  get changedSectors(): number {
    return this.sectors.size;
  }
  read(offset: number, out: Uint8Array): void {
    const first = offset / SECTOR_SIZE;
    const n = out.length / SECTOR_SIZE;
    let runStart = -1;
    // Runs of sectors not in the overlay are read from the base in one call.
    for (let i = 0; i <= n; i++) {
      const s = i < n ? this.sectors.get(first + i) : undefined;
      if (i < n && s === undefined) {
        if (runStart < 0) runStart = i;
        continue;
      }
      if (runStart >= 0) {
        this.base.read(offset + runStart * SECTOR_SIZE, out.subarray(runStart * SECTOR_SIZE, i * SECTOR_SIZE));
        runStart = -1;
      }
      if (s !== undefined) out.set(s, i * SECTOR_SIZE);
    }
  }
  write(offset: number, data: Uint8Array): void {
    const first = offset / SECTOR_SIZE;
    for (let i = 0; i < data.length / SECTOR_SIZE; i++) {
      this.sectors.set(first + i, data.slice(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE));
    }
  }
  flush(): void {}
  close(): void {
    this.sectors.clear();
    this.base.close();
  }
}

/** The disk contents a machine snapshot holds: the sectors changed in this run, as they were. */
export type ImageState = ReadonlyMap<number, Uint8Array>;

/**
 * The medium of one drive. Writes reach the backend in the order the guest makes them;
 * `changed` maps every sector written in this run to its current contents and
 * `original` to what it held before the first write (sector arrays are never modified,
 * only replaced, so a saved state shares them).
 */
export class TrackedImage {
  readonly sectors: number;
  private changed = new Map<number, Uint8Array>();
  private readonly original = new Map<number, Uint8Array>();
  /** Writes since the last flush (for `info block`, and so an idle flush costs nothing). */
  dirty = false;
  /** Writes to the backend so far (the guest's and snapshot loads'): a snapshot file is rewritten when it moved. */
  writes = 0;
  /** Sectors read and written, for `info block`. */
  stats = { readSectors: 0, writtenSectors: 0, flushes: 0 };

  constructor(readonly backend: BlockBackend) {
    this.sectors = backend.size / SECTOR_SIZE;
  }

  get readOnly(): boolean {
    return this.backend.readOnly;
  }

  read(lba: number, count: number, out: Uint8Array, at = 0): void {
    this.stats.readSectors += count;
    this.backend.read(lba * SECTOR_SIZE, out.subarray(at, at + count * SECTOR_SIZE));
  }

  write(lba: number, count: number, data: Uint8Array, at = 0): void {
    if (this.readOnly) throw new Error('write to a read-only image');
    const bytes = data.slice(at, at + count * SECTOR_SIZE);
    for (let i = 0; i < count; i++) {
      const s = lba + i;
      if (!this.original.has(s)) {
        const old = new Uint8Array(SECTOR_SIZE);
        this.backend.read(s * SECTOR_SIZE, old);
        this.original.set(s, old);
      }
      this.changed.set(s, bytes.slice(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE));
    }
    this.backend.write(lba * SECTOR_SIZE, bytes);
    this.writes++;
    this.stats.writtenSectors += count;
    this.dirty = true;
  }

  flush(): void {
    this.stats.flushes++;
    if (!this.dirty) return;
    this.backend.flush();
    this.dirty = false;
  }

  /** What a snapshot keeps: the changed sectors now (shared, never copied). */
  saveState(): ImageState {
    return new Map(this.changed);
  }

  /**
   * Back to the contents a snapshot saw: every sector changed now or then gets the
   * snapshot's bytes (or, if it was unchanged then, its bytes from before this run). A
   * state read from a snapshot file names sectors this run has not touched yet: their
   * bytes now are their bytes from before this run.
   */
  loadState(state: ImageState): void {
    for (const s of state.keys()) this.rememberOriginal(s);
    const lbas = new Set([...this.changed.keys(), ...state.keys()]);
    for (const s of lbas) {
      const want = state.get(s) ?? this.original.get(s)!;
      const now = this.changed.get(s) ?? this.original.get(s)!;
      if (want !== now && !sameBytes(want, now)) {
        this.backend.write(s * SECTOR_SIZE, want);
        this.writes++;
        this.dirty = true;
      }
    }
    this.changed = new Map(state);
  }

  /** Keep the bytes of `lbas` from before this run (a snapshot file's sectors: read once, at its opening). */
  remember(lbas: Iterable<number>): void {
    for (const s of lbas) this.rememberOriginal(s);
  }

  private rememberOriginal(s: number): void {
    if (this.original.has(s) || this.changed.has(s)) return;
    const old = new Uint8Array(SECTOR_SIZE);
    this.backend.read(s * SECTOR_SIZE, old);
    this.original.set(s, old);
  }

  /** A sector's bytes before this run changed it (read from the backend if it has not). */
  private startBytes(s: number): Uint8Array {
    const o = this.original.get(s);
    if (o) return o;
    const now = new Uint8Array(SECTOR_SIZE);
    this.backend.read(s * SECTOR_SIZE, now);
    return now;
  }

  /**
   * What a snapshot file keeps of `state`: the sectors whose contents then differ from a
   * reference, with their contents then. The reference is the image now (`fromStart`
   * false: a file image, which keeps the guest's writes) or the image as this run found
   * it (`fromStart`: a -snapshot overlay, whose writes are dropped at exit).
   */
  deltaFrom(state: ImageState, fromStart: boolean): Map<number, Uint8Array> {
    const out = new Map<number, Uint8Array>();
    for (const s of new Set([...state.keys(), ...this.changed.keys()])) {
      const then = state.get(s) ?? this.startBytes(s);
      const ref = fromStart ? this.startBytes(s) : (this.changed.get(s) ?? this.startBytes(s));
      if (then !== ref && !sameBytes(then, ref)) out.set(s, then);
    }
    return out;
  }

  /** Bytes held for snapshots (sectors changed in this run and their originals). */
  heldBytes(): number {
    return (this.changed.size + this.original.size) * SECTOR_SIZE;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
