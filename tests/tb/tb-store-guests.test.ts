// The persistent translation cache on real runs (issue 10): a guest run with the cache
// off, cold (an empty directory), warm (what the cold run saved) and with the file
// damaged writes the same serial bytes at the same instruction counts, and ends the same
// way; the warm run takes its TBs from the cache. The guests are the samples (each
// checked against QEMU in samples.test.ts), several of them loaded at the same addresses
// in one directory (other code at a cached address must not run the cached code), the
// SMP guest with code patched across CPUs, and SeaBIOS.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestMachine, haveSeabiosFiles, SEABIOS_BIN, type GuestMachine } from '../support/guest-machine.js';
import { SAMPLES } from '../support/samples.js';
import { DebugController } from '../../src/debug/controller.js';
import { formatTbStats } from '../../src/debug/inspect.js';
import { tbDetailRecord } from '../../src/debug/tb-records.js';
import { tbDetail } from '../../ui/model/tb-view.js';
import { detailLines } from '../../ui/panes/tb-inspector-pane.js';

interface Outcome {
  serial: { byte: number; icount: number }[];
  stop: string;
  icount: number;
  storeHits: number;
  translations: number;
}

/** Runs to the guest's end (or `budget` instructions) and saves the cache. */
function run(args: string[], cache: string, budget: number): Outcome {
  const g: GuestMachine = guestMachine(['--tb-cache', cache, ...args]);
  let stop = 'budget';
  while (g.pc.cpu.icount < budget) {
    const s = g.pc.run(Math.min(5_000_000, budget - g.pc.cpu.icount));
    if (s.kind !== 'budget' && s.kind !== 'exit-request') {
      stop = s.kind === 'exit' ? `exit ${s.code}` : s.kind;
      break;
    }
    if (s.kind === 'budget' && s.halted && g.pc.clock.now() > 30e9) break;
  }
  g.pc.tbStore?.save();
  const st = g.pc.exec.tbs.stats;
  return { serial: g.serial, stop, icount: g.pc.cpu.icount, storeHits: st.storeHits, translations: st.translations };
}

const same = (a: Outcome, b: Outcome): void => {
  expect(b.stop).toBe(a.stop);
  expect(b.icount).toBe(a.icount);
  expect(b.serial.length).toBe(a.serial.length);
  expect(b.serial).toEqual(a.serial);
};

/** Flips bytes through the middle of every cache file in `dir`. */
function damage(dir: string): void {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const b = readFileSync(p);
    for (let i = 100; i < b.length; i += Math.max(1, Math.floor(b.length / 7))) b[i]! ^= 0x5a;
    writeFileSync(p, b);
  }
}

const GUESTS: { name: string; args: string[]; budget: number }[] = [
  ...SAMPLES.filter((s) => !s.bench && s.input === null).map((s) => ({
    name: s.name,
    args: [...(s.cpu ? ['--cpu', s.cpu] : []), s.bootSector ? '--boot-sector' : '--kernel', s.image],
    budget: 50_000_000,
  })),
  { name: 'crtoggle (CR0/CR4 writes, CR3 reloads)', args: ['--kernel', 'samples/build/bench-crtoggle.elf'], budget: 20_000_000 },
  { name: 'smp -smp 4 (code patched across CPUs)', args: ['--kernel', 'tests/guests/build/smp.bin', '-smp', '4'], budget: 400_000_000 },
];

describe('persistent translation cache: the same run cold, warm, off and damaged', () => {
  // One directory for all the guests: most load at 1 MiB, so warm runs meet entries of
  // other guests at their own addresses.
  let shared: string;
  beforeAll(() => {
    shared = mkdtempSync(join(tmpdir(), 'bmbt-tbstore-guests-'));
  });
  afterAll(() => rmSync(shared, { recursive: true, force: true }));

  for (const g of GUESTS) {
    it(g.name, () => {
      const off = run(g.args, 'off', g.budget);
      expect(off.serial.length).toBeGreaterThan(0);
      expect(off.storeHits).toBe(0);
      const cold = run(g.args, shared, g.budget);
      same(off, cold);
      const warm = run(g.args, shared, g.budget);
      same(off, warm);
      // Every TB of the warm run but the ones translation keeps out of the cache (cut
      // short by a device access and the like) comes from the cache.
      expect(warm.storeHits).toBeGreaterThan(warm.translations * 0.8);
    }, 120_000);
  }

  it('a damaged file is refused: the run translates everything and is the same', () => {
    const g = GUESTS.find((x) => x.name === 'paging')!;
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-tbstore-damaged-'));
    try {
      const off = run(g.args, 'off', g.budget);
      run(g.args, dir, g.budget);
      damage(dir);
      const damaged = run(g.args, dir, g.budget);
      same(off, damaged);
      expect(damaged.storeHits).toBe(0);
      // ...and writes a good file again.
      const warm = run(g.args, dir, g.budget);
      same(off, warm);
      expect(warm.storeHits).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('the monitor\'s info jit and the TB inspector say what came from the cache', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-tbstore-inspect-'));
    try {
      const args = ['--kernel', 'samples/build/hello.elf'];
      run(args, dir, 50_000_000);
      const g = guestMachine(['--tb-cache', dir, ...args]);
      g.pc.run(50_000_000);
      const ctl = new DebugController(g.pc);
      const stats = ctl.tbStats();
      expect(formatTbStats(stats)).toMatch(new RegExp(`persistent translation cache: ${stats.storeHits} TBs taken from it, 0 added; \\d+ entries read from ${dir}/tb-`));
      expect(stats.storeHits).toBeGreaterThan(0);
      const tb = g.pc.exec.tbs.all().find((t) => t.fromStore)!;
      const lines = detailLines(tbDetail(ctl, tbDetailRecord(tb, []))).map((l) => l.text);
      expect(lines.some((l) => l.includes(`translated at icount ${tb.translatedAt} (from the translation cache)`))).toBe(true);
      const off = guestMachine(['--tb-cache', 'off', ...args]);
      expect(formatTbStats(new DebugController(off.pc).tbStats())).toContain('persistent translation cache: off');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!haveSeabiosFiles)('SeaBIOS to "No bootable device."', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-tbstore-seabios-'));
    const args = ['--bios', SEABIOS_BIN];
    try {
      const off = run(args, 'off', 80_000_000);
      expect(String.fromCharCode(...off.serial.map((s) => s.byte))).toContain('No bootable device.');
      same(off, run(args, dir, 80_000_000));
      const warm = run(args, dir, 80_000_000);
      same(off, warm);
      expect(warm.storeHits).toBeGreaterThan(warm.translations * 0.8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
