// Reverse execution with several CPUs (issue 13): on the SMP test guest with -smp 2,
// reverse-continue back to a breakpoint hit on the AP and reverse-stepi back over steps
// on either CPU give the state the machine had when it was first there: the selected
// (stopped) CPU, every CPU's registers and instruction count, the scheduler's turn and
// all memory (stateHash covers every CPU's record and the round-robin state).
import { describe, expect, it } from 'vitest';
import { guestMachine } from '../support/guest-machine.js';
import { SMP_GUEST, smpSymbol } from '../support/smp-guest.js';
import { DebugController } from '../../src/debug/controller.js';
import { enableHistory } from '../../src/replay/history.js';
import { saveCpuState } from '../../src/cpu/cpu-state.js';
import { stateHash } from '../../src/snapshot/machine-snapshot.js';
import type { PcMachine } from '../../src/machine/pc-machine.js';

const ARGS = ['--kernel', SMP_GUEST, '-smp', '2'];

/** What each CPU has, however it is kept (in the engine or as a saved record). */
interface CpuView {
  selected: number;
  cpus: { icount: number; eip: number; regs: number[]; eflags: number; halted: boolean }[];
}

function view(m: PcMachine): CpuView {
  const smp = m.smp!;
  return {
    selected: smp.current.index,
    cpus: smp.cpus.map((v) => {
      const s = v.saved ?? saveCpuState(m.cpu);
      return { icount: v.icount, eip: s.eip >>> 0, regs: [...s.regs], eflags: s.eflags >>> 0, halted: s.halted };
    }),
  };
}

interface Point {
  view: CpuView;
  hash: string;
  icount: number;
}

function here(m: PcMachine): Point {
  return { view: view(m), hash: stateHash(m, { memory: true }), icount: m.cpu.icount };
}

describe('reverse execution with -smp 2', () => {
  // Checkpoints after every run (travels start at or near their target, the points where
  // the debugger stopped included) and as the wall-time policy takes them.
  it.each([
    ['a checkpoint after every run', 0],
    ['checkpoints by wall time', undefined],
  ])('reverse-continue to a breakpoint hit on the AP, reverse-stepi over steps on both CPUs: every CPU as it was (%s)', async (_what, checkpointMs) => {
    const g = guestMachine(ARGS);
    const m = g.pc;
    const ctl = new DebugController(m, { sliceInsns: 20_000 });
    enableHistory(m, 256 << 20, checkpointMs);
    // The BSP's pings (vector 0x40) run isr_ping on the AP.
    const isrPing = smpSymbol('isr_ping');
    ctl.addBreakpoint(isrPing);

    // Forward: three pings taken by the AP; between the first and the second, steps on
    // the AP, then on the BSP.
    expect(await ctl.continue()).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    expect(ctl.selectedCpu()).toBe(1);
    const hit1 = here(m);
    const steps: Point[] = [hit1];
    for (let i = 0; i < 8; i++) {
      await ctl.stepInstruction(1);
      steps.push(here(m));
    }
    // Only the AP moved.
    expect(steps[8]!.view.cpus[1]!.icount).toBe(hit1.view.cpus[1]!.icount + 8);
    expect(steps[8]!.view.cpus[0]).toEqual(hit1.view.cpus[0]);
    expect(ctl.selectCpu(0)).toBe(true);
    const bspSteps: Point[] = [here(m)];
    for (let i = 0; i < 5; i++) {
      await ctl.stepInstruction(1);
      bspSteps.push(here(m));
    }
    expect(bspSteps[5]!.view.cpus[0]!.icount).toBe(hit1.view.cpus[0]!.icount + 5);
    expect(bspSteps[5]!.view.cpus[1]).toEqual(steps[8]!.view.cpus[1]);
    expect(await ctl.continue()).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    expect(ctl.selectedCpu()).toBe(1);
    const hit2 = here(m);
    expect(await ctl.continue()).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    const hit3 = here(m);
    // Both CPUs ran between the hits.
    expect(hit3.view.cpus[0]!.icount).toBeGreaterThan(hit2.view.cpus[0]!.icount);
    expect(hit3.view.cpus[1]!.icount).toBeGreaterThan(hit2.view.cpus[1]!.icount);
    // On a little past the third hit, the BSP selected.
    await ctl.stepInstruction(3);
    expect(ctl.selectCpu(0)).toBe(true);
    await ctl.stepInstruction(2);

    // Back: the third hit, then the second, each exactly as it was.
    expect(await ctl.reverse('continue')).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    expect(ctl.selectedCpu()).toBe(1);
    expect(view(m)).toEqual(hit3.view);
    expect(stateHash(m, { memory: true })).toBe(hit3.hash);
    expect(await ctl.reverse('continue')).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    expect(view(m)).toEqual(hit2.view);
    expect(stateHash(m, { memory: true })).toBe(hit2.hash);

    // Back over the continue to the BSP's last step, then step by step over the BSP's
    // steps and the AP's: each point as it was, the CPU that stepped selected.
    expect(await ctl.reverse('step')).toEqual({ kind: 'step' });
    // The one instruction before the second hit was not a step: the machine count one
    // less, whichever CPU ran it; the hit's CPU is the AP (the BSP kicked it).
    expect(m.cpu.icount).toBe(hit2.icount - 1);
    expect(await ctl.reverse('continue')).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    expect(view(m)).toEqual(hit1.view);
    expect(stateHash(m, { memory: true })).toBe(hit1.hash);

    // Forward again to the end of the BSP's steps (the recorded future), then back step by step.
    await ctl.stepInstruction(8);
    expect(view(m)).toEqual(steps[8]!.view);
    expect(ctl.selectCpu(0)).toBe(true);
    await ctl.stepInstruction(5);
    expect(view(m)).toEqual(bspSteps[5]!.view);
    expect(stateHash(m, { memory: true })).toBe(bspSteps[5]!.hash);
    for (let i = 4; i >= 0; i--) {
      expect(await ctl.reverse('step')).toEqual({ kind: 'step' });
      expect(view(m), `back to BSP step ${i}`).toEqual(bspSteps[i]!.view);
      expect(stateHash(m, { memory: true })).toBe(bspSteps[i]!.hash);
    }
    for (let i = 7; i >= 0; i--) {
      expect(await ctl.reverse('step')).toEqual({ kind: 'step' });
      expect(view(m), `back to AP step ${i}`).toEqual(steps[i]!.view);
      expect(stateHash(m, { memory: true })).toBe(steps[i]!.hash);
    }
    expect(view(m)).toEqual(hit1.view);
    expect(stateHash(m, { memory: true })).toBe(hit1.hash);

    // And forward from the past: the same hits at the same counts, and the guest's text.
    expect(await ctl.continue()).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    expect(view(m).cpus).toEqual(hit2.view.cpus);
    ctl.removeBreakpoint(isrPing);
    expect((await ctl.continue()).kind).toBe('exited');
    expect(g.serialText()).toContain('smp: done');
  }, 60_000);

  it('looking at another CPU in the past (gdb\'s Hg or `thread N`, the UI\'s N) keeps the recorded future; a step after it is logged', async () => {
    const g = guestMachine(ARGS);
    const m = g.pc;
    const ctl = new DebugController(m, { sliceInsns: 20_000 });
    enableHistory(m, 256 << 20, 0);
    const isrPing = smpSymbol('isr_ping');
    ctl.addBreakpoint(isrPing);
    expect(await ctl.continue()).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    expect(await ctl.continue()).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    const hit2 = here(m);
    expect(await ctl.continue()).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    const hit3 = here(m);
    const serialAtHit3 = g.serialText();

    expect(await ctl.reverse('continue')).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    expect(view(m)).toEqual(hit2.view);
    const present = ctl.history()!.present;
    expect(present).toBe(hit3.icount);
    // Look at the BSP, then go back to the AP: no input, the future stays recorded.
    expect(ctl.selectCpu(0)).toBe(true);
    expect(ctl.registers().eip >>> 0).toBe(hit2.view.cpus[0]!.eip);
    expect(ctl.history()!.present).toBe(present);
    expect(ctl.selectCpu(1)).toBe(true);
    expect(await ctl.continue()).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    expect(view(m)).toEqual(hit3.view);
    expect(stateHash(m, { memory: true })).toBe(hit3.hash);
    // Replayed, not run again: the guest's output was not printed a second time.
    expect(g.serialText()).toBe(serialAtHit3);

    // Selected and then stepped: the step on the BSP is the run's, and going back over it
    // comes back to the AP's stop with the AP selected, as it was.
    expect(ctl.selectCpu(0)).toBe(true);
    const bspBefore = view(m).cpus[0]!.icount;
    await ctl.stepInstruction(2);
    expect(view(m).cpus[0]!.icount).toBe(bspBefore + 2);
    expect(await ctl.reverse('step')).toEqual({ kind: 'step' });
    expect(await ctl.reverse('step')).toEqual({ kind: 'step' });
    expect(view(m)).toEqual({ ...hit3.view, selected: 0 });
    // (the selection is part of the machine's state: with the AP selected again, all of it)
    expect(ctl.selectCpu(1)).toBe(true);
    expect(stateHash(m, { memory: true })).toBe(hit3.hash);
  }, 60_000);
});
