// Where each pane goes for a terminal size. The session uses it to size what it asks of
// the machine (rows of disassembly, lines of memory), the App to size the boxes.
import type { PaneId } from './types.js';

export interface Rect {
  width: number;
  height: number;
}

export interface Layout {
  columns: number;
  /** Rows between the status line and the command/help lines. */
  main: number;
  registers: Rect | null;
  disasm: Rect | null;
  /** The tabbed pane's box; its body is two rows (border) and one row (tabs) smaller. */
  tab: Rect | null;
  /** Content size inside each box. */
  disasmBody: Rect;
  tabBody: Rect;
}

export const REGISTERS_WIDTH = 34;
export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

export function computeLayout(columns: number, rows: number, focus: PaneId, zoom: boolean): Layout {
  const cols = Math.max(40, columns);
  const main = Math.max(6, rows - 3);
  const body = (r: Rect | null, extra = 0): Rect => (r ? { width: Math.max(1, r.width - 2), height: Math.max(1, r.height - 2 - extra) } : { width: 1, height: 1 });
  if (zoom) {
    if (focus === 'disasm') {
      const disasm = { width: cols, height: main };
      return { columns: cols, main, registers: null, disasm, tab: null, disasmBody: body(disasm), tabBody: { width: 1, height: 1 } };
    }
    const tab = { width: cols, height: main };
    return { columns: cols, main, registers: null, disasm: null, tab, disasmBody: { width: 1, height: 1 }, tabBody: body(tab, 1) };
  }
  const registers = { width: Math.min(REGISTERS_WIDTH, Math.floor(cols / 2)), height: main };
  const right = cols - registers.width;
  const disasmHeight = Math.max(5, Math.min(main - 6, Math.floor(main * 0.4)));
  const disasm = { width: right, height: disasmHeight };
  const tab = { width: right, height: main - disasmHeight };
  return { columns: cols, main, registers, disasm, tab, disasmBody: body(disasm), tabBody: body(tab, 1) };
}
