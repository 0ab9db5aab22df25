// End to end in a real terminal (tmux): the TB inspector lists the smc sample's TBs and
// shows its invalidations; the IRQ timeline shows the timer sample's IRQ 0 ticks; text
// typed into the console pane reaches the echo sample and comes back.
import { afterAll, describe, expect, it } from 'vitest';
import { TmuxTerm, skipWithoutTmux } from './support/tmux.js';

const terms: TmuxTerm[] = [];
afterAll(() => {
  for (const t of terms) t.kill();
});

function term(name: string): TmuxTerm {
  const t = new TmuxTerm(name);
  terms.push(t);
  return t;
}

describe.skipIf(skipWithoutTmux())('terminal UI in tmux: TB cache, IRQs, console', () => {
  it('the TB inspector lists the smc sample TBs and shows the invalidations of self-modifying code', async () => {
    const t = term('smc');
    t.start(['--ui', 'tui', '--kernel', 'samples/build/smc.elf']);
    await t.waitFor('guest exited', 'the smc sample to finish');
    t.keys('3');
    let s = await t.waitFor('sort: execs', 'the TB inspector');
    const inv = Number(/(\d+) invalidated/.exec(s)![1]);
    expect(inv).toBeGreaterThan(10);
    expect(Number(/live TBs \((\d+)\)/.exec(s)![1])).toBeGreaterThan(50);
    expect(s).toMatch(/#\d+ +001001e0 +\d+ +\d+ +\d+\/\d+ .*serial_putc/);
    // Filter on the patched function: its TB carries the count of its invalidations.
    t.keys('/');
    t.type('smc_get');
    t.keys('Enter');
    s = await t.waitFor(/filter: smc_get\b/, 'the filter');
    expect(s).toMatch(/#\d+ +00102020 .*✗\d+ +smc_get_value/);
    // Its details: invalidation history, guest code, generated JavaScript.
    t.keys('Enter');
    s = await t.waitFor('invalidation history at 00102020', 'the TB details');
    expect(s).toMatch(/#\d+ at icount \d+: self-modifying code/);
    expect(s).toMatch(/links out:/);
    t.keys('Escape', '/', 'Enter', 'i');
    s = await t.waitFor('invalidated TBs', 'the invalidation history');
    expect(s).toMatch(/self-modifying code <smc_/);
    // Back to the live TBs, sorted by address.
    t.keys('i');
    await t.waitFor('live TBs', 'the live list');
    for (let i = 0; i < 3 && !t.screen().includes('sort: address'); i++) {
      t.keys('o');
      await new Promise((r) => setTimeout(r, 150));
    }
    s = await t.waitFor('sort: address', 'sorted by address');
    const pcs = [...s.matchAll(/#\d+ +([0-9a-f]{8}) /g)].map((m) => parseInt(m[1]!, 16));
    expect(pcs.length).toBeGreaterThan(5);
    expect(pcs).toEqual([...pcs].sort((a, b) => a - b));
  });

  it('the IRQ timeline shows the timer sample IRQ 0 ticks and the delivered vectors', async () => {
    const t = term('irq');
    t.start(['--ui', 'tui', '--kernel', 'samples/build/timer.elf']);
    await t.waitFor('guest exited', 'the timer sample to finish');
    t.keys('4');
    let s = await t.waitFor(/IRQ 0 .* 101\b/, 'the IRQ timeline');
    const irq0 = s.split('\n').find((l) => l.includes('IRQ 0 '))!;
    expect([...irq0].filter((c) => '↑↕#'.includes(c)).length).toBeGreaterThan(10);
    expect(s).toMatch(/vec +[·•#]*•[·•#]* +100\b/);
    // IRQ 1: only the 8042 self-test of the firmware hand-off at icount 0, no keys.
    expect(s).toMatch(/IRQ 1 +[↕↑]?·+ +[01]\b/);
    // Select the newest event, then walk back to a delivery: icount, EIP and vector.
    t.keys('Left');
    s = await t.waitFor('▶ ', 'a selected event');
    for (let i = 0; i < 4 && !/▶ vector 0x20 \(IRQ 0\) delivered at icount [\d,]+, EIP 0x[0-9a-f]{8}/.test(s); i++) {
      t.keys('Left');
      await new Promise((r) => setTimeout(r, 100));
      s = t.screen();
    }
    expect(s).toMatch(/▶ vector 0x20 \(IRQ 0\) delivered at icount [\d,]+, EIP 0x[0-9a-f]{8}/);
    // Zoom in: fewer instructions per column.
    const per = Number(/([\d,]+)\/col/.exec(s)![1]!.replace(/,/g, ''));
    t.keys('+');
    s = await t.waitFor(`${(per / 2).toLocaleString('en-US')}/col`, 'zoomed in');
  });

  it('text typed into the console pane reaches the echo sample and comes back', async () => {
    const t = term('echo');
    t.start(['--ui', 'tui', '--kernel', 'samples/build/echo.elf']);
    let s = await t.waitFor('echo ready', 'the echo sample to be ready');
    expect(s).not.toContain('hi there');
    t.keys('1');
    await t.waitFor('keys go to the guest', 'the console focused');
    t.type('hi there');
    t.keys('Enter');
    s = await t.waitFor(/│hi there +│/, 'the echo');
    expect(s).toMatch(/9 bytes typed|keys go to the guest/);
    // Esc leaves the console: q is a key binding again, not a byte for the guest.
    t.keys('Escape');
    await t.waitFor((x) => !x.includes('keys go to the guest'), 'the console left');
    t.keys('q');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
    expect(t.deadStatus()).toBe('exit 0');
  });
});
