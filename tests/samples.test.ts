// Every sample runs headless on bmbt-dbg and prints exactly what it printed under QEMU
// (samples/samples.json was measured there), with QEMU's isa-debug-exit status.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli.js';
import { SAMPLES, bootSample } from './support/samples.js';

describe('samples run headless and print what their sources say', () => {
  for (const s of SAMPLES) {
    it(`${s.name}${s.bench ? ' (benchmark guest)' : ''}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bmbt-sample-'));
      const dbg = join(dir, 'debugcon.txt');
      const cpu = s.cpu ? ['--cpu', s.cpu] : [];
      const r = await runCli([...cpu, s.bootSector ? '--boot-sector' : '--kernel', s.image, '--debugcon', `file:${dbg}`, '--ui', 'none'], {
        input: s.input ?? undefined,
        timeoutMs: 120_000,
      });
      if (s.serial !== null) expect(r.stdout).toBe(s.serial);
      else expect(r.stdout).toMatch(new RegExp(s.serialPattern!));
      if (s.debugcon !== null) expect(readFileSync(dbg, 'latin1')).toBe(s.debugcon);
      if (s.exitStatus !== null) expect(r.code).toBe(s.exitStatus);
      else {
        // The demo ends with cli; hlt: the emulator notices nothing can ever wake it.
        expect(r.code).toBe(0);
        expect(r.stderr).toMatch(/halted with interrupts disabled/);
      }
    }, 180_000);
  }
});

describe('sample behaviour seen through the machine API', () => {
  it('smc: self-modifying code invalidates translated blocks', () => {
    const g = bootSample('smc');
    const stop = g.pc.run(50_000_000);
    expect(stop).toEqual({ kind: 'exit', code: 1 });
    expect(g.pc.events.count('tb-invalidate')).toBeGreaterThan(0);
    const reasons = g.pc.events.recent(['tb-invalidate']).map((e) => (e.kind === 'tb-invalidate' ? e.reason : ''));
    expect(reasons).toContain('self-modifying code');
    expect(g.serial()).toContain('same-block patch sum = 55');
  });

  it('timer: IRQ 0 count for a fixed instruction budget is the same on two runs', () => {
    const count = () => {
      const g = bootSample('timer');
      // A fixed budget of retired instructions (halted time is skipped, not counted).
      while (g.pc.cpu.icount < 20_000) g.pc.run(20_000 - g.pc.cpu.icount);
      const delivered = g.pc.events.recent(['irq-deliver']).filter((e) => e.kind === 'irq-deliver' && e.vector === 0x20);
      return { n: delivered.length, at: delivered.map((e) => e.icount), icount: g.pc.cpu.icount, serial: g.serial() };
    };
    const a = count();
    const b = count();
    expect(a.n).toBeGreaterThan(5);
    expect(a).toEqual(b);
  });

  it('timer: 100 ticks at 1 kHz take 100 ms of virtual time', () => {
    const g = bootSample('timer');
    const stop = g.pc.run(1_000_000_000);
    expect(stop).toEqual({ kind: 'exit', code: 1 });
    const ticks = g.pc.events.recent(['irq-deliver']).filter((e) => e.kind === 'irq-deliver' && e.vector === 0x20);
    expect(ticks.length).toBe(100);
    const ms = g.pc.clock.now() / 1e6;
    expect(ms).toBeGreaterThan(99);
    expect(ms).toBeLessThan(102);
  });
});
