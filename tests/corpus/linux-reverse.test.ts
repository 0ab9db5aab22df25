// Reverse execution on the Linux boot with the real gdb: attached a few seconds into the
// boot (the kernel running with interrupts, timers, the APIC and the HPET), N stepi then
// N reverse-stepi give back every register and the stack; reverse-continue stops at the
// last hit of a breakpoint (the instruction count says which), forward again reaches the
// same hits.
import { afterEach, describe, expect, it } from 'vitest';
import { corpusOrReason } from './fetch.js';
import { LINUX_APPEND, LINUX_MEMORY_MIB, CPU_MODEL } from './boot-run.js';
import { runGdb, skipWithoutGdb, startEmu, type Emu } from '../gdb/support.js';

const corpus = corpusOrReason();
const missing = typeof corpus === 'string';
if (missing && !process.env['CI']) console.warn(`[corpus] Linux reverse execution: skipped (${corpus})`);

let emu: Emu | null = null;
afterEach(async () => {
  await emu?.close();
  emu = null;
});

const SHOW = 'printf "S %x %x %x %x %x %x %x %x %x %x %x %x\\n", $pc, $eax, $ecx, $edx, $ebx, $esp, $ebp, $esi, $edi, $eflags, *(int*)$esp, *(int*)($esp+4)';

describe.skipIf((missing && !process.env['CI']) || skipWithoutGdb())('reverse execution on the Linux boot (gdb)', () => {
  it('N stepi then N reverse-stepi; reverse-continue to the last breakpoint hit', async () => {
    if (typeof corpus === 'string') throw new Error(`the corpus is missing: ${corpus}`);
    emu = await startEmu([
      '-m', String(LINUX_MEMORY_MIB), '--cpu', CPU_MODEL, '--kernel', corpus.linux.vmlinuz, '--initrd', corpus.initramfs.path,
      '--append', LINUX_APPEND, '-serial', 'null', '--no-wait',
    ]);
    // Let the kernel boot for a while: gdb attaching stops it wherever it is.
    await new Promise((r) => setTimeout(r, 4000));
    const N = 40;
    const cmds = ['monitor icount', SHOW];
    for (let i = 0; i < N; i++) cmds.push('stepi', SHOW);
    cmds.push('echo ---BACK---\\n');
    for (let i = 0; i < N; i++) cmds.push('reverse-stepi', SHOW);
    cmds.push('echo ---HITS---\\n', 'break *$pc');
    for (let i = 0; i < 3; i++) cmds.push('continue', 'monitor icount');
    cmds.push('echo ---REVERSE---\\n', 'reverse-continue', 'monitor icount', 'reverse-continue', 'monitor icount', 'continue', 'monitor icount');
    const r = await runGdb(emu.port, cmds, { elf: null, timeoutMs: 120_000 });
    const [head, rest] = r.out.split('---BACK---');
    const [back, tail] = rest!.split('---HITS---');
    const [hitsOut, revOut] = tail!.split('---REVERSE---');
    const f = head!.split('\n').filter((l) => l.startsWith('S '));
    const b = back!.split('\n').filter((l) => l.startsWith('S '));
    expect(f).toHaveLength(N + 1);
    expect(b).toHaveLength(N);
    for (let i = 0; i < N; i++) expect(b[i], `reverse-stepi ${i + 1}`).toBe(f[N - 1 - i]);
    const counts = (s: string): number[] => [...s.matchAll(/^(\d+)$/gm)].map((m) => Number(m[1]));
    const start = counts(head!)[0]!;
    expect(start).toBeGreaterThan(10_000_000);
    const hits = counts(hitsOut!);
    expect(hits).toHaveLength(3);
    // Back to the second hit, then the first; forward to the second again.
    expect(counts(revOut!)).toEqual([hits[1], hits[0], hits[1]]);
  }, 180_000);
});
