// End to end in a real terminal (tmux) at 80×24: `bmbt-dbg --ui tui --bios bios.bin`
// boots Debian's SeaBIOS, and its text screen, down to "No bootable device.", shows in
// the VGA pane (8); R turns the registers pane to the system registers and the x87 page.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { TmuxTerm, skipWithoutTmux } from './support/tmux.js';

const BIOS = '/usr/share/seabios/bios.bin';
const haveBios = existsSync(BIOS) && existsSync('/usr/share/seabios/vgabios-stdvga.bin');

const terms: TmuxTerm[] = [];
afterAll(() => {
  for (const t of terms) t.kill();
});

describe.skipIf(skipWithoutTmux() || !haveBios)('terminal UI in tmux: the VGA screen of SeaBIOS', () => {
  it('shows SeaBIOS booting to "No bootable device." in the VGA pane of an 80×24 terminal', async () => {
    const t = new TmuxTerm('vga');
    terms.push(t);
    t.start(['--ui', 'tui', '--bios', BIOS], { width: 80, height: 24 });
    await t.firstFrame('running');
    t.keys('8');
    let s = await t.waitFor(/│No bootable device\. +│/, 'the SeaBIOS screen in the VGA pane', 30_000);
    expect(s).toMatch(/╭─ VGA ─+ rows 0-9 cols 0-43 · POST -- ╮/);
    expect(s).toMatch(/│SeaBIOS \(version [^)]+\) +│/);
    expect(s).toMatch(/│Booting from Hard Disk\.\.\. +│/);
    expect(s).toMatch(/8VGA/);
    expect(s.split('\n').every((l) => l.length <= 80)).toBe(true);
    // The registers pane's other pages: system registers, then the x87 unit.
    t.keys('R');
    s = await t.waitFor('System registers', 'the system page');
    expect(s).toMatch(/│gdtr [0-9a-f]{8} limit [0-9a-f]{4}/);
    expect(s).toMatch(/│dr7 00000400 /);
    t.keys('R');
    s = await t.waitFor('x87 FPU', 'the x87 page');
    expect(s).toMatch(/│fctrl [0-9a-f]{4} fstat [0-9a-f]{4} ftag [0-9a-f]{4}/);
    expect(s).toMatch(/│st7 (valid|zero|special|empty) /);
    // The VGA pane is still there, and z gives it the whole screen.
    t.keys('z');
    s = await t.waitFor(/╭─ VGA ─+ rows 0-17 cols 0-77 · POST -- ╮/, 'the zoomed VGA pane');
    expect(s).toMatch(/│No bootable device\. +│/);
    t.keys('q');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
    expect(t.deadStatus()).toBe('exit 0');
  });
});
