// Reverse execution for the debugger controller (DebugTarget.reverse): the machine goes
// back through its history (src/replay/history.ts); the result in the stop reasons the
// front ends know.
import type { PcMachine } from '../machine/pc-machine.js';
import type { Breakpoint, StopReason } from './target.js';
import { historyOf } from '../replay/history.js';

/** Whether the machine keeps history (a debugger attached, not recording or replaying). */
export function machineCanReverse(m: PcMachine): boolean {
  return historyOf(m) !== null;
}

/**
 * Back one instruction ('step') or to the last breakpoint or watchpoint hit ('continue'),
 * the machine stopped. Null when there is no history to go back in.
 */
export function reverseMachine(m: PcMachine, what: 'step' | 'continue', bps: readonly Breakpoint[]): StopReason | null {
  const h = historyOf(m);
  if (h === null) return null;
  const r = what === 'step' ? h.reverseStep() : h.reverseContinue();
  switch (r.kind) {
    case 'step':
      return { kind: 'step' };
    case 'history-begin':
      return { kind: 'history-begin' };
    case 'breakpoint': {
      const bp = bps.find((b) => b.addr === r.pc);
      return { kind: 'breakpoint', pc: r.pc, hw: bp?.hw ?? false, id: bp?.id ?? 0 };
    }
    case 'watchpoint':
      return { kind: 'watchpoint', watch: r.hit.kind, addr: r.hit.addr, id: r.hit.id };
  }
}
