// BMBT_STATS=1: a headless run ends with one `bmbt-stats {json}` line on stderr (what
// `npm run bench:linux` reads), and without it nothing extra is printed. BMBT_STATS=profile
// adds where the time went, sampled by V8's profiler (issue 10's breakdown).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, REPO } from './support/cli.js';
import { parseRunStats } from '../cli/run-stats.js';
import { phaseOf } from '../cli/time-breakdown.js';

function run(env: NodeJS.ProcessEnv, kernel = 'samples/build/hello.elf'): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, '--ui', 'none', '--kernel', kernel], { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('BMBT_STATS', () => {
  it('prints the run statistics as one JSON line on stderr when set', async () => {
    const r = await run({ ...process.env, BMBT_STATS: '1' });
    expect(r.code).toBe(1); // hello.elf exits through isa-debug-exit with 0
    const s = parseRunStats(r.stderr);
    expect(s).not.toBeNull();
    expect(s!.version).toBe(1);
    expect(s!.end).toBe('exit');
    expect(s!.icount).toBeGreaterThan(10_000);
    expect(s!.tb.translations).toBeGreaterThan(10);
    expect(s!.tb.live).toBeGreaterThan(0);
    expect(s!.runMs).toBeGreaterThan(0);
    expect(s!.wallMs).toBeGreaterThanOrEqual(s!.runMs - 0.1);
  });

  it('prints nothing extra when unset', async () => {
    const env = { ...process.env };
    delete env['BMBT_STATS'];
    const r = await run(env);
    expect(r.stderr).not.toContain('bmbt-stats');
  });

  it('counts TBs by how often they ran, over every TB translated', async () => {
    const s = parseRunStats((await run({ ...process.env, BMBT_STATS: '1' })).stderr)!;
    expect(s.tbRuns.reduce((a, b) => a + b, 0)).toBe(s.tb.translations);
    expect(s.breakdownMs).toEqual({});
  });

  it('BMBT_STATS=profile says where the time went: mostly translated code in a hot loop', async () => {
    const r = await run({ ...process.env, BMBT_STATS: 'profile' }, 'samples/build/bench-intloop.elf');
    const s = parseRunStats(r.stderr)!;
    const phases = s.breakdownMs;
    const total = Object.values(phases).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(s.runMs * 0.5);
    // 400 M instructions of one ALU loop: its translated code is the largest phase.
    const [first] = Object.entries(phases).sort((a, b) => b[1] - a[1]);
    expect(first![0]).toBe('translated code');
    // Compiling this loop's few TBs takes well under one sampling interval, so whether a
    // sample lands in it is chance; the classification itself is tested below.
  });

  it('puts the bundle\'s functions in the phase of the module they were written in', async () => {
    // bin/bmbt-dbg.js runs dist/bundle (npm test builds it), where one chunk holds the CPU
    // loop, the memory paths and the helpers together. The interpreter guest leaves its TBs
    // by indirect jumps all the time: the CPU loop and the TB lookup take a share of it.
    const r = await run({ ...process.env, BMBT_STATS: 'profile' }, 'samples/build/bench-interp.elf');
    const phases = parseRunStats(r.stderr)!.breakdownMs;
    const total = Object.values(phases).reduce((a, b) => a + b, 0);
    expect(phases['dispatch (CPU loop, TB lookup)'] ?? 0).toBeGreaterThan(0);
    expect(phases['memory access (loads and stores, TLB misses, MMIO)'] ?? 0).toBeGreaterThan(0);
    expect(phases['other (front end, output, Node.js)'] ?? 0).toBeLessThan(total * 0.2);
  });
});

describe('time breakdown phases', () => {
  it('puts each function in its phase by name and module', () => {
    expect(phaseOf('tb_c1000000', '')).toBe('translated code');
    expect(phaseOf('region_1ffa4d1', '')).toBe('translated code');
    expect(phaseOf('op', '')).toBe('translated code, first tier');
    expect(phaseOf('threaded', 'src/cpu/translate/threaded.js')).toBe('translated code, first tier');
    expect(phaseOf('compileGenerated', 'src/cpu/translate/compile.js')).toBe('V8 compile of TBs');
    expect(phaseOf('runDue', 'src/time/virtual-clock.js')).toBe('clock and timers');
    expect(phaseOf('decode', 'src/cpu/decoder.js')).toBe('decode');
    expect(phaseOf('generateBody', 'src/cpu/translate/translator.js')).toBe('codegen');
    expect(phaseOf('flush', 'src/cpu/mmu.js')).toBe('TLB and TB-cache flushes');
    expect(phaseOf('translate', 'src/cpu/mmu.js')).toBe('memory access (loads and stores, TLB misses, MMIO)');
    expect(phaseOf('execChain', 'src/cpu/cpu-exec.js')).toBe('dispatch (CPU loop, TB lookup)');
    expect(phaseOf('deliverException', 'src/cpu/protection.js')).toBe('exceptions and interrupts');
    expect(phaseOf('rdtsc', 'src/cpu/helpers.js')).toBe('instruction helpers');
    expect(phaseOf('write', 'src/devices/uart16550.js')).toBe('devices and port I/O');
    expect(phaseOf('(garbage collector)', '')).toBe('garbage collection');
    expect(phaseOf('writeSync', 'node:fs')).toBe('other (front end, output, Node.js)');
  });
});
