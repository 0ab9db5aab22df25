// The TB cache on its own (issue 11: it was only tested end to end): lookup by physical
// pc and CPU state, the jump cache, chaining (QEMU's tb_add_jump) and the unlinking an
// invalidation does, invalidation by physical range (self-modifying code) across a page
// boundary, the page bookkeeping the TLB relies on, and flushes.
import { describe, expect, it } from 'vitest';
import { TbCache } from '../../src/tb/tb-cache.js';
import { TranslationBlock } from '../../src/tb/translation-block.js';
import { EventLog } from '../../src/events/machine-events.js';
import { bootSample, sample } from '../support/samples.js';

function tb(cache: TbCache, pc: number, size: number, opts: { phys?: number; phys2?: number; flags?: number; cflags?: number } = {}): TranslationBlock {
  const phys = opts.phys ?? pc;
  return new TranslationBlock(cache.newId(), pc, 0, pc, opts.flags ?? 0x10, opts.cflags ?? 0, phys, opts.phys2 ?? -1, size, Math.max(1, size >> 1), 0, new Uint8Array(size));
}

function cacheWithLog(max?: number): { cache: TbCache; log: EventLog; empty: number[]; used: number[] } {
  const log = new EventLog();
  const cache = new TbCache(log, max);
  const empty: number[] = [];
  const used: number[] = [];
  cache.onPageEmpty = (p) => empty.push(p);
  cache.onPageUsed = (p) => used.push(p);
  return { cache, log, empty, used };
}

describe('TB cache', () => {
  it('finds a TB by physical pc, linear pc, CS base, flags and cflags; the jump cache by linear pc', () => {
    const { cache, used } = cacheWithLog();
    const a = tb(cache, 0x1000, 8);
    const single = tb(cache, 0x1000, 1, { cflags: 1 });
    cache.insert(a);
    cache.insert(single);
    expect(used).toEqual([1]);
    expect(cache.lookup(0x1000, 0x1000, 0, 0x10, 0)).toBe(a);
    expect(cache.lookup(0x1000, 0x1000, 0, 0x10, 1)).toBe(single);
    expect(cache.lookup(0x1000, 0x1000, 0, 0x11, 0)).toBeNull(); // other CPU mode flags
    expect(cache.lookup(0x2000, 0x1000, 0, 0x10, 0)).toBeNull();
    expect(cache.jmpLookup(0x1000)).toBeNull();
    cache.setJmpCache(a);
    expect(cache.jmpLookup(0x1000)).toBe(a);
    expect(cache.size).toBe(2);
    expect(cache.stats.translations).toBe(2);
  });

  it('chains exits to TBs and unlinks both directions when either end is invalidated', () => {
    const { cache, log } = cacheWithLog();
    const a = tb(cache, 0x1000, 8);
    const b = tb(cache, 0x1008, 8);
    const c = tb(cache, 0x1010, 8);
    for (const t of [a, b, c]) cache.insert(t);
    cache.tbAddJump(a, 0, b);
    cache.tbAddJump(a, 1, c);
    cache.tbAddJump(b, 0, c);
    expect(a.jmpDest).toEqual([b, c]);
    expect([...c.jmpIn]).toEqual([a, b]);
    expect(cache.stats.chainsMade).toBe(3);
    expect(log.count('tb-chain')).toBe(3);
    // Relinking a slot moves the incoming link.
    cache.tbAddJump(a, 1, b);
    expect([...c.jmpIn]).toEqual([b]);
    expect([...b.jmpIn]).toEqual([a]);
    // Invalidating b: a's exit to it and b's exit to c are cut.
    cache.invalidate(b, 'test');
    expect(a.jmpDest).toEqual([null, null]);
    expect(c.jmpIn.size).toBe(0);
    expect(b.valid).toBe(false);
    expect(b.invalidationReason).toBe('test');
    // Nothing links to or from a dead TB.
    cache.tbAddJump(a, 0, b);
    expect(a.jmpDest[0]).toBeNull();
    expect(cache.invalidated.map((r) => r.id)).toEqual([b.id]);
  });

  it('invalidates by physical range, a TB that runs onto a second page included, and reports pages that hold no code any more', () => {
    const { cache, empty } = cacheWithLog();
    // Starts 4 bytes before a page boundary, its tail on another physical page.
    const cross = tb(cache, 0x10ffc, 8, { phys: 0x20ffc, phys2: 0x35000 });
    const other = tb(cache, 0x12000, 8, { phys: 0x40000 });
    cache.insert(cross);
    cache.insert(other);
    expect(cache.touchingPage(0x35).map((t) => t.id)).toEqual([cross.id]);
    expect(cache.onPage(0x35)).toEqual([]); // does not start there
    // A write to the tail's page hits it; one next to it does not.
    expect(cache.tbInvalidatePhysRange(0x35004, 4)).toEqual([]);
    expect(cache.tbInvalidatePhysRange(0x35002, 1).map((t) => t.id)).toEqual([cross.id]);
    expect(empty.sort()).toEqual([0x20, 0x35]);
    expect(cache.size).toBe(1);
    expect(cache.tbInvalidatePhysRange(0x40007, 2).map((t) => t.id)).toEqual([other.id]);
    expect(cache.size).toBe(0);
  });

  it('a flush drops every TB and link, empties the jump cache, and is counted and logged', () => {
    const { cache, log, empty } = cacheWithLog();
    const a = tb(cache, 0x1000, 8);
    const b = tb(cache, 0x2000, 8);
    cache.insert(a);
    cache.insert(b);
    cache.setJmpCache(a);
    cache.tbAddJump(a, 0, b);
    cache.flush('test');
    expect(cache.size).toBe(0);
    expect(cache.all()).toEqual([]);
    expect(a.valid || b.valid).toBe(false);
    expect(a.jmpDest[0]).toBeNull();
    expect(b.jmpIn.size).toBe(0);
    expect(cache.jmpLookup(0x1000)).toBeNull();
    expect(cache.lookup(0x1000, 0x1000, 0, 0x10, 0)).toBeNull();
    expect(empty.sort()).toEqual([1, 2]);
    expect(cache.stats.flushes).toBe(1);
    expect(log.recent(['tb-flush'])).toMatchObject([{ kind: 'tb-flush', reason: 'test', count: 2 }]);
  });

  it('is bounded: inserting past the limit flushes first', () => {
    const { cache } = cacheWithLog(3);
    for (let i = 0; i < 3; i++) cache.insert(tb(cache, 0x1000 + i * 16, 8));
    cache.insert(tb(cache, 0x2000, 8));
    expect(cache.size).toBe(1);
    expect(cache.stats.flushes).toBe(1);
  });

  it('is bounded in bytes too: code and guest bytes held, given back on invalidation, a flush past the bound', () => {
    const log = new EventLog();
    const cache = new TbCache(log, 1000, 10_000);
    const make = (pc: number, code: number): TranslationBlock => {
      const t = tb(cache, pc, 16);
      t.codeSize = code;
      return t;
    };
    const a = make(0x1000, 3000);
    const b = make(0x1010, 3000);
    cache.insert(a);
    cache.insert(b);
    expect(cache.bytes).toBe(2 * 3016);
    cache.invalidate(a, 'test');
    expect(cache.bytes).toBe(3016);
    cache.insert(make(0x1020, 3000));
    cache.insert(make(0x1030, 3000));
    expect(cache.stats.flushes).toBe(0);
    expect(cache.bytes).toBe(3 * 3016);
    // The fourth does not fit: everything goes, then it is inserted.
    const d = make(0x1040, 3000);
    cache.insert(d);
    expect(cache.stats.flushes).toBe(1);
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(3016);
    expect(b.valid).toBe(false);
    expect(b.invalidationReason).toBe('flush: cache full (10 KiB of code)');
    expect(cache.lookup(0x1040, 0x1040, 0, 0x10, 0)).toBe(d);
  });

  it('a machine with a small byte bound flushes and runs on to the same output', () => {
    const s = bootSample('interp', { maxTbBytes: 64 * 1024 });
    for (let i = 0; i < 1000 && s.pc.run(5_000_000).kind === 'budget'; i++);
    expect(s.serial()).toBe(sample('interp').serial);
    const tbs = s.pc.exec.tbs;
    expect(tbs.stats.flushes).toBeGreaterThan(0);
    expect(tbs.bytes).toBeLessThanOrEqual(64 * 1024);
  });
});


describe('a TB keeps its guest bytes, not objects per instruction', () => {
  it('gives back its bytes and decodes its instructions from them, in 32- and 16-bit code', () => {
    const cache = new TbCache(null);
    // mov eax, 0x12345678; add eax, ebx; jmp $ (32-bit: HF_CS32 = 4)
    const code32 = [0xb8, 0x78, 0x56, 0x34, 0x12, 0x01, 0xd8, 0xeb, 0xfe];
    const a = new TranslationBlock(cache.newId(), 0xc0100000, 0, 0xc0100000, 4, 0, 0x100000, -1, code32.length, 3, 0, code32);
    expect([...a.bytes]).toEqual(code32);
    expect(a.byteAt(8)).toBe(0xfe);
    expect(a.byteAt(9)).toBe(0);
    expect(a.instructions).toEqual([
      { eip: 0xc0100000, len: 5, mnem: 'mov' },
      { eip: 0xc0100005, len: 2, mnem: 'add' },
      { eip: 0xc0100007, len: 2, mnem: 'jmp' },
    ]);
    // 16-bit code at the top of a segment: the second instruction's IP wraps to 0.
    const code16 = [0x40, 0x90];
    const b = new TranslationBlock(cache.newId(), 0xfffff, 0xf0000, 0xffff, 0, 0, 0xfffff, 0xf0000, 2, 2, 0, code16);
    expect(b.instructions.map((i) => [i.eip, i.len])).toEqual([[0xffff, 1], [0, 1]]);
  });

  it('has no set of incoming links until something links to it', () => {
    const cache = new TbCache(null);
    const a = tb(cache, 0x1000, 4);
    const b = tb(cache, 0x2000, 4);
    cache.insert(a);
    cache.insert(b);
    expect(b.jmpIn.size).toBe(0);
    cache.tbAddJump(a, 0, b, -1);
    expect([...b.jmpIn]).toEqual([a]);
    cache.tbAddJump(a, 1, b, -1); // the same TB twice: still one
    expect([...b.jmpIn]).toEqual([a]);
    const c = tb(cache, 0x3000, 4);
    cache.insert(c);
    cache.tbAddJump(c, 0, b, -1);
    expect([...b.jmpIn]).toEqual([a, c]);
    cache.invalidate(a, 'test');
    expect([...b.jmpIn]).toEqual([c]);
    cache.invalidate(b, 'test');
    expect(c.jmp0).toBeNull();
    expect(b.jmpIn.size).toBe(0);
  });
});
