// Issue 9: one mask for every EFLAGS writer. Bits 3, 5, 15 and 22-31 read 0 and bit 1 reads 1
// (SDM vol. 1, 3.4.3) whatever is written: by the CPU's own paths (checked against QEMU in
// tests/diff/sys-edge-cases.ts, "reserved EFLAGS bits" and jmp-tss-reserved-eflags) and by a
// debugger's register write (QEMU's gdb stub stores the raw value; decisions.md).
import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../src/memory/physical-memory.js';
import { IoBus } from '../../src/devices/io-bus.js';
import { Cpu } from '../../src/cpu/cpu.js';
import { EFLAGS_DEFINED } from '../../src/cpu/lazy-flags.js';
import { writeRegister } from '../../src/debug/registers.js';

function cpu(): Cpu {
  return new Cpu(new PhysicalMemory(1 << 20), new IoBus());
}

describe('EFLAGS reserved bits', () => {
  it('the defined bits are 0-2, 4, 6-14 and 16-21 (bit 1 fixed)', () => {
    expect(EFLAGS_DEFINED >>> 0).toBe(0x3f7fd7);
  });

  it('Cpu.setEflags drops bits 3, 5, 15, 22-31 and sets bit 1, whatever the mask', () => {
    const c = cpu();
    c.setEflags(0xffc08028, 0xffffffff);
    expect(c.getEflags()).toBe(2);
    c.setEflags(0, 0xffffffff);
    expect(c.getEflags()).toBe(2);
    c.setEflags(0xffffffff, 0xffff);
    expect(c.getEflags()).toBe(0x7fd7);
    expect(c.eflags & 0xffc08028).toBe(0);
  });

  it('a debugger register write goes through the same mask', () => {
    const c = cpu();
    expect(writeRegister(c, 'eflags', 0xffc088d5)).toBe(true);
    expect(c.getEflags()).toBe(0x8d7);
    writeRegister(c, 'eflags', 0);
    expect(c.getEflags()).toBe(2);
  });
});
