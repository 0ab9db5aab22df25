// The disassembly pane: the hello sample's code around EIP with its symbols, EIP and the
// breakpoints marked, the bounds of the TB holding EIP, all from the running machine.
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { DisasmPane } from './disasm-pane.js';
import { buildDisasm } from '../model/disasm-view.js';
import { sampleController, plain } from '../../tests/support/sample-controller.js';

function rowOf(text: string, addr: number): string {
  const line = text.split('\n').find((l) => l.includes(` ${addr.toString(16).padStart(8, '0')}  `));
  if (!line) throw new Error(`no row for ${addr.toString(16)} in\n${text}`);
  return line;
}

describe('DisasmPane', () => {
  it('shows the code at a breakpoint with the symbol, EIP and the breakpoint marked', async () => {
    const { ctl, symbol } = sampleController('hello');
    const main = symbol('main');
    ctl.addBreakpoint(main);
    ctl.addBreakpoint(main + 0x11); // push $0x101010
    const stop = await ctl.continue();
    expect(stop).toMatchObject({ kind: 'breakpoint', pc: main });
    const view = buildDisasm(ctl, { cursor: main, top: null, rows: 12 });
    const { lastFrame } = render(<DisasmPane view={view} width={90} height={14} focused />);
    const text = plain(lastFrame());
    expect(text).toContain('main:');
    expect(rowOf(text, main)).toMatch(/▶ 00100b50  8d 4c 24 04 +lea ecx,\[esp\+4\]/);
    expect(rowOf(text, main + 0x11)).toMatch(/^│● +00100b61/);
    expect(rowOf(text, 0x100b66)).toContain('call 00100610h <serial_puts>');
  });

  it('marks the bounds of the TB that holds EIP once it has been translated', async () => {
    const { ctl, symbol } = sampleController('hello');
    const loop = symbol('main') + 0x28; // the FNV-1a loop: xor, add, imul, cmp, jne
    const after = loop + 0x13;
    ctl.addBreakpoint(after);
    await ctl.continue();
    // The loop ran as the TB [loop, after); put EIP back into it and step once.
    await ctl.setRegister('eip', loop);
    await ctl.stepInstruction(1);
    expect(ctl.status().pc).toBe(loop + 2);
    const view = buildDisasm(ctl, { cursor: ctl.status().pc, top: null, rows: 10 });
    expect(view.tb).toMatchObject({ start: loop, end: after });
    const { lastFrame } = render(<DisasmPane view={view} width={90} height={12} focused={false} />);
    const text = plain(lastFrame());
    expect(rowOf(text, loop)).toMatch(/│ ┌  00100b78/);
    expect(rowOf(text, loop + 2)).toMatch(/│ │▶ 00100b7a  83 c2 01 +add edx,1/);
    expect(rowOf(text, 0x100b89)).toMatch(/│ └  00100b89  75 ed +jne short 00100B78h <main\+0x28>/);
    expect(rowOf(text, after)).toMatch(/│●   00100b8b/);
    expect(text).toContain(`TB #${view.tb!.id} 100b78-100b8b`);
  });
});
