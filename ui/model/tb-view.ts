// The translation cache as the panes show it: one TB in detail (guest code, generated
// JavaScript, links, counts, history), the sortable and filterable list, the statistics.
import type { DebugTarget, TbDetailRecord } from '../../src/debug/target.js';
import { disassemble } from '../../src/debug/disassembler.js';
import type { TbDetail, TbInspectorView, TbRow, TbSort, TbStatsView } from './types.js';

const symbolMemo = new WeakMap<DebugTarget, Map<number, string | null>>();

/** `name+0xoff` for an address, as it can be typed back (memoised: symbols never change during a session). */
export function symbolText(ctl: DebugTarget, addr: number): string | null {
  let memo = symbolMemo.get(ctl);
  if (!memo) symbolMemo.set(ctl, (memo = new Map()));
  const hit = memo.get(addr);
  if (hit !== undefined) return hit;
  const s = ctl.symbolAt(addr);
  const text = s ? (s.offset ? `${s.name}+0x${s.offset.toString(16)}` : s.name) : null;
  if (memo.size > 100_000) memo.clear();
  memo.set(addr, text);
  return text;
}

/** For data addresses: the object (ELF STT_OBJECT) that holds `addr`, else symbolText. */
export function dataSymbolText(ctl: DebugTarget, addr: number): string | null {
  const s = ctl.dataSymbolAt(addr);
  return s ? (s.offset ? `${s.name}+0x${s.offset.toString(16)}` : s.name) : null;
}

/** Which CPUs ran the TB (entered from the loop, or its region); null with one CPU. */
function ranOn(tb: TbDetailRecord): string | null {
  if (tb.cpus.length === 0 && tb.regionCpus.length === 0) return null;
  const own = tb.cpus.length ? `CPU ${tb.cpus.join(', ')}` : 'no CPU from the loop';
  const extra = tb.regionCpus.filter((c) => !tb.cpus.includes(c));
  return extra.length ? `${own}; its region entered on CPU ${tb.regionCpus.join(', ')}` : own;
}

export function tbDetail(ctl: DebugTarget, tb: TbDetailRecord, eip: number | null = null): TbDetail {
  const code = disassemble(Uint8Array.from(tb.bytes), tb.pc, tb.codeBits).map((l) => ({
    addr: l.addr,
    text: l.text,
    bytes: l.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' '),
    eip: l.addr === eip,
  }));
  return {
    id: tb.id,
    pc: tb.pc,
    phys: tb.phys,
    size: tb.size,
    ninsns: tb.ninsns,
    execCount: tb.execCount,
    translatedAt: tb.translatedAt,
    fromStore: tb.fromStore,
    valid: tb.valid,
    invalidatedAt: tb.invalidatedAt,
    invalidationReason: tb.invalidationReason,
    cflags: tb.cflags,
    symbol: symbolText(ctl, tb.pc),
    region: tb.region ? `member ${tb.region.index} of a ${tb.region.members}-TB region` : null,
    ranOn: ranOn(tb),
    linksOut: tb.links.out,
    linksIn: tb.links.in,
    code,
    source: tb.source.split('\n'),
    history: tb.history.map((r) => ({ id: r.id, icount: r.icount, reason: r.reason, execCount: r.execCount })),
  };
}

/** Like QEMU's `info jit`. */
export function tbStats(ctl: DebugTarget): TbStatsView {
  const s = ctl.tbStats();
  const hits = s.jmpCacheHits + s.hashHits;
  const tries = s.jmpCacheHits + s.lookups;
  return {
    live: s.live,
    limit: s.limit,
    translations: s.translations,
    invalidations: s.invalidations,
    flushes: s.flushes,
    chainsMade: s.chainsMade,
    hitRate: tries > 0 ? hits / tries : 0,
    regions: s.regionsBuilt,
  };
}

export interface TbListRequest {
  mode: 'live' | 'history';
  sort: TbSort;
  filter: string;
  filterEditing: boolean;
  selected: number;
  offset: number;
  rows: number;
  /** Show this TB in detail (by id), or null for the list. */
  detailId: number | null;
  detailScroll: number;
}

function matches(row: TbRow, filter: string): boolean {
  if (!filter) return true;
  const f = filter.toLowerCase().replace(/^0x/, '');
  return row.pc.toString(16).padStart(8, '0').includes(f) || (row.symbol?.toLowerCase().includes(f) ?? false) || `#${row.id}` === f;
}

export function buildTbInspector(ctl: DebugTarget, req: TbListRequest): TbInspectorView & { ids: number[] } {
  const invalidated = ctl.invalidations();
  const invCount = new Map<number, number>();
  for (const r of invalidated) invCount.set(r.pc, (invCount.get(r.pc) ?? 0) + 1);
  let rows: TbRow[];
  const now = ctl.status().icount;
  if (req.mode === 'live') {
    rows = ctl.tbs().map((tb) => ({
      id: tb.id, pc: tb.pc, symbol: null, ninsns: tb.ninsns, size: tb.size, execCount: tb.execCount,
      translatedAt: tb.translatedAt, linksIn: tb.linksIn, linksOut: tb.linksOut,
      invalidations: invCount.get(tb.pc) ?? 0, inRegion: tb.inRegion,
      // Travelled back: the cache still holds what was translated after this point.
      later: tb.translatedAt > now,
    }));
  } else {
    rows = invalidated.map((r) => ({
      id: r.id, pc: r.pc, symbol: null, ninsns: 0, size: 0, execCount: r.execCount, translatedAt: -1,
      linksIn: 0, linksOut: 0, invalidations: invCount.get(r.pc) ?? 0, inRegion: false, invalidatedAt: r.icount, reason: r.reason,
    }));
  }
  if (req.filter) {
    for (const r of rows) r.symbol = symbolText(ctl, r.pc);
    rows = rows.filter((r) => matches(r, req.filter));
  }
  const key = req.mode === 'history' && req.sort === 'recent' ? (r: TbRow) => r.invalidatedAt ?? 0 : null;
  switch (req.sort) {
    case 'execs':
      rows.sort((a, b) => b.execCount - a.execCount || a.pc - b.pc);
      break;
    case 'recent':
      rows.sort(key ? (a, b) => key(b) - key(a) || b.id - a.id : (a, b) => b.translatedAt - a.translatedAt || b.id - a.id);
      break;
    case 'address':
      rows.sort((a, b) => a.pc - b.pc || a.id - b.id);
      break;
  }
  const total = rows.length;
  const selected = Math.max(0, Math.min(req.selected, total - 1));
  const visible = Math.max(1, req.rows);
  let offset = Math.max(0, Math.min(req.offset, Math.max(0, total - visible)));
  if (selected < offset) offset = selected;
  if (selected >= offset + visible) offset = selected - visible + 1;
  let detail: TbDetail | null = null;
  if (req.detailId !== null) {
    const tb = ctl.tbDetail(req.detailId);
    if (tb) detail = tbDetail(ctl, tb, ctl.status().pc);
  }
  return {
    mode: req.mode, sort: req.sort, filter: req.filter, filterEditing: req.filterEditing, total, offset, selected,
    rows: rows.slice(offset, offset + visible).map((r) => ({ ...r, symbol: r.symbol ?? symbolText(ctl, r.pc) })), stats: tbStats(ctl), detail, detailScroll: req.detailScroll,
    ids: rows.map((r) => r.id),
  };
}
