// Memory as hex and ASCII at a linear or physical address, optionally following a register.
import React from 'react';
import type { MemoryView } from '../model/types.js';
import { Lines } from './frame.js';

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

export function memoryLineText(l: MemoryView['lines'][number], width: number): string {
  const perGroup = width >= 78 ? 16 : 8;
  const bytes = perGroup === 16 ? l.bytes : l.bytes.slice(0, 8);
  const hex = bytes.map((b, i) => (b === null ? '??' : b.toString(16).padStart(2, '0')) + (i === 7 && perGroup === 16 ? ' ' : '')).join(' ');
  const ascii = bytes.map((b) => (b === null ? ' ' : b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
  return `${hex8(l.addr)}  ${hex}  |${ascii}|`;
}

export function MemoryPane({ view, width, height }: { view: MemoryView; width: number; height: number }): React.JSX.Element {
  const title = `${view.physical ? 'physical' : 'linear'} ${hex8(view.addr)}${view.follow ? ` (following ${view.follow})` : ''}`;
  const perLine = width >= 78 ? 16 : 8;
  const lines = perLine === 16 ? view.lines : view.lines.flatMap((l) => [l, { addr: l.addr + 8, bytes: l.bytes.slice(8) }]);
  return <Lines width={width} lines={[{ text: title, color: 'cyan' }, ...lines.slice(0, height - 1).map((l) => ({ text: memoryLineText(l, width) }))]} />;
}
