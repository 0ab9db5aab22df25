// Several CPUs (issue 13): the SMP test guest (tests/guests/smp) brings up the APs with
// INIT/SIPI/SIPI, plays IPI ping-pong, uses every destination form, sends an NMI, runs a
// spinlock-protected counter on every CPU, does a TLB shootdown, and has one CPU patch
// code another has run (both ways). Its COM1 text and exit status must be QEMU 7.2's for
// -smp 2 and -smp 4 (committed in tests/guests/smp/expected, and compared with a live
// QEMU when one is installed); and a run must replay exactly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/cli.js';
import { smpSymbol } from '../support/smp-guest.js';
import { runCli } from '../support/cli.js';
import { runQemuSerial } from '../support/qemu-serial.js';
import { skipWithoutQemu } from '../support/qemu.js';
import { guestMachine, runTo } from '../support/guest-machine.js';
import { tbDetailRecord } from '../../src/debug/tb-records.js';
import { detailLines } from '../../ui/panes/tb-inspector-pane.js';
import { tbDetail } from '../../ui/model/tb-view.js';
import { DebugController } from '../../src/debug/controller.js';

const GUEST = 'tests/guests/build/smp.bin';

/** QEMU 7.2's COM1 text for -smp n (make -C tests/guests/smp expected). */
function expected(n: number): string {
  return readFileSync(join(REPO, `tests/guests/smp/expected/smp${n}.txt`), 'latin1');
}

describe.skipIf(skipWithoutQemu())('the SMP guest, on QEMU and on bmbt-dbg', () => {
  for (const n of [2, 4]) {
    it(`-smp ${n}: the same COM1 text and exit status`, async () => {
      const [qemu, ours] = await Promise.all([
        runQemuSerial(['-smp', String(n), '-kernel', GUEST, '-net', 'none']),
        runCli(['--kernel', GUEST, '-smp', `cpus=${n}`, '--ui', 'none', '-display', 'none'], { timeoutMs: 120_000 }),
      ]);
      expect(qemu.serial).toContain('smp: done');
      expect(qemu.serial).toContain(`cpus: ${n}\n`);
      expect(qemu.serial).toContain(`spinlock counter ${n * 20000}, lock xadd counter ${n * 20000}`);
      expect(qemu.serial).toBe(expected(n));
      expect(ours.stdout).toBe(qemu.serial);
      expect(ours.code).toBe(qemu.code);
      expect(ours.code).toBe(1);
    }, 180_000);
  }
});

describe('the round-robin loop', () => {
  /** The guest to its end in-process: serial bytes with their instruction counts, and the CPUs' counts. */
  function run(n: number) {
    const g = guestMachine(['--kernel', GUEST, '-smp', String(n)]);
    const stop = runTo(g.pc, 2_000_000_000);
    return {
      pc: g.pc,
      stop, text: g.serialText(), serial: g.serial.map((s) => `${s.byte}@${s.icount}`).join(' '),
      total: g.pc.cpu.icount, perCpu: g.pc.smp!.cpus.map((v) => v.icount),
    };
  }

  it('the COM1 text is QEMU\'s (as committed) for -smp 2 and 4: code one CPU patched runs with the new bytes on the others', () => {
    for (const n of [2, 4]) {
      const r = run(n);
      expect(r.stop).toBe('exit');
      expect(r.text).toBe(expected(n));
      // CPU 1 rewrote the immediate of a routine the BSP had run 1000 times from one loop;
      // the BSP rewrote it after every AP had run it: each saw the new instruction.
      expect(r.text).toContain(`smc: cpu 1 patched the code the bsp runs 11111111 22222222; the bsp patched the code the aps run, per AP: ${'22222222/33333333 '.repeat(n - 1)}\n`);
      // The TBs at smc_fn: translated, all invalidated by the first patch (a write by
      // another CPU), translated again, all invalidated by the second, translated again.
      // (More than one TB at a pc: one cut short where a CPU's turn ended, say.)
      const fn = smpSymbol('smc_fn');
      const ev = r.pc.events.recent(['tb-translate', 'tb-invalidate']).filter((e) => 'pc' in e && e.pc === fn);
      expect(ev.every((e) => e.kind === 'tb-translate' || (e.kind === 'tb-invalidate' && e.reason === 'self-modifying code'))).toBe(true);
      expect(ev.map((e) => (e.kind === 'tb-invalidate' ? 'i' : 't')).join('')).toMatch(/^t+i+t+i+t+$/);
    }
  }, 120_000);

  it('two -smp 4 runs give the same serial output at the same instruction counts', () => {
    const a = run(4);
    const b = run(4);
    expect(a.stop).toBe('exit');
    expect(a.text).toContain('smp: done');
    expect(b.serial).toBe(a.serial);
    expect(b.perCpu).toEqual(a.perCpu);
    // Every CPU ran; the machine's count is the sum of the CPUs' own counts.
    for (const c of a.perCpu) expect(c).toBeGreaterThan(0);
    expect(a.perCpu.reduce((x, y) => x + y, 0)).toBe(a.total);
  }, 120_000);

  it('the TB inspector\'s records say which CPUs ran each TB: shared code on all, the APs\' start-up on the APs only', () => {
    const g = guestMachine(['--kernel', GUEST, '-smp', '4']);
    expect(runTo(g.pc, 2_000_000_000)).toBe('exit');
    const recs = g.pc.exec.tbs.all().map((tb) => tbDetailRecord(tb, []));
    const key = (r: { cpus: number[]; regionCpus: number[] }): string => [...new Set([...r.cpus, ...r.regionCpus])].sort().join(',');
    const seen = new Set(recs.map(key));
    expect(seen.has('0,1,2,3')).toBe(true);
    // Real-mode code at the SIPI vector runs on the APs alone.
    expect(recs.some((r) => r.codeBits === 16 && r.pc < 0x100000 && key(r) !== '' && !key(r).split(',').includes('0'))).toBe(true);
    expect(recs.every((r) => r.cpus.every((c) => c >= 0 && c < 4))).toBe(true);
    // The inspector's detail names them.
    const shared = recs.find((r) => r.cpus.length === 4)!;
    const lines = detailLines(tbDetail(new DebugController(g.pc), shared)).map((l) => l.text);
    expect(lines).toContain('ran on CPU 0, 1, 2, 3');
    // One CPU: no CPU list (the inspector shows none).
    const one = guestMachine(['--kernel', 'samples/build/hello.elf']);
    runTo(one.pc, 10_000_000);
    const oneRecs = one.pc.exec.tbs.all().map((tb) => tbDetailRecord(tb, []));
    expect(oneRecs.length).toBeGreaterThan(0);
    expect(oneRecs.every((r) => r.cpus.length === 0 && r.regionCpus.length === 0)).toBe(true);
  });

  it('interrupt deliveries name the CPU that took them: pings on the APs, answers on the BSP', () => {
    const g = guestMachine(['--kernel', GUEST, '-smp', '4']);
    expect(runTo(g.pc, 2_000_000_000)).toBe('exit');
    const delivered = g.pc.events.recent(['irq-deliver']).map((e) => (e.kind === 'irq-deliver' ? [e.vector, e.cpu] : []));
    const cpusOf = (v: number): number[] => [...new Set(delivered.filter(([vec]) => vec === v).map(([, c]) => c!))].sort();
    expect(cpusOf(0x40)).toEqual([1, 2, 3]);
    expect(cpusOf(0x41)).toEqual([0]);
    expect(cpusOf(0x45)).toEqual([1, 2, 3]); // the spinlock work, all but self
    expect(cpusOf(2)).toEqual([3]); // the NMI to the last CPU
  });

  it('with one CPU, events carry no CPU', () => {
    const g = guestMachine(['--kernel', 'tests/guests/build/apic.elf']);
    runTo(g.pc, 3_000_000);
    const ev = g.pc.events.recent(['irq-deliver']);
    expect(ev.length).toBeGreaterThan(0);
    for (const e of ev) expect('cpu' in e).toBe(false);
  });
});
