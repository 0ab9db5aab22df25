// The TB that holds EIP: its guest instructions and the JavaScript generated for it.
import React from 'react';
import type { CurrentTbView, TbDetail } from '../model/types.js';
import { Line, Lines, type StyledLine } from './frame.js';

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

export function tbHeader(tb: TbDetail): string {
  return `TB #${tb.id} ${hex8(tb.pc)}-${hex8(tb.pc + tb.size)}${tb.symbol ? ` <${tb.symbol}>` : ''} · ${tb.ninsns} insns · executed ${tb.execCount}×`;
}

/** The TB as lines: guest code, then the generated JavaScript. */
export function tbLines(tb: TbDetail): StyledLine[] {
  const out: StyledLine[] = [];
  out.push({ text: 'guest code:', color: 'cyan' });
  for (const l of tb.code) out.push({ text: `${l.eip ? '▶' : ' '} ${hex8(l.addr)}  ${l.text}`, color: l.eip ? 'yellow' : undefined, bold: l.eip });
  out.push({ text: 'generated JavaScript:', color: 'cyan' });
  for (const s of tb.source) out.push({ text: `  ${s.replace(/\t/g, '  ')}`, color: 'green' });
  return out;
}

export function CurrentTbPane({ view, width, height }: { view: CurrentTbView; width: number; height: number }): React.JSX.Element {
  const tb = view.tb;
  if (!tb) return <Line text="no TB has run yet: step or continue" width={width} dim />;
  const lines = tbLines(tb);
  const body = height - 1;
  const scroll = Math.max(0, Math.min(view.scroll, Math.max(0, lines.length - body)));
  return <Lines width={width} lines={[{ text: `${tbHeader(tb)}${view.how === 'last' ? ' (last TB run; none holds EIP)' : ''}`, bold: true }, ...lines.slice(scroll, scroll + body)]} />;
}
