// The whole UI drawn by Ink into a real terminal emulator (@xterm/headless) at 80×24 and
// 120×40: every row in its place, nothing wrapped past the edge, and a resize followed.
import { afterAll, describe, expect, it, vi } from 'vitest';
// Ink draws nothing but the last frame when it believes it runs in CI (read when it is
// imported): this test is about frames, so hide CI from it, then put it back.
const savedEnv = vi.hoisted(() => {
  const saved = { CI: process.env['CI'], CONTINUOUS_INTEGRATION: process.env['CONTINUOUS_INTEGRATION'] };
  delete process.env['CI'];
  delete process.env['CONTINUOUS_INTEGRATION'];
  return saved;
});
afterAll(() => {
  for (const [k, v] of Object.entries(savedEnv)) if (v !== undefined) process.env[k] = v;
});
import { Writable, PassThrough } from 'node:stream';
import xterm from '@xterm/headless';
import { render } from 'ink';
import { Root } from './root.js';
import { UiSession } from './model/ui-session.js';
import { sampleController } from '../tests/support/sample-controller.js';

class XtermScreen {
  readonly term: InstanceType<typeof xterm.Terminal>;
  readonly stdout: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadStream;
  private pending: Promise<void> = Promise.resolve();
  constructor(cols: number, rows: number) {
    this.term = new xterm.Terminal({ cols, rows, allowProposedApi: true, convertEol: true });
    const out = new Writable({
      write: (chunk: Buffer | string, _e, cb) => {
        this.pending = this.pending.then(() => new Promise<void>((r) => this.term.write(chunk.toString(), r)));
        cb();
      },
    });
    Object.assign(out, { isTTY: true, columns: cols, rows });
    this.stdout = out as unknown as NodeJS.WriteStream;
    const input = new PassThrough();
    Object.assign(input, { isTTY: true, setRawMode: () => input, ref: () => input, unref: () => input });
    this.stdin = input as unknown as NodeJS.ReadStream;
  }
  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
    Object.assign(this.stdout, { columns: cols, rows });
    this.stdout.emit('resize');
  }
  async lines(): Promise<string[]> {
    await this.pending;
    const b = this.term.buffer.active;
    return Array.from({ length: this.term.rows }, (_, y) => b.getLine(b.viewportY + y)?.translateToString(true) ?? '');
  }
}

async function settle(screen: XtermScreen, pred: (lines: string[]) => boolean, what: string): Promise<string[]> {
  const t0 = Date.now();
  for (;;) {
    const lines = await screen.lines();
    if (pred(lines)) return lines;
    if (Date.now() - t0 > 5000) throw new Error(`${what}:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('layout in a terminal emulator', () => {
  it('fills 120×40 and 80×24 exactly and follows a resize', async () => {
    const { ctl } = sampleController('timer');
    await ctl.continue();
    const screen = new XtermScreen(120, 40);
    const session = new UiSession(ctl, { columns: 120, rows: 40, guestName: 'timer.elf' });
    session.attach();
    const ink = render(<Root session={session} />, { stdout: screen.stdout, stdin: screen.stdin, exitOnCtrlC: false, patchConsole: false });
    let lines = await settle(screen, (l) => l[0]!.includes('guest exited'), 'first frame at 120×40');
    expect(lines[0]).toMatch(/^ ■ exited /);
    expect(lines[1]).toMatch(/^╭─ Registers ─+ icount \d+ ╮╭─ Disassembly ─+.*╮$/);
    expect(lines[1]!.length).toBe(120);
    expect(lines[37]).toMatch(/^╰─+╯╰─+╯$/);
    expect(lines[39]).toMatch(/^s step +t stepTB +c cont/);

    // A resize to 80×24: Ink redraws at the new size, the session lays the panes out again.
    screen.resize(80, 24);
    session.resize(80, 24);
    lines = await settle(screen, (l) => /1Con 2TB 3TBs/.test(l.join('\n')) && l[23]!.startsWith('s step'), 'frame at 80×24');
    expect(lines[1]!.length).toBe(80);
    expect(lines[1]).toMatch(/^╭─ Registers ─+ icount \d+ ╮╭─ Disassembly ─+.*╮$/);
    expect(lines[21]).toMatch(/^╰─+╯╰─+╯$/);
    expect(lines.every((l) => l.length <= 80)).toBe(true);
    // The IRQ pane fits too.
    screen.stdin.write('4');
    lines = await settle(screen, (l) => l.some((x) => x.includes('IRQ 0 ')), 'IRQ pane at 80×24');
    expect(lines.find((x) => x.includes('IRQ 0 '))!).toMatch(/│IRQ 0 [·↑↓↕─#]+ +101│$/);
    ink.unmount();
    session.dispose();
  });
});
