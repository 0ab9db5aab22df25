// The software TLB under a kernel's flushes (issue 10): INVLPG drops one page unless a
// large page covers it, a CR3 reload keeps global entries, and pages that start holding
// code lose their write entries wherever they are mapped.
import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../src/memory/physical-memory.js';
import { IoBus } from '../../src/devices/io-bus.js';
import { Cpu } from '../../src/cpu/cpu.js';
import { ACCESS_READ, ACCESS_WRITE, CR0_PE, CR0_PG, CR4_PGE, CR4_PSE } from '../../src/cpu/mmu.js';

const MIB = 1 << 20;
const PD = 0x10000;
const PT = 0x11000;
const P = 1, W = 2, PS = 0x80, G = 0x100, AD = 0x60;

/** 16 MiB of RAM; PDE 0 a page table mapping 0-4 MiB 4 KiB by 4 KiB (global from 2 MiB), PDE 1 a 4 MiB page. */
function pagedCpu(cr4: number): Cpu {
  const phys = new PhysicalMemory(16 * MIB);
  phys.mapDirect(0, 16 * MIB, phys.allocate('ram', 16 * MIB), 0, true, true);
  const c = new Cpu(phys, new IoBus());
  phys.write32(PD, PT | P | W | AD);
  phys.write32(PD + 4, 0x400000 | P | W | PS | AD);
  for (let i = 0; i < 1024; i++) phys.write32(PT + i * 4, (i << 12) | P | W | AD | (i >= 512 ? G : 0));
  c.setCr4(cr4);
  c.setCr3(PD);
  c.setCr0(c.cr0 | CR0_PE | CR0_PG);
  return c;
}

const filled = (c: Cpu, lin: number): boolean => c.mmu.tlbEntry(c.mmu.tlbRK, lin >>> 12) !== -1;

describe('software TLB', () => {
  it('INVLPG outside every large page drops that page only, with PSE on', () => {
    const c = pagedCpu(CR4_PSE);
    for (const a of [0x1000, 0x2000, 0x3000]) c.mmu.translate(a, ACCESS_READ, false);
    const flushes = c.mmu.flushes;
    c.mmu.flushPage(0x2000);
    expect(filled(c, 0x2000)).toBe(false);
    expect(filled(c, 0x1000) && filled(c, 0x3000)).toBe(true);
    expect(c.mmu.flushes).toBe(flushes);
  });

  it('INVLPG inside a 4 MiB page drops every entry filled from it', () => {
    const c = pagedCpu(CR4_PSE);
    for (const a of [0x400000, 0x401000, 0x7ff000]) c.mmu.translate(a, ACCESS_READ, false);
    c.mmu.translate(0x1000, ACCESS_READ, false);
    c.mmu.flushPage(0x500000);
    expect([0x400000, 0x401000, 0x7ff000].map((a) => filled(c, a))).toEqual([false, false, false]);
    // A rewritten PDE is seen at once.
    c.phys.write32(PD + 4, 0x800000 | P | W | PS | AD);
    expect(c.mmu.translate(0x401234, ACCESS_READ, false)).toBe(0x801234);
  });

  it('a CR3 reload keeps global entries (CR4.PGE) and drops the rest', () => {
    const c = pagedCpu(CR4_PSE | CR4_PGE);
    c.mmu.translate(0x1000, ACCESS_READ, false);
    c.mmu.translate(0x200000, ACCESS_WRITE, false);
    for (let i = 0; i < 3; i++) c.setCr3(PD);
    expect(filled(c, 0x1000)).toBe(false);
    expect(filled(c, 0x200000)).toBe(true);
    expect(c.mmu.tlbEntry(c.mmu.tlbWK, 0x200)).not.toBe(-1);
    // INVLPG drops a global entry too, and CR4.PGE off drops them all.
    c.mmu.flushPage(0x200000);
    expect(filled(c, 0x200000)).toBe(false);
    c.mmu.translate(0x201000, ACCESS_READ, false);
    c.setCr4(CR4_PSE);
    expect(filled(c, 0x201000)).toBe(false);
  });

  it('a page that starts holding code loses its write entries, global ones included', () => {
    const c = pagedCpu(CR4_PSE | CR4_PGE);
    c.mmu.translate(0x203000, ACCESS_WRITE, false);
    c.setCr3(PD);
    c.mmu.translate(0x3000, ACCESS_WRITE, false);
    expect(c.mmu.tlbEntry(c.mmu.tlbWK, 0x203)).not.toBe(-1);
    c.mmu.protectCodePage(0x203);
    c.mmu.protectCodePage(0x3);
    expect(c.mmu.tlbEntry(c.mmu.tlbWK, 0x203)).toBe(-1);
    expect(c.mmu.tlbEntry(c.mmu.tlbWK, 0x3)).toBe(-1);
    expect(c.mmu.tlbEntry(c.mmu.tlbRK, 0x203)).not.toBe(-1);
  });

  it('past the tracked entries a flush still clears everything', () => {
    const c = pagedCpu(CR4_PSE | CR4_PGE);
    // 1 GiB of linear space through one 4 MiB page, more pages than the TLB tracks one by one.
    for (let i = 0; i < 256; i++) c.phys.write32(PD + i * 4 + 8, 0x400000 | P | W | PS | AD);
    for (let a = 0x800000; a < 0x800000 + 256 * 0x400000 - 0x800000; a += 0x1000) c.mmu.translate(a, ACCESS_READ, false);
    c.mmu.translate(0x200000, ACCESS_READ, false);
    c.setCr3(PD);
    expect(c.mmu.validEntries()).toBe(0);
    expect(filled(c, 0x800000) || filled(c, 0x3ff000 + 0x800000) || filled(c, 0x200000)).toBe(false);
  });
});
