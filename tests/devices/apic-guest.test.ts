// The APIC test guest (tests/guests/apic) on bmbt-dbg's CPU, on a board wired the way
// the local APIC and I/O APIC are meant to be wired into the PC machine (see the wiring
// comment in src/devices/local-apic.ts): COM1 output is compared with QEMU 7.2's.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PhysicalMemory } from '../../src/memory/physical-memory.js';
import { IoBus } from '../../src/devices/io-bus.js';
import { Cpu, IRQ_HARD, IRQ_NMI } from '../../src/cpu/cpu.js';
import { CpuExec } from '../../src/cpu/cpu-exec.js';
import { FLAG_IF } from '../../src/cpu/lazy-flags.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { DualPic } from '../../src/devices/pic8259.js';
import { Pit8254 } from '../../src/devices/pit8254.js';
import { Uart16550 } from '../../src/devices/uart16550.js';
import { IsaDebugExit } from '../../src/devices/isa-debug-exit.js';
import { LocalApic, connectLocalApic } from '../../src/devices/local-apic.js';
import { IoApic, isaIrqLine } from '../../src/devices/io-apic.js';
import { loadMultiboot } from '../../src/boot/multiboot.js';
import { REPO } from '../support/cli.js';

/** A minimal PC: RAM, 8259s, PIT, COM1, isa-debug-exit, CPU, local APIC, I/O APIC. */
function board() {
  const ramSize = 32 << 20;
  const phys = new PhysicalMemory(ramSize);
  const ram = phys.allocate('pc.ram', ramSize);
  phys.mapDirect(0, 0xa0000, ram, 0, true, true);
  phys.mapDirect(0x100000, ramSize - 0x100000, ram, 0x100000, true, true);
  const io = new IoBus();
  const cpu = new Cpu(phys, io);
  phys.onMapChange = () => cpu.mmu.flush();
  const clock = new VirtualClock(() => cpu.icount, 1);
  cpu.tscSource = () => Math.floor(clock.now());
  const exec = new CpuExec(cpu, null);
  // The wiring: 8259 INTR → LINT0; the APIC is cpu.intc and drives IRQ_HARD / IRQ_NMI;
  // each ISA IRQ drives both the 8259 and the I/O APIC; EOIs reach the I/O APIC.
  const apic = new LocalApic(clock, { phys });
  const pic = new DualPic(io, { onIntr: (level) => apic.setLint0(level) });
  apic.extInt = pic;
  connectLocalApic(cpu, apic);
  const ioapic = new IoApic(apic, { phys });
  apic.onEoiBroadcast = (v) => ioapic.eoiBroadcast(v);
  let serial = '';
  new Pit8254(io, clock, { irq0: isaIrqLine(pic, ioapic, 0) });
  new Uart16550(io, clock, { irq: isaIrqLine(pic, ioapic, 4), onTransmit: (b) => { serial += String.fromCharCode(b); } });
  let exit: number | null = null;
  new IsaDebugExit(io, { onExit: (code) => { exit = code; exec.exitRequest = true; cpu.requestExit(); } });
  return { phys, cpu, clock, exec, ramSize, serial: () => serial, exit: () => exit, apic };
}

/** PcMachine.run's loop, reduced: timers, halts warping the clock, isa-debug-exit. */
function run(b: ReturnType<typeof board>, maxInsns: number): void {
  const end = b.cpu.icount + maxInsns;
  while (b.exit() === null && b.cpu.icount < end) {
    b.clock.runDue();
    const stop = b.exec.run(Math.min(end, b.clock.nextDeadlineIcount()));
    if (stop === 'halted') {
      if (b.cpu.interruptRequest & IRQ_HARD && b.cpu.eflags & FLAG_IF) continue;
      if (!(b.cpu.eflags & FLAG_IF) && !(b.cpu.interruptRequest & IRQ_NMI)) return;
      if (!b.clock.warpToNextDeadline()) return;
    } else if (stop !== 'budget' && stop !== 'exit-request') throw new Error(`stopped: ${stop}`);
  }
}

/**
 * Checks of the guest that need CPU work outside the APICs. An interrupt that became
 * pending while IF=0 must be taken right after the instruction that follows STI (SDM vol.
 * 2, STI); cpu-exec only looks at INTR when it leaves the TB chain, so the guest's
 * "sti; nop; nop; nop; cli" windows miss it. NMIs are requested (IRQ_NMI) but not yet
 * delivered by cpu-exec.
 */
const NEEDS_CPU_WORK = new Set([
  'self-ipi taken', 'self-ipi isr in handler', 'self-ipi ppr in handler', 'ipi to own id', 'ipis taken',
  'first', 'second', 'held by tpr', 'taken after tpr 0', 'nmi via icr', 'apic',
]);

function runGuest() {
  const b = board();
  const elf = readFileSync(join(REPO, 'tests/guests/build/apic.elf'));
  loadMultiboot(b.phys, b.cpu, elf, { kernelName: 'apic', cmdline: 'apic', modules: [], ramSize: b.ramSize });
  run(b, 200_000_000);
  const want = readFileSync(join(REPO, 'tests/guests/apic/expected-output.txt'), 'latin1');
  return { got: b.serial(), want, exit: b.exit() };
}

describe('APIC test guest (tests/guests/apic) on the CPU with both APICs wired', () => {
  it('matches QEMU 7.2 on every check that depends on the APICs alone', () => {
    const { got, want } = runGuest();
    const g = got.split('\r\n');
    const w = want.split('\r\n');
    expect(g).toHaveLength(w.length);
    const compared = w.filter((line, i) => {
      if (NEEDS_CPU_WORK.has(line.split(':')[0]!)) return false;
      expect(g[i]).toBe(line);
      return true;
    });
    expect(compared.length).toBeGreaterThan(20);
  });

  // Passes (and must then become a plain `it`) once cpu-exec takes interrupts right after
  // the STI shadow and delivers NMIs.
  it('matches QEMU 7.2 exactly and exits with status 1', () => {
    const { got, want, exit } = runGuest();
    expect(got).toBe(want);
    expect(exit).toBe(1);
  });
});
