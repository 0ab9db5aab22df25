// Issue 9: without a BIOS image, the CPU's return to the reset vector after an INIT takes
// SeaBIOS's resume path (CMOS shutdown status 0Fh) as src/boot/firmware-resume.ts models it.
// The 0Ah case is also compared with QEMU by tests/cpu/cpu-probe.test.ts.
import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../src/memory/physical-memory.js';
import { IoBus } from '../../src/devices/io-bus.js';
import { Cpu } from '../../src/cpu/cpu.js';
import { SEG_CS, SEG_DS, SEG_SS } from '../../src/cpu/instr.js';
import { firmwareResume } from '../../src/boot/firmware-resume.js';

function board(status: number) {
  const phys = new PhysicalMemory(1 << 20);
  const ram = phys.allocate('ram', 1 << 20);
  phys.mapDirect(0, 1 << 20, ram, 0, true, true);
  const cpu = new Cpu(phys, new IoBus());
  const cmos = new Uint8Array(128);
  cmos[0x0f] = status;
  const outs: [number, number][] = [];
  phys.write16(0x467, 0x0100); // 40:67 -> 2000:0100
  phys.write16(0x469, 0x2000);
  // a stack at 2000:0100 for 0Bh/0Ch: IP 1234, CS 3000, FLAGS 0246
  phys.write16(0x20100, 0x1234);
  phys.write16(0x20102, 0x3000);
  phys.write16(0x20104, 0x0246);
  cpu.init();
  const r = firmwareResume({ cpu, cmos, read16: (pa) => phys.read16(pa), out8: (p, v) => outs.push([p, v]) });
  return { cpu, cmos, outs, r };
}

describe('firmware resume after INIT (no BIOS image)', () => {
  it('0Ah: far jump through 40:67, DS = 40h, status cleared', () => {
    const { cpu, cmos, outs, r } = board(0x0a);
    expect(r).toBe('resumed');
    expect(cpu.segSel[SEG_CS]).toBe(0x2000);
    expect(cpu.eip).toBe(0x0100);
    expect(cpu.segSel[SEG_DS]).toBe(0x40);
    expect(cpu.segSel[SEG_SS]).toBe(0);
    expect(cpu.regs[4]).toBe(0x7c00);
    expect(cmos[0x0f]).toBe(0);
    expect(outs).toEqual([]);
  });
  it('05h: the same after an EOI to both 8259s', () => {
    const { cpu, outs } = board(0x05);
    expect(cpu.pc).toBe(0x20100);
    expect(outs).toEqual([[0xa0, 0x20], [0x20, 0x20]]);
  });
  it('0Bh: IRET on the stack 40:67 points at; 0Ch: RETF', () => {
    const b = board(0x0b);
    expect(b.cpu.segSel[SEG_CS]).toBe(0x3000);
    expect(b.cpu.eip).toBe(0x1234);
    expect(b.cpu.getEflags()).toBe(0x0246);
    expect(b.cpu.segSel[SEG_SS]).toBe(0x2000);
    expect(b.cpu.regs[4]).toBe(0x0106);
    const c = board(0x0c);
    expect(c.cpu.segSel[SEG_CS]).toBe(0x3000);
    expect(c.cpu.eip).toBe(0x1234);
    expect(c.cpu.getEflags()).toBe(2);
    expect(c.cpu.regs[4]).toBe(0x0104);
  });
  it('any other status: the machine reboots', () => {
    expect(board(0x00).r).toBe('reboot');
    expect(board(0x09).r).toBe('reboot');
  });
});
