// The TB-cache inspector: every live TB (or the invalidation history), sortable by
// execution count, recency and address, filterable; a detail view with the guest code,
// the generated JavaScript, chain links in and out, counts and history; cache statistics.
import React from 'react';
import type { TbDetail, TbInspectorView, TbRow, TbStatsView } from '../model/types.js';
import { Lines, type StyledLine } from './frame.js';
import { tbHeader, tbLines } from './current-tb-pane.js';

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

export function statsLine(s: TbStatsView, width = 100): string {
  const hit = `${(s.hitRate * 100).toFixed(1)}%`;
  if (width < 80) return `${s.live} TBs · ${s.invalidations} invalidated · ${s.flushes} flushes · hit ${hit}`;
  return `${s.live}/${s.limit} TBs · ${s.translations} translated · ${s.invalidations} invalidated · ${s.flushes} flushes · ${s.chainsMade} chains · hit ${hit}`;
}

export function tbRowText(r: TbRow, mode: 'live' | 'history', width = 100): string {
  const id = `#${r.id}`.padEnd(6);
  if (mode === 'history') {
    return `${id} ${hex8(r.pc)} ${String(r.execCount).padStart(8)} @${String(r.invalidatedAt).padEnd(10)} ${r.reason ?? ''}${r.symbol ? ` <${r.symbol}>` : ''}`;
  }
  const inv = r.invalidations ? `✗${r.invalidations}` : '';
  if (width < 64) return `${id} ${hex8(r.pc)} ${String(r.execCount).padStart(8)} ${inv.padStart(3)} ${r.symbol ?? ''}`;
  const links = `${r.linksIn}/${r.linksOut}`.padStart(5);
  // `»`: translated later than the instruction count shown (travelled back in time).
  return `${id} ${hex8(r.pc)} ${String(r.ninsns).padStart(3)} ${String(r.execCount).padStart(9)} ${links} ${inv.padStart(4)}${r.inRegion ? 'R' : ' '}${r.later ? '»' : ' '}${r.symbol ?? ''}`;
}

export function tbListHeader(mode: 'live' | 'history', width = 100): string {
  if (mode === 'history') return 'id     pc          execs @icount     reason';
  return width < 64 ? 'id     pc          execs inv symbol' : 'id     pc       ins     execs in/out  inv  symbol';
}

export function detailLines(d: TbDetail): StyledLine[] {
  const link = (l: { id: number; pc: number } | null): string => (l ? `#${l.id} ${hex8(l.pc)}` : '(unlinked)');
  const out: StyledLine[] = [
    { text: `phys ${hex8(d.phys)} · ${d.size} bytes · cflags ${d.cflags}${d.region ? ` · ${d.region}` : ''}` },
    ...(d.ranOn ? [{ text: `ran on ${d.ranOn}` }] : []),
    { text: `translated at icount ${d.translatedAt}${d.fromStore ? ' (from the translation cache)' : ''}${d.valid ? '' : ` · INVALID since icount ${d.invalidatedAt}: ${d.invalidationReason}`}`, color: d.valid ? undefined : 'red' },
    { text: `links out: ${d.linksOut.map(link).join(', ')}` },
    { text: `links in:  ${d.linksIn.map((l) => link(l)).join(', ') || '(none)'}` },
  ];
  if (d.history.length) {
    out.push({ text: `invalidation history at ${hex8(d.pc)}:`, color: 'red' });
    for (const h of d.history) out.push({ text: `  #${h.id} at icount ${h.icount}: ${h.reason} (executed ${h.execCount}×)`, color: 'red' });
  }
  return [...out, ...tbLines(d)];
}

export function TbInspectorPane({ view, width, height, focused }: { view: TbInspectorView; width: number; height: number; focused: boolean }): React.JSX.Element {
  if (view.detail) {
    const d = view.detail;
    const lines = detailLines(d);
    const body = height - 1;
    const scroll = Math.max(0, Math.min(view.detailScroll, Math.max(0, lines.length - body)));
    return <Lines width={width} lines={[{ text: `${tbHeader(d)} · Esc: list`, bold: true }, ...lines.slice(scroll, scroll + body)]} />;
  }
  const controls = `${view.mode === 'live' ? 'live TBs' : 'invalidated TBs'} (${view.total}) · sort: ${view.sort} · filter: ${view.filterEditing ? `${view.filter}█` : view.filter || '-'}`;
  const header = tbListHeader(view.mode, width);
  const lines: StyledLine[] = [
    { text: statsLine(view.stats, width), color: 'cyan' },
    { text: controls, color: view.filterEditing ? 'yellow' : undefined },
    { text: header, dim: true },
    ...view.rows.map((r, i) => ({ text: tbRowText(r, view.mode, width), inverse: focused && view.offset + i === view.selected, color: r.invalidations ? ('red' as const) : undefined })),
  ];
  if (view.rows.length === 0) lines.push({ text: view.filter ? 'no TB matches the filter' : 'the TB cache is empty', dim: true });
  return <Lines width={width} lines={lines} />;
}
