// The real gdb in batch mode against `bmbt-dbg --gdb` on the buggy sample (built -O0 -g).
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { sample } from '../support/samples.js';
import { BUGGY, REPO, parseInfoRegisters, runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';

let emu: Emu | null = null;
afterEach(async () => {
  await emu?.close();
  emu = null;
});

async function buggy(): Promise<Emu> {
  emu = await startEmu(['--kernel', BUGGY]);
  return emu;
}

describe.skipIf(skipWithoutGdb())('gdb -batch against bmbt-dbg', () => {
  it('connects and shows the multiboot entry state in info registers and info all-registers; the rest in monitor info registers', async () => {
    const e = await buggy();
    const r = await runGdb(e.port, ['info registers', 'echo ---ALL---\\n', 'info all-registers', 'echo ---MON---\\n', 'monitor info registers']);
    expect(r.out).toContain('0x0010000c in _start ()');
    const [general, all, mon] = r.out.split(/---ALL---|---MON---/);
    // QEMU's registers and no more: 23 lines fit a 24-line terminal without gdb's pager
    // (the hidden segment state, GDTR/IDTR and DR0-7 made it 63).
    expect(general!.split('\n').filter((l) => /^\w+\s+0x/.test(l)).map((l) => l.split(/\s/)[0])).toEqual([
      'eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs',
      'fs_base', 'gs_base', 'cr0', 'cr2', 'cr3', 'cr4', 'efer',
    ]);
    const regs = parseInfoRegisters(general!);
    expect(regs.get('eax')).toBe(0x2badb002); // the multiboot magic
    expect(regs.get('eip')).toBe(0x10000c);
    expect(regs.get('cs')).toBe(0x08);
    for (const s of ['ss', 'ds', 'es', 'fs', 'gs']) expect(regs.get(s)).toBe(0x10);
    expect(regs.get('cr0')).toBe(0x11); // PE | ET, paging off
    expect(general).toMatch(/cr0\s+0x11\s+\[ PE ET \]/);
    expect(general).toMatch(/eflags\s+0x2\s+\[ \]/);
    expect(general).not.toContain('st0'); // x87 only in all-registers
    const allRegs = parseInfoRegisters(all!);
    for (const r of ['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop']) expect(allRegs.has(r)).toBe(true);
    expect(allRegs.get('mxcsr')).toBe(0x1f80);
    expect(all).toMatch(/^st0\s+0\s+\(raw 0x00000000000000000000\)/m);
    expect(all).toMatch(/^xmm7\s+\{v4_float/m);
    // The hidden segment state, the descriptor tables and the debug registers, as QEMU's monitor shows them.
    expect(mon).toMatch(/^CS =0008 00000000 ffffffff 00c09b00/m);
    expect(mon).toMatch(/^GDT= +[0-9a-f]{8} 00000017/m);
    expect(mon).toMatch(/DR7=00000400/);
  });

  it('SSE registers are real: info registers xmm0, p $xmm1.v4_float, set $mxcsr, set $xmm2', async () => {
    emu = await startEmu(['--cpu', 'qemu32', '--kernel', BUGGY]);
    const r = await runGdb(emu.port, [
      'set $xmm1.v4_float[0] = 1.5', 'set $xmm1.v4_float[3] = -2', 'p $xmm1.v4_float',
      'set $xmm2.v2_int64[0] = 0x0011223344556677', 'set $xmm2.v2_int64[1] = 0x0123456789abcdef', 'info registers xmm2',
      'set $mxcsr = 0x9fc0', 'info registers mxcsr', 'stepi', 'p/x $xmm2.v4_int32', 'p $xmm1.v4_float', 'p/x $mxcsr',
    ]);
    expect(r.out).toMatch(/\$1 = \{1\.5, 0, 0, -2\}/);
    expect(r.out).toMatch(/^xmm2\s+\{v4_float.*uint128 = 0x123456789abcdef0011223344556677\}/m);
    expect(r.out).toMatch(/^mxcsr\s+0x9fc0\s+\[ DAZ IM DM ZM OM UM PM FZ \]/m);
    // after a step (the machine ran: the values live in the CPU)
    expect(r.out).toMatch(/\$2 = \{0x44556677, 0x112233, 0x89abcdef, 0x1234567\}/);
    expect(r.out).toMatch(/\$3 = \{1\.5, 0, 0, -2\}/);
    expect(r.out).toMatch(/\$4 = 0x9fc0/);
  });

  it('x/8i $pc disassembles the entry code', async () => {
    const e = await buggy();
    const r = await runGdb(e.port, ['x/8i $pc']);
    const lines = r.out.split('\n').filter((l) => /^(=> | {3})0x/.test(l));
    expect(lines).toHaveLength(8);
    expect(lines[0]).toMatch(/^=> 0x10000c <_start>:\s+cli/);
    expect(lines[1]).toMatch(/0x10000d <_start\+1>:\s+cld/);
    expect(lines[2]).toMatch(/lgdtl\s+0x10201a/);
    expect(lines[3]).toMatch(/ljmp\s+\$0x8,\$0x10001c/);
    expect(lines[5]).toMatch(/mov\s+%ecx,%ds/);
  });

  it('stepi many times: EIP and the registers follow the instructions', async () => {
    const e = await buggy();
    const show = 'printf "S %x %x %x %x %x %x %x %x %x %x %x\\n", $pc, $eax, $ecx, $edx, $esi, $edi, $esp, $eflags, $ds, $ss, $cs';
    const cmds = [show];
    for (let i = 0; i < 17; i++) cmds.push('stepi', show);
    cmds.push('tbreak *0x10003e', 'continue', show);
    for (let i = 0; i < 7; i++) cmds.push('stepi', show);
    cmds.push('printf "RET %x\\n", *(int *)$esp', 'monitor info registers');
    const r = await runGdb(e.port, cmds);
    const steps = [...r.out.matchAll(/^S (.*)$/gm)].map((m) => {
      const [pc, eax, ecx, edx, esi, edi, esp, eflags, ds, ss, cs] = m[1]!.split(' ').map((h) => parseInt(h, 16));
      return { pc, eax, ecx, edx, esi, edi, esp, eflags, ds, ss, cs };
    });
    expect(steps).toHaveLength(26);
    const pcs = steps.map((s) => s.pc!.toString(16));
    expect(pcs.slice(0, 18)).toEqual([
      '10000c', '10000d', '10000e', '100015', '10001c', '100020', '100022', '100024', '100026', '100028', '10002a',
      '10002c', '10002e', '100033', '100038', '10003a', '10003c', '10003c', // rep stosb: one iteration per step
    ]);
    expect(pcs.slice(18)).toEqual(['10003e', '100043', '100045', '100047', '100048', '100049', '10004a', '10022c']);
    const s = (pc: string, n = 0) => steps.filter((x) => x.pc!.toString(16) === pc)[n]!;
    expect(s('100020').ecx! & 0xffff).toBe(0x10); // mov $0x10,%cx
    expect(s('100022').ds).toBe(0x10);
    expect(s('10002a').ss).toBe(0x10);
    expect(s('10002c').esi).toBe(0x2badb002); // mov %eax,%esi
    expect(s('100033').edi).toBe(0x102020);
    expect(s('100038').ecx).toBe(0x1062f0);
    expect(s('10003a').ecx).toBe(0x1062f0 - 0x102020); // sub %edi,%ecx
    expect(s('10003a').eflags! & 0x8d5).toBe(0); // no CF ZF SF OF; PF of 0xd0 is odd
    expect(s('10003c').eax).toBe(0); // xor %eax,%eax
    expect(s('10003c').eflags! & 0x44).toBe(0x44); // ZF PF
    expect(s('10003c', 1).ecx).toBe(0x42d0 - 1);
    expect(s('10003c', 1).edi).toBe(0x102021);
    expect(s('10003e').ecx).toBe(0); // rep finished
    expect(s('10003e').edi).toBe(0x1062f0);
    expect(s('100043').esp).toBe(0x106020);
    expect(s('100047').esp).toBe(0x10601c); // push $0
    expect(s('100048').eflags).toBe(0x2); // popf
    expect(s('10004a').esp).toBe(0x106018);
    expect(s('10022c').esp).toBe(0x106014); // call lib_start
    expect(r.out).toMatch(/^RET 10004f$/m);
    expect(r.out).toMatch(/^GDT= +00102000 00000017$/m);
    expect(steps[3]!.cs).toBe(0x08);
  });

  it('break on a symbol, continue, bt, finish, hbreak, set $eax and set var', async () => {
    const e = await buggy();
    const r = await runGdb(e.port, [
      'break find_item if id == 199', 'continue', 'bt', 'finish', 'bt', 'delete',
      'hbreak apply_order', 'continue', 'printf "PC %x\\n", $pc', 'delete',
      'set $eax = 0x12345678', 'printf "EAX %x\\n", $eax', 'stepi', 'printf "EAX2 %x\\n", $eax',
      'set var total = 4242', 'print total', 'monitor xp /1dw 0x1062e0',
    ]);
    expect(r.out).toMatch(/Breakpoint 1, find_item \(id=199\) at buggy\/buggy\.c:53/);
    const bt1 = r.out.slice(r.out.indexOf('#0  find_item'));
    expect(bt1).toMatch(/#0 {2}find_item \(id=199\)[^\n]*\n#1 {2}0x00100dad in apply_order \(o=0x101390 <orders\+48>\)[^\n]*\n#2 {2}0x00100e15 in process_orders \(\)[^\n]*\n#3 {2}0x00100eb6 in main \(\)/);
    expect(r.out).toContain('Value returned is $1 = (struct item *) 0x1062e0 <total>');
    const afterFinish = r.out.slice(r.out.indexOf('Value returned'));
    expect(afterFinish).toMatch(/#0 {2}0x00100dad in apply_order[^\n]*\n#1 {2}0x00100e15 in process_orders[^\n]*\n#2 {2}0x00100eb6 in main/);
    expect(afterFinish).not.toMatch(/#3 /);
    expect(r.out).toMatch(/Hardware assisted breakpoint 2 at 0x100da2: file buggy\/buggy\.c, line 62\./);
    expect(r.out).toMatch(/Breakpoint 2, apply_order \(o=0x101398 <orders\+56>\) at buggy\/buggy\.c:62/);
    expect(r.out).toMatch(/^PC 100da2$/m);
    expect(r.out).toMatch(/^EAX 12345678$/m);
    expect(r.out).toMatch(/^EAX2 101398$/m); // mov 0x8(%ebp),%eax overwrote it
    expect(r.out).toMatch(/^\$2 = 4242$/m);
    expect(r.out).toMatch(/^001062e0: 4242$/m);
  });

  it('watch, awatch and rwatch stop after the accessing instruction with old and new values', async () => {
    const e = await buggy();
    const r = await runGdb(e.port, [
      'break find_item if id == 199', 'continue', 'delete',
      'watch total', 'continue', 'printf "PC1 %x\\n", $pc', 'delete',
      'awatch total', 'continue', 'printf "PC2 %x\\n", $pc', 'continue', 'printf "PC3 %x\\n", $pc', 'delete',
      'rwatch total_qty', 'continue', 'printf "PC4 %x\\n", $pc', 'delete',
      'watch -l items[5].sold', 'continue', 'printf "PC5 %x\\n", $pc',
    ]);
    // The wild store: line 63 writes total through it = &items[8].
    expect(r.out).toMatch(/Hardware watchpoint 2: total\n\nOld value = 10750\nNew value = 10752\napply_order \(o=0x101390 <orders\+48>\) at buggy\/buggy\.c:64/);
    expect(r.out).toMatch(/^PC1 100dc5$/m);
    expect(r.out).toMatch(/Hardware access \(read\/write\) watchpoint 3: total\n\nValue = 10752\n/);
    expect(r.out).toMatch(/^PC2 100dd9$/m); // after the load at 0x100dd4
    expect(r.out).toMatch(/Hardware access \(read\/write\) watchpoint 3: total\n\nOld value = 10752\nNew value = 10784\n/);
    expect(r.out).toMatch(/^PC3 100de0$/m); // after the store at 0x100ddb
    expect(r.out).toMatch(/Hardware read watchpoint 4: total_qty\n\nValue = 16\n/);
    expect(r.out).toMatch(/^PC4 100deb$/m);
    // orders[8] = {106, 3} is the first order of item 106 (items[5]).
    expect(r.out).toMatch(/Hardware watchpoint 5: -location items\[5\]\.sold\n\nOld value = 0\nNew value = 3\n/);
    expect(r.out).toMatch(/^PC5 100dc5$/m);
  });

  it('a guest exit is shown by gdb as "exited with code N" and ends the emulator with that status', async () => {
    const e = await buggy();
    const r = await runGdb(e.port, ['continue']);
    expect(r.out).toContain('[Inferior 1 (process 1) exited with code 03]');
    expect(await e.exited).toBe(3);
    expect(e.stdout()).toContain('buggy: sum = 14784 (expected 14750)');
  });

  it('kill ends the emulator cleanly', async () => {
    const e = await buggy();
    const r = await runGdb(e.port, ['stepi', 'kill']);
    expect(r.out).toContain('[Inferior 1 (process 1) killed]');
    expect(await e.exited).toBe(0);
    expect(e.stderr()).not.toMatch(/Error|at .*\.js:\d+/);
  });

  it('the guest runs correctly under gdb: the timer sample (PIT interrupts) prints what it prints alone', async () => {
    const timer = sample('timer');
    emu = await startEmu(['--kernel', join(REPO, timer.image)]);
    const r = await runGdb(emu.port, ['break main', 'continue', 'stepi 50', 'continue'], { elf: join(REPO, timer.image) });
    expect(r.out).toContain('[Inferior 1 (process 1) exited with code 01]');
    expect(await emu.exited).toBe(1);
    expect(emu.stdout()).toBe(timer.serial);
  });
});
