// The snapshot file (--snapshot-file): named machine snapshots kept across runs.
//
//   0   "BMBTSNAP"                magic
//   8   u32 LE format version     (FORMAT_VERSION)
//   12  u32 LE flags              (0)
//   16  deflate-raw payload:      u32 LE header length, header (JSON, UTF-8),
//                                 then the distinct memory pages, 4096 bytes each
//   -32 SHA-256 of every byte before it
//
// The header lists each snapshot (name, date, instruction count, virtual time, machine
// fingerprint, the device and CPU records) with its RAM and video memory as flat
// [page number, page id, ...] lists; a page shared by several snapshots is stored once.
// Files are replaced whole: written next to the old one, then renamed over it.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { UserError } from '../user-error.js';
import { PAGE_BYTES, PageCopy, PageStore, type MemoryImage } from './page-store.js';
import type { MachineSnapshot, MachineStateRecord } from './machine-snapshot.js';

export const SNAPSHOT_MAGIC = 'BMBTSNAP';
export const FORMAT_VERSION = 1;
const HEAD = 16;
const DIGEST = 32;

/** A snapshot with the name and date the monitor's `savevm` gave it. */
export interface NamedSnapshot {
  name: string;
  /** Wall-clock time it was taken (ms since the epoch). */
  date: number;
  snapshot: MachineSnapshot;
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
}

interface FileHeader {
  writer: string;
  pages: number;
  snapshots: FileEntry[];
}

/** A file that is not a snapshot file of ours, or is damaged: the user's, not a bug. */
export class SnapshotFileError extends UserError {}

export function encodeSnapshotFile(entries: readonly NamedSnapshot[]): Buffer {
  // Disk contents are kept only within a run (decisions.md, "Drives in snapshots").
  const withDisks = entries.find((e) => e.snapshot.disks.some((d) => d.size > 0));
  if (withDisks) {
    throw new UserError(`snapshot "${withDisks.name}": the guest had written to its drives, and a snapshot file does not hold disk contents (QEMU keeps them in qcow2 images); it can be used within this run only`);
  }
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
    snapshots: entries.map((e) => ({
      name: e.name, date: e.date, icount: e.snapshot.icount, timeNs: e.snapshot.timeNs, fingerprint: e.snapshot.fingerprint,
      state: e.snapshot.state, ram: pageList(e.snapshot.ram), vram: pageList(e.snapshot.vram),
    })),
  };
  header.pages = blobs.length;
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const payload = deflateRawSync(Buffer.concat([len, json, ...blobs]), { level: 1 });
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
  if (version !== FORMAT_VERSION) {
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
    if (payload.length !== 4 + len + header.pages * PAGE_BYTES) throw new Error('size');
    const base = 4 + len;
    const pages = Array.from({ length: header.pages }, (_, i) => new PageCopy(payload.subarray(base + i * PAGE_BYTES, base + (i + 1) * PAGE_BYTES)));
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
      return { name: e.name, date: e.date, snapshot: { fingerprint: e.fingerprint, icount: e.icount, timeNs: e.timeNs, state: e.state, ram, vram, disks: [] } };
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
