// Halted CPUs cost nothing (issue 13). tests/guests/smp/halt.asm starts every AP, which
// halts for good (odd APIC IDs with interrupts off, even ones with interrupts on and
// nothing pending), then runs the same CPU-bound work on the BSP as with one CPU. From the
// work's first byte on, the APs execute no instruction, and every COM1 byte comes at the
// same BSP instruction count, machine count and virtual time (counted from that byte) as
// with -smp 1; the text is the same too.
import { describe, expect, it } from 'vitest';
import { guestMachine } from '../support/guest-machine.js';

const GUEST = 'tests/guests/build/smp-halt.bin';

interface Byte {
  byte: number;
  /** The BSP's own count, the machine's, the virtual time; each APs' count. */
  bsp: number;
  total: number;
  ns: number;
  aps: number[];
}

function run(n: number): { text: string; bytes: Byte[]; stop: string } {
  const g = guestMachine(['--kernel', GUEST, ...(n > 1 ? ['-smp', String(n)] : [])], { stopOnSerial: true });
  const m = g.pc;
  const bytes: Byte[] = [];
  let stop = '';
  for (let i = 0; i < 100_000; i++) {
    const s = m.run(5_000_000);
    // Each byte ends the run right after the OUT that sent it: the counts are those there.
    while (bytes.length < g.serial.length) {
      const cpus = m.smp?.cpus.map((v) => v.icount) ?? [m.cpu.icount];
      bytes.push({ byte: g.serial[bytes.length]!.byte, bsp: cpus[0]!, total: m.cpu.icount, ns: m.clock.now(), aps: cpus.slice(1) });
    }
    if (s.kind !== 'budget' && s.kind !== 'exit-request') {
      stop = s.kind;
      break;
    }
  }
  return { text: g.serialText(), bytes, stop };
}

/** Each byte's counts and time from the first byte's. */
function fromFirst(bytes: Byte[]): string[] {
  const b0 = bytes[0]!;
  return bytes.map((b) => `${String.fromCharCode(b.byte)} bsp+${b.bsp - b0.bsp} machine+${b.total - b0.total} ns+${b.ns - b0.ns}`);
}

describe('halted APs cost nothing', () => {
  it('-smp 2 and 3 (APs halted with interrupts off, and on with nothing pending): the BSP\'s work byte by byte as with -smp 1', () => {
    const one = run(1);
    expect(one.stop).toBe('exit');
    expect(one.text).toMatch(/^work\n([0-9A-F]{8}\n){4}done\n$/);
    const want = fromFirst(one.bytes);
    // The work is most of the run: about 40 million instructions.
    expect(one.bytes.at(-1)!.bsp - one.bytes[0]!.bsp).toBeGreaterThan(30_000_000);
    for (const n of [2, 3]) {
      const r = run(n);
      expect(r.stop).toBe('exit');
      expect(r.text).toBe(one.text);
      expect(fromFirst(r.bytes), `-smp ${n}`).toEqual(want);
      // The APs ran their start-up, and nothing from the first byte to the end.
      expect(r.bytes[0]!.aps).toHaveLength(n - 1);
      for (const c of r.bytes[0]!.aps) expect(c).toBeGreaterThan(10);
      for (const b of r.bytes) expect(b.aps).toEqual(r.bytes[0]!.aps);
    }
  }, 60_000);
});
