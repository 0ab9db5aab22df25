// The blessed-contrib dashboard: live guest MIPS and translation rate (line charts),
// TB-cache occupancy (gauge), IRQ rate per line (bars), the hottest TBs (table) and a log
// of events. Refreshed from DashboardModel samples; q or Ctrl-C quits, c/p run and pause.
import blessed from 'blessed';
import contrib from 'blessed-contrib';
import type { DashboardModel, DashboardSample } from './dashboard-model.js';

export interface DashboardView {
  update(s: DashboardSample, log: string[]): void;
  destroy(): void;
}

export interface DashboardViewOptions {
  title: string;
  onKey: (key: 'quit' | 'continue' | 'pause') => void;
  /** Defaults to the process's terminal. */
  screen?: blessed.Widgets.Screen;
}

export const WIDGET_TITLES = ['Guest MIPS', 'TB translations/s', 'TB cache', 'IRQ raises/s per line', 'Hottest TBs', 'Events'] as const;

/**
 * What to pass blessed-contrib's gauge for a fraction: it takes a percentage, except that
 * below 1.001 it takes a fraction (0.4 draws 40%). Below 0.5% the gauge shows 0%, from
 * 0.5% to 1% it shows 1%.
 */
export function gaugePercent(fraction: number): number {
  const p = Math.min(100, fraction * 100);
  return p < 0.5 ? 0 : Math.max(p, 1.002);
}

export function createDashboardView(model: DashboardModel, opts: DashboardViewOptions): DashboardView {
  const screen = opts.screen ?? blessed.screen({ smartCSR: true, title: opts.title, fullUnicode: true });
  const grid = new contrib.grid({ rows: 12, cols: 12, screen });
  const mips = grid.set(0, 0, 4, 6, contrib.line, {
    label: ` ${WIDGET_TITLES[0]} `, showLegend: false, minY: 0, style: { line: 'green', text: 'white', baseline: 'white' }, xLabelPadding: 2, xPadding: 3,
  }) as contrib.Widgets.LineElement;
  const trans = grid.set(0, 6, 4, 6, contrib.line, {
    label: ` ${WIDGET_TITLES[1]} `, showLegend: false, minY: 0, style: { line: 'yellow', text: 'white', baseline: 'white' }, xLabelPadding: 2, xPadding: 3,
  }) as contrib.Widgets.LineElement;
  const gauge = grid.set(4, 0, 3, 4, contrib.gauge, { label: ` ${WIDGET_TITLES[2]} `, stroke: 'cyan', fill: 'white', percent: [0] }) as contrib.Widgets.GaugeElement;
  const bars = grid.set(4, 4, 3, 8, contrib.bar, {
    label: ` ${WIDGET_TITLES[3]} `, barWidth: 2, barSpacing: 1, xOffset: 0, maxHeight: 9,
  }) as contrib.Widgets.BarElement;
  const table = grid.set(7, 0, 5, 6, contrib.table, {
    label: ` ${WIDGET_TITLES[4]} `, keys: false, interactive: false, columnSpacing: 1, columnWidth: [5, 7, 9, 20],
  }) as contrib.Widgets.TableElement;
  const log = grid.set(7, 6, 5, 6, contrib.log, { label: ` ${WIDGET_TITLES[5]} · c run  p pause  q quit `, bufferLength: 200 }) as contrib.Widgets.LogElement;

  screen.key(['q', 'C-c'], () => opts.onKey('quit'));
  screen.key(['c'], () => opts.onKey('continue'));
  screen.key(['p', 'space'], () => opts.onKey('pause'));

  const labels = (h: DashboardSample[]): string[] => h.map((s) => `${Math.round(s.t)}s`);
  return {
    update(s, lines) {
      const h = model.history;
      // The state goes into the first chart's label: no row is spent on it at 80×24.
      mips.setLabel(` ${WIDGET_TITLES[0]} ${s.mips.toFixed(1)} · ${s.state.split(':')[0]} `);
      trans.setLabel(` ${WIDGET_TITLES[1]} · ${s.icount.toLocaleString('en-US')} insns `);
      screen.title = `${opts.title}: ${s.state}`;
      mips.setData([{ title: 'MIPS', x: labels(h), y: h.map((x) => Math.round(x.mips * 10) / 10) }]);
      trans.setData([{ title: 'TBs/s', x: labels(h), y: h.map((x) => Math.round(x.translationsPerSec)) }]);
      gauge.setLabel(` ${WIDGET_TITLES[2]} ${s.live}/${s.limit} `);
      gauge.setPercent(gaugePercent(s.occupancy));
      bars.setData({ titles: s.irqPerSec.map((_, i) => String(i)), data: s.irqPerSec.map((r) => Math.round(r)) });
      table.setData({
        headers: ['id', 'pc', 'execs', 'symbol'],
        data: s.hottest.map((t) => [String(t.id), t.pc.toString(16), String(t.execCount), t.symbol]),
      });
      for (const l of lines) log.log(l);
      screen.render();
    },
    destroy() {
      screen.destroy();
    },
  };
}
