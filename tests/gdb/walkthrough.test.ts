// The README's "Debugging with gdb" section, run: its shell commands (with a free port in
// place of 1234), its (gdb) commands (kept identical to tests/gdb/walkthrough.gdb) and
// every monitor command of its table.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const SECTION = README.slice(README.indexOf('## Debugging with gdb'), README.indexOf('\n## ', README.indexOf('## Debugging with gdb') + 5));
const SCRIPT = join('tests', 'gdb', 'walkthrough.gdb');

let emu: Emu | null = null;
afterEach(async () => {
  await emu?.close();
  emu = null;
});

/** `npx bmbt-dbg ARGS` from the README with the port replaced. */
function emulatorArgs(): string[] {
  const m = /^npx bmbt-dbg (.*)$/m.exec(SECTION);
  expect(m).not.toBeNull();
  const args = m![1]!.split(/\s+/);
  const at = args.indexOf('--gdb');
  expect(args[at + 1]).toBe('1234');
  args.splice(at, 2);
  return args;
}

describe.skipIf(skipWithoutGdb())('README walkthrough', () => {
  it('the (gdb) commands of the README are the command file', () => {
    const fromReadme = [...SECTION.matchAll(/^\(gdb\) (.*)$/gm)].map((m) => m[1]!).filter((c) => !c.startsWith('target remote'));
    const fromFile = readFileSync(join(REPO, SCRIPT), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(fromReadme).toEqual(fromFile);
  });

  it('runs: breakpoint, finish, watchpoint and monitor info tb find the wild pointer', async () => {
    emu = await startEmu(emulatorArgs());
    const shell = /^gdb -q -batch -ex 'target remote :1234' -x (\S+) (\S+)$/m.exec(SECTION);
    expect(shell).not.toBeNull();
    expect(shell![1]).toBe(SCRIPT);
    const r = await runGdb(emu.port, [], { args: ['-q', '-x', shell![1]!], elf: shell![2]! });
    const out = r.out;
    expect(out).toContain('Breakpoint 1, find_item (id=199) at buggy/buggy.c:53');
    expect(out).toContain('#3  0x00100eb6 in main () at buggy/buggy.c:95');
    expect(out).toContain('Value returned is $1 = (struct item *) 0x1062e0 <total>');
    expect(out).toContain('$2 = (struct item *) 0x1062e0 <total>');
    expect(out).toMatch(/Hardware watchpoint 2: total\n\nOld value = 10750\nNew value = 10752\napply_order \(o=0x101390 <orders\+48>\) at buggy\/buggy\.c:64/);
    expect(out).toContain('$3 = 0x1062e0');
    expect(out).toContain('total in section .bss');
    expect(out).toMatch(/0x100dc3 <apply_order\+39>:\tmov {4}%edx,\(%eax\)/);
    expect(out).toMatch(/TB #\d+ pc=00100dad/);
    expect(out).toMatch(/00100dc3 {2}89 10 +mov \[eax\],edx/);
    expect(out).toContain('generated JavaScript:');
    expect(out).toContain('breakpoint inserted');
    expect(out).toMatch(/^TB cache: \d+ TBs/m);
    expect(out).toContain('[Inferior 1 (process 1) exited with code 03]');
    expect(await emu.exited).toBe(3);
  });

  it('every monitor command of the README table answers without an error', async () => {
    const cmds = [...SECTION.matchAll(/`monitor ([^`]+)`/g)].map((m) => m[1]!.replace(/ \[N\]$/, ' 2'));
    const extra = [...SECTION.matchAll(/\(`(info \w+)`(?:, `(info \w+)`)?(?:, `(info \w+)`)?\)/g)].flatMap((m) => m.slice(1).filter(Boolean));
    const xps = [...SECTION.matchAll(/`(xp [^`]+)`/g)].map((m) => m[1]!);
    const all = [...new Set([...cmds.filter((c) => !c.includes('ADDR') && !c.includes('/NFU')), ...extra, ...xps, 'info tb 0x10000c', 'physmem off'])];
    // system_reset last: after it the CPU is back in real mode.
    all.push(...all.splice(all.indexOf('system_reset'), 1));
    expect(all.length).toBeGreaterThanOrEqual(16);
    emu = await startEmu(emulatorArgs());
    const r = await runGdb(emu.port, ['break process_orders', 'continue', ...all.flatMap((c) => [`echo @@ ${c}\\n`, `monitor ${c}`]), 'kill']);
    const parts = r.out.split('@@ ').slice(1);
    expect(parts).toHaveLength(all.length);
    for (const p of parts) {
      const [cmd, ...rest] = p.split('\n');
      const text = rest.join('\n');
      expect(text, cmd).not.toMatch(/^error:|unknown command/m);
      expect(text.trim().length, cmd).toBeGreaterThan(0);
    }
    const part = (c: string) => parts.find((p) => p.startsWith(c + '\n'))!;
    expect(part('xp /4xw 0x1062e0')).toMatch(/001062e0: 00000000 00000000 00000000 00000000/);
    expect(part('xp /3i 0x100dc0')).toMatch(/0x00100dc3 <apply_order\+0x27>:  mov \[eax\],edx/);
    expect(part('info irq')).toMatch(/master: IRR=/);
    expect(part('info registers')).toMatch(/GDT= +00102000 00000017/);
  });
});
