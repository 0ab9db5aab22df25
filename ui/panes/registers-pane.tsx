// Registers: general, EIP, EFLAGS decoded, segment selectors with their hidden base,
// limit and attributes, control registers, EFER. Values that changed since the previous
// stop are highlighted.
import React from 'react';
import { Text } from 'ink';
import type { RegistersView } from '../model/types.js';
import type { RegisterSnapshot, SegmentState } from '../../src/debug/registers.js';
import { Frame } from './frame.js';
import { paint } from './paint.js';

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
const hex4 = (v: number): string => (v & 0xffff).toString(16).padStart(4, '0');

/** EFLAGS bits shown, high to low, with their letters. */
const FLAG_BITS: [number, string][] = [
  [0x800, 'O'], [0x400, 'D'], [0x200, 'I'], [0x100, 'T'], [0x80, 'S'], [0x40, 'Z'], [0x10, 'A'], [0x4, 'P'], [0x1, 'C'],
];

const GPR_LAYOUT: [string, number][][] = [
  [['eax', 0], ['ebx', 3]],
  [['ecx', 1], ['edx', 2]],
  [['esi', 6], ['edi', 7]],
  [['ebp', 5], ['esp', 4]],
];
const SEG_ORDER: [string, number][] = [['cs', 1], ['ds', 3], ['es', 0], ['ss', 2], ['fs', 4], ['gs', 5]];

/** Segment attributes as the 16 bits of the descriptor's high word that hold them. */
export const segAttr = (s: SegmentState): string => hex4(s.flags >>> 8);

export interface RegistersPaneProps {
  view: RegistersView;
  width: number;
  height: number;
}

/** Which values differ from the previous stop (exported for tests and the status of the pane). */
export function changedRegisters(cur: RegisterSnapshot, prev: RegisterSnapshot | null): Set<string> {
  const out = new Set<string>();
  if (!prev) return out;
  GPR_LAYOUT.flat().forEach(([n, i]) => cur.gpr[i] !== prev.gpr[i] && out.add(n));
  if (cur.eip !== prev.eip) out.add('eip');
  if (cur.eflags !== prev.eflags) out.add('eflags');
  for (const [n, i] of SEG_ORDER) {
    const a = cur.seg[i]!;
    const b = prev.seg[i]!;
    if (a.sel !== b.sel || a.base !== b.base || a.limit !== b.limit || a.flags !== b.flags) out.add(n);
  }
  for (const n of ['cr0', 'cr2', 'cr3', 'cr4', 'efer'] as const) if (cur[n] !== prev[n]) out.add(n);
  return out;
}

export function RegistersPane({ view, width, height }: RegistersPaneProps): React.JSX.Element {
  const { cur, prev, running } = view;
  const changed = changedRegisters(cur, prev);
  // A changed value in bold yellow; while the guest runs, the others dimmed.
  const v = (text: string, name: string | boolean): string =>
    (typeof name === 'boolean' ? name : changed.has(name)) ? paint(text, 'yellow', 'bold') : running ? paint(text, 'dim') : text;
  const inner = height - 2;
  const rows: string[] = [];
  for (const pair of GPR_LAYOUT) rows.push(pair.map(([n, i]) => `${n} ${v(hex8(cur.gpr[i]!), n)}`).join('  '));
  rows.push(`eip ${v(hex8(cur.eip), 'eip')}  efl ${v(hex8(cur.eflags), 'eflags')}`);
  const flags = FLAG_BITS.map(([bit, c]) => v(cur.eflags & bit ? c : '-', prev !== null && ((cur.eflags ^ prev.eflags) & bit) !== 0)).join('');
  rows.push(`    ${flags}  cpl ${cur.cpl} iopl ${(cur.eflags >> 12) & 3}${cur.halted ? ' hlt' : ''}`);
  rows.push(paint('   sel  base     limit    attr', 'dim'));
  for (const [n, i] of SEG_ORDER) {
    const sg = cur.seg[i]!;
    rows.push(`${n} ${v(`${hex4(sg.sel)} ${hex8(sg.base)} ${hex8(sg.limit)} ${segAttr(sg)}`, n)}`);
  }
  rows.push(`cr0 ${v(hex8(cur.cr0), 'cr0')}  cr2 ${v(hex8(cur.cr2), 'cr2')}`);
  rows.push(`cr3 ${v(hex8(cur.cr3), 'cr3')}  cr4 ${v(hex8(cur.cr4), 'cr4')}`);
  rows.push(`efer ${v(hex8(cur.efer), 'efer')}`);
  const extra = [
    `ldtr ${hex4(cur.ldtr.sel)} ${hex8(cur.ldtr.base)} ${hex8(cur.ldtr.limit)}`,
    `tr   ${hex4(cur.tr.sel)} ${hex8(cur.tr.base)} ${hex8(cur.tr.limit)}`,
    `gdt  ${hex8(cur.gdtr.base)} ${hex4(cur.gdtr.limit)}`,
    `idt  ${hex8(cur.idtr.base)} ${hex4(cur.idtr.limit)}`,
    `dr7  ${hex8(cur.dr[7]!)}  dr6 ${hex8(cur.dr[6]!)}`,
  ];
  for (const e of extra) if (rows.length < inner) rows.push(running ? paint(e, 'dim') : e);
  return (
    <Frame title="Registers" width={width} height={height} info={running ? 'running' : `icount ${cur.icount}`}>
      <Text>{rows.slice(0, inner).join('\n')}</Text>
    </Frame>
  );
}
