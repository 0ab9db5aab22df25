// The registers pane shows the machine's registers after real guest instructions, with
// the values that changed since the previous stop highlighted.
import { vi, describe, expect, it } from 'vitest';
vi.hoisted(() => {
  process.env['FORCE_COLOR'] = '1';
});
import { render } from 'ink-testing-library';
import { RegistersPane, changedRegisters } from './registers-pane.js';
import { sampleController, plain } from '../testing/sample-controller.js';

describe('RegistersPane', () => {
  it('shows general, segment and control registers of the hello sample and highlights what an instruction changed', async () => {
    const { ctl, symbol } = sampleController('hello');
    ctl.addBreakpoint(symbol('main'));
    await ctl.continue();
    const before = ctl.registersNow();
    // main: lea ecx,[esp+4] changes ECX and EIP only.
    await ctl.stepInstruction(1);
    const after = ctl.registersNow();
    expect(after.gpr[1]).toBe((before.gpr[4]! + 4) >>> 0);
    const changed = changedRegisters(after, before);
    expect([...changed].sort()).toEqual(['ecx', 'eip']);

    const { lastFrame } = render(<RegistersPane view={{ cur: after, prev: before, running: false }} width={34} height={22} />);
    const frame = lastFrame()!;
    const text = plain(frame);
    expect(text).toContain(`eip 00100b54`);
    expect(text).toContain(`ecx ${after.gpr[1]!.toString(16).padStart(8, '0')}`);
    expect(text).toMatch(/cs 0008 00000000 ffffffff c09b/);
    expect(text).toMatch(/ds 0010 00000000 ffffffff c093/);
    expect(text).toContain('cr0 00000011');
    expect(text).toContain('efer 00000000');
    // Changed values are drawn in bold yellow; unchanged ones are not.
    const esc = (s: string): RegExp => new RegExp(`\\x1b\\[[0-9;]*33m(\\x1b\\[[0-9;]*m)*${s}`);
    expect(frame).toMatch(esc('00100b54'));
    expect(frame).toMatch(esc(after.gpr[1]!.toString(16).padStart(8, '0')));
    expect(frame).not.toMatch(esc(after.gpr[0]!.toString(16).padStart(8, '0')));
  });

  it('decodes EFLAGS and shows the hidden segment state after the guest loaded its own GDT', async () => {
    const { ctl } = sampleController('timer');
    // Run a while: the timer sample enables interrupts (IF) and sleeps in hlt.
    ctl.resume('test');
    await new Promise((r) => setTimeout(r, 50));
    await ctl.pause('test');
    const regs = ctl.registersNow();
    const { lastFrame } = render(<RegistersPane view={{ cur: regs, prev: null, running: false }} width={34} height={22} />);
    const text = plain(lastFrame());
    const letters = (regs.eflags & 0x200 ? 'I' : '-') + '-' + (regs.eflags & 0x80 ? 'S' : '-') + (regs.eflags & 0x40 ? 'Z' : '-');
    expect(text).toContain(letters);
    expect(text).toContain(`gdt  ${regs.gdtr.base.toString(16).padStart(8, '0')}`);
    expect(text).toContain(`idt  ${regs.idtr.base.toString(16).padStart(8, '0')}`);
  });
});
