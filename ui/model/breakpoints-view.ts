// Breakpoints and watchpoints from the controller's one list, whoever set them (the UI,
// gdb, the command line).
import type { DebugTarget } from '../../src/debug/target.js';
import type { BreakpointRow, BreakpointsView } from './types.js';
import { dataSymbolText, symbolText } from './tb-view.js';

export function breakpointRows(ctl: DebugTarget): BreakpointRow[] {
  const rows: BreakpointRow[] = ctl.breakpoints().map((b) => ({
    id: b.id, kind: b.hw ? 'hbreak' : 'break', addr: b.addr, len: 1, owner: b.owner, symbol: symbolText(ctl, b.addr),
  }));
  for (const w of ctl.watchpoints()) {
    rows.push({ id: w.id, kind: w.kind, addr: w.addr, len: w.len, owner: (w as { owner?: string }).owner ?? '', symbol: dataSymbolText(ctl, w.addr) });
  }
  return rows.sort((a, b) => a.id - b.id);
}

export function buildBreakpoints(ctl: DebugTarget, selected: number): BreakpointsView {
  const rows = breakpointRows(ctl);
  return { rows, selected: Math.max(0, Math.min(selected, rows.length - 1)) };
}
