// Breakpoints and watchpoints, whoever set them (this UI, gdb, the command line).
import React from 'react';
import type { BreakpointsView } from '../model/types.js';
import { Line, Lines } from './frame.js';

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

export function BreakpointsPane({ view, width, height, focused }: { view: BreakpointsView; width: number; height: number; focused: boolean }): React.JSX.Element {
  if (view.rows.length === 0) return <Line text="no breakpoints or watchpoints (b at the cursor, :b ADDR, or from gdb)" width={width} dim />;
  const body = height - 1;
  const offset = Math.max(0, view.selected - body + 1);
  const rows = view.rows.slice(offset, offset + body).map((r, i) => ({
    text: `${String(r.id).padEnd(4)} ${r.kind.padEnd(7)} ${hex8(r.addr)}  ${String(r.len).padStart(3)}  ${r.owner.padEnd(5)} ${r.symbol ? `<${r.symbol}>` : ''}`,
    inverse: focused && offset + i === view.selected,
    color: r.kind.includes('watch') ? ('magenta' as const) : ('red' as const),
  }));
  return <Lines width={width} lines={[{ text: 'num  type    address   len  by    where', dim: true }, ...rows]} />;
}
