// Reverse execution with the real gdb (bs / bc, ReverseStep+ / ReverseContinue+), on the
// buggy sample: N stepi then N reverse-stepi give back every register and the stack,
// reverse-continue stops at the last breakpoint hit, reverse-finish returns to the
// caller, a reverse watchpoint finds the last writer of `total`, and at the start of
// history gdb hears replaylog:begin ("No more reverse-execution history").
import { afterEach, describe, expect, it } from 'vitest';
import { BUGGY, runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';

let emu: Emu | null = null;
afterEach(async () => {
  await emu?.close();
  emu = null;
});

async function buggy(): Promise<Emu> {
  emu = await startEmu(['--kernel', BUGGY]);
  return emu;
}

/** Every general register, the flags, and the top of the stack, on one line. */
const SHOW = 'printf "S %x %x %x %x %x %x %x %x %x %x %x %x %x %x\\n", $pc, $eax, $ecx, $edx, $ebx, $esp, $ebp, $esi, $edi, $eflags, *(int*)$esp, *(int*)($esp+4), *(int*)($esp+8), total';

function shown(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('S '));
}

describe.skipIf(skipWithoutGdb())('reverse execution with gdb', () => {
  it('qSupported says ReverseStep+ and ReverseContinue+; reverse-stepi at the start: no more history', async () => {
    const e = await buggy();
    const r = await runGdb(e.port, ['reverse-stepi', 'info registers eip', 'reverse-continue']);
    expect(r.out).toContain('No more reverse-execution history.');
    expect(r.out).toMatch(/eip\s+0x10000c\s/);
    expect(r.out).not.toContain('Target remote does not support this command');
  });

  it('N stepi then N reverse-stepi: every register and the stack as they were, step by step', async () => {
    const e = await buggy();
    const N = 40;
    const cmds = ['break apply_order', 'continue', SHOW];
    for (let i = 0; i < N; i++) cmds.push('stepi', SHOW);
    cmds.push('echo ---BACK---\\n');
    for (let i = 0; i < N; i++) cmds.push('reverse-stepi', SHOW);
    const r = await runGdb(e.port, cmds, { timeoutMs: 60_000 });
    const [fwd, back] = r.out.split('---BACK---');
    const f = shown(fwd!);
    const b = shown(back!);
    expect(f).toHaveLength(N + 1);
    expect(b).toHaveLength(N);
    // The stepped code calls find_item and returns: registers, stack and memory change.
    expect(new Set(f.map((l) => l.split(' ')[1])).size).toBeGreaterThan(20);
    for (let i = 0; i < N; i++) expect(b[i], `reverse-stepi ${i + 1}`).toBe(f[N - 1 - i]);
  }, 90_000);

  it('reverse-continue stops at the last breakpoint hit; continue goes forward through the same hits', async () => {
    const e = await buggy();
    const r = await runGdb(e.port, [
      'break apply_order', 'continue', 'continue', 'continue', 'continue', 'print orders_done',
      'reverse-continue', 'print orders_done', 'print o->id', 'reverse-continue', 'print orders_done',
      'continue', 'print orders_done', 'print o->id',
    ]);
    const values = [...r.out.matchAll(/^\$\d+ = (\d+)$/gm)].map((m) => Number(m[1]));
    expect(values).toEqual([3, 2, 105, 1, 2, 105]);
    expect(r.out.match(/Breakpoint 1, apply_order/g)!.length).toBe(7);
  }, 60_000);

  it('reverse-finish returns to the call in the caller; reverse-next steps back over a call', async () => {
    const e = await buggy();
    const r = await runGdb(e.port, [
      'break find_item', 'continue', 'continue', 'delete', 'reverse-finish', 'bt 1', 'print o->id',
      'next', 'next', 'reverse-next', 'info line *$pc',
    ]);
    expect(r.out).toMatch(/#0 {2}0x[0-9a-f]+ in apply_order \(o=0x[0-9a-f]+ <orders\+8>\) at buggy\/buggy\.c:62/);
    expect(r.out).toMatch(/^\$1 = 102$/m);
    // Back over `it->sold += o->qty;` (line 63) to line 63's start.
    expect(r.out).toMatch(/Line 63 of "buggy\/buggy\.c" starts at address/);
  }, 60_000);

  it('a reverse watchpoint finds who last wrote `total`: the wild write through find_item\'s bad pointer', async () => {
    const e = await buggy();
    const r = await runGdb(e.port, [
      'break expected_total', 'continue', 'print total', 'watch total',
      'reverse-continue', 'print *o', 'reverse-continue', 'print *o',
      // Keep going back until the write that is not `total += ...` (line 64).
      'reverse-continue', 'reverse-continue', 'reverse-continue', 'print *o', 'print it',
    ], { timeoutMs: 60_000 });
    expect(r.out).toMatch(/^\$1 = 14784$/m);
    expect(r.out).toMatch(/Old value = 14784\nNew value = 14034\n0x[0-9a-f]+ in apply_order \(o=0x[0-9a-f]+ <orders\+72>\) at buggy\/buggy\.c:64/);
    expect(r.out).toMatch(/^\$2 = \{id = 102, qty = 2\}$/m);
    expect(r.out).toMatch(/^\$3 = \{id = 106, qty = 3\}$/m);
    // Order 7 (id 199): line 63, it->sold += o->qty, with it == &items[8] == &total.
    expect(r.out).toMatch(/in apply_order \(o=0x[0-9a-f]+ <orders\+48>\) at buggy\/buggy\.c:63\n63\s+it->sold \+= o->qty;/);
    expect(r.out).toMatch(/^\$4 = \{id = 199, qty = 2\}$/m);
    expect(r.out).toMatch(/^\$5 = \(struct item \*\) 0x[0-9a-f]+ <total>$/m);
  }, 90_000);
});
