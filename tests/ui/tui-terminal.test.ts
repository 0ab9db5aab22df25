// End to end in a real terminal (tmux): what the terminal UI does to the user's terminal
// (issue 11, defect 9). It draws on the alternate screen and leaves the shell's scrollback
// as it was; it repaints only the rows that change (Ink cleared the screen and the
// scrollback, ESC[2J ESC[3J, and rewrote every row of every frame: 181 KB in 5 s for a
// guest spinning in a loop, where only the status line and a register change).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TmuxTerm, skipWithoutTmux } from './support/tmux.js';

const terms: TmuxTerm[] = [];
afterAll(() => {
  for (const t of terms) t.kill();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipWithoutTmux())('terminal UI in tmux: the terminal around it', () => {
  it('keeps the shell scrollback, draws on the alternate screen and writes only changed rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-term-'));
    // inc eax; jmp $-1: runs for ever, EAX and the instruction count change in every frame.
    const spin = join(dir, 'spin.bin');
    writeFileSync(spin, Uint8Array.from([0x40, 0xeb, 0xfd]));
    const out = join(dir, 'terminal.out');
    writeFileSync(out, '');
    const t = new TmuxTerm('scrollback');
    terms.push(t);
    t.startShell();
    t.type('seq 1 200');
    t.keys('Enter');
    await t.waitFor(/^200$/m, 'the shell output');
    t.pipeOutput(out);
    t.runInShell(['--ui', 'tui', '--load', `${spin}@0x100000`, '--entry', '0x100000']);
    await t.firstFrame(/running .* insns/);
    await sleep(1500);
    // Five seconds of a running guest: a few rows a frame, not the whole screen.
    const before = statSync(out).size;
    await sleep(5000);
    const written = statSync(out).size - before;
    expect(written).toBeGreaterThan(500);
    expect(written).toBeLessThan(50_000);
    const stream = readFileSync(out, 'latin1');
    expect(stream).toContain('\x1b[?1049h');
    expect(stream).not.toContain('\x1b[3J');
    t.keys('q');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
    expect(readFileSync(out, 'latin1')).toContain('\x1b[?1049l');
    // The shell's 200 lines are all still there, and the UI left nothing behind.
    await sleep(200);
    const history = t.history();
    expect(history.split('\n').filter((l) => /^\d+$/.test(l)).length).toBe(200);
    expect(history).not.toContain('Registers');
  });
});
