// BMBT_STATS=1: a headless run ends with one `bmbt-stats {json}` line on stderr (what
// `npm run bench:linux` reads), and without it nothing extra is printed.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, REPO } from './support/cli.js';
import { parseRunStats } from '../cli/run-stats.js';

function run(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, '--ui', 'none', '--kernel', 'samples/build/hello.elf'], { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
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
});
