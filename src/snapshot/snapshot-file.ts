// The snapshot file (--snapshot-file): named machine snapshots kept across runs.
//
//   0   "BMBTSNAP"                magic
//   8   u32 LE format version     (FORMAT_VERSION)
//   12  u32 LE flags              (0)
//   16  deflate-raw payload:      u32 LE header length, header (JSON, UTF-8),
//                                 then the distinct memory pages, 4096 bytes each,
//                                 then (version 2) the distinct disk sectors, 512 each
//   -32 SHA-256 of every byte before it
//
// The header lists each snapshot (name, date, instruction count, virtual time, machine
// fingerprint, the device and CPU records) with its RAM and video memory as flat
// [page number, page id, ...] lists; a page shared by several snapshots is stored once.
// Version 2 adds the drives: what each image was when the file was written (its file's
// identity, size and modification time), and per snapshot and drive the sectors whose
// contents then differ from that image, as [sector number, sector id, ...] (null: the
// medium was changed after the snapshot). A later run checks that each image is still
// the one the file describes before it restores a disk (decisions.md 77).
// Files are replaced whole: written next to the old one, then renamed over it.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { SECTOR_SIZE, type TrackedImage } from '../block/block-image.js';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { UserError } from '../user-error.js';
import { PAGE_BYTES, PageCopy, PageStore, type MemoryImage } from './page-store.js';
import type { MachineSnapshot, MachineStateRecord } from './machine-snapshot.js';

export const SNAPSHOT_MAGIC = 'BMBTSNAP';
export const FORMAT_VERSION = 2;
const HEAD = 16;
const DIGEST = 32;

/** A snapshot with the name and date the monitor's `savevm` gave it. */
export interface NamedSnapshot {
  name: string;
  /** Wall-clock time it was taken (ms since the epoch). */
  date: number;
  snapshot: MachineSnapshot;
  /** Read from a file, it cannot be loaded: why (an image changed since, a medium changed). */
  stale?: string;
  /** Read from a file: the drives' images when the file was written. */
  stamps?: (DriveStamp | null)[];
}

/** An image as the snapshot file saw it: which file, its size and when it was last written. */
export interface DriveStamp {
  drive: string;
  file: string;
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
}

/** One drive of the machine as a snapshot file records it. */
export interface FileDrive {
  /** QEMU's name (ide0-hd0). */
  drive: string;
  image: TrackedImage | null;
  /** The guest's writes are dropped at exit (-snapshot): disks are kept relative to the image as this run found it. */
  overlay: boolean;
}

/** The identity of the file under `image` now (null: no medium, or not a file). */
export function driveStamp(drive: string, image: TrackedImage | null): DriveStamp | null {
  if (!image || image.backend.name === 'memory') return null;
  try {
    const st = statSync(image.backend.name, { bigint: true });
    return { drive, file: image.backend.name, dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs) };
  } catch {
    return null;
  }
}

/** Why `then` (in the file) does not describe `now` (this run's image), or null when it does. */
export function stampDifference(then: DriveStamp | null, now: DriveStamp | null): string | null {
  if (then === null) return null;
  if (now === null) return `${then.drive} has no image ${then.file} now`;
  if (then.dev !== now.dev || then.ino !== now.ino) return `${then.drive} is now ${now.file}, not the image ${then.file} the snapshot file saw`;
  if (then.size !== now.size || then.mtimeNs !== now.mtimeNs) return `${then.drive}'s image ${now.file} was written after the snapshot file was (by another program, or a run that was killed)`;
  return null;
}

interface FileEntry {
  name: string;
  date: number;
  icount: number;
  timeNs: number;
  fingerprint: string;
  state: MachineStateRecord;
  ram: number[];
  vram: number[];
  /** Version 2: per drive, [sector, sector id, ...] or null (the medium changed). */
  disks?: (number[] | null)[];
  /** Why it cannot be loaded (kept from the run that found out). */
  stale?: string;
}

interface FileHeader {
  writer: string;
  pages: number;
  /** Version 2: distinct disk sectors after the pages, and the drives' images. */
  sectors?: number;
  drives?: (DriveStamp | null)[];
  snapshots: FileEntry[];
}

/** A file that is not a snapshot file of ours, or is damaged: the user's, not a bug. */
export class SnapshotFileError extends UserError {}

export function encodeSnapshotFile(entries: readonly NamedSnapshot[], drives: readonly FileDrive[] = []): Buffer {
  const sectorIds = new Map<Uint8Array, number>();
  const sectorBlobs: Uint8Array[] = [];
  const diskList = (e: NamedSnapshot): (number[] | null)[] => drives.map((d, i) => {
    // A snapshot of another medium, or one a file could not describe, restores nothing.
    if (e.stale || (e.snapshot.media && e.snapshot.media[i] !== d.image)) return null;
    if (!d.image) return [];
    const out: number[] = [];
    for (const [lba, bytes] of [...d.image.deltaFrom(e.snapshot.disks[i] ?? new Map(), d.overlay)].sort((a, b) => a[0] - b[0])) {
      let id = sectorIds.get(bytes);
      if (id === undefined) {
        id = sectorBlobs.length;
        sectorIds.set(bytes, id);
        sectorBlobs.push(bytes);
      }
      out.push(lba, id);
    }
    return out;
  });
  const ids = new Map<PageCopy, number>();
  const blobs: Uint8Array[] = [];
  const pageList = (img: MemoryImage): number[] => {
    const out: number[] = [];
    for (const [p, pg] of img.pageCopies()) {
      let id = ids.get(pg);
      if (id === undefined) {
        id = blobs.length;
        ids.set(pg, id);
        blobs.push(pg.data);
      }
      out.push(p, id);
    }
    return out;
  };
  const header: FileHeader = {
    writer: 'bmbt-dbg',
    pages: 0,
    drives: drives.map((d) => driveStamp(d.drive, d.image)),
    snapshots: entries.map((e) => ({
      name: e.name, date: e.date, icount: e.snapshot.icount, timeNs: e.snapshot.timeNs, fingerprint: e.snapshot.fingerprint,
      state: e.snapshot.state, ram: pageList(e.snapshot.ram), vram: pageList(e.snapshot.vram), disks: diskList(e),
      ...(e.stale ? { stale: e.stale } : {}),
    })),
  };
  header.pages = blobs.length;
  header.sectors = sectorBlobs.length;
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const payload = deflateRawSync(Buffer.concat([len, json, ...blobs, ...sectorBlobs]), { level: 1 });
  const head = Buffer.alloc(HEAD);
  head.write(SNAPSHOT_MAGIC, 0, 'latin1');
  head.writeUInt32LE(FORMAT_VERSION, 8);
  const body = Buffer.concat([head, payload]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Where the images of a machine's snapshots go: its own page stores. */
export interface SnapshotStores {
  readonly fingerprint: string;
  readonly ram: PageStore;
  readonly vram: PageStore;
}

/**
 * Read a snapshot file into images in `stores` (the machine that will load them);
 * snapshots of another machine configuration get stores of their own, to be listed and
 * kept, not loaded. Errors name `what` (the file) and say what is wrong, in one line.
 */
export function decodeSnapshotFile(buf: Uint8Array, stores: SnapshotStores, what: string): NamedSnapshot[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < HEAD || b.toString('latin1', 0, 8) !== SNAPSHOT_MAGIC) throw new SnapshotFileError(`${what}: not a bmbt-dbg snapshot file`);
  const version = b.readUInt32LE(8);
  if (version !== FORMAT_VERSION && version !== 1) {
    throw new SnapshotFileError(`${what}: snapshot file format version ${version} is not supported (this bmbt-dbg reads version ${FORMAT_VERSION})`);
  }
  if (b.length < HEAD + DIGEST) throw new SnapshotFileError(`${what}: the snapshot file is truncated`);
  const body = b.subarray(0, b.length - DIGEST);
  if (!createHash('sha256').update(body).digest().equals(b.subarray(b.length - DIGEST))) {
    throw new SnapshotFileError(`${what}: the snapshot file is damaged or truncated (checksum mismatch)`);
  }
  let payload: Buffer;
  let header: FileHeader;
  try {
    payload = inflateRawSync(body.subarray(HEAD));
    const len = payload.readUInt32LE(0);
    header = JSON.parse(payload.toString('utf8', 4, 4 + len)) as FileHeader;
    if (!Array.isArray(header.snapshots) || !Number.isInteger(header.pages)) throw new Error('header');
    const nSectors = header.sectors ?? 0;
    if (!Number.isInteger(nSectors) || nSectors < 0) throw new Error('header');
    if (payload.length !== 4 + len + header.pages * PAGE_BYTES + nSectors * SECTOR_SIZE) throw new Error('size');
    const base = 4 + len;
    const pages = Array.from({ length: header.pages }, (_, i) => new PageCopy(payload.subarray(base + i * PAGE_BYTES, base + (i + 1) * PAGE_BYTES)));
    const sectorBase = base + header.pages * PAGE_BYTES;
    const sectors = Array.from({ length: nSectors }, (_, i) => payload.slice(sectorBase + i * SECTOR_SIZE, sectorBase + (i + 1) * SECTOR_SIZE));
    const stamps = header.drives ?? [];
    if (!Array.isArray(stamps)) throw new Error('drives');
    const disks = (list: (number[] | null)[] | undefined): { disks: Map<number, Uint8Array>[]; changed: number } => {
      const out: Map<number, Uint8Array>[] = [];
      let changed = -1;
      (list ?? []).forEach((l, i) => {
        const m = new Map<number, Uint8Array>();
        if (l === null) changed = i;
        else {
          if (!Array.isArray(l) || l.length % 2 !== 0) throw new Error('sector list');
          for (let k = 0; k < l.length; k += 2) {
            const sec = sectors[l[k + 1]!];
            if (!sec || !Number.isInteger(l[k]) || l[k]! < 0) throw new Error('sector id');
            m.set(l[k]!, sec);
          }
        }
        out.push(m);
      });
      return { disks: out, changed };
    };
    const image = (store: PageStore, list: number[]): MemoryImage => {
      if (!Array.isArray(list) || list.length % 2 !== 0) throw new Error('page list');
      const pairs: [number, PageCopy][] = [];
      for (let i = 0; i < list.length; i += 2) {
        const pg = pages[list[i + 1]!];
        if (!pg) throw new Error('page id');
        pairs.push([list[i]!, pg]);
      }
      const img = store.fromPages(pairs);
      if (!img) throw new Error('page number');
      return img;
    };
    const detached = (list: number[]): PageStore => {
      let max = 0;
      for (let i = 0; i < list.length; i += 2) max = Math.max(max, list[i]! + 1);
      return PageStore.detached(max);
    };
    return header.snapshots.map((e) => {
      if (typeof e.name !== 'string' || typeof e.fingerprint !== 'string' || typeof e.state !== 'object') throw new Error('entry');
      if (!Array.isArray(e.ram) || !Array.isArray(e.vram)) throw new Error('page list');
      const own = e.fingerprint === stores.fingerprint;
      const ramStore = own ? stores.ram : detached(e.ram);
      const vramStore = own ? stores.vram : detached(e.vram);
      const ram = image(ramStore, e.ram);
      const vram = image(vramStore, e.vram);
      ramStore.retain(ram);
      vramStore.retain(vram);
      const d = disks(e.disks);
      const entry: NamedSnapshot = { name: e.name, date: e.date, snapshot: { fingerprint: e.fingerprint, icount: e.icount, timeNs: e.timeNs, state: e.state, ram, vram, disks: d.disks } };
      if (typeof e.stale === 'string') entry.stale = e.stale;
      else if (d.changed >= 0) entry.stale = `the medium in ${stamps[d.changed]?.drive ?? `drive ${d.changed}`} was changed after this snapshot`;
      entry.stamps = stamps;
      return entry;
    });
  } catch (e) {
    if (e instanceof SnapshotFileError) throw e;
    throw new SnapshotFileError(`${what}: the snapshot file is damaged (${(e as Error).message})`);
  }
}

/** Replace `path` with `data` so that a crash leaves the old file or the new one, never half. */
export function writeFileAtomically(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
    throw new UserError(`${path}: cannot write the snapshot file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The file's bytes, or null when it does not exist yet. */
export function readSnapshotFileBytes(path: string): Uint8Array | null {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new UserError(`${path}: cannot read the snapshot file (${code ?? (e as Error).message})`);
  }
}
