// The memory pane: hello's greeting in hex and ASCII at its linear address, the same
// bytes through the physical view, and the stack followed through ESP.
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { MemoryPane } from './memory-pane.js';
import { buildMemory } from '../model/memory-view.js';
import { sampleController, plain } from '../../tests/support/sample-controller.js';

describe('MemoryPane', () => {
  it('shows hex and ASCII of the guest memory, linear or physical, or following a register', async () => {
    const { ctl, symbol } = sampleController('hello');
    ctl.addBreakpoint(symbol('serial_puts'));
    await ctl.continue();
    // serial_puts(const char *s): the string's address is the first argument.
    const esp = ctl.registers().gpr[4]! >>> 0;
    const arg = ctl.readMemory(esp + 4, 4)!;
    const str = arg[0]! | (arg[1]! << 8) | (arg[2]! << 16) | (arg[3]! << 24);
    const view = buildMemory(ctl, { addr: str, physical: false, follow: null, lines: 3 });
    const text = plain(render(<MemoryPane view={view} width={90} height={5} />).lastFrame());
    expect(text).toContain(`linear ${str.toString(16).padStart(8, '0')}`);
    expect(text).toMatch(new RegExp(`${str.toString(16).padStart(8, '0')}  48 65 6c 6c 6f 20 66 72  6f 6d 20 62 6d 62 74 2d  \\|Hello from bmbt-\\|`));
    const phys = buildMemory(ctl, { addr: str, physical: true, follow: null, lines: 1 });
    expect(phys.lines[0]!.bytes).toEqual(view.lines[0]!.bytes);
    expect(plain(render(<MemoryPane view={phys} width={90} height={3} />).lastFrame())).toContain('physical');

    const stack = buildMemory(ctl, { addr: 0, physical: false, follow: 'esp', lines: 2 });
    expect(stack.addr).toBe(esp & ~0xf);
    const st = plain(render(<MemoryPane view={stack} width={90} height={4} />).lastFrame());
    expect(st).toContain('(following esp)');
    // Narrow panes show 8 bytes a line.
    expect(plain(render(<MemoryPane view={view} width={50} height={4} />).lastFrame())).toMatch(/48 65 6c 6c 6f 20 66 72  \|Hello fr\|/);
  });
});
