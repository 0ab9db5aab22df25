// A run does not depend on how it is cut into slices, on single-stepping or on which
// translated blocks the cache holds: an interrupt a device raises in the middle of a
// block (an MMIO write to the local APIC or HPET) is taken right after the instruction
// that raised it, as under QEMU's -icount, not at the end of whatever block ran it.
// Reverse execution and replay re-run history with other blocks and slices than the
// first run had.
import { describe, expect, it } from 'vitest';
import { guestMachine, runTo } from '../support/guest-machine.js';
import { stateHash } from '../../src/snapshot/machine-snapshot.js';

function run(args: string[], slice: number, end: number): { out: string; hash: string; icount: number } {
  const g = guestMachine(args);
  const m = g.pc;
  runTo(m, end, { slice });
  return { out: g.serial.map((s) => `${s.icount}:${s.byte}`).join(' '), hash: stateHash(m, { memory: true }), icount: m.cpu.icount };
}

describe('slice independence', () => {
  for (const [name, args, end] of [
    ['apic (local APIC timer and IPIs through MMIO)', ['--kernel', 'tests/guests/build/apic.elf'], 2_500_000],
    ['board-hpet (HPET comparators through MMIO)', ['--kernel', 'tests/guests/build/board-hpet.elf'], 3_000_000],
  ] as const) {
    it(`${name}: the same output at the same instruction counts whatever the slices`, () => {
      const a = run([...args], 10_000_000, end);
      const b = run([...args], 997, end);
      // One instruction per slice: every block ends after its first instruction.
      const c = run([...args], 1, end / 5);
      const a5 = run([...args], 10_000_000, end / 5);
      expect(b.out).toBe(a.out);
      expect(b.hash).toBe(a.hash);
      expect(c.out).toBe(a5.out);
      expect(c.hash).toBe(a5.hash);
    }, 120_000);
  }
});
