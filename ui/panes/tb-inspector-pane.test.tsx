// The TB-cache inspector on the smc sample: its TBs sorted three ways, the filter, the
// statistics, the invalidations self-modifying code caused, and a TB in detail.
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { TbInspectorPane } from './tb-inspector-pane.js';
import { buildTbInspector, type TbListRequest } from '../model/tb-view.js';
import { sampleController, plain } from '../../tests/support/sample-controller.js';

const base: TbListRequest = { mode: 'live', sort: 'execs', filter: '', filterEditing: false, selected: 0, offset: 0, rows: 30, detailId: null, detailScroll: 0 };

async function smcDone() {
  const s = sampleController('smc');
  const stop = await s.ctl.continue();
  expect(stop).toMatchObject({ kind: 'exited' });
  return s;
}

describe('TbInspectorPane', () => {
  it('lists the smc sample TBs by execution count with cache statistics and invalidation counts', async () => {
    const { ctl } = await smcDone();
    const view = buildTbInspector(ctl, base);
    const tbs = ctl.tbStats();
    expect(view.total).toBe(tbs.live);
    expect(view.stats.invalidations).toBeGreaterThan(0);
    const execs = view.rows.map((r) => r.execCount);
    expect(execs).toEqual([...execs].sort((a, b) => b - a));
    const { lastFrame } = render(<TbInspectorPane view={view} width={96} height={34} focused />);
    const text = plain(lastFrame());
    expect(text).toContain(`${tbs.live}/${tbs.limit} TBs`);
    expect(text).toContain(`${tbs.invalidations} invalidated`);
    const top = view.rows[0]!;
    expect(text).toContain(`#${top.id}`);
    expect(text).toMatch(new RegExp(`${top.pc.toString(16).padStart(8, '0')} +\\d+ +${top.execCount} `));
    // A TB rebuilt after its code was patched carries its invalidation count (✗N).
    const patched = buildTbInspector(ctl, { ...base, filter: 'smc_get_value' });
    expect(patched.rows.length).toBeGreaterThan(0);
    expect(patched.rows.some((r) => r.invalidations >= 4)).toBe(true);
    expect(plain(render(<TbInspectorPane view={patched} width={96} height={20} focused />).lastFrame())).toMatch(/✗\d+ +smc_get_value/);
  });

  it('sorts by address and by recency, and filters', async () => {
    const { ctl, symbol } = await smcDone();
    const byAddr = buildTbInspector(ctl, { ...base, sort: 'address', rows: 10_000 }).rows.map((r) => r.pc);
    expect(byAddr).toEqual([...byAddr].sort((a, b) => a - b));
    const recent = buildTbInspector(ctl, { ...base, sort: 'recent', rows: 10_000 }).rows.map((r) => r.translatedAt);
    expect(recent).toEqual([...recent].sort((a, b) => b - a));
    const main = buildTbInspector(ctl, { ...base, filter: 'main', rows: 10_000 });
    expect(main.rows.length).toBeGreaterThan(3);
    expect(main.rows.every((r) => r.symbol!.includes('main'))).toBe(true);
    const byHex = buildTbInspector(ctl, { ...base, filter: symbol('main').toString(16), rows: 10_000 });
    expect(byHex.rows.map((r) => r.pc)).toContain(symbol('main'));
  });

  it('shows the invalidation history: code writes into translated code', async () => {
    const { ctl } = await smcDone();
    const view = buildTbInspector(ctl, { ...base, mode: 'history', sort: 'recent' });
    expect(view.total).toBe(ctl.invalidations().length);
    const { lastFrame } = render(<TbInspectorPane view={view} width={96} height={20} focused />);
    const text = plain(lastFrame());
    expect(text).toContain('invalidated TBs');
    expect(text).toMatch(/self-modifying code <smc_/);
  });

  it('shows one TB in detail: links in and out, counts, history, guest code and generated JavaScript', async () => {
    const { ctl, symbol } = await smcDone();
    const all = ctl.tbs().map((s) => ctl.tbDetail(s.id)!);
    const tb = all.find((t) => t.pc === symbol('smc_get_value'))!;
    expect(tb).toBeDefined();
    const linked = all.find((t) => t.links.out[0] || t.links.out[1])!;
    for (const t of [tb, linked]) {
      const view = buildTbInspector(ctl, { ...base, detailId: t.id });
      expect(view.detail!.id).toBe(t.id);
      const text = plain(render(<TbInspectorPane view={view} width={100} height={60} focused />).lastFrame());
      expect(text).toContain(`TB #${t.id} ${t.pc.toString(16).padStart(8, '0')}`);
      expect(text).toContain(`executed ${t.execCount}×`);
      expect(text).toContain(`translated at icount ${t.translatedAt}`);
      expect(text).toContain('links out:');
      expect(text).toContain('generated JavaScript:');
      if (t === linked) {
        const dest = t.links.out[0] ?? t.links.out[1]!;
        expect(text).toContain(`#${dest.id} ${dest.pc.toString(16).padStart(8, '0')}`);
      } else {
        expect(text).toMatch(/invalidation history at 00102020: *\n.*self-modifying code/);
        expect(text).toMatch(/00102020  mov eax,[0-9A-F]+h/);
      }
    }
  });
});
