// Registers, in four pages that `R` cycles through:
// - general: GPRs, EIP, EFLAGS decoded, segment selectors with their hidden base, limit
//   and attributes, control registers, EFER (and, where there is room, what the system
//   page shows in hex);
// - system: GDTR/IDTR, LDTR/TR with their hidden parts, CR0/CR4 decoded, DR0-DR3 with
//   the DR7 fields that arm them, DR6/DR7 decoded, the segment attributes decoded;
// - x87: control/status/tag words, TOP and the condition codes, exceptions, masks,
//   precision and rounding, the last instruction and operand pointers, ST0-ST7 with
//   their tags and values in decimal (and the raw images, where there is room);
// - sse: MXCSR decoded (flags, masks, rounding, DAZ/FTZ), XMM0-7 in hex (high quadword
//   first, as gdb's uint128) and, where there is room, as four singles.
// Values that changed since the previous stop are highlighted on every page.
import React from 'react';
import { Text } from 'ink';
import type { RegisterPage, RegistersView } from '../model/types.js';
import type { RegisterSnapshot, SegmentState } from '../../src/debug/registers.js';
import { conditionCodes, controlWord, exceptionFlags, float80Hex, float80ToString, fpuTop, tagOf } from '../../src/debug/x87-view.js';
import { Frame, fit, fitStyled } from './frame.js';
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

/** CR0 and CR4 bits by name (SDM vol. 3, 2.5). */
const CR0_BITS: [number, string][] = [[0, 'PE'], [1, 'MP'], [2, 'EM'], [3, 'TS'], [4, 'ET'], [5, 'NE'], [16, 'WP'], [18, 'AM'], [29, 'NW'], [30, 'CD'], [31, 'PG']];
const CR4_BITS: [number, string][] = [[0, 'VME'], [1, 'PVI'], [2, 'TSD'], [3, 'DE'], [4, 'PSE'], [5, 'PAE'], [6, 'MCE'], [7, 'PGE'], [8, 'PCE'], [9, 'OSFXSR'], [10, 'OSXMMEXCPT']];
/** DR6 and DR7 status/control bits (SDM vol. 3, 17.2). */
const DR6_BITS: [number, string][] = [[0, 'B0'], [1, 'B1'], [2, 'B2'], [3, 'B3'], [13, 'BD'], [14, 'BS'], [15, 'BT']];
const DR7_BITS: [number, string][] = [[8, 'LE'], [9, 'GE'], [13, 'GD']];
const DR7_RW = ['exec', 'write', 'io', 'rw'];
const DR7_LEN = [1, 2, 8, 4];
const SYSTEM_TYPES: Record<number, string> = {
  1: 'tss16', 2: 'ldt', 3: 'tss16 busy', 4: 'call16', 5: 'task gate', 6: 'int16', 7: 'trap16',
  9: 'tss32', 11: 'tss32 busy', 12: 'call32', 14: 'int32', 15: 'trap32',
};

const bitNames = (v: number, bits: readonly [number, string][]): string => bits.filter(([b]) => (v >>> b) & 1).map(([, n]) => n).join(' ') || '-';

/** Segment attributes as the 16 bits of the descriptor's high word that hold them. */
export const segAttr = (s: SegmentState): string => hex4(s.flags >>> 8);

/** The attributes of a segment in words: type, DPL, default size, granularity, presence. */
export function describeSegment(s: SegmentState): string {
  const f = s.flags;
  const type = (f >> 8) & 15;
  let kind: string;
  if (f & 0x1000) {
    kind = type & 8
      ? `code ${type & 4 ? 'C' : ''}X${type & 2 ? 'R' : ''}${type & 1 ? 'A' : ''}`
      : `data ${type & 4 ? 'E' : ''}R${type & 2 ? 'W' : ''}${type & 1 ? 'A' : ''}`;
  } else kind = SYSTEM_TYPES[type] ?? `sys ${type}`;
  return `${kind.padEnd(10)} dpl${(f >> 13) & 3} ${f & 0x400000 ? '32' : '16'} ${f & 0x800000 ? '4K' : '1B'}${f & 0x8000 ? '' : ' NP'}`;
}

export interface RegistersPaneProps {
  view: RegistersView;
  width: number;
  height: number;
}

const sameSeg = (a: SegmentState, b: SegmentState): boolean => a.sel === b.sel && a.base === b.base && a.limit === b.limit && a.flags === b.flags;

/** Which values differ from the previous stop (exported for tests and the status of the pane). */
export function changedRegisters(cur: RegisterSnapshot, prev: RegisterSnapshot | null): Set<string> {
  const out = new Set<string>();
  if (!prev) return out;
  GPR_LAYOUT.flat().forEach(([n, i]) => cur.gpr[i] !== prev.gpr[i] && out.add(n));
  if (cur.eip !== prev.eip) out.add('eip');
  if (cur.eflags !== prev.eflags) out.add('eflags');
  for (const [n, i] of SEG_ORDER) if (!sameSeg(cur.seg[i]!, prev.seg[i]!)) out.add(n);
  for (const n of ['cr0', 'cr2', 'cr3', 'cr4', 'efer'] as const) if (cur[n] !== prev[n]) out.add(n);
  if (!sameSeg(cur.ldtr, prev.ldtr)) out.add('ldtr');
  if (!sameSeg(cur.tr, prev.tr)) out.add('tr');
  for (const n of ['gdtr', 'idtr'] as const) if (cur[n].base !== prev[n].base || cur[n].limit !== prev[n].limit) out.add(n);
  cur.dr.forEach((v, i) => v !== prev.dr[i] && out.add(`dr${i}`));
  const f = cur.fpu;
  const g = prev.fpu;
  for (const n of ['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'] as const) if (f[n] !== g[n]) out.add(n);
  f.st.forEach((b, i) => b.some((x, j) => x !== g.st[i]![j]) && out.add(`st${i}`));
  if (cur.mxcsr !== prev.mxcsr) out.add('mxcsr');
  cur.xmm.forEach((b, i) => b.some((x, j) => x !== prev.xmm[i]![j]) && out.add(`xmm${i}`));
  return out;
}

const MXCSR_FLAGS = ['IE', 'DE', 'ZE', 'OE', 'UE', 'PE'];
const MXCSR_MASKS = ['IM', 'DM', 'ZM', 'OM', 'UM', 'PM'];
const ROUNDING = ['nearest', 'down', 'up', 'zero'];

/** The bytes b[hi..lo] (little-endian register image) as hex, most significant first. */
function bytesHex(b: readonly number[], lo: number, hi: number): string {
  let s = '';
  for (let i = hi; i >= lo; i--) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

function single(b: readonly number[], at: number): string {
  const v = new DataView(Uint8Array.from(b.slice(at, at + 4)).buffer).getFloat32(0, true);
  return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : v.toPrecision(6).replace(/\.?0+(e|$)/, '$1');
}

function sseRows(cur: RegisterSnapshot, v: Styler, inner: { width: number; height: number }): string[] {
  const m = cur.mxcsr;
  const rows: string[] = [];
  const flags = MXCSR_FLAGS.filter((_, i) => m & (1 << i));
  const masks = MXCSR_MASKS.filter((_, i) => m & (1 << (i + 7)));
  rows.push(`mxcsr ${v(hex8(m), 'mxcsr')}  rc ${ROUNDING[(m >> 13) & 3]}`);
  rows.push(`exc ${flags.length ? paint(flags.join(' '), 'red') : '-'}`);
  rows.push(`mask ${masks.join(' ') || '-'}`);
  rows.push(`daz ${m & 0x40 ? 1 : 0}  ftz ${m & 0x8000 ? 1 : 0}`);
  // Two rows a register in hex; the singles below where all of them fit.
  for (let i = 0; i < 8; i++) {
    const b = cur.xmm[i]!;
    rows.push(`xmm${i} ${v(bytesHex(b, 8, 15), `xmm${i}`)}`);
    rows.push(`     ${v(bytesHex(b, 0, 7), `xmm${i}`)}`);
  }
  if (rows.length + 9 <= inner.height) {
    rows.push(paint('     v4_float (3 2 1 0)', 'dim'));
    for (let i = 0; i < 8; i++) rows.push(`xmm${i} ${[12, 8, 4, 0].map((at) => single(cur.xmm[i]!, at)).join(' ')}`);
  }
  return rows;
}

type Styler = (text: string, name: string | boolean) => string;

function generalRows(cur: RegisterSnapshot, prev: RegisterSnapshot | null, v: Styler): string[] {
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
  return rows;
}

/** The general page's extra rows where there is room (the system page has them all). */
function generalExtras(cur: RegisterSnapshot, v: Styler): string[] {
  return [
    `ldtr ${v(`${hex4(cur.ldtr.sel)} ${hex8(cur.ldtr.base)} ${hex8(cur.ldtr.limit)}`, 'ldtr')}`,
    `tr   ${v(`${hex4(cur.tr.sel)} ${hex8(cur.tr.base)} ${hex8(cur.tr.limit)}`, 'tr')}`,
    `gdt  ${v(`${hex8(cur.gdtr.base)} ${hex4(cur.gdtr.limit)}`, 'gdtr')}`,
    `idt  ${v(`${hex8(cur.idtr.base)} ${hex4(cur.idtr.limit)}`, 'idtr')}`,
    `dr7  ${v(hex8(cur.dr[7]!), 'dr7')}  dr6 ${v(hex8(cur.dr[6]!), 'dr6')}`,
  ];
}

function systemRows(cur: RegisterSnapshot, v: Styler): string[] {
  const rows: string[] = [];
  rows.push(`gdtr ${v(hex8(cur.gdtr.base), 'gdtr')} limit ${v(hex4(cur.gdtr.limit), 'gdtr')}`);
  rows.push(`idtr ${v(hex8(cur.idtr.base), 'idtr')} limit ${v(hex4(cur.idtr.limit), 'idtr')}`);
  rows.push(paint('     sel  base     limit    attr', 'dim'));
  for (const n of ['ldtr', 'tr'] as const) {
    const s = cur[n];
    rows.push(`${n.padEnd(4)} ${v(`${hex4(s.sel)} ${hex8(s.base)} ${hex8(s.limit)} ${segAttr(s)}`, n)}`);
  }
  rows.push(`cr0 ${v(hex8(cur.cr0), 'cr0')} ${bitNames(cur.cr0, CR0_BITS)}`);
  rows.push(`cr4 ${v(hex8(cur.cr4), 'cr4')} ${bitNames(cur.cr4, CR4_BITS)}`);
  const dr7 = cur.dr[7]!;
  for (let i = 0; i < 4; i++) {
    const armed = `${(dr7 >> (2 * i)) & 1 ? 'L' : '-'}${(dr7 >> (2 * i + 1)) & 1 ? 'G' : '-'}`;
    const rw = DR7_RW[(dr7 >>> (16 + 4 * i)) & 3]!;
    const len = DR7_LEN[(dr7 >>> (18 + 4 * i)) & 3]!;
    rows.push(`dr${i} ${v(hex8(cur.dr[i]!), `dr${i}`)} ${armed} ${rw} ${len}`);
  }
  rows.push(`dr6 ${v(hex8(cur.dr[6]!), 'dr6')} ${bitNames(cur.dr[6]!, DR6_BITS)}`);
  rows.push(`dr7 ${v(hex8(dr7), 'dr7')} ${bitNames(dr7, DR7_BITS)}`);
  for (const [n, i] of SEG_ORDER) rows.push(`${n} ${v(describeSegment(cur.seg[i]!), n)}`);
  return rows;
}

function x87Rows(cur: RegisterSnapshot, prev: RegisterSnapshot | null, v: Styler, inner: { width: number; height: number }): string[] {
  const f = cur.fpu;
  const rows: string[] = [];
  rows.push(`fctrl ${v(hex4(f.fctrl), 'fctrl')} fstat ${v(hex4(f.fstat), 'fstat')} ftag ${v(hex4(f.ftag), 'ftag')}`);
  const before = prev ? conditionCodes(prev.fpu.fstat) : null;
  const cc = conditionCodes(f.fstat).reverse().map((c) => `${c.name}=${v(c.set ? '1' : '0', before !== null && before.find((b) => b.name === c.name)!.set !== c.set)}`);
  rows.push(`top ${v(String(fpuTop(f)), prev !== null && fpuTop(prev.fpu) !== fpuTop(f))}  ${cc.join(' ')}`);
  const exc = exceptionFlags(f.fstat);
  rows.push(`exc ${exc.length ? paint(exc.join(' '), 'red') : '-'}`);
  const cw = controlWord(f.fctrl);
  rows.push(`mask ${cw.masks.join(' ') || '-'}`);
  rows.push(`pc ${cw.precision}  rc ${cw.rounding}`);
  rows.push(`fip ${v(`${hex4(f.fiseg)}:${hex8(f.fioff)}`, prev !== null && (f.fiseg !== prev.fpu.fiseg || f.fioff !== prev.fpu.fioff))}  fop ${v(f.fop.toString(16).padStart(3, '0'), 'fop')}`);
  rows.push(`fdp ${v(`${hex4(f.foseg)}:${hex8(f.fooff)}`, prev !== null && (f.foseg !== prev.fpu.foseg || f.fooff !== prev.fpu.fooff))}`);
  const valueWidth = Math.max(6, inner.width - 12);
  for (let i = 0; i < 8; i++) {
    const tag = tagOf(f, i);
    const text = `${tag.padEnd(7)} ${float80ToString(f.st[i]!, valueWidth)}`;
    rows.push(`st${i} ${tag === 'empty' ? paint(text, 'dim') : v(text, `st${i}`)}`);
  }
  // The raw images, when all of them fit below.
  if (rows.length + 9 <= inner.height) {
    rows.push(paint('    sexp mantissa', 'dim'));
    for (let i = 0; i < 8; i++) rows.push(`st${i} ${v(float80Hex(f.st[i]!), `st${i}`)}`);
  }
  return rows;
}

const TITLES: Record<RegisterPage, string> = { general: 'Registers', system: 'System registers', x87: 'x87 FPU', sse: 'SSE' };
const NEXT_HINT: Record<RegisterPage, string> = {
  general: 'R ▸ system, x87, sse', system: 'R ▸ x87, sse, general', x87: 'R ▸ sse, general', sse: 'R ▸ general, system',
};

export function RegistersPane({ view, width, height }: RegistersPaneProps): React.JSX.Element {
  const { cur, prev, running } = view;
  const page = view.page ?? 'general';
  const changed = changedRegisters(cur, prev);
  // A changed value in bold yellow; while the guest runs, the others dimmed.
  const v: Styler = (text, name) =>
    (typeof name === 'boolean' ? name : changed.has(name)) ? paint(text, 'yellow', 'bold') : running ? paint(text, 'dim') : text;
  const inner = { width: width - 2, height: height - 2 };
  let rows: string[];
  if (page === 'system') rows = systemRows(cur, v);
  else if (page === 'x87') rows = x87Rows(cur, prev, v, inner);
  else if (page === 'sse') rows = sseRows(cur, v, inner);
  else {
    rows = generalRows(cur, prev, v);
    for (const e of generalExtras(cur, v)) if (rows.length < inner.height) rows.push(e);
  }
  // Where a row is left over, say how to reach the other pages.
  if (rows.length < inner.height) rows.push(paint(fit(NEXT_HINT[page], inner.width), 'dim'));
  return (
    <Frame title={TITLES[page]} width={width} height={height} info={running ? 'running' : `icount ${cur.icount}`}>
      <Text>{rows.slice(0, inner.height).map((r) => fitStyled(r, inner.width)).join('\n')}</Text>
    </Frame>
  );
}
