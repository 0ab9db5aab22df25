// Machine snapshots: save, run on, load, run again. The second run gives the same serial
// bytes at the same instruction counts, with the same state hash right after each byte,
// as the first; and both end field by field (compared by reflection over every object of
// the machine) equal to a twin machine that ran straight through without snapshots.
import { describe, expect, it } from 'vitest';
import { guestMachine, haveSeabiosFiles, runTo, SEABIOS_BIN, type GuestMachine } from '../support/guest-machine.js';
import { machineDiff } from '../support/state-diff.js';
import { snapshotEngine, stateHash } from '../../src/snapshot/machine-snapshot.js';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { loadBootSector } from '../../src/boot/boot-sector.js';
import { assemble, skipWithoutNasm } from '../support/nasm.js';
import { STORM_DELIVERIES } from '../../src/cpu/cpu-exec.js';

interface Case {
  name: string;
  args: string[];
  /** Where the snapshot is taken (instruction count), and how far the run goes on. */
  at: number;
  span: number;
  /** Typed on the serial console once virtual time passes `atNs` (the guest waits halted). */
  input?: { atNs: number; text: string };
  /** Checked in the first run's serial output (the guest did what the case is about). */
  expect?: string;
  /** Check the debug console instead of the serial port. */
  debugcon?: boolean;
  timeout?: number;
}

const CASES: Case[] = [
  { name: 'timer (PIT, PIC, HLT)', args: ['--kernel', 'samples/build/timer.elf'], at: 10_000, span: 1_000_000, expect: 'timer done' },
  { name: 'demo (self-modifying code, 100 Hz)', args: ['--kernel', 'samples/build/demo.elf'], at: 30_000, span: 1_000_000, expect: 'demo: done' },
  { name: 'paging (#PF fix-ups, PSE)', args: ['--kernel', 'samples/build/paging.elf'], at: 50_000, span: 1_000_000, expect: 'page faults: 3' },
  { name: 'apic (local APIC timer, IPIs)', args: ['--kernel', 'tests/guests/build/apic.elf'], at: 1_000_000, span: 2_000_000 },
  { name: 'board-hpet (HPET, I/O APIC)', args: ['--kernel', 'tests/guests/build/board-hpet.elf'], at: 1_000_000, span: 10_000_000 },
  { name: 'board-pci (PCI configuration, BARs)', args: ['--kernel', 'tests/guests/build/board-pci.elf'], at: 20_000, span: 10_000_000, expect: 'done' },
  { name: 'board-s3 (ACPI S3 suspend, RTC alarm wake-up)', args: ['--kernel', 'tests/guests/build/board-s3.elf', '-m', '128'], at: 20_000, span: 10_000_000, expect: 'RAM marker kept' },
  { name: 'intloop-timer: save, run 10 M instructions, load, run again', args: ['--kernel', 'samples/build/bench-intloop-timer.elf'], at: 5_000_000, span: 10_000_000 },
  // MMX/SSE state: XMM0-7, MXCSR (issue 15)
  { name: 'sse2 (XMM registers and MXCSR, -cpu qemu32): save, run 10 M, load, run again', args: ['--cpu', 'qemu32', '--kernel', 'samples/build/bench-sse2.elf'], at: 3_000_000, span: 10_000_000 },
  { name: 'simd guest (MMX registers in the x87 unit, XMM, MXCSR, #XM): save, run, load, run again', args: ['--cpu', 'qemu32', '--kernel', 'tests/guests/build/simd.elf', '--append', 'probe work'], at: 30_000, span: 10_000_000, debugcon: true, expect: 'mmx emms' },
  // Several CPUs (issue 13): every CPU's registers, APIC and TLB, and the round robin's place.
  { name: 'smp guest, -smp 2 (taken during the IPI ping-pong)', args: ['--kernel', 'tests/guests/build/smp.bin', '-smp', '2'], at: 100_000, span: 1_000_000, expect: 'smp: done' },
  { name: 'smp guest, -smp 4 (taken during the spinlock counter)', args: ['--kernel', 'tests/guests/build/smp.bin', '-smp', '4'], at: 400_000, span: 1_000_000, expect: 'smp: done' },
  { name: 'echo (typed serial input)', args: ['--kernel', 'samples/build/echo.elf'], at: 5_000, span: 1_000_000, input: { atNs: 50e6, text: 'hi there\rq' }, expect: 'bye' },
];

if (haveSeabiosFiles) {
  CASES.push({
    name: 'SeaBIOS boot (PCI, PAM shadowing, fw_cfg DMA, RTC, PS/2, ATA probe, VGA, kvmvapic): save, run 10 M, load, run again',
    args: ['--bios', SEABIOS_BIN, '-m', '64'], at: 200_000, span: 10_000_000, expect: 'Found 5 PCI devices', debugcon: true, timeout: 120_000,
  });
}

interface Output {
  icount: number;
  byte: number;
  /** The state right after the byte's instruction (the last byte of a run() only). */
  hash: string;
}

/**
 * Run `g` (made with stopOnSerial) to `end` or until it stops for good, with the state
 * hash right after every serial byte.
 */
function runHashing(g: GuestMachine, end: number): Output[] {
  const out: Output[] = [];
  const m = g.pc;
  for (;;) {
    const left = end - m.cpu.icount;
    if (left <= 0 || m.clock.now() > 30e9) break;
    const before = g.serial.length;
    const stop = m.run(Math.min(left, 1_000_000));
    for (let i = before; i < g.serial.length; i++) out.push({ icount: g.serial[i]!.icount, byte: g.serial[i]!.byte, hash: '' });
    if (g.serial.length > before) out[out.length - 1]!.hash = `${m.cpu.icount}:${stateHash(m)}`;
    if (stop.kind !== 'budget' && stop.kind !== 'exit-request') break;
  }
  return out;
}

/** Type the case's input once virtual time passes its moment, then run on. */
function runCase(g: GuestMachine, c: Case): Output[] {
  if (c.input) {
    runTo(g.pc, Infinity, { maxNs: c.input.atNs });
    g.pc.serialInput(Buffer.from(c.input.text, 'latin1'));
  }
  return runHashing(g, c.at + c.span);
}

describe('machine snapshots', () => {
  for (const c of CASES) {
    it(`${c.name}: the run after loading equals the first, and a twin's without snapshots, field by field`, () => {
      const a = guestMachine(c.args, { stopOnSerial: true });
      const twin = guestMachine(c.args, { stopOnSerial: true });
      const engine = snapshotEngine(a.pc);
      runTo(a.pc, c.at);
      runTo(twin.pc, c.at);
      expect(a.pc.cpu.icount).toBe(c.at);
      expect(machineDiff(a.pc, twin.pc)).toEqual([]);
      const hashAt = stateHash(a.pc, { memory: true });
      const snap = engine.take();
      expect(stateHash(a.pc, { memory: true })).toBe(hashAt);

      const text = (g: GuestMachine, from: number): string => (c.debugcon ? g.debugconText() : g.serialText()).slice(from);
      const mark = (g: GuestMachine): number => (c.debugcon ? g.debugconText() : g.serialText()).length;
      const firstFrom = mark(a);
      const first = runCase(a, c);
      const firstText = text(a, firstFrom);
      if (c.expect) expect(firstText).toContain(c.expect);
      const endHash = stateHash(a.pc, { memory: true });
      // Taking the snapshot changed nothing the guest can see.
      const twinFrom = mark(twin);
      expect(runCase(twin, c)).toEqual(first);
      expect(text(twin, twinFrom)).toBe(firstText);
      expect(machineDiff(a.pc, twin.pc)).toEqual([]);

      engine.restore(snap);
      expect(a.pc.cpu.icount).toBe(c.at);
      expect(stateHash(a.pc, { memory: true })).toBe(hashAt);
      const secondFrom = mark(a);
      const second = runCase(a, c);
      expect(text(a, secondFrom)).toBe(firstText);
      expect(second).toEqual(first);
      expect(stateHash(a.pc, { memory: true })).toBe(endHash);
      expect(machineDiff(a.pc, twin.pc)).toEqual([]);
      engine.release(snap);
    }, c.timeout ?? 60_000);
  }

  it('a snapshot costs the pages written since the one before it, and a released one frees them', () => {
    const g = guestMachine(['--kernel', 'samples/build/timer.elf', '-m', '128']);
    const engine = snapshotEngine(g.pc);
    runTo(g.pc, 10_000);
    const s1 = engine.take();
    const afterFirst = engine.ram.bytes;
    // A multiboot ELF of a few KiB, its stack and tables: not 128 MiB.
    expect(afterFirst).toBeGreaterThan(0);
    expect(afterFirst).toBeLessThan(1 << 20);
    runTo(g.pc, 20_000);
    const s2 = engine.take();
    // 10,000 instructions of a timer loop touch a handful of pages.
    const delta = engine.ram.bytes - afterFirst;
    expect(delta).toBeGreaterThan(0);
    expect(delta).toBeLessThanOrEqual(8 * 4096);
    engine.release(s1);
    engine.release(s2);
    // The base (what the dirty log is relative to) stays: only s1's own pages go.
    expect(engine.ram.bytes).toBeLessThanOrEqual(afterFirst + delta);
    expect(engine.ram.bytes).toBeGreaterThanOrEqual(afterFirst);
  });

  it('a load drops only the translated code whose guest bytes it changed', () => {
    const g = guestMachine(['--kernel', 'samples/build/smc.elf']);
    const m = g.pc;
    const engine = snapshotEngine(m);
    runTo(m, 5_000);
    const snap = engine.take();
    runTo(m, 40_000);
    const before = new Set(m.exec.tbs.all());
    const invalidations = m.exec.tbs.stats.invalidations;
    engine.restore(snap);
    const after = m.exec.tbs.all();
    // smc.elf patches its own code between 5,000 and 40,000 instructions: those TBs go;
    // every other TB is still there, the same object.
    const dropped = m.exec.tbs.stats.invalidations - invalidations;
    expect(dropped).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((t) => before.has(t))).toBe(true);
    expect(after.length).toBe(before.size - dropped);
    expect(m.exec.tbs.invalidated.slice(-dropped).every((r) => r.reason === 'snapshot loaded')).toBe(true);
  });

  it.skipIf(skipWithoutNasm())('in an exception storm (a #UD handler that is a UD2), the loop\'s storm count is state too', () => {
    // decisions.md 56: past STORM_DELIVERIES deliveries with nothing retired, each one is
    // charged instructions; a load must bring back how far into the streak the loop was.
    const image = assemble(`bits 16
org 0x7c00
  cli
  xor ax, ax
  mov ds, ax
  mov bx, 0x1000
  mov ss, bx
  mov sp, 0x7000
  mov word [6*4], handler
  mov word [6*4+2], 0
  ud2
handler:
  ud2
times 510-($-$$) db 0
dw 0xaa55
`);
    const m = new PcMachine({});
    loadBootSector(m.phys, m.cpu, image, 'storm');
    const engine = snapshotEngine(m);
    // Part-way into the streak, before the charge starts.
    for (let i = 0; i < STORM_DELIVERIES / 2; i++) m.run(1, { single: true });
    const snap = engine.take();
    m.run(500_000);
    const first = { icount: m.cpu.icount, hash: stateHash(m, { memory: true }), storms: m.events.count('exception-storm') };
    expect(first.storms).toBe(1);
    engine.restore(snap);
    m.run(500_000);
    expect({ icount: m.cpu.icount, hash: stateHash(m, { memory: true }) }).toEqual({ icount: first.icount, hash: first.hash });
  });
});
