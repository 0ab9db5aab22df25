// Why the guest stopped, in words: one sentence for the headless notes on stderr, gdb's
// console (`O` packets) and the terminal UI's status line and log. Addresses are written
// as gdb writes them and can be typed back: `0x00100b5a <main+0xa>`.
import type { DebugTarget, StopReason } from './target.js';

export interface StopContext {
  /** The linear PC now (where a step ended, where a halt or reset happened). */
  pc: number;
  /** Retired instructions: given, end-of-run sentences say "after N instructions". */
  icount?: number;
  symbolAt?: (addr: number) => { name: string; offset: number } | null;
  /** For data addresses (watchpoints): objects first. */
  dataSymbolAt?: (addr: number) => { name: string; offset: number } | null;
}

export const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** `<main+0x1a>`, `<main>`, or '' where no symbol covers `addr`. */
export function symbolSuffix(symbolAt: StopContext['symbolAt'], addr: number): string {
  const s = symbolAt?.(addr >>> 0);
  return s ? ` <${s.name}${s.offset ? `+0x${s.offset.toString(16)}` : ''}>` : '';
}

/** How a -no-shutdown stop reads: "powered off" or "reset (triple fault)". */
export function shutdownText(cause: string): string {
  return cause === 'power-off' ? 'powered off' : `reset (${cause})`;
}

export function describeStop(r: StopReason, c: StopContext): string {
  const at = (a: number): string => `0x${hex8(a)}${symbolSuffix(c.symbolAt, a)}`;
  const after = c.icount !== undefined ? ` after ${c.icount} instructions` : '';
  switch (r.kind) {
    case 'initial': return 'paused at start';
    case 'breakpoint': return `breakpoint ${r.id} at ${at(r.pc)}`;
    case 'watchpoint': return `${r.watch} ${r.id} hit at 0x${hex8(r.addr)}${symbolSuffix(c.dataSymbolAt ?? c.symbolAt, r.addr)}`;
    case 'step': return r.idle ? `halted at ${at(c.pc)}: no interrupt is due, nothing ran` : `stepped to ${at(c.pc)}`;
    case 'interrupt': return `paused by ${r.by}`;
    case 'exited':
      if (r.why === 'power-off') return `guest powered off (ACPI S5)${after}`;
      if (r.why === 'reset') return `guest reset (${r.cause}) at 0x${(c.pc >>> 0).toString(16)}${after}; -no-reboot ends the run`;
      return `guest exited (isa-debug-exit status ${r.code})${after}`;
    case 'shutdown': return `guest ${shutdownText(r.cause)}${after}; paused (-no-shutdown)`;
    case 'halted': return `guest halted with interrupts disabled at ${at(c.pc)}${after}`;
    case 'triple-fault': return `guest triple fault; machine reset${after}`;
    case 'budget': return c.icount !== undefined ? `stopped after ${c.icount} instructions (--max-insns)` : 'instruction budget reached (--max-insns)';
    case 'idle': return `guest is waiting for input and input has ended${after}`;
    case 'killed': return 'killed';
    case 'history-begin': return `at the beginning of history, ${at(c.pc)}`;
  }
}

/** The context of a stop from the target: PC, symbols (and the instruction count when asked). */
export function stopContext(t: DebugTarget, withIcount = false): StopContext {
  const st = t.status();
  return {
    pc: st.pc, ...(withIcount ? { icount: st.icount } : {}),
    symbolAt: (a) => t.symbolAt(a), dataSymbolAt: (a) => t.dataSymbolAt(a),
  };
}
