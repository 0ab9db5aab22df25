// End to end in a real terminal (tmux): the command line's stepping and pausing commands
// (`:si N`, `:sb N`, `:pause`) run once and leave the UI answering keys and commands
// (issue 11, defect 1: they used to wait on themselves and jam the UI for good).
import { afterAll, describe, expect, it } from 'vitest';
import { TmuxTerm, regOnScreen, skipWithoutTmux } from './support/tmux.js';

const terms: TmuxTerm[] = [];
afterAll(() => {
  for (const t of terms) t.kill();
});

function command(t: TmuxTerm, line: string): void {
  t.keys(':');
  t.type(line);
  t.keys('Enter');
}

describe.skipIf(skipWithoutTmux())('terminal UI in tmux: command-line steps', () => {
  it(':si 3, :sb and :pause run, and keys and commands work after them', async () => {
    const t = new TmuxTerm('cmdline');
    terms.push(t);
    t.start(['--ui', 'tui', '-S', '--kernel', 'samples/build/hello.elf']);
    await t.firstFrame('paused at start');
    // cli; cld; lgdt [..]: three instructions, 1 + 1 + 7 bytes.
    command(t, 'si 3');
    let s = await t.waitFor(/eip 00100015/, ':si 3');
    expect(s).toMatch(/ 3 insns /);
    // The s key still steps (the far jump).
    t.keys('s');
    s = await t.waitFor(/eip 0010001c/, 's after :si 3');
    // :sb runs one whole block, and then t runs the next.
    command(t, 'sb');
    s = await t.waitFor((x) => regOnScreen(x, 'eip') !== 0x10001c, ':sb');
    const afterSb = regOnScreen(s, 'eip');
    t.keys('t');
    s = await t.waitFor((x) => regOnScreen(x, 'eip') !== afterSb, 't after :sb');
    // :pause on a stopped guest answers, and the next command still runs.
    command(t, 'pause');
    command(t, 'b main');
    await t.waitFor('Breakpoint 1 at 0x00100b50 <main>', 'a command after :pause');
    t.keys('c');
    s = await t.waitFor('breakpoint 1 at 0x00100b50 <main>', 'continue to main');
    // :pause of a running guest: the echo sample waits for input forever.
    t.keys('q');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
    expect(t.deadStatus()).toBe('exit 0');
  });

  it(':pause stops a running guest and s steps after it', async () => {
    const t = new TmuxTerm('cmdpause');
    terms.push(t);
    t.start(['--ui', 'tui', '--kernel', 'samples/build/echo.elf']);
    await t.firstFrame('running');
    // Paused only once it waits for input (a stop request is served within a slice's
    // wall time, so a :pause typed at once would stop it on the way there).
    await t.waitFor('echo ready', 'the guest waiting for input');
    command(t, 'pause');
    let s = await t.waitFor('paused by ui', ':pause');
    const eip = regOnScreen(s, 'eip');
    // The echo sample sleeps in HLT until a key arrives: a step cannot run anything.
    t.keys('s');
    s = await t.waitFor('no interrupt is due, nothing ran', 's after :pause');
    expect(regOnScreen(s, 'eip')).toBe(eip);
    t.keys('q');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
  });
});
