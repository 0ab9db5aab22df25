// Breakpoints through the controller: removing one must drop the translated block that
// starts at it (that block holds no instruction, only the debug exit).
import { describe, expect, it } from 'vitest';
import { bootSample } from '../support/samples.js';
import { DebugController } from '../../src/debug/controller.js';

describe('breakpoint removal', () => {
  it('a removed breakpoint at the start of a block stops nothing afterwards', async () => {
    const g = bootSample('buggy');
    const ctl = new DebugController(g.pc, {});
    const findItem = g.symbols.get('find_item')!;
    ctl.addBreakpoint(findItem);
    expect(await ctl.continue()).toMatchObject({ kind: 'breakpoint', pc: findItem });
    ctl.removeBreakpoint(findItem);
    // A watchpoint changes the CPU's flags and back: the old block must not come back.
    ctl.addWatchpoint(g.symbols.get('total')!, 4, 'watch');
    expect(await ctl.continue()).toMatchObject({ kind: 'watchpoint' });
    ctl.removeWatchpoint(g.symbols.get('total')!, 4, 'watch');
    expect(await ctl.continue()).toEqual({ kind: 'exited', code: 3 });
  });
});
