// Linux with the persistent translation cache (issue 10): the Debian kernel booted directly
// three times into one --tb-cache directory: cold (empty), warm (from the cold boot's
// file) and after the file was damaged. The three consoles are the same bytes and the
// runs retire the same number of instructions (the clock is the instruction count, so
// every printk timestamp would show a difference); the cold boot is compared with QEMU by
// linux-direct.test.ts. The warm boot takes nearly every TB from the cache; the damaged
// file is refused and written again.
//
// Long (three Linux boots): runs when CI=true or BMBT_FULL=1.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusOrReason, BOOT_OK } from './fetch.js';
import { bmbtLinuxArgs, fullCorpusRun, runBoot, type BootResult } from './boot-run.js';
import { LINUX_MARKERS } from './linux-suite.js';
import { parseRunStats, RUN_STATS_ENV, type RunStats } from '../../cli/run-stats.js';

const TIMEOUT_MS = 900_000;
const full = fullCorpusRun();
if (!full) console.warn('[corpus] Linux with the translation cache: skipped (three Linux boots); BMBT_FULL=1 runs it, CI=true always does');

describe.skipIf(!full)('Debian 686 Linux booted cold, warm and with a damaged translation cache', () => {
  const boots: { name: string; r: BootResult; stats: RunStats }[] = [];
  let dir: string;

  beforeAll(async () => {
    const corpus = corpusOrReason();
    if (typeof corpus === 'string') throw new Error(`the corpus is missing: ${corpus} (npm run corpus; .ci/run installs what it needs)`);
    dir = mkdtempSync(join(tmpdir(), 'bmbt-linux-tbcache-'));
    const boot = async (name: string): Promise<void> => {
      const r = await runBoot(process.execPath, [...bmbtLinuxArgs(corpus, 'direct'), '--tb-cache', dir], {
        markers: LINUX_MARKERS, timeoutMs: TIMEOUT_MS, env: { ...process.env, [RUN_STATS_ENV]: '1' },
      });
      const stats = parseRunStats(r.err);
      if (stats === null) throw new Error(`${name} boot: no run statistics (status ${r.code}): ${r.err.slice(-1000)}`);
      boots.push({ name, r, stats });
    };
    await boot('cold');
    await boot('warm');
    for (const f of readdirSync(dir)) {
      const b = readFileSync(join(dir, f));
      for (let i = 64; i < b.length; i += 4099) b[i]! ^= 0xa5;
      writeFileSync(join(dir, f), b);
    }
    await boot('damaged');
  }, 3 * TIMEOUT_MS);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('each boot reaches BOOT-OK and powers off', () => {
    for (const b of boots) {
      expect(b.r.markerMs, `${b.name}: ${b.r.err.slice(-1000)}`).toHaveProperty([BOOT_OK]);
      expect(b.r.code, b.name).toBe(0);
      expect(b.stats.end, b.name).toBe('power-off');
    }
  });

  it('the warm and the damaged boot print the cold boot\'s console, byte for byte, after as many instructions', () => {
    const [cold, ...rest] = boots;
    for (const b of rest) {
      expect(b.r.out, b.name).toBe(cold!.r.out);
      expect(b.stats.icount, b.name).toBe(cold!.stats.icount);
    }
  });

  it('the warm boot takes nearly all its TBs from the cache; the damaged file is refused', () => {
    const by = (n: string) => boots.find((b) => b.name === n)!.stats.tb;
    expect(by('warm').storeHits).toBeGreaterThan(by('warm').translations * 0.95);
    // The cold boot finds only what it saved itself (TBs translated again after a flush).
    expect(by('cold').storeHits).toBeLessThan(by('cold').translations * 0.5);
    const store = (n: string) => boots.find((b) => b.name === n)!.stats.tbStore!;
    expect(store('cold')).toMatchObject({ loaded: 0, rejected: null });
    expect(store('warm').rejected).toBeNull();
    expect(store('warm').loaded).toBeGreaterThan(by('warm').storeHits * 0.5);
    expect(store('damaged')).toMatchObject({ loaded: 0, rejected: 'checksum mismatch' });
    expect(by('damaged').storeHits).toBeLessThan(by('damaged').translations * 0.5);
  });
});
