// The IRQ timeline: the machine's IRQ ring (raise, lower, deliver, exception) laid out on
// an instruction-count axis, one row per ISA line 0-15 plus rows for exceptions and for
// delivered vectors. The ring is bounded, so old events fall off the left.
import type { DebugTarget } from '../../src/debug/target.js';
import type { MachineEvent } from '../../src/debug/target.js';
import type { IrqEventView, IrqRowView, IrqTimelineView } from './types.js';

export const IRQ_KINDS = ['irq-raise', 'irq-lower', 'irq-deliver', 'exception'] as const;
type IrqEvent = Extract<MachineEvent, { kind: (typeof IRQ_KINDS)[number] }>;

export const GLYPH = { empty: '·', raise: '↑', lower: '↓', both: '↕', high: '─', deliver: '•', exception: 'E', many: '#' } as const;

export interface IrqRequest {
  /** First instruction count shown, or null to follow the newest events. */
  start: number | null;
  /** Instructions per column, or null to fit the events in the ring. */
  perCol: number | null;
  cols: number;
  /** Rows available: when the 16 lines do not fit, busy lines come first, one row says
   * which are hidden, and `lineOffset` scrolls the list. */
  rows: number;
  lineOffset?: number;
  /** Index of the selected event in `events`, or -1. */
  selected: number;
}

const cache = new WeakMap<DebugTarget, { total: number; events: IrqEvent[] }>();

/** The IRQ ring's events, oldest first (cached until the ring changes). */
export function irqEvents(ctl: DebugTarget): IrqEvent[] {
  const total = ctl.eventSerial('irq-raise');
  const hit = cache.get(ctl);
  if (hit && hit.total === total) return hit.events;
  const events = ctl.events(IRQ_KINDS) as IrqEvent[];
  cache.set(ctl, { total, events });
  return events;
}

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function onCpu(e: IrqEventView): string {
  return e.cpu === undefined ? '' : ` on CPU ${e.cpu}`;
}

export function describeIrqEvent(e: IrqEventView): string {
  const hex = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;
  const at = `icount ${e.icount.toLocaleString('en-US')}`;
  switch (e.kind) {
    case 'irq-raise':
      return `IRQ ${e.line} raised at ${at}` + (e.delivered
        ? ` → vector 0x${e.delivered.vector.toString(16)} delivered at icount ${e.delivered.icount.toLocaleString('en-US')}, EIP ${hex(e.delivered.eip)}`
        : ' (not delivered yet)') + (e.ideCommand ? ` · after IDE ${e.ideCommand}` : '');
    case 'irq-lower':
      return `IRQ ${e.line} lowered at ${at}` + (e.ideCommand ? ` · after IDE ${e.ideCommand}` : '');
    case 'irq-deliver':
      return `vector 0x${e.vector!.toString(16)}${e.line !== null ? ` (IRQ ${e.line})` : ''} delivered at ${at}, EIP ${hex(e.eip!)}${onCpu(e)}`;
    case 'exception':
      return `exception ${e.vector}${e.errorCode !== null && e.errorCode >= 0 ? ` (error 0x${e.errorCode.toString(16)})` : ''} at ${at}, EIP ${hex(e.eip!)}${onCpu(e)}`;
  }
}

export function buildIrqTimeline(ctl: DebugTarget, req: IrqRequest): IrqTimelineView & { eventCount: number; start: number; perCol: number } {
  const events = irqEvents(ctl);
  const info = ctl.irq().pic;
  const icount = ctl.status().icount;
  const vectorBase = { master: info.master.vectorBase, slave: info.slave.vectorBase };
  const lineOfVector = (v: number): number | null => {
    if (v >= vectorBase.master && v < vectorBase.master + 8) return v - vectorBase.master;
    if (v >= vectorBase.slave && v < vectorBase.slave + 8) return 8 + v - vectorBase.slave;
    return null;
  };
  const cols = Math.max(8, req.cols);
  const first = events.length ? events[0]!.icount : icount;
  const now = Math.max(icount, events.length ? events[events.length - 1]!.icount : 0) + 1;
  const perCol = req.perCol ?? pow2AtLeast(Math.ceil(Math.max(1, now - first) / cols));
  let start = req.start ?? Math.max(0, now - cols * perCol);
  start = Math.floor(start / perCol) * perCol;
  const colOf = (icount: number): number => Math.floor((icount - start) / perCol);

  const lineCells: string[][] = Array.from({ length: 16 }, () => new Array<string>(cols).fill(GLYPH.empty));
  // With several CPUs (events that name one), a row pair per CPU: each CPU's exceptions
  // and deliveries. One CPU: one pair, unnamed, as always.
  const cpuList = [...new Set(events.flatMap((e) => ((e.kind === 'irq-deliver' || e.kind === 'exception') && e.cpu !== undefined ? [e.cpu] : [])))].sort((a, b) => a - b);
  const perCpu = cpuList.length > 0;
  const cpuKeys = perCpu ? cpuList : [-1];
  const exc = new Map(cpuKeys.map((c) => [c, new Array<string>(cols).fill(GLYPH.empty)]));
  const vec = new Map(cpuKeys.map((c) => [c, new Array<string>(cols).fill(GLYPH.empty)]));
  const excN = new Map(cpuKeys.map((c) => [c, 0]));
  const vecN = new Map(cpuKeys.map((c) => [c, 0]));
  const cpuOf = (e: { cpu?: number }): number => (perCpu ? e.cpu ?? 0 : -1);
  const active = new Set<number>();
  const highFrom: (number | null)[] = new Array<number | null>(16).fill(null);
  const put = (cells: string[], col: number, g: string): void => {
    if (col < 0 || col >= cols) return;
    const cur = cells[col]!;
    if (cur === GLYPH.empty || cur === GLYPH.high) cells[col] = g;
    else if ((cur === GLYPH.raise && g === GLYPH.lower) || (cur === GLYPH.lower && g === GLYPH.raise)) cells[col] = GLYPH.both;
    else if (cur !== g && cur !== GLYPH.both) cells[col] = GLYPH.many;
  };
  const fillHigh = (line: number, fromCol: number, toCol: number): void => {
    for (let c = Math.max(0, fromCol + 1); c < Math.min(cols, toCol); c++) if (lineCells[line]![c] === GLYPH.empty) lineCells[line]![c] = GLYPH.high;
  };
  for (const e of events) {
    const col = colOf(e.icount);
    switch (e.kind) {
      case 'irq-raise':
        active.add(e.line);
        put(lineCells[e.line]!, col, GLYPH.raise);
        highFrom[e.line] = col;
        break;
      case 'irq-lower':
        active.add(e.line);
        put(lineCells[e.line]!, col, GLYPH.lower);
        if (highFrom[e.line] !== null) fillHigh(e.line, highFrom[e.line]!, col);
        highFrom[e.line] = null;
        break;
      case 'irq-deliver':
        put(vec.get(cpuOf(e))!, col, GLYPH.deliver);
        vecN.set(cpuOf(e), vecN.get(cpuOf(e))! + 1);
        break;
      case 'exception':
        put(exc.get(cpuOf(e))!, col, GLYPH.exception);
        excN.set(cpuOf(e), excN.get(cpuOf(e))! + 1);
        break;
    }
  }
  for (let l = 0; l < 16; l++) if (highFrom[l] !== null) fillHigh(l, highFrom[l]!, colOf(now));

  // The selected event, with the delivery that answered a raise.
  let selected: IrqEventView | null = null;
  let selLine = -2; // -1: exception row, 16: vector row
  let selCpu = -1;
  const sel = req.selected >= 0 && req.selected < events.length ? events[req.selected]! : null;
  if (sel) {
    const view: IrqEventView = { kind: sel.kind, icount: sel.icount, line: null, vector: null, eip: null, errorCode: null, delivered: null };
    if (sel.kind === 'irq-raise' || sel.kind === 'irq-lower') {
      view.line = sel.line;
      selLine = sel.line;
      // The IDE channels' lines: which command the interrupt answers (the last one before it).
      if (sel.line === 14 || sel.line === 15) {
        const cmd = ctl.ideCommands().filter((c) => c.channel === sel.line - 14 && c.icount >= 0 && c.icount <= sel.icount).pop();
        if (cmd) view.ideCommand = `${cmd.unit ? 'slave' : 'master'}: ${cmd.text}`;
      }
      if (sel.kind === 'irq-raise') {
        for (let i = req.selected + 1; i < events.length; i++) {
          const d = events[i]!;
          if (d.kind === 'irq-deliver' && lineOfVector(d.vector) === sel.line) {
            view.delivered = { icount: d.icount, eip: d.eip, vector: d.vector };
            break;
          }
          if (d.kind === 'irq-raise' && d.line === sel.line) break;
        }
      }
    } else if (sel.kind === 'irq-deliver') {
      view.vector = sel.vector;
      view.eip = sel.eip;
      view.line = lineOfVector(sel.vector);
      if (sel.cpu !== undefined) view.cpu = sel.cpu;
      selCpu = cpuOf(sel);
      selLine = 16;
    } else {
      view.vector = sel.vector;
      view.eip = sel.eip;
      view.errorCode = sel.errorCode;
      if (sel.cpu !== undefined) view.cpu = sel.cpu;
      selCpu = cpuOf(sel);
      selLine = -1;
    }
    selected = view;
  }
  const selCol = sel ? colOf(sel.icount) : -1;

  // Rows: every line when there is room, else the busy lines first, from lineOffset on,
  // and a row that names the hidden ones.
  let lineRows = Math.max(0, req.rows - 2 * cpuKeys.length);
  let lines = Array.from({ length: 16 }, (_, i) => i);
  let hidden: number[] = [];
  let lineOffset = 0;
  if (lines.length > lineRows) {
    lineRows = Math.max(1, lineRows - 1);
    const busy = lines.filter((l) => active.has(l) || info.lines[l]!.raised > 0);
    const idle = lines.filter((l) => !busy.includes(l));
    const order = [...busy, ...idle];
    lineOffset = Math.max(0, Math.min(req.lineOffset ?? 0, order.length - lineRows));
    lines = order.slice(lineOffset, lineOffset + lineRows).sort((a, b) => a - b);
    hidden = order.filter((l) => !lines.includes(l)).sort((a, b) => a - b);
  }
  const countOf = (n: number): string => (n > 99999 ? `${Math.floor(n / 1000)}k` : String(n));
  const rows: IrqRowView[] = lines.map((l) => ({
    label: `IRQ${String(l).padStart(2)}`,
    cells: lineCells[l]!.join(''),
    selectedCol: selLine === l ? selCol : -1,
    count: countOf(info.lines[l]!.raised),
  }));
  if (!perCpu) {
    rows.push({ label: 'exc', cells: exc.get(-1)!.join(''), selectedCol: selLine === -1 ? selCol : -1, count: countOf(ctl.eventCount('exception')) });
    rows.push({ label: 'vec', cells: vec.get(-1)!.join(''), selectedCol: selLine === 16 ? selCol : -1, count: countOf(ctl.eventCount('irq-deliver')) });
  } else {
    // (per CPU, the counts are of the events still in the ring)
    for (const c of cpuList) {
      rows.push({ label: `exc${String(c).padStart(2)}`, cells: exc.get(c)!.join(''), selectedCol: selLine === -1 && selCpu === c ? selCol : -1, count: countOf(excN.get(c)!) });
      rows.push({ label: `vec${String(c).padStart(2)}`, cells: vec.get(c)!.join(''), selectedCol: selLine === 16 && selCpu === c ? selCol : -1, count: countOf(vecN.get(c)!) });
    }
  }
  return {
    start, perCol, cols, follow: req.start === null, rows, selected, totalEvents: events.length, vectorBase, eventCount: events.length,
    hidden, lineOffset,
  };
}

/** The first column's instruction count that shows event `i` (for scrolling to a selection). */
export function startShowing(icount: number, start: number, perCol: number, cols: number): number {
  if (icount >= start && icount < start + cols * perCol) return start;
  return Math.max(0, icount - Math.floor(cols / 2) * perCol);
}

/** `[0, 1, 2, 5, 7, 8]` as `0-2,5,7-8`. */
export function lineRanges(lines: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j]! + 1) j++;
    parts.push(j > i ? `${lines[i]}-${lines[j]}` : String(lines[i]));
    i = j + 1;
  }
  return parts.join(',');
}
