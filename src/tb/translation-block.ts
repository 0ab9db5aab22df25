// A translation block: a run of guest instructions compiled to one JavaScript function.

import type { Instr } from '../cpu/instr.js';

/** Several TBs of one page compiled into one function that jumps between them itself. */
export interface Region {
  readonly fn: (member: number) => number;
  readonly members: readonly TranslationBlock[];
  /** Index of the member that left the region last. */
  last: number;
  readonly source: string;
}

export const CF_SINGLE = 1; // exactly one instruction (single-step, budget edge, interrupt shadow)
export const CF_NOBP = 2; // do not stop at a breakpoint on the first instruction (resuming from it)

export interface TbInstruction {
  readonly eip: number;
  readonly len: number;
  readonly mnem: string;
}

export class TranslationBlock {
  /** Outgoing direct-jump links (QEMU's jmp_dest), by exit slot. */
  readonly jmpDest: (TranslationBlock | null)[] = [null, null];
  /**
   * For a link to another page: the address-space generation it was made in (it holds
   * only while no TLB flush has changed where that page maps); -1 for a link within the
   * page, which holds while this TB runs at all.
   */
  readonly jmpGen: number[] = [-1, -1];
  /** TBs that jump directly into this one: unlinked when this one is invalidated. */
  readonly jmpIn = new Set<TranslationBlock>();
  execCount = 0;
  valid = true;
  invalidatedAt = -1;
  invalidationReason = '';
  fn: () => number = () => 0;
  /** 0: runs as shared per-instruction code (the first tier); 1: its own compiled function. */
  tier: 0 | 1 = 1;
  /** The first tier's code, rebuilt when asked for (the inspector); null: `fn`'s source. */
  sourceText: (() => string) | null = null;
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
  decoded: readonly Instr[] = [];
  tail: string | null = null;
  eips: number[] = [];
  /** The region this TB was compiled into (chaining without returning to the loop). */
  region: Region | null = null;
  regionIndex = -1;
  /** The CS limit the instructions were checked against. */
  csLimit = 0xffffffff;
  /** One instruction that accesses a device (MMIO): see TranslateOptions.ioPcs. */
  io = false;

  constructor(
    readonly id: number,
    /** Linear address of the first instruction. */
    readonly pc: number,
    readonly csBase: number,
    readonly eip: number,
    readonly flags: number,
    readonly cflags: number,
    /** Physical address of the first byte. */
    readonly phys: number,
    /** Physical page of the bytes on a second page, or -1. */
    readonly phys2: number,
    /** Guest bytes covered. */
    readonly size: number,
    readonly ninsns: number,
    readonly instructions: readonly TbInstruction[],
    /** Retired-instruction count when it was translated. */
    readonly translatedAt: number,
    /** Guest code bytes (for disassembly in the inspector). */
    readonly bytes: Uint8Array,
  ) {}

  /**
   * The generated JavaScript, as V8 keeps it for the compiled function anyway (a TB does
   * not hold a second copy: with tens of thousands of TBs that was tens of MiB).
   */
  get source(): string {
    return this.sourceText !== null ? this.sourceText() : this.fn.toString();
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
