// End to end in a real terminal (tmux) at 80×24: the IRQ timeline of the timer sample
// (issue 11, defects 11 and 12):
// - a burst of keys (`+ + + +`, as key repeat sends them) zooms four times, not once;
// - lines that do not fit are not dropped silently: the pane says which are hidden, and
//   ↓ scrolls to them.
import { afterAll, describe, expect, it } from 'vitest';
import { TmuxTerm, skipWithoutTmux } from './support/tmux.js';

const terms: TmuxTerm[] = [];
afterAll(() => {
  for (const t of terms) t.kill();
});

const perCol = (s: string): number => Number(/· ([\d,]+)\/col/.exec(s)![1]!.replace(/,/g, ''));

describe.skipIf(skipWithoutTmux())('terminal UI in tmux: the IRQ timeline at 80×24', () => {
  it('zooms once per key in a burst, and says which IRQ lines it hides', async () => {
    const t = new TmuxTerm('irq80');
    terms.push(t);
    t.start(['--ui', 'tui', '--kernel', 'samples/build/timer.elf'], { width: 80, height: 24 });
    await t.waitFor('guest exited', 'the timer sample to finish', 30_000);
    t.keys('4');
    let s = await t.waitFor(/\/col/, 'the IRQ timeline');
    const before = perCol(s);
    expect(before).toBeGreaterThanOrEqual(16);
    // Four zooms in one burst: 16 times fewer instructions per column.
    t.type('++++');
    s = await t.waitFor((x) => /\/col/.test(x) && perCol(x) !== before, 'the zoom');
    await new Promise((r) => setTimeout(r, 300));
    s = t.screen();
    expect(perCol(s)).toBe(before / 16);
    // And out again, in one burst.
    t.type('----');
    s = await t.waitFor((x) => /\/col/.test(x) && perCol(x) === before, 'zoomed out again');

    // Not every line fits: the hidden ones are named, and ↓ brings them in.
    s = await t.waitFor(/IRQ 0 /, 'IRQ 0');
    const shown = [...s.matchAll(/IRQ ?(\d+) /g)].map((m) => Number(m[1]));
    expect(shown.length).toBeLessThan(16);
    expect(s).toMatch(/IRQ [\d,-]+ hidden · ↑↓ scroll/);
    expect(s).not.toMatch(/IRQ15 /);
    for (let i = 0; i < 16; i++) t.keys('Down');
    s = await t.waitFor(/IRQ15 /, 'IRQ 15 after scrolling');
    expect(s.split('\n').every((l) => [...l].length <= 80)).toBe(true);
    t.keys('q');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
  });
});
