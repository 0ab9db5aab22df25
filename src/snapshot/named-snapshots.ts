// Named snapshots: what the monitor's savevm / loadvm / delvm / info snapshots work on,
// kept in memory and, with --snapshot-file, in a file that survives the process (every
// change rewrites the file, atomically).
import { driveName, type PcMachine } from '../machine/pc-machine.js';
import { OverlayBackend } from '../block/block-image.js';
import { UserError } from '../user-error.js';
import { snapshotEngine, type MachineSnapshot, type SnapshotEngine } from './machine-snapshot.js';
import {
  decodeSnapshotFile, driveStamp, encodeSnapshotFile, readSnapshotFileBytes, stampDifference, writeFileAtomically, type FileDrive, type NamedSnapshot,
} from './snapshot-file.js';

/** A named snapshot as `info snapshots` lists it. */
export interface SnapshotInfo {
  name: string;
  date: number;
  icount: number;
  timeNs: number;
  size: number;
  foreign: boolean;
}

export class NamedSnapshots {
  private readonly list: NamedSnapshot[] = [];
  /** The --snapshot-file, or null (snapshots live as long as the process). */
  private file: string | null = null;
  /** Told after every load (a load breaks the history the reverse debugger keeps). */
  readonly onLoad = new Set<(s: MachineSnapshot) => void>();

  constructor(readonly engine: SnapshotEngine) {}

  /** The drives' media, and their writes, when the file was last written. */
  private persisted = '';

  /**
   * Keep snapshots in `path` from now on, starting with those it already holds. Their
   * disks are restored only onto the images the file saw (decisions.md 77): a snapshot
   * whose image was written since (by another program, or a run that was killed before
   * it could update the file) is listed but refuses to load.
   */
  openFile(path: string): void {
    const bytes = readSnapshotFileBytes(path);
    const found = bytes ? decodeSnapshotFile(bytes, this.engine, path) : [];
    const m = this.engine.machine;
    const now = m.drives.map((d) => driveStamp(driveName(d), d.image));
    const media = m.drives.map((d) => d.image);
    for (const e of found) {
      if (e.snapshot.fingerprint !== this.engine.fingerprint) continue;
      const diff = (e.stamps ?? []).map((st, i) => stampDifference(st, now[i] ?? null)).find((d) => d !== null);
      if (diff && !e.stale) e.stale = diff;
      e.snapshot = { ...e.snapshot, media };
      // The sectors it names, as they are now: the bytes it would restore over.
      e.snapshot.disks.forEach((d, i) => m.drives[i]?.image?.remember(d.keys()));
    }
    for (const e of this.list) releaseEntry(e);
    this.list.length = 0;
    this.list.push(...found);
    this.file = path;
    this.persisted = this.mediaState();
  }

  /**
   * At exit: the guest (or a loadvm) may have written the images since the file was
   * written; write it again so that it describes the images as they are left.
   */
  syncAtExit(): void {
    if (this.file !== null && this.list.length > 0 && this.mediaState() !== this.persisted) this.persist();
  }

  private mediaState(): string {
    return JSON.stringify(this.engine.machine.drives.map((d) => (d.image ? [d.image.backend.name, d.image.writes] : null)));
  }

  private fileDrives(): FileDrive[] {
    return this.engine.machine.drives.map((d) => ({ drive: driveName(d), image: d.image, overlay: d.image?.backend instanceof OverlayBackend }));
  }

  get path(): string | null {
    return this.file;
  }

  entries(): readonly NamedSnapshot[] {
    return this.list;
  }

  find(name: string): NamedSnapshot | undefined {
    return this.list.find((e) => e.name === name);
  }

  /** savevm: a snapshot of the machine now under `name` (replacing one of that name). */
  save(name: string, date = Date.now()): NamedSnapshot {
    checkName(name);
    const entry: NamedSnapshot = { name, date, snapshot: this.engine.take() };
    // As QEMU: the new snapshot replaces the old one of that name at the end of the list.
    const i = this.list.findIndex((e) => e.name === name);
    const old = i >= 0 ? this.list.splice(i, 1)[0]! : null;
    this.list.push(entry);
    try {
      this.persist();
    } catch (e) {
      // The file keeps what it had; so does the list.
      this.list.pop();
      if (old) this.list.splice(i, 0, old);
      this.engine.release(entry.snapshot);
      throw e;
    }
    if (old) releaseEntry(old);
    return entry;
  }

  /**
   * loadvm: the machine takes the state of snapshot `name`. A snapshot of another machine
   * configuration, or any failure, leaves the running machine as it was.
   */
  load(name: string): NamedSnapshot {
    const e = this.find(name);
    if (!e) throw new UserError(`Snapshot '${name}' does not exist`);
    if (e.stale) throw new UserError(`Snapshot '${name}' cannot be loaded: ${e.stale}`);
    safeRestore(this.engine, e.snapshot);
    for (const l of this.onLoad) l(e.snapshot);
    return e;
  }

  /** delvm: false when there is no such snapshot. */
  delete(name: string): boolean {
    const i = this.list.findIndex((e) => e.name === name);
    if (i < 0) return false;
    const [old] = this.list.splice(i, 1);
    try {
      this.persist();
    } catch (e) {
      this.list.splice(i, 0, old!);
      throw e;
    }
    releaseEntry(old!);
    return true;
  }

  /** What `info snapshots` lists about `e`. */
  describe(e: NamedSnapshot): SnapshotInfo {
    const s = e.snapshot;
    return {
      name: e.name, date: e.date, icount: s.icount, timeNs: s.timeNs,
      size: s.ram.nonZeroBytes + s.vram.nonZeroBytes + JSON.stringify(s.state).length,
      foreign: s.fingerprint !== this.engine.fingerprint,
    };
  }

  private persist(): void {
    if (this.file === null) return;
    const m = this.engine.machine;
    // The images' writes are on disk first: the file describes them as they are.
    m.flushImages();
    const state = this.mediaState();
    writeFileAtomically(this.file, encodeSnapshotFile(this.list, this.fileDrives()));
    this.persisted = state;
  }
}

/**
 * Load `s`; should loading fail half-way (a bug), the machine goes back to the state it
 * had, so the guest is never lost.
 */
export function safeRestore(engine: SnapshotEngine, s: MachineSnapshot): void {
  if (s.fingerprint !== engine.fingerprint) {
    engine.restore(s); // throws SnapshotMismatch before touching anything
    return;
  }
  const back = engine.take();
  try {
    engine.restore(s);
  } catch (e) {
    engine.restore(back);
    throw e;
  } finally {
    engine.release(back);
  }
}

/** Snapshots of another configuration live in detached stores: release them there. */
function releaseEntry(e: NamedSnapshot): void {
  e.snapshot.ram.store.release(e.snapshot.ram);
  e.snapshot.vram.store.release(e.snapshot.vram);
}

function checkName(name: string): void {
  if (name.length === 0 || name.length > 128 || /[\s\x00-\x1f]/.test(name)) {
    throw new UserError(`"${name}" is not a snapshot name (1-128 characters, no spaces)`);
  }
}

const SHELVES = new WeakMap<PcMachine, NamedSnapshots>();

/** The machine's named snapshots (one list per machine, shared by every front end). */
export function namedSnapshots(m: PcMachine): NamedSnapshots {
  let s = SHELVES.get(m);
  if (!s) SHELVES.set(m, (s = new NamedSnapshots(snapshotEngine(m))));
  return s;
}
