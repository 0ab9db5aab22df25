// Reverse execution in the terminal UI: S steps back, C continues back to the last
// breakpoint hit, T steps back over the last block, the IRQ timeline's selected event is a
// place to go (return), `:goto ICOUNT` on the command line; the status line says when the
// view is in the past, and the TB inspector marks what was translated later.
import { describe, expect, it } from 'vitest';
import { UiSession } from '../../ui/model/ui-session.js';
import { statusText } from '../../ui/panes/status-line.js';
import { tbRowText } from '../../ui/panes/tb-inspector-pane.js';
import { DebugController } from '../../src/debug/controller.js';
import { enableHistory } from '../../src/replay/history.js';
import { bootSample } from '../support/samples.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait for what the UI shows, not for a fixed time (a loaded machine is slow). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await sleep(10);
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

function setup(name: string) {
  const g = bootSample(name);
  const ctl = new DebugController(g.pc, { sliceInsns: 20_000 });
  enableHistory(g.pc, 64 << 20);
  const session = new UiSession(ctl, { columns: 120, rows: 40 });
  session.attach();
  return { g, ctl, session };
}

/** The keys, and every action they queued run to its end (however loaded the machine). */
async function keys(session: UiSession, ...k: string[]): Promise<void> {
  session.handleKeys(k);
  await session.idle();
}

describe('time travel in the terminal UI', () => {
  it('S steps back, C continues back to the last breakpoint hit, T steps back over a block; the status line says "in the past"', async () => {
    const { g, ctl, session } = setup('buggy');
    ctl.addBreakpoint(g.symbols.get('apply_order')!);
    await ctl.continue();
    await ctl.continue();
    const second = ctl.status().icount;
    await keys(session, 's', 's', 's');
    expect(ctl.status().icount).toBe(second + 3);
    await keys(session, 'S');
    expect(ctl.status().icount).toBe(second + 2);
    await until(() => session.getSnapshot().status.present === second + 3 && session.getSnapshot().status.icount === second + 2, 'the status line to show the step back');
    const st = session.getSnapshot().status;
    expect(st.present).toBe(second + 3);
    expect(statusText(st).state).toBe('⟲ in the past');
    expect(statusText(st).rest).toContain(`${(second + 2).toLocaleString('en-US')} of ${(second + 3).toLocaleString('en-US')} insns`);
    await keys(session, 'C');
    expect(ctl.status().pc).toBe(g.symbols.get('apply_order'));
    expect(ctl.status().icount).toBe(second);
    await keys(session, 'C');
    expect(ctl.status().icount).toBeLessThan(second);
    const first = ctl.status().icount;
    // t steps a block forward; T goes back over it.
    await keys(session, 't');
    const after = ctl.status().icount;
    expect(after).toBeGreaterThan(first);
    await keys(session, 'T');
    expect(ctl.status().icount).toBe(first);
    // Running on reaches the present again.
    ctl.removeBreakpoint(g.symbols.get('apply_order')!);
    await ctl.continue();
    expect(ctl.history()!.present).toBeNull();
    await until(() => session.getSnapshot().status.present === null, 'the status line to be back in the present');
    session.dispose();
  });

  it('the IRQ timeline: the selected event is where return goes; :goto takes an instruction count', async () => {
    const { ctl, session } = setup('timer');
    await ctl.continue();
    await keys(session, '4', 'left', 'left');
    await keys(session, 'return');
    const at = ctl.status().icount;
    await until(() => session.getSnapshot().status.present !== null, 'the status line to say the view is in the past');
    expect(at).toBeLessThan(session.getSnapshot().status.present!);
    // The selected event happened at exactly that count.
    const ev = ctl.events(['irq-deliver', 'irq-raise', 'irq-lower', 'exception']).filter((e) => e.icount === at);
    expect(ev.length).toBeGreaterThan(0);
    await keys(session, ':', ...'goto 5000'.split(''), 'return');
    expect(ctl.status().icount).toBe(5000);
    session.dispose();
  });

  it('the TB inspector marks the TBs translated after the point shown', () => {
    const row = { id: 7, pc: 0x100000, symbol: 'main', ninsns: 3, size: 9, execCount: 1, translatedAt: 500, linksIn: 0, linksOut: 0, invalidations: 0, inRegion: false };
    expect(tbRowText({ ...row, later: true }, 'live')).toContain('»main');
    expect(tbRowText({ ...row, later: false }, 'live')).toContain(' main');
  });
});
