// The second DiffTarget: our own machine, driven through the debugger controller the
// gdb server and the UI use (breakpoints, memory and registers by linear address).
import { readFileSync } from 'node:fs';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { loadMultiboot } from '../../src/boot/multiboot.js';
import { DebugController } from '../../src/debug/controller.js';
import { HARNESS_ELF } from './harness-layout.js';
import type { DiffTarget, Regs, RegName, StopInfo } from './diff-target.js';

/** Guest instructions per millisecond of timeout (cases are tiny; loops are the risk). */
const INSNS_PER_MS = 20_000;

export class BmbtDiffTarget implements DiffTarget {
  readonly name = 'bmbt';
  readonly pc: PcMachine;
  readonly ctl: DebugController;

  private constructor(kernel: string, cpuModel?: string) {
    this.pc = new PcMachine({ memoryMiB: 64, ...(cpuModel ? { cpuModel } : {}) });
    loadMultiboot(this.pc.phys, this.pc.cpu, readFileSync(kernel), {
      kernelName: kernel, cmdline: kernel, modules: [], ramSize: this.pc.ramSize,
    });
    this.ctl = new DebugController(this.pc);
  }

  static async start(kernel = HARNESS_ELF, cpuModel?: string): Promise<BmbtDiffTarget> {
    return new BmbtDiffTarget(kernel, cpuModel);
  }

  async writeMemory(addr: number, bytes: Uint8Array): Promise<void> {
    if (!(await this.ctl.writeMemory(addr, bytes))) throw new Error(`bmbt: write at 0x${addr.toString(16)} unmapped`);
  }

  async readMemory(addr: number, len: number): Promise<Uint8Array> {
    const d = await this.ctl.readMemory(addr, len);
    if (!d) throw new Error(`bmbt: read at 0x${addr.toString(16)} unmapped`);
    return d;
  }

  async readRegisters(): Promise<Regs> {
    const r = await this.ctl.registers();
    const g = r.gpr;
    return {
      eax: g[0]!, ecx: g[1]!, edx: g[2]!, ebx: g[3]!, esp: g[4]!, ebp: g[5]!, esi: g[6]!, edi: g[7]!,
      eip: r.eip, eflags: r.eflags,
      es: r.seg[0]!.sel, cs: r.seg[1]!.sel, ss: r.seg[2]!.sel, ds: r.seg[3]!.sel, fs: r.seg[4]!.sel, gs: r.seg[5]!.sel,
      cr0: r.cr0, cr2: r.cr2, cr3: r.cr3, cr4: r.cr4,
    };
  }

  async writeRegister(name: RegName, value: number): Promise<void> {
    if (!(await this.ctl.setRegister(name, value))) throw new Error(`bmbt: cannot write ${name}`);
  }

  async setBreakpoint(addr: number): Promise<void> {
    this.ctl.addBreakpoint(addr, { owner: 'diff' });
  }

  async removeBreakpoint(addr: number): Promise<void> {
    this.ctl.removeBreakpoint(addr);
  }

  async continue(opts: { timeoutMs?: number } = {}): Promise<StopInfo> {
    const m = this.pc;
    const budget = (opts.timeoutMs ?? 10_000) * INSNS_PER_MS;
    const end = m.cpu.icount + budget;
    const pc = m.cpu.pc;
    if (this.ctl.breakpoints().some((b) => b.addr === pc)) m.exec.skipBreakpointAt = pc;
    for (;;) {
      const left = end - m.cpu.icount;
      if (left <= 0) return { reason: 'timeout' };
      const stop = m.run(left);
      switch (stop.kind) {
        case 'breakpoint':
          return { reason: 'breakpoint' };
        case 'triple-fault':
          return { reason: 'shutdown', detail: 'triple fault' };
        case 'budget':
          if (stop.halted && m.cpu.icount >= end) return { reason: 'timeout' };
          continue;
        case 'idle':
        case 'halted-forever':
          return { reason: 'timeout', detail: stop.kind };
        default:
          return { reason: 'other', detail: JSON.stringify(stop) };
      }
    }
  }

  async close(): Promise<void> {}
}
