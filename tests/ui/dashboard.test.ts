// `bmbt-dbg dashboard` renders its blessed-contrib widgets in a real terminal (tmux), and
// the numbers behind them come from the running guest.
import { afterAll, describe, expect, it } from 'vitest';
import { TmuxTerm, skipWithoutTmux } from './support/tmux.js';
import { DashboardModel } from '../../ui/dashboard/dashboard-model.js';
import { WIDGET_TITLES, gaugePercent } from '../../ui/dashboard/dashboard-view.js';
import { sampleController } from '../support/sample-controller.js';

const terms: TmuxTerm[] = [];
afterAll(() => {
  for (const t of terms) t.kill();
});

describe('dashboard model', () => {
  it('samples guest MIPS, translation rate, cache occupancy, IRQ rates and the hottest TBs of the timer sample', async () => {
    const { ctl } = sampleController('timer');
    let now = 0;
    const model = new DashboardModel(ctl, () => now);
    await ctl.continue();
    now = 1000;
    const s = model.sample();
    const tbs = ctl.tbStats();
    expect(s.mips).toBeCloseTo(ctl.status().icount / 1e6, 6);
    expect(s.translationsPerSec).toBe(tbs.translations);
    expect(s.occupancy).toBeCloseTo(tbs.live / tbs.limit);
    // 100 ticks while it ran (the PIT raised IRQ 0 once more at reset, before the model started).
    expect(s.irqPerSec[0]).toBe(100);
    expect(s.irqPerSec.slice(1).every((r) => r === 0)).toBe(true);
    expect(s.hottest[0]!.execCount).toBe(Math.max(...ctl.tbs().map((t) => t.execCount)));
    expect(s.state).toMatch(/exited/);
    ctl.tbFlush('test');
    const log = model.drainLog();
    expect(log).toContain(`@${ctl.status().icount} TB flush (test): ${s.live} TBs`);
    expect(log.some((l) => /stopped: guest exited/.test(l))).toBe(true);
    expect(model.drainLog()).toEqual([]);
    model.dispose();
  });
});

describe('dashboard gauge', () => {
  it('gives blessed-contrib a percentage it cannot take for a fraction (it reads below 1.001 as one)', () => {
    // 126 of 32,768 TBs is 0.38%: the gauge showed 40%.
    expect(gaugePercent(126 / 32768)).toBe(0);
    expect(gaugePercent(0.007)).toBe(1.002);
    expect(gaugePercent(0.25)).toBe(25);
    expect(gaugePercent(1)).toBe(100);
  });
});

describe.skipIf(skipWithoutTmux())('dashboard in tmux', () => {
  it('renders every widget and quits on q', async () => {
    const t = new TmuxTerm('dash');
    terms.push(t);
    t.start(['dashboard', '--kernel', 'samples/build/demo.elf']);
    const s = await t.waitFor((x) => WIDGET_TITLES.every((w) => x.includes(w)), 'all widgets');
    expect(s).toMatch(/Guest MIPS [\d.]+ \S (running|stopped|exited)/);
    await t.waitFor(/serial: demo: tick 10, smc value 7/, 'serial lines in the event log');
    await t.waitFor(/ \d+ +10[0-9a-f]{4} +\d+ +\w+/, 'a row of the hottest TBs');
    // The gauge's percentage is the live TBs over the limit, as its label gives them.
    const g = await t.waitFor(/TB cache (\d+)\/(\d+)[\s\S]*?(\d+)%/, 'the gauge');
    const [, live, limit, shown] = /TB cache (\d+)\/(\d+)[\s\S]*?(\d+)%/.exec(g)!.map(Number);
    expect(shown).toBe(Math.round((100 * live!) / limit!));
    t.keys('q');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
    expect(t.deadStatus()).toBe('exit 0');
  });
});
