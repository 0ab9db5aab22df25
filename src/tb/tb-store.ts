// The persistent translation cache: what the translator made for each TB, kept across
// runs in one file per translator build, CPU model and tier mode, so that booting the
// same guest again skips decoding and code generation (issue 10). An entry is the TB's
// guest bytes and everything translation derived from them: instruction lengths, the
// first tier's templates and constants (or the compiled body), the code size. It is
// used only when the guest's bytes at the TB's address are the stored bytes, under the
// same CS base, EIP, hflags, cflags and CS limit, so a hit gives exactly the TB a
// translation would have made: same boundaries, same code, same instruction counts.
//
// A file that does not verify (magic, translator version, lengths, SHA-256 of the whole)
// is not read at all: the run translates everything and writes a new file. Files are
// written to a temporary name and renamed, so a reader sees a whole file or the old
// one; when two runs save at once the last rename wins (it is a cache).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const MAGIC = 'BMBTTBC1';
const HEADER_BYTES = 8 + 32 + 4 * 4;
const TRAILER_BYTES = 32;
/** A file past this is trimmed at the next save to the entries the run used and made. */
export const TB_STORE_MAX_BYTES = 96 * 1024 * 1024;

/** An entry's code: the first tier's templates and constants, or a compiled body. */
export interface StoredCode {
  /** First tier: each instruction's template text. */
  tpls?: readonly string[];
  /** First tier: the constants of all its templates, in order. */
  ks?: readonly number[];
  /** Compiled at translation (some instruction had no template). */
  body?: string;
  selfLoop?: boolean;
}

/** One translated block as stored. */
export interface StoredTb {
  pc: number;
  csBase: number;
  eip: number;
  flags: number;
  /** The TB's cflags, with the translator's mode (STORE_*) above them. */
  cflags: number;
  csLimit: number;
  /** The bytes reach the next page (the TB has a second physical page). */
  page2: boolean;
  bytes: Uint8Array;
  /** Length of each decoded instruction (ninsns of them). */
  lens: Uint8Array;
  /** How many instructions have generated code (the TB's EIP table). */
  neips: number;
  codeSize: number;
  code: StoredCode;
}

export interface TbStoreStats {
  /** Entries in the file read at start. */
  loaded: number;
  /** Why the file was not used (corrupt, another version...), or null. */
  rejected: string | null;
  hits: number;
  added: number;
  /** Bytes written at the last save, or 0. */
  saved: number;
}

/** Growable byte buffer with the encodings of the file. */
class ByteWriter {
  buf: Uint8Array;
  len = 0;

  constructor(size = 1 << 16) {
    this.buf = new Uint8Array(size);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }

  u32(v: number): void {
    this.room(4);
    const b = this.buf;
    const o = this.len;
    b[o] = v;
    b[o + 1] = v >>> 8;
    b[o + 2] = v >>> 16;
    b[o + 3] = v >>> 24;
    this.len += 4;
  }

  /** Unsigned integers up to 2^53 (arithmetic, not 32-bit operators). */
  varint(v: number): void {
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  /** A template constant: most are small non-negative integers. */
  num(v: number): void {
    if (Number.isInteger(v) && v >= 0 && v < 2 ** 52) this.varint(v * 2);
    else {
      this.varint(1);
      this.room(8);
      new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.len, v, true);
      this.len += 8;
    }
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  get view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** Reads a buffer of the file's encodings; out-of-range reads throw (a corrupt entry). */
class ByteReader {
  constructor(readonly buf: Uint8Array, public pos: number, public end: number) {}

  private need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('truncated entry');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const o = this.pos;
    this.pos += 4;
    return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
  }

  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (!(b & 0x80)) return v;
      scale *= 0x80;
    }
    throw new RangeError('bad varint');
  }

  num(): number {
    const t = this.varint();
    if (t !== 1) return t / 2;
    this.need(8);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset).getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = new Uint8Array(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }
}

/** The lookup key of a TB (collisions are told apart by the entry's own fields). */
function keyOf(pc: number, eip: number, flags: number, cflags: number): number {
  let h = Math.imul(pc ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ flags, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ eip, 0x27d4eb2d);
  return (h ^ (h >>> 15) ^ cflags) | 0;
}

/** Mode bits kept with an entry's cflags: the same bytes translate differently under each. */
export const STORE_FIRST_TIER = 0x100;
export const STORE_NO_SELF_LOOP = 0x200;

/** The size of the buffers new entries are written to (an entry's place is 20 bits in one). */
const CHUNK_BYTES = 1 << 20;

/**
 * Key -> entry ordinals, chained in typed arrays (a Map of a boot's 100 k+ entries cost
 * several MiB more).
 */
class OrdinalIndex {
  /** Bucket -> its last ordinal + 1 (0: empty). */
  private head: Int32Array;
  /** Ordinal -> the one before it in its bucket + 1. */
  private next: Int32Array;
  private keys: Int32Array;
  private count = 0;

  constructor(expected: number) {
    let buckets = 1024;
    while (buckets < expected * 2) buckets *= 2;
    this.head = new Int32Array(buckets);
    this.next = new Int32Array(Math.max(1024, expected));
    this.keys = new Int32Array(this.next.length);
  }

  /** Ordinals are added in order, from 0. */
  add(key: number, ord: number): void {
    if (ord >= this.next.length) {
      const size = this.next.length * 2;
      const next = new Int32Array(size);
      next.set(this.next);
      const keys = new Int32Array(size);
      keys.set(this.keys);
      this.next = next;
      this.keys = keys;
    }
    if (this.count + 1 > this.head.length) this.rehash(this.head.length * 2);
    this.keys[ord] = key;
    this.link(key, ord);
    this.count = ord + 1;
  }

  private link(key: number, ord: number): void {
    const b = key & (this.head.length - 1);
    this.next[ord] = this.head[b]!;
    this.head[b] = ord + 1;
  }

  private rehash(buckets: number): void {
    this.head = new Int32Array(buckets);
    for (let o = 0; o < this.count; o++) this.link(this.keys[o]!, o);
  }

  /** The newest ordinal with `key`, or -1. */
  first(key: number): number {
    return this.from(this.head[key & (this.head.length - 1)]! - 1, key);
  }

  /** The next older ordinal with `key` after `ord`, or -1. */
  after(ord: number, key: number): number {
    return this.from(this.next[ord]! - 1, key);
  }

  private from(o: number, key: number): number {
    while (o >= 0 && this.keys[o] !== key) o = this.next[o]! - 1;
    return o;
  }
}

const KIND_COMPILED = 1;
const KIND_SELF_LOOP = 2;
const KIND_PAGE2 = 4;

/** Where the guest's code bytes come from when an entry is checked. */
export interface CodeReader {
  /** Byte at offset `i` from the TB's start, or -1 when it cannot be read (unmapped). */
  (i: number): number;
}

export class TbStore {
  readonly stats: TbStoreStats = { loaded: 0, rejected: null, hits: 0, added: 0, saved: 0 };
  /** The file as read (entries are decoded from it when looked at). */
  private file: Uint8Array = new Uint8Array(0);
  /** Loaded strings: offset and end of each in `file`, decoded on first use. */
  private strStart = new Uint32Array(0);
  private strEnd = new Uint32Array(0);
  private readonly strCache: (string | undefined)[] = [];
  /** Strings new in this run, numbered after the loaded ones. */
  private readonly newStrings = new Map<string, number>();
  private readonly newStringList: string[] = [];
  /** Loaded entries: offset and end in `file`, by ordinal. */
  private entLoc = new Uint32Array(0);
  /** Loaded entries looked up and used in this run. */
  private used = new Uint8Array(0);
  /** New entries: their encodings, one after the other, in chunks (no copy as they grow). */
  private readonly chunks: ByteWriter[] = [];
  /** Where each new entry's length prefix is: chunk index << 20 | offset in it. */
  private freshLoc = new Int32Array(1024);
  private freshCount = 0;
  private freshBytes = 0;
  /** One entry's encoding while it is made. */
  private readonly scratch = new ByteWriter(4096);
  /** Key -> ordinal(s); ordinals past the loaded count are new entries. */
  private index = new OrdinalIndex(0);
  private readonly path: string;
  /** The loaded file's string and entry sections: [HEADER_BYTES, strEnd), [strEnd, entEnd). */
  private loadedStrEnd = HEADER_BYTES;
  private loadedEntEnd = HEADER_BYTES;

  /**
   * `dir` holds the files; `version` names the translator build (translatorVersion()),
   * `variant` what else shapes the code (CPU model, tier mode): one file per pair.
   */
  constructor(readonly dir: string, readonly version: string, variant: string, readonly maxBytes = TB_STORE_MAX_BYTES, read = true) {
    const name = createHash('sha256').update(`${version}\n${variant}`).digest('hex').slice(0, 24);
    this.path = join(dir, `tb-${name}.cache`);
    if (read) this.load();
  }

  /** The file this store reads and writes. */
  get filePath(): string {
    return this.path;
  }

  private get loadedCount(): number {
    return this.entLoc.length;
  }

  private load(): void {
    let data: Uint8Array;
    try {
      const b = readFileSync(this.path);
      data = new Uint8Array(b.buffer, b.byteOffset, b.length);
    } catch {
      return;
    }
    const why = this.parse(data);
    if (why !== null) {
      this.stats.rejected = why;
      this.file = new Uint8Array(0);
      this.strStart = this.strEnd = this.entLoc = new Uint32Array(0);
      this.used = new Uint8Array(0);
      this.loadedStrEnd = this.loadedEntEnd = HEADER_BYTES;
      this.index = new OrdinalIndex(0);
    }
  }

  /** Reads `data` as this store's file; null when it is, else why not. */
  private parse(data: Uint8Array): string | null {
    if (data.length < HEADER_BYTES + TRAILER_BYTES) return 'too short';
    if (Buffer.from(data.subarray(0, 8)).toString('latin1') !== MAGIC) return 'not a translation cache file';
    const versionHash = createHash('sha256').update(this.version).digest();
    if (!versionHash.equals(data.subarray(8, 40))) return 'made by another translator version';
    const body = data.subarray(0, data.length - TRAILER_BYTES);
    const sum = createHash('sha256').update(body).digest();
    if (!sum.equals(data.subarray(data.length - TRAILER_BYTES))) return 'checksum mismatch';
    const r = new ByteReader(data, 40, body.length);
    try {
      const nstr = r.u32();
      const nent = r.u32();
      const strBytes = r.u32();
      const entBytes = r.u32();
      if (HEADER_BYTES + strBytes + entBytes !== body.length) return 'section sizes do not add up';
      this.loadedStrEnd = HEADER_BYTES + strBytes;
      this.loadedEntEnd = body.length;
      this.strStart = new Uint32Array(nstr);
      this.strEnd = new Uint32Array(nstr);
      const strLimit = HEADER_BYTES + strBytes;
      const rs = new ByteReader(data, HEADER_BYTES, strLimit);
      for (let i = 0; i < nstr; i++) {
        const n = rs.varint();
        if (rs.pos + n > strLimit) return 'string past its section';
        this.strStart[i] = rs.pos;
        this.strEnd[i] = rs.pos + n;
        rs.pos += n;
      }
      this.entLoc = new Uint32Array(nent);
      this.index = new OrdinalIndex(nent);
      this.used = new Uint8Array(nent);
      const re = new ByteReader(data, strLimit, body.length);
      for (let i = 0; i < nent; i++) {
        this.entLoc[i] = re.pos;
        const n = re.varint();
        const start = re.pos;
        if (start + n > body.length) return 'entry past its section';
        const pc = re.u32();
        re.u32(); // CS base
        const eip = re.u32();
        const flags = re.u32();
        const cflags = re.varint();
        this.index.add(keyOf(pc, eip, flags, cflags), i);
        re.pos = start + n;
      }
    } catch (e) {
      return (e as Error).message;
    }
    this.file = data;
    this.stats.loaded = this.entLoc.length;
    return null;
  }

  private string(i: number): string {
    const loaded = this.strStart.length;
    if (i >= loaded) {
      const s = this.newStringList[i - loaded];
      if (s === undefined) throw new RangeError('bad string index');
      return s;
    }
    let s = this.strCache[i];
    if (s === undefined) {
      s = Buffer.from(this.file.buffer, this.file.byteOffset + this.strStart[i]!, this.strEnd[i]! - this.strStart[i]!).toString('utf8');
      this.strCache[i] = s;
    }
    return s;
  }

  private stringIndex(s: string): number {
    let i = this.newStrings.get(s);
    if (i === undefined) {
      i = this.strStart.length + this.newStringList.length;
      this.newStrings.set(s, i);
      this.newStringList.push(s);
    }
    return i;
  }

  private readerOf(ord: number): ByteReader {
    const loaded = this.loadedCount;
    let r: ByteReader;
    if (ord < loaded) r = new ByteReader(this.file, this.entLoc[ord]!, this.file.length);
    else {
      const loc = this.freshLoc[ord - loaded]!;
      const chunk = this.chunks[loc >>> 20]!;
      r = new ByteReader(chunk.buf, loc & 0xfffff, chunk.len);
    }
    const n = r.varint();
    r.end = r.pos + n;
    return r;
  }

  /**
   * The stored TB at `pc` for this state whose bytes are the guest's (`read`), or null.
   * A corrupt entry (it passed the file's checksum, so only a bug makes one) is a miss.
   */
  find(
    pc: number, csBase: number, eip: number, flags: number, cflags: number, csLimit: number, read: CodeReader,
    blocked: (lin: number) => boolean,
  ): StoredTb | null {
    const key = keyOf(pc, eip, flags, cflags);
    for (let ord = this.index.first(key); ord >= 0; ord = this.index.after(ord, key)) {
      const m = this.match(ord, pc, csBase, eip, flags, cflags, csLimit, read, blocked);
      if (m !== null) return m;
    }
    return null;
  }

  private match(
    ord: number, pc: number, csBase: number, eip: number, flags: number, cflags: number, csLimit: number, read: CodeReader,
    blocked: (lin: number) => boolean,
  ): StoredTb | null {
    const r = this.readerOf(ord);
    try {
      if (r.u32() !== pc || r.u32() !== csBase || r.u32() !== eip || r.u32() !== flags || r.varint() !== cflags || r.u32() !== csLimit) return null;
      const start = r.pos;
      r.u8();
      const ninsns = r.varint();
      // An instruction with a breakpoint or a device access now ends a TB (or starts its
      // own): checked before the bytes are read, as translation would stop there.
      let lin = pc;
      for (let k = 0; k < ninsns; k++) {
        if (blocked(lin >>> 0)) return null;
        lin += r.u8();
      }
      const size = r.varint();
      // (most misses are other code at the same address)
      const b = r.buf;
      const at = r.pos;
      if (at + size > r.end) return null;
      for (let i = 0; i < size; i++) if (read(i) !== b[at + i]) return null;
      r.pos = start;
      const tb = this.decodeRest(r, pc, csBase, eip, flags, cflags, csLimit);
      if (ord < this.loadedCount && this.used[ord] === 0) this.used[ord] = 1;
      this.stats.hits++;
      return tb;
    } catch {
      return null;
    }
  }

  /** The whole entry `ord`. */
  private entryAt(ord: number): StoredTb {
    const r = this.readerOf(ord);
    const pc = r.u32(), csBase = r.u32(), eip = r.u32(), flags = r.u32(), cflags = r.varint(), csLimit = r.u32();
    return this.decodeRest(r, pc, csBase, eip, flags, cflags, csLimit);
  }

  /** An entry's fields after its key (the reader just past csLimit). */
  private decodeRest(r: ByteReader, pc: number, csBase: number, eip: number, flags: number, cflags: number, csLimit: number): StoredTb {
    const kind = r.u8();
    const ninsns = r.varint();
    const lens = r.bytes(ninsns);
    const size = r.varint();
    const bytes = r.bytes(size);
    const neips = r.varint();
    const codeSize = r.varint();
    let code: StoredCode;
    if (kind & KIND_COMPILED) {
      const b = r.bytes(r.varint());
      code = { body: Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8'), selfLoop: (kind & KIND_SELF_LOOP) !== 0 };
    } else {
      const ntpl = r.varint();
      const tpls: string[] = [];
      for (let i = 0; i < ntpl; i++) tpls.push(this.string(r.varint()));
      const nks = r.varint();
      const ks: number[] = [];
      for (let i = 0; i < nks; i++) ks.push(r.num());
      code = { tpls, ks };
    }
    if (neips > ninsns) throw new RangeError('bad EIP count');
    return { pc, csBase, eip, flags, cflags, csLimit, page2: (kind & KIND_PAGE2) !== 0, bytes, lens, neips, codeSize, code };
  }

  /** Keeps a TB the translator just made (one not found here). */
  add(tb: StoredTb): void {
    // Bounded like the file: a guest making new code for ever does not grow it for ever.
    if (this.freshBytes >= Math.min(this.maxBytes, 1024 * CHUNK_BYTES)) return;
    const w = this.scratch;
    w.len = 0;
    this.encode(w, tb);
    const ord = this.loadedCount + this.freshCount;
    const v = w.view;
    let chunk = this.chunks[this.chunks.length - 1];
    // (an entry never straddles two chunks; one longer than a chunk is a chunk of its own)
    if (chunk === undefined || chunk.len + v.length + 8 > CHUNK_BYTES) {
      chunk = new ByteWriter(CHUNK_BYTES);
      this.chunks.push(chunk);
    }
    if (this.freshCount === this.freshLoc.length) {
      const grown = new Int32Array(this.freshLoc.length * 2);
      grown.set(this.freshLoc);
      this.freshLoc = grown;
    }
    this.freshLoc[this.freshCount++] = ((this.chunks.length - 1) << 20) | chunk.len;
    chunk.varint(v.length);
    chunk.bytes(v);
    this.freshBytes += v.length;
    this.index.add(keyOf(tb.pc, tb.eip, tb.flags, tb.cflags), ord);
    this.stats.added++;
  }

  private encode(w: ByteWriter, tb: StoredTb): void {
    w.u32(tb.pc);
    w.u32(tb.csBase);
    w.u32(tb.eip);
    w.u32(tb.flags);
    w.varint(tb.cflags);
    w.u32(tb.csLimit);
    const c = tb.code;
    w.u8((c.body !== undefined ? KIND_COMPILED : 0) | (c.selfLoop ? KIND_SELF_LOOP : 0) | (tb.page2 ? KIND_PAGE2 : 0));
    w.varint(tb.lens.length);
    w.bytes(tb.lens);
    w.varint(tb.bytes.length);
    w.bytes(tb.bytes);
    w.varint(tb.neips);
    w.varint(tb.codeSize);
    // (a body is the TB's own: kept in the entry, where no table holds it alive)
    if (c.body !== undefined) {
      const b = Buffer.from(c.body, 'utf8');
      w.varint(b.length);
      w.bytes(b);
    }
    else {
      const tpls = c.tpls ?? [];
      w.varint(tpls.length);
      for (const t of tpls) w.varint(this.stringIndex(t));
      const ks = c.ks ?? [];
      w.varint(ks.length);
      for (const k of ks) w.num(k);
    }
  }

  /** Whether a save would write anything. */
  get dirty(): boolean {
    return this.freshCount > 0;
  }

  /**
   * Writes the file: the loaded entries and this run's, or, past the size bound, the ones
   * this run used and made. Nothing when the run made nothing new. Never throws: a cache
   * that cannot be written costs the next run its speed, not its result.
   */
  save(): void {
    if (!this.dirty) return;
    try {
      const out = this.serialise();
      mkdirSync(this.dir, { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      const fd = openSync(tmp, 'w', 0o644);
      try {
        for (const part of out) {
          let off = 0;
          while (off < part.length) off += writeSync(fd, part, off, part.length - off);
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        renameSync(tmp, this.path);
      } catch (e) {
        try {
          unlinkSync(tmp);
        } catch {
          // already gone
        }
        throw e;
      }
      this.stats.saved = out.reduce((n, p) => n + p.length, 0);
    } catch {
      this.stats.saved = 0;
    }
  }

  /** The file's parts in order (header, strings, entries, checksum), sharing the store's buffers. */
  private serialise(): Uint8Array[] {
    const freshBytes = this.chunks.reduce((n, c) => n + c.len, 0);
    const strings: Uint8Array[] = [];
    const entries: Uint8Array[] = [];
    let nstr: number;
    let nent: number;
    if (this.file.length + freshBytes < this.maxBytes) {
      // The loaded sections as they are, this run's strings and entries after them.
      if (this.file.length > 0) {
        strings.push(this.file.subarray(HEADER_BYTES, this.loadedStrEnd));
        entries.push(this.file.subarray(this.loadedStrEnd, this.loadedEntEnd));
      }
      strings.push(encodeStrings(this.newStringList));
      for (const c of this.chunks) entries.push(c.view);
      nstr = this.strStart.length + this.newStringList.length;
      nent = this.entLoc.length + this.freshCount;
    } else {
      // Trimmed: the entries this run used and made, encoded again with their strings.
      const kept = new TbStore(this.dir, this.version, '', Infinity, false);
      for (let i = 0; i < this.loadedCount; i++) if (this.used[i]) kept.add(this.entryAt(i));
      for (let j = 0; j < this.freshCount; j++) kept.add(this.entryAt(this.loadedCount + j));
      strings.push(encodeStrings(kept.newStringList));
      for (const c of kept.chunks) entries.push(c.view);
      nstr = kept.newStringList.length;
      nent = kept.freshCount;
    }
    const header = new ByteWriter(HEADER_BYTES);
    for (const ch of MAGIC) header.u8(ch.charCodeAt(0));
    header.bytes(createHash('sha256').update(this.version).digest());
    header.u32(nstr);
    header.u32(nent);
    header.u32(strings.reduce((n, p) => n + p.length, 0));
    header.u32(entries.reduce((n, p) => n + p.length, 0));
    const parts = [header.view, ...strings, ...entries];
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    parts.push(h.digest());
    return parts;
  }
}

function encodeStrings(list: readonly string[]): Uint8Array {
  const w = new ByteWriter();
  for (const s of list) {
    const b = Buffer.from(s, 'utf8');
    w.varint(b.length);
    w.bytes(b);
  }
  return w.view;
}
