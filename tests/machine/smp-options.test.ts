// -smp on the command line, without QEMU: `-smp N` and `-smp cpus=N` give the machine N
// CPUs with local APIC IDs 0..N-1 (the BSP flag on CPU 0 only), each with its CPUID.1:EBX
// (initial APIC ID, N logical processors), fw_cfg's CPU count N, and the debugger's CPU
// list; without -smp, or -smp 1, the machine has one CPU and no round-robin loop at all.
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../cli/options.js';
import { guestMachine } from '../support/guest-machine.js';
import { DebugController } from '../../src/debug/controller.js';
import type { PcMachine } from '../../src/machine/pc-machine.js';

const KERNEL = 'samples/build/hello.elf';

/** fw_cfg FW_CFG_NB_CPUS (key 5), as the guest reads it through ports 0x510/0x511. */
function fwCfgCpus(m: PcMachine): number {
  m.io.write(0x510, 5, 2);
  return m.io.read(0x511, 1) | (m.io.read(0x511, 1) << 8);
}

describe('-smp without QEMU', () => {
  it.each([
    [['-smp', '2'], 2],
    [['-smp', 'cpus=3'], 3],
    [['-smp', '4'], 4],
    [['-smp', 'cpus=8'], 8],
  ])('%j: that many CPUs, APIC IDs 0..N-1', (args, n) => {
    const opts = parseCli(['--kernel', KERNEL, ...args]);
    if (typeof opts === 'string') throw new Error(opts);
    expect(opts.cpus).toBe(n);
    const m = guestMachine(['--kernel', KERNEL, ...args]).pc;
    const smp = m.smp!;
    expect(smp.cpus).toHaveLength(n);
    expect(smp.cpus.map((v) => v.index)).toEqual([...Array(n).keys()]);
    expect(smp.cpus.map((v) => v.apic.info().id)).toEqual([...Array(n).keys()]);
    // IA32_APIC_BASE: the BSP flag (bit 8) on CPU 0 only, every APIC at 0xFEE00000 and enabled.
    expect(smp.cpus.map((v) => v.apic.baseMsr.toString(16))).toEqual(['fee00900', ...Array<string>(n - 1).fill('fee00800')]);
    // CPUID.1:EBX: the initial APIC ID in bits 31-24, N logical processors in 23-16.
    expect(smp.cpus.map((v) => v.cpuidEbx1 >>> 24)).toEqual([...Array(n).keys()]);
    expect(smp.cpus.map((v) => (v.cpuidEbx1 >>> 16) & 0xff)).toEqual(Array<number>(n).fill(n));
    expect(fwCfgCpus(m)).toBe(n);
    // The BSP runs; every AP waits for its STARTUP IPI.
    const recs = new DebugController(m).cpus();
    expect(recs.map((c) => [c.index, c.apicId, c.state])).toEqual(
      [...Array(n).keys()].map((i) => [i, i, i === 0 ? 'running' : 'wait-for-sipi']),
    );
  });

  it('without -smp, and with -smp 1: one CPU, no round-robin loop', () => {
    for (const args of [[], ['-smp', '1'], ['-smp', 'cpus=1']]) {
      const opts = parseCli(['--kernel', KERNEL, ...args]);
      if (typeof opts === 'string') throw new Error(opts);
      expect(opts.cpus).toBe(1);
      const m = guestMachine(['--kernel', KERNEL, ...args]).pc;
      expect(m.smp).toBeNull();
      expect(fwCfgCpus(m)).toBe(1);
      expect(new DebugController(m).cpus().map((c) => [c.index, c.apicId])).toEqual([[0, 0]]);
    }
  });
});
