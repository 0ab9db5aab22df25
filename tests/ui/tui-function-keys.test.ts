// End to end in a real terminal (tmux): the function keys the help line promises work —
// F7 steps an instruction, F8 a translated block, F9 toggles a breakpoint, F5 continues
// (issue 11, defect 3: Ink 6 hands function keys over with no text, so they did nothing).
import { afterAll, describe, expect, it } from 'vitest';
import { TmuxTerm, regOnScreen, skipWithoutTmux } from './support/tmux.js';

const terms: TmuxTerm[] = [];
afterAll(() => {
  for (const t of terms) t.kill();
});

describe.skipIf(skipWithoutTmux())('terminal UI in tmux: function keys', () => {
  it('F7 steps, F8 steps a block, F9 sets a breakpoint and F5 runs to it', async () => {
    const t = new TmuxTerm('fkeys');
    terms.push(t);
    t.start(['--ui', 'tui', '-S', '--kernel', 'samples/build/hello.elf']);
    await t.firstFrame('paused at start');
    t.keys('F7');
    await t.waitFor(/eip 0010000d/, 'F7: one instruction');
    t.keys('F7', 'F7');
    await t.waitFor(/eip 00100015/, 'F7 twice');
    t.keys('F8');
    let s = await t.waitFor(/eip 0010001c/, 'F8: the far jump block');
    // Two lines down in the disassembly, F9 there, F5 runs to it.
    t.keys('j', 'j');
    await new Promise((r) => setTimeout(r, 200));
    t.keys('F9');
    s = await t.waitFor(/Breakpoint 1 at 0x001000[0-9a-f]{2}/, 'F9: a breakpoint at the cursor');
    const bp = parseInt(/Breakpoint 1 at 0x([0-9a-f]{8})/.exec(s)![1]!, 16);
    t.keys('F5');
    s = await t.waitFor(`breakpoint 1 at 0x${bp.toString(16).padStart(8, '0')}`, 'F5: continue to it');
    expect(regOnScreen(s, 'eip')).toBe(bp);
    t.keys('q');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
  });
});
