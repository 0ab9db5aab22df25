// Where a run's time went, for `npm run bench:linux` (BMBT_STATS=profile): V8's sampling
// profiler runs in-process for the whole run and each sample is put in one phase by the
// function it was taken in. Sampling costs the guest nothing measurable at this interval,
// and timing each helper call or each port access from the hot paths would cost more
// than they do.
import { Session } from 'node:inspector';
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Sampling interval in microseconds: a 2-minute boot gives 60 k samples (the profile stays small). */
const INTERVAL_US = 2000;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber?: number; columnNumber?: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * The phases, in the order they are tried: a function goes to the first whose test it
 * passes. `file` is the module path below dist/ (src/cpu/helpers.js), '' for code with
 * no file (translated code, V8's own entries).
 */
const PHASES: readonly { name: string; test: (fn: string, file: string) => boolean }[] = [
  { name: 'translated code', test: (fn, file) => file === '' && /^(tb|region)_[0-9a-f]+$/.test(fn) },
  // The first tier (src/cpu/translate/threaded.ts): shared instruction templates and the
  // function that runs a TB's templates in order.
  { name: 'translated code, first tier', test: (fn, file) => (file === '' && fn === 'op') || (fn === 'threaded' && /src\/cpu\/translate\/threaded\.js$/.test(file)) },
  { name: 'V8 compile of TBs', test: (fn) => fn === 'compileGenerated' },
  { name: 'decode', test: (_fn, file) => /src\/cpu\/(decoder|opcode-table)\.js$/.test(file) },
  { name: 'codegen', test: (_fn, file) => /src\/cpu\/translate\//.test(file) },
  { name: 'TLB and TB-cache flushes', test: (fn, file) =>
    (/src\/cpu\/mmu\.js$/.test(file) && /^(flush|flushPage)$/.test(fn)) ||
    (/src\/tb\/tb-cache\.js$/.test(file) && /^(flush|invalidate|invalidateLinear|tbInvalidatePhysRange|dissolve|clearJmpCache|clearJmpCachePage)$/.test(fn)) },
  { name: 'exceptions and interrupts', test: (_fn, file) => /src\/cpu\/(protection|task-switch|cpu-exception)\.js$/.test(file) },
  { name: 'dispatch (CPU loop, TB lookup)', test: (_fn, file) => /src\/(cpu\/cpu-exec|tb\/[^/]+)\.js$/.test(file) },
  { name: 'memory access (loads and stores, TLB misses, MMIO)', test: (_fn, file) => /src\/(cpu\/(runtime|mmu)|memory\/[^/]+)\.js$/.test(file) },
  { name: 'instruction helpers', test: (_fn, file) => /src\/cpu\//.test(file) },
  { name: 'devices and port I/O', test: (_fn, file) => /src\/(devices|acpi|smbios)\//.test(file) },
  { name: 'clock and timers', test: (_fn, file) => /src\/(time\/virtual-clock|machine\/icount-auto)\.js$/.test(file) },
  { name: 'machine (slices, idle/halt)', test: (_fn, file) => /src\/machine\//.test(file) },
  { name: 'garbage collection', test: (fn) => fn === '(garbage collector)' },
  { name: 'idle (waiting on the event loop)', test: (fn) => fn === '(idle)' },
];
const OTHER = 'other (front end, output, Node.js)';

export class TimeBreakdown {
  private readonly session = new Session();
  private running = false;

  start(): void {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.setSamplingInterval', { interval: INTERVAL_US });
    this.post('Profiler.start');
    this.running = true;
  }

  /** Milliseconds per phase since start(), largest first; {} if it was never started. */
  stop(): Record<string, number> {
    if (!this.running) return {};
    this.running = false;
    let profile: Profile | null = null;
    // The in-process inspector answers synchronously.
    this.session.post('Profiler.stop', (err, r) => {
      if (!err) profile = (r as unknown as { profile: Profile }).profile;
    });
    this.session.disconnect();
    return profile ? phasesOf(profile) : {};
  }

  private post(method: string, params?: object): void {
    this.session.post(method, params ?? {}, () => {});
  }
}

/** A profile's samples summed by phase, in milliseconds. */
export function phasesOf(p: Profile): Record<string, number> {
  const phaseOfNode = new Map<number, string>();
  const maps = new BundleMaps();
  for (const n of p.nodes) {
    const cf = n.callFrame;
    phaseOfNode.set(n.id, phaseOf(cf.functionName, maps.moduleOf(cf.url, cf.lineNumber ?? -1, cf.columnNumber ?? -1) ?? moduleFile(cf.url)));
  }
  const us = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const ph = phaseOfNode.get(p.samples[i]!) ?? OTHER;
    us.set(ph, (us.get(ph) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const out: Record<string, number> = {};
  for (const [k, v] of [...us].sort((a, b) => b[1] - a[1])) out[k] = Math.round(v / 100) / 10;
  return out;
}

export function phaseOf(fn: string, file: string): string {
  return PHASES.find((ph) => ph.test(fn, file))?.name ?? OTHER;
}

/** "file:///x/dist/src/cpu/helpers.js" -> "src/cpu/helpers.js"; '' when there is no file. */
function moduleFile(url: string): string {
  const i = url.lastIndexOf('/dist/');
  if (i >= 0) return url.slice(i + 6);
  return url.replace(/^file:\/\//, '');
}

/**
 * Where a function of the bundle (dist/bundle/<chunk>.js, what bin/bmbt-dbg.js runs) was
 * written, from the source map scripts/bundle.mjs leaves beside it: the phases go by
 * module, and a chunk holds many modules.
 */
class BundleMaps {
  private readonly byUrl = new Map<string, SourceMap | null>();

  /** "src/cpu/cpu-exec.js" for a function of that module in a bundle chunk; null when not in one (or no map). */
  moduleOf(url: string, line: number, column: number): string | null {
    if (!/\/dist\/bundle\/[^/]+\.js$/.test(url) || line < 0) return null;
    let map = this.byUrl.get(url);
    if (map === undefined) {
      map = readMap(url);
      this.byUrl.set(url, map);
    }
    const entry = map?.findEntry(line, Math.max(0, column)) as { originalSource?: string } | undefined;
    const src = entry?.originalSource;
    if (!src) return null;
    // "../../src/cpu/cpu-exec.ts" (through tsc's own map) or "../src/cpu/cpu-exec.js"
    const path = src.replace(/^file:\/\//, '').replace(/\\/g, '/');
    const at = path.search(/(^|\/)(src|cli|ui|gdbstub|node_modules)\//);
    if (at < 0) return null;
    return path.slice(path[at] === '/' ? at + 1 : at).replace(/\.tsx?$/, '.js');
  }
}

function readMap(url: string): SourceMap | null {
  try {
    return new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
  } catch {
    return null;
  }
}
