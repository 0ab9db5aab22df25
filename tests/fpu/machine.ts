// A tiny test bench for x87 unit tests: a PC machine in flat 32-bit protected mode
// (the Multiboot entry state) with an IDT whose handlers record the vector and halt.
import { PcMachine } from '../../src/machine/pc-machine.js';
import { enterFlatProtectedMode } from '../../src/boot/multiboot.js';
import type { Cpu } from '../../src/cpu/cpu.js';

export const CODE = 0x100000;
export const DATA = 0x200000;
const IDT = 0x8000;
const STUBS = 0x9000;
/** Where an exception handler writes its vector (0xffffffff: none taken). */
export const VECTOR_AT = 0x6000;
/** Where the handler writes the faulting EIP. */
export const FAULT_EIP_AT = 0x6004;

export interface RunResult {
  vector: number | null;
  faultEip: number;
  cpu: Cpu;
}

export class FpuBench {
  readonly m: PcMachine;

  /** `cpuModel`: -cpu (default bmbt-dbg's; the SIMD tests use qemu32). */
  constructor(cpuModel?: string) {
    this.m = new PcMachine({ memoryMiB: 16, ...(cpuModel ? { cpuModel } : {}) });
    this.reset();
  }

  get cpu(): Cpu {
    return this.m.cpu;
  }

  reset(): void {
    const { m } = this;
    enterFlatProtectedMode(m.phys, m.cpu, CODE);
    m.cpu.idtBase = IDT;
    m.cpu.idtLimit = 32 * 8 - 1;
    const idt = new DataView(new ArrayBuffer(32 * 8));
    const stubs: number[] = [];
    for (let v = 0; v < 32; v++) {
      const at = STUBS + v * 32;
      idt.setUint32(v * 8, (0x08 << 16) | (at & 0xffff), true);
      idt.setUint32(v * 8 + 4, (at & 0xffff0000) | 0x8e00, true);
      // vectors with an error code: drop it first
      const err = v === 8 || (v >= 10 && v <= 14) || v === 17;
      const stub = [
        ...(err ? [0x83, 0xc4, 0x04] : []), // add esp, 4
        0xc7, 0x05, ...le32(VECTOR_AT), ...le32(v), // mov dword [VECTOR_AT], v
        0x8b, 0x04, 0x24, // mov eax, [esp]
        0xa3, ...le32(FAULT_EIP_AT), // mov [FAULT_EIP_AT], eax
        0xf4, // hlt
      ];
      while (stub.length < 32) stub.push(0x90);
      stubs.push(...stub);
    }
    m.writePhysical(IDT, new Uint8Array(idt.buffer));
    m.writePhysical(STUBS, new Uint8Array(stubs));
  }

  /** Run `code` (a HLT is appended) at CODE with `data` at DATA; returns the exception taken, if any. */
  run(code: readonly number[], data: readonly number[] = [], opts: { cr0?: number; setup?: (cpu: Cpu) => void } = {}): RunResult {
    const { m } = this;
    const cpu = m.cpu;
    enterFlatProtectedMode(m.phys, cpu, CODE);
    cpu.idtBase = IDT;
    cpu.idtLimit = 32 * 8 - 1;
    cpu.regs[4] = 0x7000;
    if (opts.cr0 !== undefined) cpu.setCr0(opts.cr0);
    opts.setup?.(cpu);
    m.writePhysical(VECTOR_AT, new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    m.writePhysical(CODE, new Uint8Array([...code, 0xf4]));
    if (data.length) m.writePhysical(DATA, new Uint8Array(data));
    cpu.halted = false;
    m.run(100_000);
    const v = new DataView(m.readPhysical(VECTOR_AT, 8).buffer);
    const vector = v.getUint32(0, true);
    return { vector: vector === 0xffffffff ? null : vector, faultEip: v.getUint32(4, true), cpu };
  }

  read(addr: number, len: number): number[] {
    return [...this.m.readPhysical(addr, len)];
  }
}

export function le32(v: number): number[] {
  return [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
}

export function le16(v: number): number[] {
  return [v & 0xff, (v >> 8) & 0xff];
}

/** ModRM + disp32 for [disp32] with ModRM.reg = r. */
export function memAbs(r: number, addr: number): number[] {
  return [(r << 3) | 5, ...le32(addr)];
}
