// The IRQ timeline on the timer sample: IRQ 0 ticks on an instruction-count axis, the
// delivered vectors, zoom, and a selected event with its icount, EIP and vector.
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { IrqTimelinePane } from './irq-timeline-pane.js';
import { buildIrqTimeline, irqEvents, lineRanges, GLYPH } from '../model/irq-view.js';
import { sampleController, plain } from '../../tests/support/sample-controller.js';
import { guestMachine, runTo } from '../../tests/support/guest-machine.js';
import { DebugController } from '../../src/debug/controller.js';

async function timerDone() {
  const s = sampleController('timer');
  expect(await s.ctl.continue()).toMatchObject({ kind: 'exited' });
  return s;
}

const count = (s: string, chars: string[]): number => [...s].filter((c) => chars.includes(c)).length;

describe('IrqTimelinePane', () => {
  it('shows the timer sample IRQ 0 ticks and their delivery as vector 0x20', async () => {
    const { ctl } = await timerDone();
    const view = buildIrqTimeline(ctl, { start: null, perCol: null, cols: 80, rows: 20, selected: -1 });
    const irq0 = view.rows.find((r) => r.label === 'IRQ 0')!;
    const vec = view.rows.find((r) => r.label === 'vec')!;
    // 100 ticks in 80 columns: most columns hold an edge.
    expect(count(irq0.cells, [GLYPH.raise, GLYPH.both, GLYPH.many])).toBeGreaterThan(10);
    expect(count(vec.cells, [GLYPH.deliver, GLYPH.many])).toBeGreaterThan(10);
    expect(irq0.count).toBe('101');
    expect(vec.count).toBe('100');
    expect(view.vectorBase.master).toBe(0x20);
    const { lastFrame } = render(<IrqTimelinePane view={view} width={94} height={22} />);
    const text = plain(lastFrame());
    for (let l = 0; l < 16; l++) expect(text).toContain(`IRQ${String(l).padStart(2)} `);
    expect(text).toContain('exc ');
    expect(text).toMatch(/IRQ 0 [↑↓↕─#·]+ +101/);
    expect(text).toMatch(/vec +[•#·]+ +100/);
    expect(text).toContain('following');
  });

  it('with -smp 4, a row pair per CPU: the pings on the APs\' vector rows, the answers on the BSP\'s', () => {
    const g = guestMachine(['--kernel', 'tests/guests/build/smp.bin', '-smp', '4']);
    expect(runTo(g.pc, 2_000_000_000)).toBe('exit');
    const ctl = new DebugController(g.pc);
    const view = buildIrqTimeline(ctl, { start: null, perCol: null, cols: 80, rows: 24, selected: -1 });
    const labels = view.rows.map((r) => r.label);
    expect(labels.slice(-8)).toEqual(['exc 0', 'vec 0', 'exc 1', 'vec 1', 'exc 2', 'vec 2', 'exc 3', 'vec 3']);
    for (const c of [0, 1, 2, 3]) {
      const vec = view.rows.find((r) => r.label === `vec ${c}`)!;
      expect(count(vec.cells, [GLYPH.deliver, GLYPH.many]), `CPU ${c}`).toBeGreaterThan(0);
    }
    // The selected delivery is marked on its own CPU's row only.
    const events = irqEvents(ctl);
    const i = events.findIndex((e) => e.kind === 'irq-deliver' && e.cpu === 2);
    const sel = buildIrqTimeline(ctl, { start: null, perCol: null, cols: 80, rows: 24, selected: i });
    expect(sel.rows.filter((r) => r.selectedCol >= 0).map((r) => r.label)).toEqual(['vec 2']);
    const { lastFrame } = render(<IrqTimelinePane view={view} width={94} height={26} />);
    expect(plain(lastFrame())).toMatch(/vec 3 [•#·]+/);
  });

  it('selects an event: a raise shows the vector it was delivered as, with icount and EIP', async () => {
    const { ctl } = await timerDone();
    const events = irqEvents(ctl);
    const i = events.findIndex((e, j) => j > 5 && e.kind === 'irq-raise' && e.line === 0);
    const raise = events[i]!;
    const deliver = events.slice(i).find((e) => e.kind === 'irq-deliver')!;
    expect(deliver.kind === 'irq-deliver' && deliver.vector).toBe(0x20);
    const view = buildIrqTimeline(ctl, { start: Math.max(0, raise.icount - 1000), perCol: 64, cols: 60, rows: 20, selected: i });
    expect(view.selected).toMatchObject({ kind: 'irq-raise', line: 0, icount: raise.icount });
    const irq0 = view.rows.find((r) => r.label === 'IRQ 0')!;
    expect(irq0.selectedCol).toBe(Math.floor((raise.icount - view.start) / 64));
    const text = plain(render(<IrqTimelinePane view={view} width={130} height={22} />).lastFrame());
    const eip = deliver.kind === 'irq-deliver' ? deliver.eip : 0;
    expect(text).toContain(`IRQ 0 raised at icount ${raise.icount.toLocaleString('en-US')} → vector 0x20 delivered at icount ${deliver.icount.toLocaleString('en-US')}, EIP 0x${eip.toString(16).padStart(8, '0')}`);
    expect(text).toContain('64/col');

    const dv = buildIrqTimeline(ctl, { start: view.start, perCol: 64, cols: 60, rows: 20, selected: events.indexOf(deliver) });
    expect(plain(render(<IrqTimelinePane view={dv} width={130} height={22} />).lastFrame())).toContain(`vector 0x20 (IRQ 0) delivered at icount ${deliver.icount.toLocaleString('en-US')}`);
  });

  it('keeps the busy lines when there is no room for all sixteen', async () => {
    const { ctl } = await timerDone();
    const view = buildIrqTimeline(ctl, { start: null, perCol: null, cols: 40, rows: 6, selected: -1 });
    // One row names the hidden lines: three lines fit.
    expect(view.rows.map((r) => r.label)).toEqual(['IRQ 0', 'IRQ 1', 'IRQ 2', 'exc', 'vec']);
    expect(view.hidden).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(lineRanges(view.hidden)).toBe('3-15');
    const text = plain(render(<IrqTimelinePane view={view} width={60} height={8} />).lastFrame());
    expect(text).toContain('IRQ 3-15 hidden · ↑↓ scroll');
    // Scrolled to the end: the last lines, and the first ones named as hidden.
    const end = buildIrqTimeline(ctl, { start: null, perCol: null, cols: 40, rows: 6, selected: -1, lineOffset: 99 });
    expect(end.rows.map((r) => r.label)).toEqual(['IRQ13', 'IRQ14', 'IRQ15', 'exc', 'vec']);
    expect(lineRanges(end.hidden)).toBe('0-12');
  });
});
