// The breakpoints pane lists what the UI and gdb set on the one controller, with symbols.
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { BreakpointsPane } from './breakpoints-pane.js';
import { buildBreakpoints } from '../model/breakpoints-view.js';
import { sampleController, plain } from '../../tests/support/sample-controller.js';

describe('BreakpointsPane', () => {
  it('lists breakpoints and watchpoints from every client and stops where they say', async () => {
    const { ctl, symbol } = sampleController('timer');
    ctl.addBreakpoint(symbol('timer_irq'), { owner: 'ui' });
    ctl.addBreakpoint(symbol('main'), { owner: 'gdb', hw: true });
    ctl.addWatchpoint(symbol('ticks'), 4, 'watch');
    // _start clears .bss (the watchpoint on `ticks`), then calls main.
    expect(await ctl.continue()).toMatchObject({ kind: 'watchpoint', addr: symbol('ticks'), id: 3 });
    let stop = await ctl.continue();
    for (let i = 0; i < 8 && stop.kind === 'watchpoint'; i++) stop = await ctl.continue();
    expect(stop).toMatchObject({ kind: 'breakpoint', pc: symbol('main'), id: 2 });
    const view = buildBreakpoints(ctl, 1);
    const text = plain(render(<BreakpointsPane view={view} width={80} height={8} focused />).lastFrame());
    expect(text).toMatch(/1 +break +00100b50 +1 +ui +<timer_irq>/);
    expect(text).toMatch(/2 +hbreak +00100ba0 +1 +gdb +<main>/);
    expect(text).toMatch(/3 +watch +00106280 +4 +<ticks>/);
  });
});
