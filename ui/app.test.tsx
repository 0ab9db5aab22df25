// The whole UI on a real machine, driven by keys through Ink: stepping, the command line,
// breakpoints stopping `continue`, pane switching, help, quitting; the status line.
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { Root } from './root.js';
import { UiSession } from './model/ui-session.js';
import { sampleController, plain } from '../tests/support/sample-controller.js';

async function waitFrame(lastFrame: () => string | undefined, pred: (text: string) => boolean, what: string, ms = 5000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const text = plain(lastFrame());
    if (pred(text)) return text;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; screen:\n${text}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function setup(name: string, opts: ConstructorParameters<typeof UiSession>[1] = {}) {
  const s = sampleController(name);
  let quit = false;
  const session = new UiSession(s.ctl, { columns: 100, rows: 40, guestName: `${name}.elf`, onQuit: () => (quit = true), ...opts });
  s.onSerial((b) => session.serialOutput(b));
  session.attach();
  const ink = render(<Root session={session} />);
  return { ...s, session, ink, quitted: () => quit };
}

describe('App', () => {
  it('steps by instruction and by TB with keys; registers, disassembly and status follow', async () => {
    const { ink, session, ctl } = setup('hello');
    let text = await waitFrame(ink.lastFrame, (t) => t.includes('paused at start'), 'first frame');
    expect(text).toMatch(/▶ 0010000c +cli/);
    expect(text).toContain('no gdb');
    expect(text).toContain('hello.elf');
    // A burst of three keys is three steps: cli, cld, lgdt.
    ink.stdin.write('sss');
    text = await waitFrame(ink.lastFrame, (t) => t.includes('stepped to 0x00100015'), 'three steps');
    expect(text).toContain('eip 00100015');
    expect(text).toMatch(/▶ 00100015 +jmp far 0010001Ch,8 <_start\+0x10>/);
    expect(ctl.status().icount).toBe(3);
    // One TB: the far jump ends its block.
    ink.stdin.write('t');
    text = await waitFrame(ink.lastFrame, (t) => t.includes('eip 0010001c'), 'step TB');
    expect(text).toMatch(/▶ 0010001c +mov cx,10h/);
    // The next TB runs to the call of lib_start: several instructions at once.
    const before = ctl.status().icount;
    ink.stdin.write('t');
    await waitFrame(ink.lastFrame, () => ctl.status().icount > before + 1, 'second TB');
    await session.idle();
    text = await waitFrame(ink.lastFrame, (t) => t.includes(`eip ${ctl.status().pc.toString(16).padStart(8, '0')}`), 'registers after TB');
    expect(text).toContain(`${ctl.status().icount.toLocaleString('en-US')} insns`);
    ink.unmount();
    session.dispose();
  });

  it('sets a breakpoint from the command line and continue stops there', async () => {
    const { ink, session, symbol } = setup('hello');
    await waitFrame(ink.lastFrame, (t) => t.includes('paused at start'), 'first frame');
    ink.stdin.write(':b serial_puts\r');
    let text = await waitFrame(ink.lastFrame, (t) => t.includes('Breakpoint 1 at 0x001006'), 'breakpoint message');
    ink.stdin.write('c');
    text = await waitFrame(ink.lastFrame, (t) => t.includes('breakpoint 1 at 0x00100610 <serial_puts>'), 'stop at breakpoint');
    expect(text).toMatch(/●[ ┌│└[]▶ 00100610/);
    expect(text).toContain(`eip ${symbol('serial_puts').toString(16).padStart(8, '0')}`);
    // The breakpoints pane shows it; the log pane shows the command and the stop.
    ink.stdin.write('5');
    text = await waitFrame(ink.lastFrame, (t) => /1 +break +00100610 +1 +ui +<serial_puts>/.test(t), 'breakpoints pane');
    ink.stdin.write('7');
    text = await waitFrame(ink.lastFrame, (t) => t.includes('(bmbt) b serial_puts'), 'log pane');
    expect(text).toContain('stopped: breakpoint 1 at 0x00100610 <serial_puts>');
    // x/4xb shows memory and moves the memory pane there.
    ink.stdin.write(':x/4xb $esp\r');
    text = await waitFrame(ink.lastFrame, (t) => t.includes('following') === false && t.includes('linear '), 'memory pane');
    ink.unmount();
    session.dispose();
  });

  it('toggles a breakpoint at the disassembly cursor', async () => {
    const { ink, session, ctl } = setup('hello');
    await waitFrame(ink.lastFrame, (t) => t.includes('paused at start'), 'first frame');
    ink.stdin.write('jjj');
    await session.idle();
    ink.stdin.write('b');
    await waitFrame(ink.lastFrame, (t) => /● +00100015/.test(t), 'breakpoint mark');
    expect(ctl.breakpoints().map((b) => [b.addr, b.owner])).toEqual([[0x100015, 'ui']]);
    ink.stdin.write('c');
    await waitFrame(ink.lastFrame, (t) => t.includes('breakpoint 1 at 0x00100015'), 'stop');
    ink.stdin.write('b');
    await waitFrame(ink.lastFrame, (t) => !/● +00100015/.test(t), 'breakpoint removed');
    expect(ctl.breakpoints()).toEqual([]);
    ink.unmount();
    session.dispose();
  });

  it('switches panes, shows every binding on ?, and quits on q', async () => {
    const { ink, session, quitted } = setup('hello', { gdbStatus: () => 'attached :1234' });
    let text = await waitFrame(ink.lastFrame, (t) => t.includes('gdb attached :1234'), 'status with gdb');
    expect(text).toMatch(/s step +t stepTB +c cont +p pause +b break +Tab\/1-8 pane +: cmd +\? help +q quit/);
    ink.stdin.write('\t');
    text = await waitFrame(ink.lastFrame, (t) => t.includes('typing goes to the guest'), 'console focused');
    ink.stdin.write('\x1b');
    await new Promise((r) => setTimeout(r, 100));
    ink.stdin.write('3');
    text = await waitFrame(ink.lastFrame, (t) => t.includes('sort: execs'), 'TB cache pane');
    ink.stdin.write('?');
    text = await waitFrame(ink.lastFrame, (t) => t.includes('step one translated block'), 'help');
    expect(text).toContain('toggle a breakpoint');
    // The rest scrolls into view.
    ink.stdin.write('j'.repeat(30));
    text = await waitFrame(ink.lastFrame, (t) => t.includes('x/NFU ADDR'), 'help scrolled');
    expect(text).toMatch(/o sort by exec count/);
    ink.stdin.write('x');
    await waitFrame(ink.lastFrame, (t) => !t.includes('step one translated block'), 'help closed');
    ink.stdin.write('q');
    await waitFrame(ink.lastFrame, () => quitted(), 'quit');
    ink.unmount();
    session.dispose();
  });
});
