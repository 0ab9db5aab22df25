// A headless run with --bios in a real terminal (tmux): SeaBIOS's serial console starts
// with a terminal reset (ESC c ESC[?7l ESC[2J), which wiped the user's screen and left
// the shell without line wrap (issue 11, defect 16). On a terminal that sequence is held
// back; the BIOS's text still comes through.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { TmuxTerm, skipWithoutTmux } from './support/tmux.js';

const BIOS = '/usr/share/seabios/bios.bin';
const terms: TmuxTerm[] = [];
afterAll(() => {
  for (const t of terms) t.kill();
});

describe.skipIf(skipWithoutTmux() || !existsSync(BIOS))('headless --bios in a terminal', () => {
  it('keeps the screen and line wrap of the terminal it runs in', async () => {
    const t = new TmuxTerm('biosreset');
    terms.push(t);
    t.startShell({ width: 100, height: 30 });
    t.type('seq 101 110');
    t.keys('Enter');
    await t.waitFor(/^110$/m, 'the shell output');
    t.runInShell(['--ui', 'none', '--bios', BIOS, '--max-insns', '6000000']);
    await t.waitFor(() => t.dead(), 'the run to end', 60_000);
    let s = t.screen();
    expect(s).toContain('SeaBIOS (version');
    // The lines before the run are still on the screen.
    expect(s).toMatch(/^105$/m);
    // Lines still wrap: 150 characters take two rows.
    t.type("printf '%0150d\\n' 0");
    t.keys('Enter');
    s = await t.waitFor(/^0{100}$/m, 'a wrapped line');
    expect(s).toMatch(/^0{50}$/m);
  });
});
