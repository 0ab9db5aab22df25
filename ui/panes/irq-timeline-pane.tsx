// The IRQ timeline: one row per IRQ line, one for exceptions, one for delivered vectors,
// on an instruction-count axis (↑ raised, ↓ lowered, ─ held high, • delivered,
// E exception); the selected event is shown inverted and described below.
import React from 'react';
import { Text } from 'ink';
import type { IrqRowView, IrqTimelineView } from '../model/types.js';
import { describeIrqEvent, lineRanges } from '../model/irq-view.js';
import { fit } from './frame.js';
import { paint } from './paint.js';

const num = (n: number): string => n.toLocaleString('en-US');

export function axisLine(v: IrqTimelineView): string {
  return `icount ${num(v.start)} … ${num(v.start + v.cols * v.perCol)} · ${num(v.perCol)}/col${v.follow ? ' · following' : ''} · ${v.totalEvents} events`;
}

export function irqRowText(r: IrqRowView): string {
  const label = paint(r.label.padEnd(5), 'dim');
  const count = paint(` ${r.count.padStart(5)}`, 'dim');
  const color = r.label.startsWith('exc') ? 'red' : r.label.startsWith('vec') ? 'green' : undefined;
  if (r.selectedCol < 0 || r.selectedCol >= r.cells.length) return `${label} ${paint(r.cells, color)}${count}`;
  const c = [...r.cells];
  return `${label} ${paint(c.slice(0, r.selectedCol).join(''), color)}${paint(c[r.selectedCol]!, 'inverse', 'yellow')}${paint(c.slice(r.selectedCol + 1).join(''), color)}${count}`;
}

export function IrqTimelinePane({ view, width, height }: { view: IrqTimelineView; width: number; height: number }): React.JSX.Element {
  const rows = view.rows.slice(0, Math.max(0, height - 2)).map(irqRowText);
  // Lines left out are named, on the row before exceptions and vectors.
  if (view.hidden.length) rows.splice(Math.max(0, rows.length - 2), 0, paint(fit(`IRQ ${lineRanges(view.hidden)} hidden · ↑↓ scroll · z zoom`, width), 'dim'));
  const detail = view.selected ? paint(fit(`▶ ${describeIrqEvent(view.selected)}`, width), 'yellow') : paint(fit('←/→ select an event · +/- zoom · [ ] scroll · f follow', width), 'dim');
  return <Text>{[paint(fit(axisLine(view), width), 'cyan'), ...rows.slice(0, Math.max(0, height - 2)), detail].join('\n')}</Text>;
}
