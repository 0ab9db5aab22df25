// The UI never starts without a terminal: asked for in a pipe, bmbt-dbg says so in one
// line and runs headless. The core never imports the UI (tests/architecture.test.ts).
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { chooseUi } from '../../cli/ui-choice.js';
import { parseCli, type CliOptions } from '../../cli/options.js';

describe('choosing the front end', () => {
  it('--ui tui and dashboard in a pipe fall back to headless with a one-line note', async () => {
    for (const args of [['--ui', 'tui'], ['dashboard'], ['--ui', 'dashboard']]) {
      const r = await runCli([...args, '--kernel', 'samples/build/hello.elf']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('Hello from bmbt-dbg!');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^bmbt-dbg: .*needs a terminal .*running headless$/);
    }
  });

  it('picks the UI on a terminal, headless otherwise', () => {
    const o = (args: string[]): CliOptions => parseCli(args) as CliOptions;
    const tty = { stdin: { isTTY: true }, stdout: { isTTY: true } };
    const pipe = { stdin: { isTTY: false }, stdout: { isTTY: false } };
    const stdinPipe = { stdin: { isTTY: false }, stdout: { isTTY: true } };
    expect(chooseUi(o([]), tty)).toBe('tui');
    expect(chooseUi(o(['--gdb', '1234']), tty)).toBe('tui');
    expect(chooseUi(o([]), pipe)).toBe('none');
    expect(chooseUi(o([]), stdinPipe)).toBe('none');
    expect(chooseUi(o(['--ui', 'none']), tty)).toBe('none');
    expect(chooseUi(o(['dashboard']), tty)).toBe('dashboard');
    expect(chooseUi(o(['--ui', 'dashboard']), tty)).toBe('dashboard');
  });
});
