// npm run bench:linux: the Debian 686 kernel and the corpus initramfs (npm run corpus
// builds both) booted on bmbt-dbg and on QEMU, one after the other, through SeaBIOS and
// directly. For each boot: wall time from process start to each console marker (the
// kernel's first line, `Run /init`, BOOT-OK, power-off) and to process exit, the guest
// instructions and MIPS (bmbt-dbg's own count), the peak RSS of each process, and ratios
// to QEMU from the same run. bmbt-dbg runs with BMBT_STATS=profile and its run statistics
// (cli/run-stats.ts: TB cache counts, time in and out of the run loop, the sampled time
// breakdown of cli/time-breakdown.ts, TBs by how often they ran) are
// printed below each run. --no-breakdown runs without the sampling profiler.
//
// bmbt-dbg boots twice per run: cold, with an empty persistent translation cache (a
// directory of its own, --tb-cache), then warm, from what the cold boot saved there: the
// debugger's second boot of the same guest. --no-warm boots only cold.
//
//   npm run bench:linux                      # 1 run, both paths
//   npm run bench:linux -- --runs 3 --path bios
//   BENCH_RUNS=3 npm run bench:linux
// Prints numbers; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCorpus, CorpusError, BOOT_OK, CORPUS_DONE, type Corpus } from '../tests/corpus/fetch.js';
import { bmbtLinuxArgs, qemuLinuxArgs, QEMU_BIN, runBoot, withConsoleFile, type BootResult, type LinuxPath } from '../tests/corpus/boot-run.js';
import { parseRunStats, RUN_STATS_ENV, type RunStats } from '../cli/run-stats.js';
import { runBucketLabel } from '../src/tb/tb-cache.js';

const MARKERS = [
  { key: 'Linux version', label: 'kernel\'s first line' },
  { key: 'Run /init as init process', label: 'Run /init' },
  { key: BOOT_OK, label: BOOT_OK },
  { key: CORPUS_DONE, label: '/init done' },
  { key: 'reboot: ', label: 'power-off' },
] as const;

const USAGE = 'usage: npm run bench:linux -- [--runs N] [--path bios|direct|both] [--no-qemu] [--no-warm] [--no-breakdown] (BENCH_RUNS=N also sets the runs)';

/** A bad command line: one line on stderr, exit status 2. */
class UsageError extends Error {}

interface Options {
  runs: number;
  paths: LinuxPath[];
  qemu: boolean;
  /** Sample where bmbt-dbg's time goes (BMBT_STATS=profile). */
  breakdown: boolean;
  /** A second boot from the translation cache the first saved. */
  warm: boolean;
}

function parseArgs(argv: string[]): Options | 'help' {
  const o: Options = { runs: 1, paths: ['bios', 'direct'], qemu: true, breakdown: true, warm: true };
  let runs = process.env['BENCH_RUNS'] ?? '1';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--runs') runs = argv[++i] ?? '';
    else if (a === '--path') {
      const p = argv[++i];
      if (p !== 'bios' && p !== 'direct' && p !== 'both') throw new UsageError(`--path: "${p ?? ''}" is not bios, direct or both`);
      o.paths = p === 'both' ? ['bios', 'direct'] : [p];
    } else if (a === '--no-qemu') o.qemu = false;
    else if (a === '--no-breakdown') o.breakdown = false;
    else if (a === '--no-warm') o.warm = false;
    else throw new UsageError(`unknown option ${a} (${USAGE})`);
  }
  if (!/^[1-9]\d*$/.test(runs)) throw new UsageError(`--runs: "${runs}" is not a positive integer`);
  o.runs = Number(runs);
  return o;
}

interface Sample {
  path: LinuxPath;
  /** The translation cache: empty at start (cold) or the cold boot's (warm). */
  cache: 'cold' | 'warm';
  ours: BootResult;
  stats: RunStats | null;
  qemu: BootResult | null;
}

const s = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
const mib = (kib: number): string => (kib ? `${(kib / 1024).toFixed(0)} MiB` : '-');
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(1)}x`);
const pad = (t: string, n: number): string => t.padEnd(n);
const padL = (t: string, n: number): string => t.padStart(n);

function printSample(x: Sample, run: number): void {
  console.log(`\n${x.path === 'bios' ? 'via SeaBIOS (--bios / -bios)' : 'direct (--kernel without --bios / -kernel)'}, run ${run}, ${x.cache} translation cache`);
  console.log(`  ${pad('', 22)}${padL('bmbt-dbg', 12)}${padL('qemu', 12)}${padL('ratio', 9)}`);
  for (const m of MARKERS) {
    const a = x.ours.markerMs[m.key];
    const b = x.qemu?.markerMs[m.key];
    console.log(`  ${pad(m.label, 22)}${padL(s(a), 12)}${padL(s(b), 12)}${padL(ratio(a, b), 9)}`);
  }
  console.log(`  ${pad('process exit', 22)}${padL(s(x.ours.wallMs), 12)}${padL(s(x.qemu?.wallMs), 12)}${padL(ratio(x.ours.wallMs, x.qemu?.wallMs), 9)}`);
  console.log(`  ${pad('peak RSS', 22)}${padL(mib(x.ours.peakRssKiB), 12)}${padL(mib(x.qemu?.peakRssKiB ?? 0), 12)}${padL(ratio(x.ours.peakRssKiB, x.qemu?.peakRssKiB), 9)}`);
  console.log(`  ${pad('exit status', 22)}${padL(String(x.ours.code), 12)}${padL(String(x.qemu?.code ?? '-'), 12)}`);
  const st = x.stats;
  if (st) {
    console.log(`  guest instructions ${(st.icount / 1e9).toFixed(3)} G, ${(st.icount / 1e6 / (st.wallMs / 1000)).toFixed(1)} MIPS over the run loop's wall time ` +
      `(${s(st.wallMs)}: ${s(st.runMs)} running, ${s(st.outsideMs)} between slices); ended: ${st.end}`);
    const t = st.tb;
    console.log(`  TBs: ${t.translations} translated (${(t.insnsTranslated / Math.max(1, t.translations)).toFixed(1)} insns each), ${t.live} live, ` +
      `${t.storeHits ?? 0} from the translation cache, ${t.flushes} flushes, ${t.invalidations} invalidated, ${t.chainsMade} chains, ${t.regionsBuilt} regions built; ` +
      `lookups ${t.lookups} (jump cache hits ${t.jmpCacheHits}, hash hits ${t.hashHits})`);
    if (st.tbRuns) console.log(`  TBs by runs: ${st.tbRuns.map((n, k) => `${runBucketLabel(k)}: ${n}`).join(', ')}`);
    const phases = Object.entries(st.breakdownMs);
    if (phases.length) {
      const total = phases.reduce((a, [, v]) => a + v, 0);
      console.log(`  where the time went (sampled over ${s(total)}):`);
      for (const [k, v] of phases) console.log(`    ${pad(k, 36)}${padL(s(v), 10)}${padL(`${((100 * v) / total).toFixed(1)}%`, 8)}`);
    }
  } else {
    console.log(`  (no ${RUN_STATS_ENV} record on stderr: ${x.ours.err.trim().split('\n').slice(-2).join(' / ')})`);
  }
  const end = x.ours.err.split('\n').find((l) => l.startsWith('bmbt-dbg: '));
  if (end) console.log(`  ${end}`);
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const v = [...xs].sort((a, b) => a - b);
  return v[v.length >> 1];
}

function printSummary(samples: Sample[], o: Options): void {
  if (o.runs < 2) return;
  console.log(`\nmedians over ${o.runs} runs`);
  for (const path of o.paths) {
    for (const cache of ['cold', 'warm'] as const) {
      const xs = samples.filter((x) => x.path === path && x.cache === cache);
      if (xs.length === 0) continue;
      const med = (f: (x: Sample) => number | undefined): number | undefined => median(xs.map(f).filter((v): v is number => v !== undefined));
      const line = (label: string, a: number | undefined, b: number | undefined, fmt: (v: number | undefined) => string): void =>
        console.log(`  ${pad(`${path} ${cache} ${label}`, 30)}${padL(fmt(a), 12)}${padL(fmt(b), 12)}${padL(ratio(a, b), 9)}`);
      line(BOOT_OK, med((x) => x.ours.markerMs[BOOT_OK]), med((x) => x.qemu?.markerMs[BOOT_OK]), s);
      line('process exit', med((x) => x.ours.wallMs), med((x) => x.qemu?.wallMs), s);
      line('peak RSS', med((x) => x.ours.peakRssKiB), med((x) => x.qemu?.peakRssKiB), (v) => mib(v ?? 0));
    }
  }
}

async function main(): Promise<void> {
  let o: Options;
  try {
    const parsed = parseArgs(process.argv.slice(2));
    if (parsed === 'help') {
      console.log(USAGE);
      return;
    }
    o = parsed;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench:linux: ${e.message}`);
    process.exitCode = 2;
    return;
  }
  let corpus: Corpus;
  try {
    corpus = ensureCorpus();
  } catch (e) {
    if (e instanceof CorpusError) {
      console.error(`bench:linux: corpus: ${e.message}`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
  const haveQemu = o.qemu && spawnSync(QEMU_BIN, ['--version'], { stdio: 'ignore' }).status === 0;
  console.log(`${corpus.linux.package} ${corpus.linux.version}, busybox-static ${corpus.initramfs.busyboxVersion}, SeaBIOS ${corpus.seabios.version}; ` +
    `${o.runs} run(s); QEMU ${haveQemu ? 'alongside' : 'not run'}; times from process start`);
  const markers = MARKERS.map((m) => m.key);
  const samples: Sample[] = [];
  for (let run = 1; run <= o.runs; run++) {
    for (const path of o.paths) {
      // One at a time: two emulators on a 2-core machine would slow each other down.
      // QEMU as people run it (no -icount), its console in a file (polled for the markers).
      const qemu = haveQemu
        ? await withConsoleFile((consoleFile) => runBoot(QEMU_BIN, qemuLinuxArgs(corpus, path, { consoleFile, icount: false }), { markers, timeoutMs: 300_000, consoleFile }))
        : null;
      const cacheDir = mkdtempSync(join(tmpdir(), 'bmbt-bench-tb-'));
      try {
        for (const cache of o.warm ? (['cold', 'warm'] as const) : (['cold'] as const)) {
          const ours = await runBoot(process.execPath, [...bmbtLinuxArgs(corpus, path), '--tb-cache', cacheDir], {
            markers, timeoutMs: 1_800_000, env: { ...process.env, [RUN_STATS_ENV]: o.breakdown ? 'profile' : '1' },
          });
          const x: Sample = { path, cache, ours, stats: parseRunStats(ours.err), qemu };
          samples.push(x);
          printSample(x, run);
        }
      } finally {
        rmSync(cacheDir, { recursive: true, force: true });
      }
    }
  }
  printSummary(samples, o);
}

await main();
