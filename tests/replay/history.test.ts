// Reverse execution on the debugger controller: back one instruction, back to the last
// breakpoint or watchpoint hit, the beginning of history; the past equals, by state
// hash, a twin machine run straight to the same instruction count, and running on from
// the past re-creates the future (without printing it twice) or forks it.
import { describe, expect, it } from 'vitest';
import { bootSample } from '../support/samples.js';
import { DebugController } from '../../src/debug/controller.js';
import { enableHistory, type History } from '../../src/replay/history.js';
import { stateHash } from '../../src/snapshot/machine-snapshot.js';
import type { PcMachine } from '../../src/machine/pc-machine.js';

function setup(name: string, budget = 256 << 20, checkpointMs?: number) {
  const g = bootSample(name);
  const ctl = new DebugController(g.pc, { sliceInsns: 50_000 });
  const h = enableHistory(g.pc, budget, checkpointMs)!;
  return { g, m: g.pc, ctl, h: h as History };
}

/** A machine of the same sample run straight to `icount`, for comparison. */
function twinAt(name: string, icount: number): PcMachine {
  const t = bootSample(name).pc;
  while (t.cpu.icount < icount) {
    const s = t.run(icount - t.cpu.icount);
    if (s.kind !== 'budget') break;
  }
  return t;
}

describe('reverse execution', () => {
  it('N stepi then N reverse-stepi give back every register and all memory, step by step', async () => {
    const { m, ctl } = setup('buggy');
    await ctl.stepInstruction(200);
    const N = 60;
    const hashes: string[] = [stateHash(m, { memory: true })];
    for (let i = 0; i < N; i++) {
      await ctl.stepInstruction(1);
      hashes.push(stateHash(m, { memory: true }));
    }
    for (let i = N - 1; i >= 0; i--) {
      const r = await ctl.reverse('step');
      expect(r).toEqual({ kind: 'step' });
      expect(stateHash(m, { memory: true }), `back to step ${i}`).toBe(hashes[i]);
    }
  });

  it('reverse-stepi inside a continued run lands where a twin run straight there is', async () => {
    const { m, ctl } = setup('timer');
    ctl.resume();
    await ctl.waitForStop();
    expect(ctl.lastStop.kind).toBe('exited');
    const end = m.cpu.icount;
    for (let i = 1; i <= 5; i++) {
      const r = await ctl.reverse('step');
      expect(r?.kind).toBe('step');
      expect(m.cpu.icount).toBe(end - i);
      expect(stateHash(m, { memory: true })).toBe(stateHash(twinAt('timer', end - i), { memory: true }));
    }
    // The guest had exited: it can run again from the past, to the same end, printing nothing twice.
    expect(ctl.state).toBe('stopped');
  });

  it('reverse-continue stops at the last breakpoint hit before here; at the beginning of history without one', async () => {
    const { g, m, ctl } = setup('buggy');
    const applyOrder = g.symbols.get('apply_order')!;
    ctl.addBreakpoint(applyOrder);
    const hits: number[] = [];
    for (let i = 0; i < 4; i++) {
      expect((await ctl.continue()).kind).toBe('breakpoint');
      hits.push(m.cpu.icount);
    }
    const r = await ctl.reverse('continue');
    expect(r).toMatchObject({ kind: 'breakpoint', pc: applyOrder });
    expect(m.cpu.icount).toBe(hits[2]);
    expect(stateHash(m, { memory: true })).toBe(stateHash(twinAtBreakpoint('buggy', applyOrder, 3), { memory: true }));
    await ctl.reverse('continue');
    expect(m.cpu.icount).toBe(hits[1]);
    // Forward again: the same hits, the same states.
    expect((await ctl.continue()).kind).toBe('breakpoint');
    expect(m.cpu.icount).toBe(hits[2]);
    ctl.removeBreakpoint(applyOrder);
    const begin = await ctl.reverse('continue');
    expect(begin).toEqual({ kind: 'history-begin' });
    expect(m.cpu.icount).toBe(0);
    expect(await ctl.reverse('step')).toEqual({ kind: 'history-begin' });
    expect(ctl.lastStop.kind).toBe('history-begin');
  });

  it('reverse-continue finds a hit where a checkpoint was taken, whether the debugger stepped or continued off it', async () => {
    // A checkpoint after every run: one falls on each breakpoint stop, as the wall-time
    // policy makes happen on a loaded machine (the hit there was once skipped).
    const { g, m, ctl } = setup('buggy', 256 << 20, 0);
    const applyOrder = g.symbols.get('apply_order')!;
    ctl.addBreakpoint(applyOrder);
    const hits: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect((await ctl.continue()).kind).toBe('breakpoint');
      hits.push(m.cpu.icount);
    }
    await ctl.stepInstruction(3);
    expect((await ctl.reverse('step'))?.kind).toBe('step');
    expect(await ctl.reverse('continue')).toMatchObject({ kind: 'breakpoint', pc: applyOrder });
    expect(m.cpu.icount).toBe(hits[2]);
    // Off the third hit by a step, off the second by a continue: both found going back.
    expect(await ctl.reverse('continue')).toMatchObject({ kind: 'breakpoint', pc: applyOrder });
    expect(m.cpu.icount).toBe(hits[1]);
    expect(stateHash(m, { memory: true })).toBe(stateHash(twinAtBreakpoint('buggy', applyOrder, 2), { memory: true }));
    expect(await ctl.reverse('continue')).toMatchObject({ kind: 'breakpoint', pc: applyOrder });
    expect(m.cpu.icount).toBe(hits[0]);
    expect((await ctl.reverse('continue'))?.kind).toBe('history-begin');
    // Forward again through the same hits.
    expect((await ctl.continue()).kind).toBe('breakpoint');
    expect(m.cpu.icount).toBe(hits[0]);
    expect((await ctl.continue()).kind).toBe('breakpoint');
    expect(m.cpu.icount).toBe(hits[1]);
  });

  it('a reverse watchpoint stops before the instruction that last wrote the variable', async () => {
    const { g, m, ctl } = setup('buggy');
    const total = g.symbols.get('total')!;
    ctl.addBreakpoint(g.symbols.get('expected_total')!);
    await ctl.continue();
    const before = m.readLinear(total, 4)!;
    ctl.addWatchpoint(total, 4, 'watch');
    const r = await ctl.reverse('continue');
    expect(r).toMatchObject({ kind: 'watchpoint', watch: 'watch', addr: total });
    // Stopped at the writer, in apply_order, before it wrote: one instruction on, `total` changes.
    const at = m.cpu.pc;
    const applyOrder = g.symbols.get('apply_order')!;
    expect(at).toBeGreaterThan(applyOrder);
    expect(at).toBeLessThan(g.symbols.get('process_orders')!);
    const old = m.readLinear(total, 4)!;
    expect(old).not.toEqual(before);
    ctl.removeWatchpoint(total, 4, 'watch');
    await ctl.stepInstruction(1);
    expect(m.readLinear(total, 4)).toEqual(before);
  });

  it('reverse-continue finds a write whose watchpoint stop is where a checkpoint was taken', async () => {
    const { g, m, ctl } = setup('buggy', 256 << 20, 0);
    const total = g.symbols.get('total')!;
    ctl.addWatchpoint(total, 4, 'watch');
    // Forward: stopped after the first two writes (a checkpoint falls on each stop).
    const stops: number[] = [];
    for (let i = 0; i < 2; i++) {
      expect((await ctl.continue()).kind).toBe('watchpoint');
      stops.push(m.cpu.icount);
    }
    await ctl.stepInstruction(2);
    // Back: before the second write, then before the first.
    expect(await ctl.reverse('continue')).toMatchObject({ kind: 'watchpoint', addr: total });
    expect(m.cpu.icount).toBe(stops[1]! - 1);
    expect(await ctl.reverse('continue')).toMatchObject({ kind: 'watchpoint', addr: total });
    expect(m.cpu.icount).toBe(stops[0]! - 1);
  });

  it('running on from the past re-creates the future, printing nothing twice; a new input forks it', async () => {
    const { g, m, ctl } = setup('hello');
    await ctl.continue();
    const out = g.serial();
    const end = m.cpu.icount;
    const endHash = stateHash(m, { memory: true });
    for (let i = 0; i < 3000; i++) await ctl.reverse(i % 2 ? 'step' : 'step');
    expect(m.cpu.icount).toBe(end - 3000);
    await ctl.continue();
    expect(m.cpu.icount).toBe(end);
    expect(stateHash(m, { memory: true })).toBe(endHash);
    expect(g.serial()).toBe(out);
    // Back again, then change a register: the rest of the run is new.
    for (let i = 0; i < 5; i++) await ctl.reverse('step');
    await ctl.setRegister('eax', 0x1234);
    expect(m.cpu.regs[0]).toBe(0x1234);
    await ctl.continue();
    expect(g.serial()).toBe(out);
  }, 60_000);

  it('a stepi in the past is one stepped instruction: a register written between two steps waits for the next', async () => {
    const { m, ctl } = setup('buggy');
    await ctl.stepInstruction(100);
    const start = m.cpu.icount;
    await ctl.stepInstruction(1);
    const afterFirst = stateHash(m, { memory: true });
    const eax = m.cpu.regs[0]!;
    await ctl.setRegister('eax', eax ^ 0x5a5a);
    const edited = stateHash(m, { memory: true });
    await ctl.stepInstruction(1);
    const afterSecond = stateHash(m, { memory: true });
    // Back over the second step: where it was stepped from, the register as written.
    expect(await ctl.reverse('step')).toEqual({ kind: 'step' });
    expect(stateHash(m, { memory: true })).toBe(edited);
    expect(await ctl.reverse('step')).toEqual({ kind: 'step' });
    expect(m.cpu.icount).toBe(start);
    // Forward one: the first step only, before the write.
    await ctl.stepInstruction(1);
    expect(m.cpu.icount).toBe(start + 1);
    expect(stateHash(m, { memory: true })).toBe(afterFirst);
    await ctl.stepInstruction(1);
    expect(m.cpu.icount).toBe(start + 2);
    expect(stateHash(m, { memory: true })).toBe(afterSecond);
  });

  it('the checkpoints stay within the budget: the oldest go and history begins later', async () => {
    const { m, ctl, h } = setup('intloop-timer', 150 << 10);
    const t0 = performance.now();
    ctl.resume();
    while (ctl.state === 'running' && h.stats().checkpointsTaken < 6 && performance.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
    await ctl.pause();
    const s = h.stats();
    expect(s.checkpointsTaken).toBeGreaterThanOrEqual(2);
    expect(s.bytes).toBeLessThanOrEqual(150 << 10);
    expect(s.checkpoints).toBeLessThan(s.checkpointsTaken);
    expect(s.begin).toBeGreaterThan(0);
    const r = await ctl.reverse('continue');
    expect(r).toEqual({ kind: 'history-begin' });
    // (going back took a checkpoint of the present, which may have pushed out another)
    expect(m.cpu.icount).toBe(h.stats().begin);
    expect(h.stats().begin).toBeGreaterThanOrEqual(s.begin);
  }, 30_000);
});

/** A twin stopped at the `n`-th pass over `addr`. */
function twinAtBreakpoint(name: string, addr: number, n: number): PcMachine {
  const t = bootSample(name).pc;
  t.exec.addBreakpoint(addr);
  for (let i = 0; i < n; i++) {
    if (i > 0) t.exec.skipBreakpointAt = addr;
    let s;
    do s = t.run(1_000_000); while (s.kind === 'budget');
  }
  return t;
}
