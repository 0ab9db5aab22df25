// The README's "Time travel" section, run: its (gdb) commands (kept identical to
// tests/gdb/time-travel.gdb) against the emulator of its command line.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const SECTION = README.slice(README.indexOf('## Time travel'), README.indexOf('\n## ', README.indexOf('## Time travel') + 5));
const SCRIPT = join('tests', 'gdb', 'time-travel.gdb');

let emu: Emu | null = null;
afterEach(async () => {
  await emu?.close();
  emu = null;
});

describe.skipIf(skipWithoutGdb())('README time-travel walkthrough', () => {
  it('the (gdb) commands of the README are the command file', () => {
    const fromReadme = [...SECTION.matchAll(/^\(gdb\) (.*)$/gm)].map((m) => m[1]!).filter((c) => !c.startsWith('target remote'));
    const fromFile = readFileSync(join(REPO, SCRIPT), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(fromReadme).toEqual(fromFile);
  });

  it('a reverse watchpoint walks back through the writers of total to the wild write', async () => {
    const m = /`npx bmbt-dbg --gdb 1234 (.*?)`/.exec(SECTION);
    expect(m).not.toBeNull();
    emu = await startEmu(m![1]!.split(/\s+/));
    const r = await runGdb(emu.port, [], { args: ['-q', '-x', SCRIPT], elf: join(REPO, 'samples/build/buggy.elf') });
    const out = r.out;
    expect(out).toMatch(/Old value = 14784\nNew value = 14034\n0x00100ddb in apply_order \(o=0x1013a8 <orders\+72>\) at buggy\/buggy\.c:64/);
    expect(out).toMatch(/Old value = 10752\nNew value = 10750\n0x00100dc3 in apply_order \(o=0x101390 <orders\+48>\) at buggy\/buggy\.c:63\n63\s+it->sold \+= o->qty;/);
    expect(out).toContain('$1 = {id = 199, qty = 2}');
    expect(out).toContain('$2 = (struct item *) 0x1062e0 <total>');
    expect(out).toContain("saved snapshot 'before-the-bug' at instruction 19333");
    expect(out).toMatch(/List of snapshots present on all disks:\nID +TAG +VM SIZE +DATE +VM CLOCK +ICOUNT\n-- +before-the-bug .* 19333\n/);
    expect(out).toContain('[Inferior 1 (process 1) exited with code 03]');
    // The README shows the same lines.
    for (const line of ['saved snapshot \'before-the-bug\' at instruction 19333', '$1 = {id = 199, qty = 2}', 'New value = 10750']) expect(SECTION).toContain(line);
    expect(await emu.exited).toBe(3);
  }, 60_000);
});
