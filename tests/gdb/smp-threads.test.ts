// Several CPUs as gdb threads (issue 13), with the real gdb against `bmbt-dbg -smp 2` on
// the SMP test guest (tests/guests/smp): thread N is CPU N-1 as in QEMU, a breakpoint hit
// by an AP reports that thread, and `thread 2` + `stepi` moves only CPU 1 (all-stop).
import { afterEach, describe, expect, it } from 'vitest';
import { runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';

const GUEST = 'tests/guests/build/smp.bin';
/** `ap_main` in smp.asm (0x100000 + its offset in the listing): where each AP enters 32-bit code. */
const AP_MAIN = 0x1018ba;

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
