// The disassembly window: instructions around the cursor (EIP unless moved), decoded
// from a known instruction boundary before it (the enclosing symbol or the TB that holds
// it), with symbols, breakpoints and the bounds of the TB that holds EIP.
import type { DebugTarget, TbSummary } from '../../src/debug/target.js';
import { disassemble, type DisasmLine } from '../../src/debug/disassembler.js';
import type { DisasmRow, DisasmView } from './types.js';

/** How far before the cursor a symbol may start and still be decoded from. */
const MAX_LOOKBEHIND = 2048;

export interface DisasmRequest {
  /** Where the cursor is (EIP when the user has not moved it). */
  cursor: number;
  /** Address of the first row last time (keeps the window still while the cursor moves in it). */
  top: number | null;
  /** Rows available. */
  rows: number;
}

export interface DisasmResult extends DisasmView {
  /** Addresses of every instruction decoded (for cursor movement), ascending. */
  addrs: number[];
  top: number;
}

/** The TB to show for EIP: a live, full TB holding it, else the last TB executed. */
export function tbAtEip(ctl: DebugTarget): { tb: TbSummary | null; how: 'eip' | 'last' | 'none' } {
  const eip = ctl.status().pc;
  const live = ctl.tbs(eip);
  if (live.length > 0) {
    // Prefer a normal TB starting at EIP, then any normal TB, then a one-instruction TB.
    const score = (t: TbSummary): number => (t.single ? 0 : 2) + (t.pc === eip ? 1 : 0);
    const best = live.reduce((a, b) => (score(b) > score(a) || (score(b) === score(a) && b.id > a.id) ? b : a));
    return { tb: best, how: 'eip' };
  }
  const last = ctl.lastTb();
  return last ? { tb: last, how: 'last' } : { tb: null, how: 'none' };
}

function hexBytes(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

function decodeFrom(ctl: DebugTarget, start: number, len: number, bitness: 16 | 32): DisasmLine[] {
  const bytes = readAvailable(ctl, start, len);
  if (bytes.length === 0) return [];
  return disassemble(bytes, start, bitness);
}

/** Linear memory from `addr`, cut at the first unmapped page. */
export function readAvailable(ctl: DebugTarget, addr: number, len: number): Uint8Array {
  const whole = ctl.readMemory(addr >>> 0, len);
  if (whole) return whole;
  let n = 0;
  while (n < len && ctl.translate((addr + n) >>> 0) !== null) n += 0x1000 - ((addr + n) & 0xfff);
  return ctl.readMemory(addr >>> 0, Math.min(n, len)) ?? new Uint8Array(0);
}

const BRANCH = /^(call|j[a-z]+|loop[a-z]*|jecxz|jcxz)\b/;

/** `call 00100015h` → `call 00100015h <main>`. */
function annotate(ctl: DebugTarget, text: string): string {
  if (!BRANCH.test(text)) return text;
  const m = /\b([0-9A-F]+)h\b/.exec(text);
  if (!m) return text;
  const target = parseInt(m[1]!, 16);
  const sym = ctl.symbolAt(target);
  if (!sym) return text;
  return `${text} <${sym.name}${sym.offset ? `+0x${sym.offset.toString(16)}` : ''}>`;
}

export function buildDisasm(ctl: DebugTarget, req: DisasmRequest): DisasmResult {
  const st = ctl.status();
  const eip = st.pc;
  const bitness = st.codeBits;
  const { tb } = tbAtEip(ctl);
  const tbRange = tb && tb.valid && eip >= tb.pc && eip < tb.pc + tb.size ? { id: tb.id, start: tb.pc, end: tb.pc + tb.size } : null;
  const cursor = req.cursor >>> 0;
  const rows = Math.max(1, req.rows);

  // A boundary before the cursor: the symbol it is in, or a TB holding it.
  const candidates: number[] = [];
  const sym = ctl.symbolAt(cursor);
  if (sym && sym.offset <= MAX_LOOKBEHIND) candidates.push(cursor - sym.offset);
  for (const t of ctl.tbs(cursor)) candidates.push(t.pc);
  if (req.top !== null && req.top <= cursor && cursor - req.top <= MAX_LOOKBEHIND) candidates.push(req.top);
  candidates.push(cursor);
  let lines: DisasmLine[] = [];
  for (const start of [...new Set(candidates)].sort((a, b) => a - b)) {
    lines = decodeFrom(ctl, start, cursor - start + rows * 16 + 16, bitness);
    if (lines.some((l) => l.addr === cursor)) break;
  }
  const addrs = lines.map((l) => l.addr);
  let ci = addrs.indexOf(cursor);
  if (ci < 0) ci = 0;

  // Rows: instructions, with a label row where a symbol starts.
  const labelAt = (a: number): string | null => {
    const s = ctl.symbolAt(a);
    return s && s.offset === 0 ? s.name : null;
  };
  const rowCount = (from: number, to: number): number => {
    let n = 0;
    for (let i = from; i <= to; i++) n += labelAt(addrs[i]!) ? 2 : 1;
    return n;
  };
  // Keep the old top if the cursor is still inside the window, else put the cursor a third down.
  let ti = req.top !== null ? addrs.indexOf(req.top) : -1;
  if (ti < 0 || ti > ci || rowCount(ti, ci) > rows) {
    ti = ci;
    const want = Math.floor(rows / 3);
    while (ti > 0 && rowCount(ti - 1, ci) <= want + 1) ti--;
  }
  const bps = new Set(ctl.breakpoints().map((b) => b.addr));
  const out: DisasmRow[] = [];
  for (let i = ti; i < lines.length && out.length < rows; i++) {
    const l = lines[i]!;
    const label = labelAt(l.addr);
    if (label && out.length < rows - 1) out.push({ kind: 'label', addr: l.addr, text: label, bytes: '', eip: false, breakpoint: false, cursor: false, tb: null });
    let tbMark: DisasmRow['tb'] = null;
    if (tbRange && l.addr >= tbRange.start && l.addr < tbRange.end) {
      const first = l.addr === tbRange.start;
      const last = l.addr + l.len >= tbRange.end;
      tbMark = first && last ? 'only' : first ? 'first' : last ? 'last' : 'mid';
    }
    out.push({
      kind: 'insn', addr: l.addr, text: annotate(ctl, l.text), bytes: hexBytes(l.bytes), eip: l.addr === eip,
      breakpoint: bps.has(l.addr), cursor: l.addr === cursor, tb: tbMark,
    });
  }
  return { rows: out, eip, cursor, tb: tbRange, bitness, addrs, top: addrs[ti] ?? cursor };
}
