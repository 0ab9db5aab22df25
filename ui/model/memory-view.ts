// Memory as hex + ASCII, 16 bytes a line, at a linear or physical address; unmapped
// bytes (linear addresses without a translation) are shown as such.
import type { DebugTarget } from '../../src/debug/target.js';
import { GPR_NAMES } from '../../src/debug/registers.js';
import type { MemoryView } from './types.js';

/** Registers the memory pane can follow, in the order `r` cycles through them. */
export const FOLLOW_REGISTERS = ['esp', 'eip', 'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'] as const;

export function registerValue(t: DebugTarget, name: string): number | null {
  if (name === 'eip') return t.status().pc;
  const i = (GPR_NAMES as readonly string[]).indexOf(name);
  return i >= 0 ? t.registers().gpr[i]! >>> 0 : null;
}

export function buildMemory(t: DebugTarget, req: { addr: number; physical: boolean; follow: string | null; lines: number }): MemoryView {
  let addr = req.addr >>> 0;
  if (req.follow) {
    const v = registerValue(t, req.follow);
    if (v !== null) addr = v & ~0xf;
  }
  const lines: MemoryView['lines'] = [];
  for (let i = 0; i < Math.max(1, req.lines); i++) {
    const a = (addr + i * 16) >>> 0;
    let bytes: (number | null)[];
    if (req.physical) {
      bytes = Array.from(t.readMemory(a, 16, true)!);
    } else {
      const whole = t.readMemory(a, 16);
      bytes = whole ? Array.from(whole) : Array.from({ length: 16 }, (_, j) => t.readMemory((a + j) >>> 0, 1)?.[0] ?? null);
    }
    lines.push({ addr: a, bytes });
  }
  return { addr, physical: req.physical, follow: req.follow, lines };
}
