// A translation block: a run of guest instructions compiled to one JavaScript function.

import type { Instr } from '../cpu/instr.js';
import { decode } from '../cpu/decoder.js';
import { HF_CS32 } from '../cpu/cpu.js';

const NO_LINKS: ReadonlySet<TranslationBlock> = new Set();
const NO_INSTRS: readonly Instr[] = [];

/** Several TBs of one page compiled into one function that jumps between them itself. */
export interface Region {
  readonly fn: (member: number) => number;
  readonly members: readonly TranslationBlock[];
  /** Index of the member that left the region last. */
  last: number;
  /** As TranslationBlock.cpus: the CPUs that entered the region (its members run inside it). */
  cpus: number;
  readonly source: string;
}

export const CF_SINGLE = 1; // exactly one instruction (single-step, budget edge, interrupt shadow)
export const CF_NOBP = 2; // do not stop at a breakpoint on the first instruction (resuming from it)

/** A first-tier TB's code (translate/threaded.ts): shared templates and their constants. */
export interface FirstTierCode {
  readonly tpls: readonly { readonly text: string; readonly nk: number }[];
  /** Every instruction's constants, one after the other. */
  readonly ks: readonly number[];
}

export interface TbInstruction {
  readonly eip: number;
  readonly len: number;
  readonly mnem: string;
}

export class TranslationBlock {
  // What the CPU loop reads on every pass comes first, together: in-object fields are laid
  // out in this order, and a Linux boot follows ~250 M links, most of them to TBs no
  // longer in the CPU's caches (the links were arrays of their own: two more objects to
  // load per pass).
  fn: () => number = () => 0;
  execCount = 0;
  /**
   * With several CPUs (-smp), bit i: CPU i entered this TB from the CPU loop (the
   * inspector shows who ran it). Bit 31 with one CPU.
   */
  cpus = 0;
  /** The region this TB was compiled into (chaining without returning to the loop). */
  region: Region | null = null;
  /** Outgoing direct-jump links (QEMU's jmp_dest), exit slots 0 and 1. */
  jmp0: TranslationBlock | null = null;
  jmp1: TranslationBlock | null = null;
  /**
   * For a link to another page: the address-space generation it was made in (it holds
   * only while no TLB flush has changed where that page maps); -1 for a link within the
   * page, which holds while this TB runs at all.
   */
  gen0 = -1;
  gen1 = -1;
  valid = true;
  /** 0: runs as shared per-instruction code (the first tier); 1: its own compiled function. */
  tier: 0 | 1 = 1;
  readonly ninsns: number;
  readonly cflags: number;
  /** Linear address of the first instruction. */
  readonly pc: number;
  regionIndex = -1;
  readonly id: number;
  readonly csBase: number;
  readonly eip: number;
  readonly flags: number;
  /** Physical address of the first byte. */
  readonly phys: number;
  /** Physical page of the bytes on a second page, or -1. */
  readonly phys2: number;
  /** Guest bytes covered. */
  readonly size: number;
  /** Retired-instruction count when it was translated. */
  readonly translatedAt: number;
  /**
   * The guest code bytes, one per character (a one-byte string costs its length plus a
   * header; a Uint8Array of its own cost ~200 bytes more per TB, tens of thousands of TBs).
   */
  private readonly code: string;
  /**
   * TBs that jump directly into this one: the one TB most have (a set costs ~120 bytes),
   * and a set made at the second.
   */
  private linkIn: TranslationBlock | null = null;
  private linksIn: Set<TranslationBlock> | null = null;
  invalidatedAt = -1;
  invalidationReason = '';
  /**
   * The first tier's code, rebuilt when asked for (the inspector) from `firstTier`, by one
   * function shared by every TB; null: `fn`'s source.
   */
  sourceText: ((tb: TranslationBlock) => string) | null = null;
  /** In the first tier: each instruction's shared function and its constants. */
  firstTier: FirstTierCode | null = null;
  /**
   * Length of the generated code of its instructions, whichever tier runs it: what a region
   * adds when it takes this TB in (`source` would rebuild a first-tier TB's text to learn it).
   */
  codeSize = 0;
  /** What it counts for in the TB cache's byte bound (set when it is inserted). */
  cacheBytes = 0;
  /**
   * The decoded instructions while the TB is made; the CPU loop drops them once it is
   * inserted (regions decode `bytes` again). The block's ending is kept for regions.
   */
  decoded: readonly Instr[] = NO_INSTRS;
  tail: string | null = null;
  eips: number[] = [];
  /** The CS limit the instructions were checked against. */
  csLimit = 0xffffffff;
  /** One instruction that accesses a device (MMIO): see TranslateOptions.ioPcs. */
  io = false;
  /** Made from the persistent translation cache (tb-store.ts), not translated in this run. */
  fromStore = false;

  constructor(
    id: number, pc: number, csBase: number, eip: number, flags: number, cflags: number,
    phys: number, phys2: number, size: number, ninsns: number,
    translatedAt: number, bytes: ArrayLike<number>,
  ) {
    this.id = id;
    this.pc = pc;
    this.csBase = csBase;
    this.eip = eip;
    this.flags = flags;
    this.cflags = cflags;
    this.phys = phys;
    this.phys2 = phys2;
    this.size = size;
    this.ninsns = ninsns;
    this.translatedAt = translatedAt;
    // (one call makes one flat string; appending byte by byte left a tree of ~9 nodes per TB)
    this.code = String.fromCharCode.apply(null, Array.from(bytes, (b) => b & 0xff));
  }

  /** Guest code bytes (for disassembly in the inspector; a new copy each time). */
  get bytes(): Uint8Array {
    const out = new Uint8Array(this.code.length);
    for (let i = 0; i < out.length; i++) out[i] = this.code.charCodeAt(i);
    return out;
  }

  /** Byte `i` of the guest code (0 past its end). */
  byteAt(i: number): number {
    return i < this.code.length ? this.code.charCodeAt(i) : 0;
  }

  /**
   * The instructions, decoded again from the bytes when asked for (the inspector, regions):
   * keeping an object per instruction cost more than the TB itself.
   */
  decodeAgain(): Instr[] {
    const code32 = (this.flags & HF_CS32) !== 0;
    const out: Instr[] = [];
    let eip = this.eip;
    let off = 0;
    for (let k = 0; k < this.ninsns; k++) {
      const base = off;
      const i = decode((o) => this.byteAt(base + o), eip, code32);
      out.push(i);
      off += i.len;
      eip = code32 ? (eip + i.len) >>> 0 : (eip + i.len) & 0xffff;
    }
    return out;
  }

  /** Address, length and mnemonic of each instruction (decodeAgain's summary). */
  get instructions(): readonly TbInstruction[] {
    return this.decodeAgain().map((i) => ({ eip: i.eip, len: i.len, mnem: i.mnem }));
  }

  /** The TBs linked to this one (a read-only view; tbAddJump and invalidation change it). */
  get jmpIn(): ReadonlySet<TranslationBlock> {
    if (this.linksIn !== null) return this.linksIn;
    return this.linkIn !== null ? new Set([this.linkIn]) : NO_LINKS;
  }

  addJmpIn(from: TranslationBlock): void {
    if (this.linksIn !== null) this.linksIn.add(from);
    else if (this.linkIn === null) this.linkIn = from;
    else if (this.linkIn !== from) {
      this.linksIn = new Set([this.linkIn, from]);
      this.linkIn = null;
    }
  }

  deleteJmpIn(from: TranslationBlock): void {
    if (this.linksIn !== null) this.linksIn.delete(from);
    else if (this.linkIn === from) this.linkIn = null;
  }

  clearJmpIn(): void {
    this.linkIn = null;
    this.linksIn = null;
  }

  /** The outgoing links by slot (a copy, for the inspector). */
  get jmpDest(): readonly (TranslationBlock | null)[] {
    return [this.jmp0, this.jmp1];
  }

  /** The links' address-space generations by slot (a copy). */
  get jmpGen(): readonly number[] {
    return [this.gen0, this.gen1];
  }

  jmpAt(slot: number): TranslationBlock | null {
    return slot === 0 ? this.jmp0 : this.jmp1;
  }

  setJmp(slot: number, to: TranslationBlock | null, gen: number): void {
    if (slot === 0) {
      this.jmp0 = to;
      this.gen0 = gen;
    } else {
      this.jmp1 = to;
      this.gen1 = gen;
    }
  }

  /**
   * The generated JavaScript, as V8 keeps it for the compiled function anyway (a TB does
   * not hold a second copy: with tens of thousands of TBs that was tens of MiB).
   */
  get source(): string {
    return this.sourceText !== null ? this.sourceText(this) : this.fn.toString();
  }

  /** Physical pages this TB's code occupies. */
  pages(): number[] {
    const first = this.phys >>> 12;
    const last = (this.phys + this.size - 1) >>> 12;
    const out = [first];
    if (this.phys2 >= 0) out.push(this.phys2 >>> 12);
    else if (last !== first) out.push(last);
    return out;
  }

  /** Does [pa, pa+len) overlap this TB's code? */
  overlaps(pa: number, len: number): boolean {
    const start = this.phys;
    const firstPageEnd = ((start | 0xfff) >>> 0) + 1;
    const end1 = Math.min(start + this.size, firstPageEnd);
    if (pa < end1 && pa + len > start) return true;
    if (this.phys2 >= 0) {
      const rest = start + this.size - firstPageEnd;
      if (rest > 0 && pa < this.phys2 + rest && pa + len > this.phys2) return true;
    }
    return false;
  }
}
