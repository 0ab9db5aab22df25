// Memory as hex + ASCII, 16 bytes a line, at a linear or physical address; unmapped
// bytes (linear addresses without a translation) are shown as such.
import type { DebugController } from '../../src/debug/controller.js';
import { GPR_NAMES } from '../../src/debug/registers.js';
import type { MemoryView } from './types.js';

/** Registers the memory pane can follow, in the order `r` cycles through them. */
export const FOLLOW_REGISTERS = ['esp', 'eip', 'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'] as const;

export function registerValue(ctl: DebugController, name: string): number | null {
  const cpu = ctl.machine.cpu;
  if (name === 'eip') return cpu.pc;
  const i = (GPR_NAMES as readonly string[]).indexOf(name);
  return i >= 0 ? cpu.regs[i]! >>> 0 : null;
}

export function buildMemory(ctl: DebugController, req: { addr: number; physical: boolean; follow: string | null; lines: number }): MemoryView {
  const m = ctl.machine;
  let addr = req.addr >>> 0;
  if (req.follow) {
    const v = registerValue(ctl, req.follow);
    if (v !== null) addr = v & ~0xf;
  }
  const lines: MemoryView['lines'] = [];
  for (let i = 0; i < Math.max(1, req.lines); i++) {
    const a = (addr + i * 16) >>> 0;
    let bytes: (number | null)[];
    if (req.physical) {
      bytes = Array.from(m.readPhysical(a, 16));
    } else {
      const whole = m.readLinear(a, 16);
      bytes = whole ? Array.from(whole) : Array.from({ length: 16 }, (_, j) => m.readLinear((a + j) >>> 0, 1)?.[0] ?? null);
    }
    lines.push({ addr: a, bytes });
  }
  return { addr, physical: req.physical, follow: req.follow, lines };
}
