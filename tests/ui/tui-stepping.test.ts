// End to end in a real terminal (tmux): bmbt-dbg --ui tui on the hello sample. Stepping
// by instruction and by translated block updates registers and disassembly as the
// instructions dictate; breakpoints set from the UI (key and command line) stop
// `continue`; the screen follows a resize; q restores the terminal.
import { afterAll, describe, expect, it } from 'vitest';
import { TmuxTerm, regOnScreen, skipWithoutTmux } from './support/tmux.js';

const terms: TmuxTerm[] = [];
afterAll(() => {
  for (const t of terms) t.kill();
});

function term(name: string): TmuxTerm {
  const t = new TmuxTerm(name);
  terms.push(t);
  return t;
}

describe.skipIf(skipWithoutTmux())('terminal UI in tmux: stepping and breakpoints', () => {
  it('steps by instruction and by TB; breakpoints from the UI stop continue; q restores the terminal', async () => {
    const t = term('step');
    t.start(['--ui', 'tui', '-S', '--kernel', 'samples/build/hello.elf']);
    let s = await t.firstFrame('paused at start');
    expect(s).toMatch(/▶ 0010000c +fa +cli/);
    expect(regOnScreen(s, 'eip')).toBe(0x10000c);
    expect(s).toContain('hello.elf');

    // si: cli clears IF (already clear), cld; then lgdt: EIP moves by each length.
    t.keys('s');
    s = await t.waitFor(/eip 0010000d/, 'one step');
    expect(s).toMatch(/▶ 0010000d +fc +cld/);
    expect(s).toMatch(/ 1 insns /);
    t.keys('s', 's');
    s = await t.waitFor(/eip 00100015/, 'two more steps');
    expect(s).toMatch(/▶ 00100015 +ea 1c 00 10 00 08 00 +jmp far 0010001Ch,8/);
    // Step one TB: the far jump is a block of its own and loads CS.
    t.keys('t');
    s = await t.waitFor(/eip 0010001c/, 'step TB over the far jump');
    expect(s).toMatch(/cs 0008 00000000 ffffffff c09b/);
    // The next TB runs `mov cx,10h; mov ds,cx; ...` up to the call of lib_start at once.
    t.keys('t');
    s = await t.waitFor((x) => regOnScreen(x, 'eip') !== 0x10001c, 'a multi-instruction TB');
    const afterTb = regOnScreen(s, 'eip');
    expect(s).toMatch(/ecx [0-9a-f]{4}0010/);
    expect(Number(/([\d,]+) insns/.exec(s)![1]!.replace(/,/g, ''))).toBeGreaterThan(5);
    expect(s).toMatch(new RegExp(`▶ ${afterTb.toString(16).padStart(8, '0')}`));

    // A breakpoint from the command line, by symbol: continue stops there.
    t.keys(':');
    t.type('b main');
    t.keys('Enter');
    await t.waitFor('Breakpoint 1 at 0x00100b50 <main>', 'breakpoint message');
    t.keys('c');
    s = await t.waitFor('breakpoint 1 at 0x00100b50 <main>', 'stop at main');
    expect(regOnScreen(s, 'eip')).toBe(0x100b50);
    expect(s).toMatch(/●[ ┌[]▶ 00100b50 +8d 4c 24 04 +lea ecx,\[esp\+4\]/);
    const esp = regOnScreen(s, 'esp');
    // lea ecx,[esp+4]: ECX = ESP + 4.
    t.keys('s');
    s = await t.waitFor(/eip 00100b54/, 'step in main');
    expect(regOnScreen(s, 'ecx')).toBe(esp + 4);
    expect(regOnScreen(s, 'esp')).toBe(esp);
    // and esp &= -16; push [ecx-4]; push ebp; mov ebp,esp; push ecx; sub esp,16; push ...; call serial_puts
    t.keys('t');
    s = await t.waitFor(/eip 00100610/, 'step TB to serial_puts');
    expect(s).toMatch(/serial_puts:/);
    expect(regOnScreen(s, 'ebp')).toBe(((esp & ~15) - 8) >>> 0);

    // A breakpoint with the b key at the disassembly cursor, two instructions down.
    t.keys('j', 'j');
    await new Promise((r) => setTimeout(r, 150));
    t.keys('b');
    s = await t.waitFor(/Breakpoint 2 at 0x0010061/, 'breakpoint at the cursor');
    const bp = parseInt(/Breakpoint 2 at 0x([0-9a-f]{8})/.exec(s)![1]!, 16);
    expect(s).toMatch(new RegExp(`● +${bp.toString(16).padStart(8, '0')}`));
    t.keys('c');
    s = await t.waitFor(`breakpoint 2 at 0x${bp.toString(16).padStart(8, '0')}`, 'stop at the cursor breakpoint');
    expect(regOnScreen(s, 'eip')).toBe(bp);

    // Both are listed in the breakpoints pane.
    t.keys('5');
    s = await t.waitFor(/2 +break +0010061/, 'breakpoints pane');
    expect(s).toMatch(/1 +break +00100b50 +1 +ui +<main>/);

    // The screen follows a resize down to 80×24.
    t.keys('2');
    await t.waitFor('generated JavaScript', 'current TB pane');
    execResize(t, 80, 24);
    s = await t.waitFor((x) => x.split('\n')[0]!.length <= 80 && /1Con 2TB 3TBs/.test(x), 'the 80×24 layout');
    expect(s.split('\n').filter((l) => l.length > 0).length).toBeLessThanOrEqual(24);
    expect(s).toMatch(/s step +t stepTB +c cont +p pause +b break/);

    // q quits and leaves the alternate screen.
    t.keys('q');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
    expect(t.deadStatus()).toBe('exit 0');
    expect(t.screen()).not.toContain('Registers');
    // Nothing but the cursor being shown again (Ink's restore-cursor writes it to stderr).
    expect(t.stderr().replace(/\x1b\[\?25h/g, '')).toBe('');
  });

  it('Ctrl-C quits too and restores the terminal', async () => {
    const t = term('ctrlc');
    t.start(['--ui', 'tui', '--kernel', 'samples/build/echo.elf']);
    await t.waitFor('echo ready', 'the guest running');
    t.keys('C-c');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
    expect(t.screen()).not.toContain('Registers');
  });
});

function execResize(t: TmuxTerm, w: number, h: number): void {
  (t as unknown as { tmux: (...a: string[]) => string }).tmux('resize-window', '-t', 'main', '-x', String(w), '-y', String(h));
}
