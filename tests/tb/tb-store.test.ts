// The persistent translation cache's file (src/tb/tb-store.ts): what is saved is found
// again only for the same bytes, state and translator version; a damaged or foreign file
// is refused whole, never half read; the size bound keeps what the run used.
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TbStore, type StoredTb } from '../../src/tb/tb-store.js';

const VERSION = 'test-version-1';

function firstTierTb(pc: number, bytes: number[], over: Partial<StoredTb> = {}): StoredTb {
  return {
    pc, csBase: 0, eip: pc, flags: 0x40b3, cflags: 0x100, csLimit: 0xffffffff, page2: false,
    bytes: Uint8Array.from(bytes), lens: Uint8Array.from([bytes.length]), neips: 1, codeSize: 42,
    code: { tpls: ['R[K$[0]] = K$[1];', 'return K$[0];'], ks: [3, 0x12345678, 4294967296, 0.5, -7, 1] },
    ...over,
  };
}

function compiledTb(pc: number, bytes: number[]): StoredTb {
  return {
    ...firstTierTb(pc, bytes), cflags: 1, code: { body: 'c.eip = 5; // ünïcode kept\nreturn 2;', selfLoop: true },
  };
}

const memory = (bytes: ArrayLike<number>) => (i: number): number => (i < bytes.length ? bytes[i]! : 0);
const never = (): boolean => false;

describe('persistent translation cache file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmbt-tbstore-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const find = (s: TbStore, t: StoredTb, read = memory(t.bytes), blocked: (lin: number) => boolean = never) =>
    s.find(t.pc, t.csBase, t.eip, t.flags, t.cflags, t.csLimit, read, blocked);

  it('finds what an earlier run saved, field for field', () => {
    const a = firstTierTb(0x100000, [0x89, 0xc3]);
    const b = compiledTb(0xc0001000, [0xeb, 0xfe]);
    const c = { ...firstTierTb(0xfff, [0x90, 0x90, 0xc3]), page2: true, lens: Uint8Array.from([1, 1, 1]), neips: 3 };
    const s1 = new TbStore(dir, VERSION, 'cpu a');
    for (const t of [a, b, c]) s1.add(t);
    expect(find(s1, a)).toEqual(a); // this run's own entries are found too
    s1.save();
    expect(s1.stats.saved).toBeGreaterThan(0);

    const s2 = new TbStore(dir, VERSION, 'cpu a');
    expect(s2.stats).toMatchObject({ loaded: 3, rejected: null });
    expect(find(s2, a)).toEqual(a);
    expect(find(s2, b)).toEqual(b);
    expect(find(s2, c)).toEqual(c);
    expect(s2.stats.hits).toBe(3);
    expect(s2.dirty).toBe(false);
  });

  it('misses when the bytes, the state or the mode differ, or an instruction is blocked', () => {
    const a = firstTierTb(0x100000, [0x89, 0xc3, 0x40]);
    const s1 = new TbStore(dir, VERSION, 'cpu a');
    s1.add(a);
    s1.save();
    const s2 = new TbStore(dir, VERSION, 'cpu a');
    expect(find(s2, a, memory([0x89, 0xc3, 0x41]))).toBeNull();
    expect(find(s2, a, () => -1)).toBeNull();
    expect(find(s2, { ...a, flags: a.flags ^ 0x10 })).toBeNull();
    expect(find(s2, { ...a, csBase: 0x10, pc: a.pc })).toBeNull();
    expect(find(s2, { ...a, csLimit: 0xffff })).toBeNull();
    expect(find(s2, { ...a, cflags: 0x101 })).toBeNull();
    expect(find(s2, a, memory(a.bytes), (lin) => lin === a.pc)).toBeNull();
    expect(find(s2, a)).toEqual(a);
    // Another CPU model (variant) is another file.
    expect(new TbStore(dir, VERSION, 'cpu b').stats.loaded).toBe(0);
  });

  it('keeps several TBs at one address apart by their bytes', () => {
    const s1 = new TbStore(dir, VERSION, 'v');
    const one = firstTierTb(0x8048000, [0x31, 0xc0]);
    const two = { ...firstTierTb(0x8048000, [0x31, 0xdb]), codeSize: 7 };
    s1.add(one);
    s1.add(two);
    s1.save();
    const s2 = new TbStore(dir, VERSION, 'v');
    expect(find(s2, two)?.codeSize).toBe(7);
    expect(find(s2, one)?.codeSize).toBe(42);
  });

  const saved = (): string => {
    const s = new TbStore(dir, VERSION, 'v');
    for (let i = 0; i < 50; i++) s.add(firstTierTb(0x1000 + i * 16, [0x90, i, 0xc3]));
    s.save();
    return s.filePath;
  };

  it.each([
    ['one byte flipped in an entry', (f: string) => {
      const b = readFileSync(f);
      b[Math.floor(b.length / 2)]! ^= 0x40;
      writeFileSync(f, b);
    }, 'checksum mismatch'],
    ['cut short', (f: string) => truncateSync(f, statSync(f).size - 100), 'checksum mismatch'],
    ['cut to a few bytes', (f: string) => truncateSync(f, 20), 'too short'],
    ['not a cache file', (f: string) => writeFileSync(f, Buffer.alloc(4096, 0x41)), 'not a translation cache file'],
  ])('refuses a file %s, runs without it and writes a good one', (_what, damage, why) => {
    const f = saved();
    damage(f);
    const s = new TbStore(dir, VERSION, 'v');
    expect(s.stats).toMatchObject({ loaded: 0, rejected: why });
    expect(find(s, firstTierTb(0x1000, [0x90, 0, 0xc3]))).toBeNull();
    s.add(firstTierTb(0x5000, [0xc3]));
    s.save();
    const again = new TbStore(dir, VERSION, 'v');
    expect(again.stats).toMatchObject({ loaded: 1, rejected: null });
  });

  it('refuses a file another translator build wrote', () => {
    const f = saved();
    // The same file name under another version: what a build with a hash collision in
    // the name (or a copied file) would see.
    const other = new TbStore(dir, 'test-version-2', 'v');
    writeFileSync(other.filePath, readFileSync(f));
    const s = new TbStore(dir, 'test-version-2', 'v');
    expect(s.stats).toMatchObject({ loaded: 0, rejected: 'made by another translator version' });
    expect(find(s, firstTierTb(0x1000, [0x90, 0, 0xc3]))).toBeNull();
  });

  it('writes nothing when the run made nothing new, and leaves no temporary file', () => {
    const f = saved();
    const before = statSync(f).mtimeMs;
    const s = new TbStore(dir, VERSION, 'v');
    expect(find(s, firstTierTb(0x1000, [0x90, 0, 0xc3]))).not.toBeNull();
    s.save();
    expect(statSync(f).mtimeMs).toBe(before);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('past its size bound keeps only what the last run used and made', () => {
    const f = saved();
    const size = statSync(f).size;
    const s = new TbStore(dir, VERSION, 'v', size + 64);
    const used = firstTierTb(0x1000 + 3 * 16, [0x90, 3, 0xc3]);
    expect(find(s, used)).not.toBeNull();
    for (let i = 0; i < 20; i++) s.add(compiledTb(0x9000 + i, [0xeb, i]));
    s.save();
    const after = new TbStore(dir, VERSION, 'v');
    expect(after.stats.loaded).toBe(21);
    expect(find(after, used)).toEqual(used);
    expect(find(after, firstTierTb(0x1000, [0x90, 0, 0xc3]))).toBeNull();
    expect(find(after, compiledTb(0x9005, [0xeb, 5]))).toEqual(compiledTb(0x9005, [0xeb, 5]));
  });

  it('stops taking new entries at its size bound (a guest making new code for ever)', () => {
    const s = new TbStore(dir, VERSION, 'v', 4096);
    for (let i = 0; i < 1000; i++) s.add(firstTierTb(0x1000 + i * 16, [0x90, i & 0xff, 0xc3]));
    expect(s.stats.added).toBeLessThan(200);
    expect(s.stats.added).toBeGreaterThan(10);
    s.save();
    expect(new TbStore(dir, VERSION, 'v').stats.loaded).toBe(s.stats.added);
  });

  it('a run that saves after another keeps a whole file (the last one wins)', () => {
    const a = new TbStore(dir, VERSION, 'v');
    const b = new TbStore(dir, VERSION, 'v');
    a.add(firstTierTb(0x1000, [1]));
    b.add(firstTierTb(0x2000, [2]));
    a.save();
    b.save();
    const s = new TbStore(dir, VERSION, 'v');
    expect(s.stats).toMatchObject({ loaded: 1, rejected: null });
    expect(find(s, firstTierTb(0x2000, [2]))).not.toBeNull();
  });
});
