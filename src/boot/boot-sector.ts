// A 512-byte boot sector at 0x7C00 without a BIOS: the CPU starts in real mode at
// 0000:7C00 with DL = 0x80, as a BIOS would hand over (but no BIOS services exist).
// The CPU is in its reset state (a machine reset precedes every boot).
import { UserError } from '../user-error.js';
import type { PhysicalMemory } from '../memory/physical-memory.js';
import type { Cpu } from '../cpu/cpu.js';
import { SEG_CS } from '../cpu/instr.js';

export const BOOT_SECTOR_ADDR = 0x7c00;

export function loadBootSector(phys: PhysicalMemory, cpu: Cpu, data: Uint8Array, name: string): void {
  if (data.length !== 512) throw new UserError(`${name}: a boot sector is 512 bytes (this file has ${data.length})`);
  if (data[510] !== 0x55 || data[511] !== 0xaa) throw new UserError(`${name}: no boot signature 55 AA at offset 510`);
  phys.load(BOOT_SECTOR_ADDR, data);
  for (let s = 0; s < 6; s++) cpu.loadSegmentReal(s, 0);
  cpu.loadSegmentReal(SEG_CS, 0);
  cpu.eip = BOOT_SECTOR_ADDR;
  cpu.regs[2] = 0x80;
  cpu.regs[4] = BOOT_SECTOR_ADDR;
  cpu.setA20(true);
}
