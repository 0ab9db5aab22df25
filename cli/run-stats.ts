// What a headless run cost, for benchmarks: with BMBT_STATS=1 in the environment,
// bmbt-dbg writes one line `bmbt-stats {json}` on stderr when the run ends. It holds only
// what is counted anyway (the retired-instruction count, the TB cache's statistics) and
// two clocks read once per run slice, so asking for it does not slow the guest.
//
// With BMBT_STATS=profile, `breakdownMs` also says where the time went (translated code,
// decode, codegen, V8 compile, dispatch, helpers, exceptions, flushes, I/O, idle...), from
// V8's sampling profiler run in-process (cli/time-breakdown.ts), and `npm run bench:linux`
// prints every phase it finds.
import type { DebugTarget, TbCacheStats } from '../src/debug/target.js';
import type { TbStats } from '../src/tb/tb-cache.js';
import { TimeBreakdown } from './time-breakdown.js';

export const RUN_STATS_ENV = 'BMBT_STATS';
export const RUN_STATS_PREFIX = 'bmbt-stats ';

export interface RunStats {
  /** Format of this record; bumped when a field changes meaning. */
  version: 1;
  /** Why the run ended (the headless stop: power-off, halted-forever, exit, ...). */
  end: string;
  icount: number;
  /** From the start of the first run slice to the end of the last. */
  wallMs: number;
  /** Inside machine.run (guest execution, devices, translation). */
  runMs: number;
  /** Between slices: waiting for input, pacing a halted guest, flushing output. */
  outsideMs: number;
  tb: TbStats & { live: number };
  /** The persistent translation cache: its file, entries read at start, why the file was refused, entries added. */
  tbStore?: TbCacheStats['store'];
  /** TBs by how often they ran (TbCache.execCountHistogram: 0, 1, 2-9, 10-99, ...). */
  tbRuns: number[];
  /** Milliseconds per phase (sampled; empty unless BMBT_STATS=profile). */
  breakdownMs: Record<string, number>;
}

/** Accumulates the slice clocks; cheap enough to run always. */
export class RunClock {
  private first = -1;
  private last = 0;
  private inRun = 0;
  private readonly profile: TimeBreakdown | null;

  constructor(profile = wantTimeBreakdown()) {
    this.profile = profile ? new TimeBreakdown() : null;
    this.profile?.start();
  }

  /** Times one machine.run call. */
  slice<T>(run: () => T): T {
    const t0 = performance.now();
    if (this.first < 0) this.first = t0;
    try {
      return run();
    } finally {
      const t1 = performance.now();
      this.inRun += t1 - t0;
      this.last = t1;
    }
  }

  stats(target: DebugTarget, end: string): RunStats {
    const wallMs = this.first < 0 ? 0 : this.last - this.first;
    const { live, limit: _l, runHistogram, linksLive: _k, inRegions: _r, bytesCached: _b, executions: _e, firstTier: _f, store, ...tb } = target.tbStats();
    return {
      version: 1,
      end,
      icount: target.status().icount,
      wallMs: round(wallMs),
      runMs: round(this.inRun),
      outsideMs: round(wallMs - this.inRun),
      tb: { ...tb, live },
      tbStore: store,
      tbRuns: runHistogram,
      breakdownMs: this.profile?.stop() ?? {},
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export function wantRunStats(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env[RUN_STATS_ENV];
  return v !== undefined && v !== '' && v !== '0';
}

/** BMBT_STATS=profile: the run statistics with the sampled time breakdown. */
export function wantTimeBreakdown(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[RUN_STATS_ENV] === 'profile';
}

export function formatRunStats(s: RunStats): string {
  return `${RUN_STATS_PREFIX}${JSON.stringify(s)}\n`;
}

/** The record in a stderr text, or null (bench side). */
export function parseRunStats(stderr: string): RunStats | null {
  for (const line of stderr.split('\n')) {
    if (line.startsWith(RUN_STATS_PREFIX)) return JSON.parse(line.slice(RUN_STATS_PREFIX.length)) as RunStats;
  }
  return null;
}
