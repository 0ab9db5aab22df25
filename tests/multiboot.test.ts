// The multiboot loader: the register state and information structure the specification
// defines, modules and the command line, and its checks.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcMachine } from '../src/machine/pc-machine.js';
import { loadMultiboot, MULTIBOOT_BOOTLOADER_MAGIC } from '../src/boot/multiboot.js';
import { UserError } from '../src/user-error.js';
import { REPO } from './support/cli.js';

const hello = readFileSync(join(REPO, 'samples/build/hello.elf'));

function u32(m: PcMachine, a: number): number {
  return m.phys.read32(a) >>> 0;
}

function cstring(m: PcMachine, a: number): string {
  let s = '';
  for (let c = m.phys.read8(a); c !== 0; c = m.phys.read8(++a)) s += String.fromCharCode(c);
  return s;
}

describe('multiboot loader', () => {
  it('enters 32-bit protected mode with the magic in EAX and the info address in EBX', () => {
    const m = new PcMachine({ memoryMiB: 64 });
    const k = loadMultiboot(m.phys, m.cpu, hello, { kernelName: 'hello', cmdline: 'hello x=1', modules: [], ramSize: m.ramSize });
    const cpu = m.cpu;
    expect(cpu.regs[0]! >>> 0).toBe(MULTIBOOT_BOOTLOADER_MAGIC);
    expect(cpu.regs[3]! >>> 0).toBe(k.infoAddr);
    expect(cpu.cr0 & 0x80000001).toBe(1);
    expect(cpu.eflags & 0x200).toBe(0);
    expect(cpu.eip).toBe(k.entry);
    expect(cpu.segLimit[1]).toBe(0xffffffff);
    expect(cpu.segBase[3]).toBe(0);
  });

  it('fills mem_lower/upper, the command line, modules and a memory map', () => {
    const m = new PcMachine({ memoryMiB: 64 });
    const mods = [{ name: 'one.img', data: new Uint8Array([1, 2, 3]) }, { name: 'two.img arg', data: new Uint8Array(5000).fill(7) }];
    const k = loadMultiboot(m.phys, m.cpu, hello, { kernelName: 'hello', cmdline: 'hello console=ttyS0', modules: mods, ramSize: m.ramSize });
    const info = k.infoAddr;
    const flags = u32(m, info);
    expect(flags & 0x4d).toBe(0x4d); // mem, cmdline, mods, mmap
    expect(u32(m, info + 4)).toBe(639);
    // QEMU's SeaBIOS keeps the last 128 KiB of RAM for its tables: 63 MiB - 128 KiB.
    expect(u32(m, info + 8)).toBe(63 * 1024 - 128);
    expect(cstring(m, u32(m, info + 16))).toBe('hello console=ttyS0');
    expect(u32(m, info + 20)).toBe(2);
    const modsAddr = u32(m, info + 24);
    const m0 = { start: u32(m, modsAddr), end: u32(m, modsAddr + 4), name: cstring(m, u32(m, modsAddr + 8)) };
    const m1 = { start: u32(m, modsAddr + 16), end: u32(m, modsAddr + 20), name: cstring(m, u32(m, modsAddr + 24)) };
    expect(m0.start % 4096).toBe(0);
    expect(m0.start).toBeGreaterThanOrEqual(k.kernelEnd);
    expect(m0.end - m0.start).toBe(3);
    expect(m.phys.read8(m0.start + 2)).toBe(3);
    expect(m0.name).toBe('one.img');
    expect(m1.start).toBeGreaterThanOrEqual(m0.end);
    expect(m1.name).toBe('two.img arg');
    expect(m.phys.read8(m1.end - 1)).toBe(7);
    const mmapLen = u32(m, info + 44);
    const mmapAddr = u32(m, info + 48);
    const entries: { base: number; len: number; type: number }[] = [];
    for (let p = mmapAddr; p < mmapAddr + mmapLen; p += u32(m, p) + 4) {
      entries.push({ base: u32(m, p + 4), len: u32(m, p + 12), type: u32(m, p + 20) });
    }
    expect(entries).toContainEqual({ base: 0x100000, len: (63 << 20) - 0x20000, type: 1 });
    expect(entries).toContainEqual({ base: (64 << 20) - 0x20000, len: 0x20000, type: 2 });
    expect(entries.find((e) => e.base === 0)?.type).toBe(1);
  });

  it('rejects an image whose segments do not fit in RAM', () => {
    const m = new PcMachine({ memoryMiB: 16 });
    const elf = tinyElf(0x10000000);
    expect(() => loadMultiboot(m.phys, m.cpu, elf, { kernelName: 'far', cmdline: '', modules: [], ramSize: m.ramSize })).toThrow(/does not fit in RAM/);
    expect(() => loadMultiboot(m.phys, m.cpu, tinyElf(0x100000), { kernelName: 'ok', cmdline: '', modules: [], ramSize: m.ramSize })).not.toThrow();
  });

  it('reports a missing header as a user error', () => {
    const m = new PcMachine({ memoryMiB: 16 });
    expect(() => loadMultiboot(m.phys, m.cpu, new Uint8Array(100), { kernelName: 'z', cmdline: '', modules: [], ramSize: m.ramSize })).toThrow(UserError);
  });
});

/** A minimal ELF32 with one PT_LOAD segment at `paddr` holding a multiboot header. */
function tinyElf(paddr: number): Uint8Array {
  const b = new Uint8Array(0x100);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 3, true); // EM_386
  dv.setUint32(20, 1, true);
  dv.setUint32(24, paddr + 0x80, true); // entry
  dv.setUint32(28, 0x34, true); // phoff
  dv.setUint16(40, 0x34, true);
  dv.setUint16(42, 32, true);
  dv.setUint16(44, 1, true);
  dv.setUint32(0x34, 1, true); // PT_LOAD
  dv.setUint32(0x38, 0x80, true); // offset
  dv.setUint32(0x3c, paddr, true);
  dv.setUint32(0x40, paddr, true);
  dv.setUint32(0x44, 0x80, true);
  dv.setUint32(0x48, 0x80, true);
  dv.setUint32(0x80, 0x1badb002, true);
  dv.setUint32(0x84, 0, true);
  dv.setUint32(0x88, (-0x1badb002) >>> 0, true);
  b[0x8c] = 0xf4;
  return b;
}
