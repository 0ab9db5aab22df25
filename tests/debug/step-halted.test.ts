// Stepping a halted CPU (issue 11, defect 4), as QEMU's gdb stub does it (measured with
// SeaBIOS's idle loop, tests/gdb/real-mode.test.ts): a step at HLT, or from a CPU halted
// in it, waits for the next interrupt without taking it and runs the instruction after
// the HLT; stepping a block takes the interrupt. With nothing due to wake the CPU the
// step says so and runs nothing.
import { describe, expect, it } from 'vitest';
import { DebugController } from '../../src/debug/controller.js';
import { bootSample } from '../support/samples.js';
import { IRQ_HARD } from '../../src/cpu/cpu.js';

/** The sample's `sti; hlt; cli` (timer and echo sleep in it): the HLT's address. */
function hltIn(g: ReturnType<typeof bootSample>): number {
  const main = g.symbols.get('main')!;
  const code = g.pc.readLinear(main, 0x200)!;
  for (let i = 0; i + 2 < code.length; i++) if (code[i] === 0xfb && code[i + 1] === 0xf4 && code[i + 2] === 0xfa) return main + i + 1;
  throw new Error('no sti; hlt; cli in main');
}

async function haltedAt(name: string): Promise<{ ctl: DebugController; g: ReturnType<typeof bootSample>; hlt: number }> {
  const g = bootSample(name);
  const ctl = new DebugController(g.pc, { sliceInsns: 10_000 });
  const hlt = hltIn(g);
  ctl.addBreakpoint(hlt);
  await ctl.continue();
  expect(g.pc.cpu.pc).toBe(hlt);
  ctl.removeBreakpoint(hlt);
  return { ctl, g, hlt };
}

describe('stepping over HLT', () => {
  it('a step at HLT waits for the timer and stops after the CLI behind it, the IRQ still pending', async () => {
    const { ctl, g, hlt } = await haltedAt('timer');
    const icount = g.pc.cpu.icount;
    const r = await ctl.stepInstruction(1);
    expect(r).toEqual({ kind: 'step' });
    expect(g.pc.cpu.pc).toBe(hlt + 2);
    expect(g.pc.cpu.icount).toBe(icount + 2);
    expect(g.pc.cpu.halted).toBe(false);
    // CLI ran: the tick is still waiting in the PIC.
    expect(g.pc.cpu.eflags & 0x200).toBe(0);
    expect(g.pc.cpu.interruptRequest & IRQ_HARD).toBe(IRQ_HARD);
  });

  it('a step from a CPU halted in HLT runs the next instruction', async () => {
    const { ctl, g, hlt } = await haltedAt('timer');
    // A block step runs the HLT and leaves the CPU asleep in it.
    await ctl.stepBlock(1);
    expect(g.pc.cpu.halted).toBe(true);
    expect(g.pc.cpu.pc).toBe(hlt + 1);
    const icount = g.pc.cpu.icount;
    await ctl.stepInstruction(1);
    expect(g.pc.cpu.pc).toBe(hlt + 2);
    expect(g.pc.cpu.icount).toBe(icount + 1);
  });

  it('a block step from a CPU halted in HLT takes the interrupt: the handler\'s first block runs', async () => {
    const { ctl, g } = await haltedAt('timer');
    await ctl.stepBlock(1);
    expect(g.pc.cpu.halted).toBe(true);
    const cpu = g.pc.cpu;
    const esp = cpu.regs[4]! >>> 0;
    const delivered = g.pc.events.count('irq-deliver');
    const r = await ctl.stepBlock(1);
    expect(r).toEqual({ kind: 'step' });
    expect(cpu.halted).toBe(false);
    // The tick was delivered: its frame (EIP, CS, EFLAGS) is on the stack.
    expect(cpu.regs[4]! >>> 0).toBeLessThan(esp - 8);
    expect(g.pc.events.count('irq-deliver')).toBe(delivered + 1);
  });

  it('a step with nothing due to wake the CPU runs nothing and says so', async () => {
    // echo sleeps until a key arrives; no timer runs.
    const { ctl, g, hlt } = await haltedAt('echo');
    await ctl.stepBlock(1);
    const icount = g.pc.cpu.icount;
    expect(g.pc.cpu.halted).toBe(true);
    const r = await ctl.stepInstruction(1);
    expect(r).toEqual({ kind: 'step', idle: true });
    expect(g.pc.cpu.icount).toBe(icount);
    expect(g.pc.cpu.pc).toBe(hlt + 1);
  });
});
