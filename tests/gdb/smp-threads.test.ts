// Several CPUs as gdb threads (issue 13), with the real gdb against `bmbt-dbg -smp 2` on
// the SMP test guest (tests/guests/smp): thread N is CPU N-1 as in QEMU, a breakpoint hit
// by an AP reports that thread, and `thread 2` + `stepi` moves only CPU 1 (all-stop).
import { afterEach, describe, expect, it } from 'vitest';
import { runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';
import { SMP_GUEST as GUEST, smpSymbol } from '../support/smp-guest.js';

/** Where each AP enters 32-bit code. */
const AP_MAIN = smpSymbol('ap_main');

let emu: Emu | null = null;
afterEach(async () => {
  await emu?.close();
  emu = null;
});

describe.skipIf(skipWithoutGdb())('gdb threads on bmbt-dbg -smp 2', () => {
  it('info threads lists both CPUs; an AP\'s breakpoint reports thread 2; thread 2 + stepi moves only CPU 1', async () => {
    emu = await startEmu(['--kernel', GUEST, '-smp', '2']);
    const r = await runGdb(emu.port, [
      'info threads', 'echo ---BREAK---\\n',
      `break *0x${AP_MAIN.toString(16)}`, 'continue', 'echo ---STEP---\\n',
      'thread 1', 'p/x $pc', 'thread 2', 'p/x $pc', 'stepi', 'p/x $pc', 'thread 1', 'p/x $pc', 'info threads',
    ], { elf: null });
    const [start, hit, step] = r.out.split(/---BREAK---|---STEP---/);
    // At the start: the BSP runs, the AP waits for its SIPI (halted at the reset vector).
    expect(start).toMatch(/^\* 1 +Thread 1\.1 \(CPU#0 \[running\]\) 0x00100020 in \?\? \(\)$/m);
    expect(start).toMatch(/^ {2}2 +Thread 1\.2 \(CPU#1 \[halted\]\) +0x0000fff0 in \?\? \(\)$/m);
    expect(start).not.toMatch(/^\*? +3 /m);
    expect(hit).toContain('[Switching to Thread 1.2]');
    expect(hit).toContain(`Thread 2 hit Breakpoint 1, 0x${AP_MAIN.toString(16).padStart(8, '0')} in ?? ()`);
    // Each thread has its own registers; the step moved CPU 1 by one instruction (mov ax,
    // 0x10 is 4 bytes) and CPU 0 not at all.
    const pcs = [...step!.matchAll(/^\$\d+ = (0x[0-9a-f]+)$/gm)].map((m) => parseInt(m[1]!, 16));
    expect(pcs).toHaveLength(4);
    const [bsp, ap, apAfter, bspAfter] = pcs as [number, number, number, number];
    expect(ap).toBe(AP_MAIN);
    expect(apAfter).toBe(AP_MAIN + 4);
    expect(bsp).not.toBe(AP_MAIN);
    expect(bspAfter).toBe(bsp);
    expect(step).toMatch(new RegExp(`^ {2}2 +Thread 1\\.2 \\(CPU#1 \\[running\\]\\) 0x${(AP_MAIN + 4).toString(16).padStart(8, '0')} in \\?\\? \\(\\)$`, 'm'));
  });

  it('reverse-continue back to a breakpoint hit on thread 2, stepi and reverse-stepi there: both CPUs as they were', async () => {
    emu = await startEmu(['--kernel', GUEST, '-smp', '2']);
    const isrPing = smpSymbol('isr_ping');
    // Both CPUs: which one is selected, each one's pc and instruction count (monitor info
    // cpus), then each thread's registers.
    const SHOW = [
      'echo ===\\n', 'monitor info cpus',
      'thread apply all printf "R %x %x %x %x %x %x %x %x %x %x\\n", $pc, $eax, $ecx, $edx, $ebx, $esp, $ebp, $esi, $edi, $eflags',
    ];
    const N = 4;
    const cmds = [`break *0x${isrPing.toString(16)}`, 'continue', ...SHOW];
    for (let i = 0; i < N; i++) cmds.push('stepi', ...SHOW);
    cmds.push('continue', ...SHOW, 'continue', ...SHOW, 'echo ---BACK---\\n');
    cmds.push('reverse-continue', ...SHOW, 'reverse-continue', ...SHOW);
    for (let i = 0; i < N; i++) cmds.push('stepi', ...SHOW);
    for (let i = 0; i < N; i++) cmds.push('reverse-stepi', ...SHOW);
    const r = await runGdb(emu.port, cmds, { elf: null, timeoutMs: 60_000 });
    const [fwd, back] = r.out.split('---BACK---');
    /** Each SHOW: the info cpus lines and the register lines, without gdb's thread headers. */
    const shows = (out: string): string[] => out.split('===\n').slice(1).map((b) => b.split('\n').filter((l) => /^[* ] CPU #|^R /.test(l)).join('\n'));
    const f = shows(fwd!);
    const b = shows(back!);
    expect(f).toHaveLength(N + 3);
    expect(b).toHaveLength(2 + 2 * N);
    const hit1 = f[0]!;
    const steps = f.slice(0, N + 1);
    const [hit2, hit3] = [f[N + 1]!, f[N + 2]!];
    // At every hit CPU 1 is the selected one, at isr_ping; the CPUs ran between the hits.
    for (const h of [hit1, hit2, hit3]) {
      expect(h).toMatch(new RegExp(`^\\* CPU #1: pc=0x0*${isrPing.toString(16)} apic_id=1 instructions=\\d+$`, 'm'));
      expect(h.split('\n').filter((l) => l.startsWith('R '))).toHaveLength(2);
    }
    expect(new Set([hit1, hit2, hit3]).size).toBe(3);
    // Three hits forward, two going back, one more where the last reverse-stepi lands on it.
    expect(r.out.match(/Thread 2 hit Breakpoint 1,/g)!.length).toBe(3 + 2 + 1);
    // Back to the second hit, then the first; forward N steps (the recorded future) and back.
    expect(b[0]).toBe(hit2);
    expect(b[1]).toBe(hit1);
    for (let i = 1; i <= N; i++) expect(b[1 + i], `stepi ${i}`).toBe(steps[i]);
    for (let i = 1; i <= N; i++) expect(b[1 + N + i], `reverse-stepi ${i}`).toBe(steps[N - i]);
    // Only CPU 1 moved while stepping: CPU 0's line stays.
    const cpu0 = (s: string): string => s.split('\n').find((l) => l.includes('CPU #0'))!;
    for (const s of steps) expect(cpu0(s)).toBe(cpu0(hit1));
  }, 90_000);

  it('monitor info cpus lists the CPUs as QEMU does; monitor cpu N selects one', async () => {
    emu = await startEmu(['--kernel', GUEST, '-smp', '2']);
    // gdb's own thread stays 1: its registers are CPU 0's whatever the monitor selected.
    const r = await runGdb(emu.port, ['monitor info cpus', 'monitor cpu 1', 'flushregs', 'p/x $pc', 'thread 2', 'p/x $pc', 'monitor cpu 2'], { elf: null });
    expect(r.out).toMatch(/^\* CPU #0: pc=0x0000000000100020 apic_id=0 instructions=0\n {2}CPU #1: pc=0x00000000fffffff0 \(waiting for SIPI\) apic_id=1 instructions=0$/m);
    expect(r.out).toMatch(/^ {2}CPU #0: pc=0x0000000000100020 apic_id=0 instructions=0\n\* CPU #1: /m);
    expect(r.out).toMatch(/^\$1 = 0x100020$/m);
    expect(r.out).toMatch(/^\$2 = 0xfff0$/m);
    expect(r.out).toMatch(/cpu: 2 is not a CPU of this machine \(0-1\)/);
  });
});
