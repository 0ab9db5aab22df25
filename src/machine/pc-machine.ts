// The PC board, wired top to bottom like BMBT's qemu_init: memory map, port space,
// interrupt controller, timers, serial, debug ports, CPU, then reset.
import { PhysicalMemory } from '../memory/physical-memory.js';
import { IoBus } from '../devices/io-bus.js';
import { Cpu, IRQ_HARD, type WatchHit } from '../cpu/cpu.js';
import { CpuExec, type RunOptions } from '../cpu/cpu-exec.js';
import { FLAG_IF } from '../cpu/lazy-flags.js';
import { EventLog } from '../events/machine-events.js';
import { VirtualClock } from './virtual-clock.js';
import { DualPic } from '../devices/pic8259.js';
import { Pit8254 } from '../devices/pit8254.js';
import { Uart16550 } from '../devices/uart16550.js';
import { DebugCon } from '../devices/debugcon.js';
import { IsaDebugExit } from '../devices/isa-debug-exit.js';
import { LocalApic, connectLocalApic } from '../devices/local-apic.js';
import { IoApic, isaIrqLine } from '../devices/io-apic.js';
import type { IrqLine } from '../devices/device.js';
import { UserError } from '../user-error.js';

export interface MachineConfig {
  /** Guest RAM in MiB (default 32). */
  memoryMiB?: number;
  /** Virtual nanoseconds per retired instruction (default 1: a 1 GHz, 1-IPC machine). */
  nsPerInsn?: number;
  /** Serial (COM1) output, one byte at a time. */
  serial?: (byte: number) => void;
  /** Debug console (port 0xE9) output. */
  debugcon?: (byte: number) => void;
  /** A BIOS image mapped at the top of 4 GiB (its last 128 KiB also below 1 MiB). */
  bios?: Uint8Array;
  /** Maximum number of cached TBs before a flush. */
  maxTbs?: number;
}

export type MachineStop =
  | { kind: 'budget'; halted?: boolean }
  | { kind: 'breakpoint'; pc: number }
  | { kind: 'watchpoint'; hit: WatchHit }
  | { kind: 'idle' } // halted with interrupts enabled, nothing scheduled: waiting for input
  | { kind: 'halted-forever' } // halted with interrupts disabled: nothing can wake it
  | { kind: 'exit'; code: number } // isa-debug-exit
  | { kind: 'triple-fault' } // the machine was reset
  | { kind: 'exit-request' };

const BIOS_ALIAS_SIZE = 128 * 1024;

export class PcMachine {
  readonly events = new EventLog();
  readonly phys: PhysicalMemory;
  readonly io = new IoBus();
  readonly cpu: Cpu;
  readonly exec: CpuExec;
  readonly clock: VirtualClock;
  readonly pic: DualPic;
  readonly lapic: LocalApic;
  readonly ioapic: IoApic;
  readonly pit: Pit8254;
  readonly com1: Uart16550;
  readonly debugcon: DebugCon;
  readonly debugcon402: DebugCon;
  readonly debugExit: IsaDebugExit;
  readonly ramSize: number;
  /** Set by isa-debug-exit: the process exit status QEMU would give. */
  exitCode: number | null = null;
  resets = 0;

  constructor(readonly config: MachineConfig = {}) {
    const mib = config.memoryMiB ?? 32;
    if (!Number.isInteger(mib) || mib < 2 || mib > 2048) throw new UserError(`memory size ${mib} MiB is out of range (2-2048)`);
    this.ramSize = mib * 1024 * 1024;
    const biosSize = config.bios ? config.bios.length : 0;
    if (config.bios && (biosSize % 65536 !== 0 || biosSize > 16 << 20 || biosSize < 65536)) {
      throw new UserError(`BIOS image size ${biosSize} is not a multiple of 64 KiB between 64 KiB and 16 MiB`);
    }
    // memory_map_init: pc.ram (low and high), the legacy window, pc.bios.
    this.phys = new PhysicalMemory(this.ramSize + biosSize);
    const ram = this.phys.allocate('pc.ram', this.ramSize);
    this.phys.mapDirect(0, 0xa0000, ram, 0, true, true);
    // 0xA0000-0xBFFFF: the VGA window, unassigned here (reads as all ones).
    this.phys.mapDirect(0xc0000, 0x40000, ram, 0xc0000, true, true);
    this.phys.mapDirect(0x100000, this.ramSize - 0x100000, ram, 0x100000, true, true);
    if (config.bios) {
      const rom = this.phys.allocate('pc.bios', biosSize);
      this.phys.u8.set(config.bios, rom.offset);
      this.phys.mapDirect((0x100000000 - biosSize) >>> 0, biosSize, rom, 0, true, false);
      // The last 128 KiB of the BIOS also appear just below 1 MiB (isa-bios).
      const alias = Math.min(BIOS_ALIAS_SIZE, biosSize);
      this.phys.mapDirect(0x100000 - alias, alias, rom, biosSize - alias, true, false);
      this.phys.unmap(0x100000 - alias, alias, false, true);
    }

    this.cpu = new Cpu(this.phys, this.io);
    this.phys.onMapChange = () => this.cpu.mmu.flush();
    this.clock = new VirtualClock(() => this.cpu.icount, config.nsPerInsn ?? 1);
    // A timer armed while translated code runs may be due before the slice's deadline.
    this.clock.onArm = (ns) => {
      const at = Math.ceil((ns - this.clock.warpNs) / this.clock.nsPerInsn);
      if (this.exec && at < this.cpu.deadline) {
        this.exec.timersChanged = true;
        this.cpu.requestExit();
      }
    };
    this.cpu.tscSource = () => Math.floor(this.clock.now());
    this.events.icount = () => this.cpu.icount;
    this.exec = new CpuExec(this.cpu, this.events, config.maxTbs);
    this.cpu.onUnimplemented = (eip, bytes, what) => {
      this.events.emit({ kind: 'unimplemented', icount: this.cpu.icount, eip, bytes, what });
    };

    // Interrupts: the 8259 pair reaches the CPU through the local APIC's LINT0 (ExtINT
    // at reset, so PIC-only guests see no difference); ISA IRQs go to both the 8259s and
    // the I/O APIC, as on QEMU's PC.
    this.lapic = new LocalApic(this.clock, { phys: this.phys });
    this.pic = new DualPic(this.io, { log: this.events, onIntr: (level) => this.lapic.setLint0(level) });
    this.lapic.extInt = this.pic;
    connectLocalApic(this.cpu, this.lapic);
    this.ioapic = new IoApic(this.lapic, { phys: this.phys });
    this.lapic.onEoiBroadcast = (v) => this.ioapic.eoiBroadcast(v);
    const irq = (n: number): IrqLine => isaIrqLine(this.pic, this.ioapic, n);
    this.pit = new Pit8254(this.io, this.clock, { irq0: irq(0) });
    // FERR# (an unmasked x87 exception with CR0.NE clear) is IRQ 13 on a PC.
    const irq13 = irq(13);
    this.cpu.fpu.onFerr = (level) => irq13.set(level !== 0);
    this.com1 = new Uart16550(this.io, this.clock, { irq: irq(4), onTransmit: config.serial ?? (() => {}) });
    this.debugcon = new DebugCon(this.io, { onOutput: config.debugcon ?? (() => {}) });
    // SeaBIOS writes its debug log to port 0x402: the same sink as 0xE9.
    this.debugcon402 = new DebugCon(this.io, { port: 0x402, onOutput: config.debugcon ?? (() => {}) });
    this.debugExit = new IsaDebugExit(this.io, {
      onExit: (code) => {
        this.exitCode = code;
        this.exec.exitRequest = true;
        this.cpu.requestExit();
      },
    });
    this.reset('power-on');
  }

  /** qemu_system_reset: every device and the CPU back to their reset state. */
  reset(cause: string): void {
    this.cpu.reset();
    this.pic.reset();
    this.lapic.reset();
    this.ioapic.reset();
    this.pit.reset();
    this.com1.reset();
    this.exec.tbFlush('reset');
    this.resets++;
    this.events.emit({ kind: 'reset', icount: this.cpu.icount, cause });
  }

  /**
   * Run up to `maxInsns` instructions, serving timers on the virtual clock; the CPU
   * halting fast-forwards the clock to the next timer.
   */
  run(maxInsns: number, opts: RunOptions = {}): MachineStop {
    const cpu = this.cpu;
    const end = cpu.icount + maxInsns;
    // A slice is also a window of virtual time, so a halted guest cannot spin here.
    const endNs = this.clock.now() + maxInsns * this.clock.nsPerInsn;
    for (;;) {
      this.clock.runDue();
      if (this.exitCode !== null) return { kind: 'exit', code: this.exitCode };
      const timer = this.clock.nextDeadlineIcount();
      const deadline = Math.min(end, timer);
      const stop = this.exec.run(deadline, opts);
      switch (stop) {
        case 'budget':
          if (opts.oneBlock || opts.single) return { kind: 'budget' };
          if (cpu.icount >= end) return { kind: 'budget' };
          continue;
        case 'halted': {
          if (cpu.interruptRequest & IRQ_HARD && cpu.eflags & FLAG_IF && !opts.noIrq) continue;
          if (!(cpu.eflags & FLAG_IF) && !(cpu.interruptRequest & 2)) return { kind: 'halted-forever' };
          const next = this.clock.nextDeadline();
          if (next === Infinity) return { kind: 'idle' };
          if (next > endNs || opts.single || opts.oneBlock) {
            if (!opts.single && !opts.oneBlock) this.clock.warpTo(endNs);
            return { kind: 'budget', halted: true };
          }
          this.clock.warpToNextDeadline();
          continue;
        }
        case 'breakpoint':
          return { kind: 'breakpoint', pc: cpu.pc };
        case 'watchpoint': {
          const hit = cpu.watchHit!;
          cpu.watchHit = null;
          return { kind: 'watchpoint', hit };
        }
        case 'triple-fault':
          this.reset('triple fault');
          return { kind: 'triple-fault' };
        case 'exit-request':
          if (this.exitCode !== null) return { kind: 'exit', code: this.exitCode };
          return { kind: 'exit-request' };
      }
    }
  }

  /** Bytes typed on the serial console reach the guest's UART. */
  serialInput(bytes: Uint8Array | readonly number[]): void {
    this.com1.receive(bytes);
  }

  // ---- debugger access (linear addresses go through the MMU without side effects) ------

  readLinear(lin: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const pa = this.cpu.mmu.debugTranslate((lin + i) >>> 0);
      if (pa === null) return null;
      out[i] = this.phys.peek8(pa);
    }
    return out;
  }

  /** Write through the MMU; translated code on the written pages is invalidated. */
  writeLinear(lin: number, data: Uint8Array): boolean {
    const pas: number[] = [];
    for (let i = 0; i < data.length; i++) {
      const pa = this.cpu.mmu.debugTranslate((lin + i) >>> 0);
      if (pa === null) return false;
      pas.push(pa);
    }
    this.writePhysicalAt(pas, data);
    return true;
  }

  readPhysical(pa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.phys.peek8((pa + i) >>> 0);
    return out;
  }

  writePhysical(pa: number, data: Uint8Array): void {
    this.writePhysicalAt(Array.from(data, (_, i) => (pa + i) >>> 0), data);
  }

  private writePhysicalAt(pas: number[], data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) {
      const pa = pas[i]!;
      if (this.cpu.mmu.codePages[pa >>> 12]) this.exec.codeWrite(pa, 1);
      this.phys.poke8(pa, data[i]!);
    }
  }
}
