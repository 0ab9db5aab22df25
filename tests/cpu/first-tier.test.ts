// The first tier (src/cpu/translate/threaded.ts): new TBs run as shared per-instruction
// templates and are compiled whole after TIER_UP executions. Nothing a guest can see
// changes: every serial byte leaves at the same instruction count and the machines end in
// the same state, with the first tier on and off, through interrupts, page faults and
// self-modifying code.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { loadMultiboot } from '../../src/boot/multiboot.js';
import { instantiate, templateOf } from '../../src/cpu/translate/threaded.js';
import { TIER_UP } from '../../src/cpu/cpu-exec.js';
import { REPO } from '../support/cli.js';
import { sample } from '../support/samples.js';
import { machineDiff } from '../support/state-diff.js';

describe('templates', () => {
  it('take the numbers out of an instruction\'s code, and put them back', () => {
    const code = '{ // 1ffc66b: shr\nconst x = R[6];\nconst r = (x >>> 8) | 0;\nR[6] = r;\nc.ccOp = 27;\nH.note("R[3] 0x10");\nc.eip = 0xc0001000;\n}';
    const t = templateOf(code)!;
    expect(t.values).toEqual([6, 8, 6, 27, 0xc0001000]);
    expect(t.text).toBe('{ \nconst x = R[K$[0]];\nconst r = (x >>> K$[1]) | 0;\nR[K$[2]] = r;\nc.ccOp = K$[3];\nH.note("R[3] 0x10");\nc.eip = K$[4];\n}');
    // Identifiers with digits (ld32, st16) are names, not numbers.
    expect(templateOf('R[0] = ld32(((R[4] + -12) | 0));')!.text).toBe('R[0] = ld32(((R[K$[0]] + -K$[1]) | 0));');
    expect(instantiate(t.text, t.values)).toContain('R[6] = r;');
    expect(instantiate(t.text, t.values)).toContain('c.eip = 3221229568;');
  });

  it('read every kind of number the generators write, and only numbers', () => {
    const t = templateOf("x = 0x1f + 1.5 + 2e3 + 7E-2 + 0; // 99 gone\ny = R5 + $9 + 'a 12' + `3` + 0XAb;")!;
    expect(t.values).toEqual([0x1f, 1.5, 2000, 0.07, 0xab]);
    expect(t.text).toBe("x = K$[0] + K$[1] + K$[2] + K$[3] + 0; \ny = R5 + $9 + 'a 12' + `3` + K$[4];");
    // a comment at the very end, and text after the last number
    expect(templateOf('a = 3; // the end')!.text).toBe('a = K$[0]; ');
    expect(templateOf('a = 3; b = c;')!.text).toBe('a = K$[0]; b = c;');
    // (a number written from its point is not one the generators make: refused, not misread)
    expect(templateOf('a = .5;')).toBeNull();
  });

  it('are refused for code that only a whole TB function can run (its loop, the TB itself)', () => {
    expect(templateOf('{ c.icount += 3; T.execCount++; if (c.icount + 3 <= c.deadline) continue; return 0; }')).toBeNull();
    expect(templateOf('E[2]')).toBeNull();
    expect(templateOf('x = M;')).toBeNull();
    expect(templateOf('RG(1)')).toBeNull();
    // (names that only start like them are fine)
    expect(templateOf('Ex = MM + RGB + Tx + continued;')).not.toBeNull();
  });
});

interface Run {
  pc: PcMachine;
  /** `icount:byte` for every serial byte. */
  serial: string[];
}

function runSample(name: string, firstTier: boolean, slice: number): Run {
  const serial: string[] = [];
  const machine: PcMachine = new PcMachine({ serial: (b) => serial.push(`${machine.cpu.icount}:${b}`) });
  machine.exec.firstTier = firstTier;
  const path = join(REPO, sample(name).image);
  loadMultiboot(machine.phys, machine.cpu, readFileSync(path), { kernelName: path, cmdline: path, modules: [], ramSize: machine.ramSize });
  for (let i = 0; i < 100_000; i++) {
    const stop = machine.run(slice);
    if (stop.kind !== 'budget') break;
  }
  return { pc: machine, serial };
}

describe('the first tier changes nothing a guest sees', () => {
  // timer: interrupts; paging and sieve-paging: page faults inside blocks; smc: code that
  // rewrites itself; buggy: a guest that faults.
  for (const name of ['timer', 'paging', 'smc', 'buggy', 'sieve-paging']) {
    it(`${name}: the same serial bytes at the same counts, the same final state`, () => {
      const on = runSample(name, true, 1_000_000);
      const off = runSample(name, false, 1_000_000);
      expect(on.serial.length).toBeGreaterThan(0);
      expect(on.serial).toEqual(off.serial);
      expect(on.pc.cpu.icount).toBe(off.pc.cpu.icount);
      expect(machineDiff(on.pc, off.pc)).toEqual([]);
      // The first tier did run: TBs started in it, and the hot ones were compiled.
      const tbsOn = on.pc.exec.tbs;
      expect(tbsOn.all().some((t) => t.tier === 0)).toBe(true);
      expect(off.pc.exec.tbs.all().every((t) => t.tier === 1)).toBe(true);
      if (name === 'sieve-paging') expect(tbsOn.stats.tierUps).toBeGreaterThan(0);
    });
  }

  it('a TB is compiled whole after TIER_UP executions, and shows its first-tier code before', () => {
    const r = runSample('sieve-paging', true, 10_000_000);
    const tbs = r.pc.exec.tbs.all();
    const cold = tbs.find((t) => t.tier === 0 && t.ninsns > 1)!;
    expect(cold.execCount).toBeLessThan(TIER_UP);
    expect(cold.source).toContain('first tier');
    expect(cold.source).toContain(`// ${cold.instructions[0]!.eip.toString(16)}: ${cold.instructions[0]!.mnem}`);
    // Every TB that ran TIER_UP times is compiled, or runs as the compiled code of a region
    // it joined before then.
    const hot = tbs.filter((t) => t.execCount >= TIER_UP && t.cflags === 0);
    expect(hot.length).toBeGreaterThan(0);
    for (const t of hot) expect(t.tier === 1 || t.region !== null).toBe(true);
    expect(r.pc.exec.tbs.stats.tierUps).toBeGreaterThan(0);
    const compiled = tbs.find((t) => t.tier === 1)!;
    expect(compiled.source).toMatch(/^function tb_/);
  });
});
