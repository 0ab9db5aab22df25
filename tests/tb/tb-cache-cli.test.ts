// --tb-cache on the command line (issue 10): the second run of a guest takes its TBs from
// what the first saved and prints the same; off writes nothing; $BMBT_TB_CACHE sets the
// default; a directory that cannot be written costs the speed, never the run; a bad value
// is one line and status 2.
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO } from '../support/cli.js';
import { parseRunStats, type RunStats } from '../../cli/run-stats.js';
import { haveSeabiosFiles, SEABIOS_BIN } from '../support/guest-machine.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  stats: RunStats | null;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, '--ui', 'none', ...args], {
      cwd: REPO, env: { ...process.env, BMBT_STATS: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stdout, stderr, stats: parseRunStats(stderr) }));
  });
}

const HELLO = ['--kernel', 'samples/build/hello.elf'];
const PAGING = ['--kernel', 'samples/build/paging.elf'];

describe('--tb-cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmbt-tbcache-cli-'));
  });
  afterEach(() => {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second run takes its TBs from the first run\'s file and prints the same', async () => {
    const cold = await run(['--tb-cache', dir, ...PAGING]);
    expect(cold.code).toBe(1);
    expect(cold.stats!.tb.storeHits).toBe(0);
    expect(cold.stats!.tbStore).toMatchObject({ loaded: 0, rejected: null });
    expect(cold.stats!.tbStore!.added).toBeGreaterThan(10);
    expect(readdirSync(dir).filter((f) => f.endsWith('.cache'))).toHaveLength(1);
    const warm = await run(['--tb-cache', dir, ...PAGING]);
    expect(warm.stdout).toBe(cold.stdout);
    expect(warm.code).toBe(cold.code);
    expect(warm.stats!.icount).toBe(cold.stats!.icount);
    expect(warm.stats!.tb.storeHits).toBeGreaterThan(warm.stats!.tb.translations * 0.8);
    expect(warm.stats!.tbStore!.loaded).toBe(cold.stats!.tbStore!.added);
    // Another guest at the same addresses: its own code runs, not the cached TBs.
    const other = await run(['--tb-cache', dir, ...HELLO]);
    const alone = await run(['--tb-cache', 'off', ...HELLO]);
    expect(other.stdout).toBe(alone.stdout);
    expect(other.stdout).toContain('Hello from bmbt-dbg!');
  });

  it('$BMBT_TB_CACHE is the default; off writes nothing', async () => {
    const viaEnv = await run(HELLO, { BMBT_TB_CACHE: dir });
    expect(viaEnv.code).toBe(1);
    expect(readdirSync(dir)).toHaveLength(1);
    const off = join(dir, 'off-run');
    const r = await run(['--tb-cache', 'off', ...HELLO], { BMBT_TB_CACHE: off, XDG_CACHE_HOME: off });
    expect(r.code).toBe(1);
    expect(r.stats!.tbStore).toBeNull();
    expect(existsSync(off)).toBe(false);
    // The default without either: under $XDG_CACHE_HOME.
    const xdg = join(dir, 'xdg');
    const env: NodeJS.ProcessEnv = { XDG_CACHE_HOME: xdg };
    const d = await new Promise<Run>((resolve, reject) => {
      const e: NodeJS.ProcessEnv = { ...process.env, ...env, BMBT_STATS: '1' };
      delete e['BMBT_TB_CACHE'];
      const c = spawn(process.execPath, [BIN, '--ui', 'none', ...HELLO], { cwd: REPO, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      c.stderr.setEncoding('utf8').on('data', (x: string) => (stderr += x));
      c.on('error', reject);
      c.on('close', (code) => resolve({ code, stdout: '', stderr, stats: parseRunStats(stderr) }));
    });
    expect(d.code).toBe(1);
    expect(readdirSync(join(xdg, 'bmbt-dbg', 'tb')).filter((f) => f.endsWith('.cache'))).toHaveLength(1);
  });

  it('a directory that cannot be written, or a file where it should be, leaves the run as it is', async () => {
    const alone = await run(['--tb-cache', 'off', ...HELLO]);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const r1 = await run(['--tb-cache', file, ...HELLO]);
    expect(r1.stdout).toBe(alone.stdout);
    expect(r1.code).toBe(alone.code);
    expect(r1.stderr).not.toMatch(/Error|at .*\.js/);
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o555);
      const r2 = await run(['--tb-cache', ro, ...HELLO]);
      expect(r2.stdout).toBe(alone.stdout);
      expect(readdirSync(ro)).toEqual([]);
    }
  });

  it.skipIf(!haveSeabiosFiles)('SIGTERM and SIGINT end a headless run with the signal\'s status, the cache written', async () => {
    for (const [sig, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      const d = mkdtempSync(join(dir, `${sig}-`));
      // SeaBIOS with nothing to boot waits for ever after saying so.
      const c = spawn(process.execPath, [BIN, '--ui', 'none', '--tb-cache', d, '--bios', SEABIOS_BIN, '--debugcon', 'stdio', '--serial', 'none'], {
        cwd: REPO, env: process.env, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      c.stdout.setEncoding('latin1').on('data', (x: string) => (out += x));
      const closed = new Promise<number | null>((r) => c.on('close', (code) => r(code)));
      for (let i = 0; i < 400 && !out.includes('No bootable device.'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('No bootable device.');
      c.kill(sig);
      expect(await closed).toBe(status);
      expect(readdirSync(d).filter((f) => f.endsWith('.cache')), sig).toHaveLength(1);
    }
  });

  it('an empty value is one line and status 2', async () => {
    const r = await run(['--tb-cache', '', ...HELLO]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--tb-cache');
  });
});
