// The plain data the panes render. A snapshot is built from the machine at most ~30
// times a second (never per TB) and holds no live objects, so it could cross a worker
// boundary unchanged.
import type { RegisterSnapshot } from '../../src/debug/registers.js';

/** Panes that take the keyboard focus. Registers are always visible and never focused. */
export type PaneId = 'disasm' | 'console' | 'tb' | 'tbs' | 'irq' | 'bps' | 'mem' | 'log' | 'vga';

/** The tabbed panes below the disassembly, in tab order. */
export const TAB_PANES: readonly PaneId[] = ['console', 'tb', 'tbs', 'irq', 'bps', 'mem', 'log', 'vga'];
export const FOCUS_ORDER: readonly PaneId[] = ['disasm', ...TAB_PANES];

export const PANE_TITLES: Record<PaneId, string> = {
  disasm: 'Disassembly',
  console: 'Console',
  tb: 'Current TB',
  tbs: 'TB cache',
  irq: 'IRQ timeline',
  bps: 'Breakpoints',
  mem: 'Memory',
  log: 'Log',
  vga: 'VGA',
};

export interface StatusView {
  state: 'running' | 'stopped' | 'exited';
  /** Why it stopped, in words (empty while running). */
  reason: string;
  icount: number;
  /** Guest speed: the live rate while running, the average of the last run when stopped. */
  mips: number;
  gdb: string | null;
  guest: string;
  halted: boolean;
  /** The last code written to the POST port (0x80), or null if none was. */
  post: number | null;
  /** In the past (reverse execution): the instruction count of the present; else null. */
  present: number | null;
  /** With several CPUs: "CPU n/N", the selected one (the one that stopped); null with one. */
  cpu?: string | null;
}

/** The registers pane's pages, in the order `R` cycles through them. */
export type RegisterPage = 'general' | 'system' | 'x87' | 'sse';
export const REGISTER_PAGES: readonly RegisterPage[] = ['general', 'system', 'x87', 'sse'];

export interface RegistersView {
  page: RegisterPage;
  cur: RegisterSnapshot;
  /** Registers at the stop before this one (for highlighting changes), or null. */
  prev: RegisterSnapshot | null;
  running: boolean;
}

export interface DisasmRow {
  kind: 'insn' | 'label';
  addr: number;
  /** Label rows: the symbol name. Instruction rows: the instruction text. */
  text: string;
  bytes: string;
  eip: boolean;
  breakpoint: boolean;
  cursor: boolean;
  /** Position inside the TB that holds EIP: first, middle, last, only, or none. */
  tb: 'first' | 'mid' | 'last' | 'only' | null;
}

export interface DisasmView {
  rows: DisasmRow[];
  eip: number;
  cursor: number;
  /** The TB that holds EIP: [start, end) and its id, or null if none is translated. */
  tb: { id: number; start: number; end: number } | null;
  bitness: 16 | 32;
}

export interface TbCodeLine {
  addr: number;
  text: string;
  bytes: string;
  eip: boolean;
}

export interface TbDetail {
  id: number;
  pc: number;
  phys: number;
  size: number;
  ninsns: number;
  execCount: number;
  translatedAt: number;
  /** Made from the persistent translation cache (--tb-cache), not translated in this run. */
  fromStore: boolean;
  valid: boolean;
  invalidatedAt: number;
  invalidationReason: string;
  cflags: number;
  symbol: string | null;
  region: string | null;
  /** With several CPUs: who ran it ("CPU 0, 1"); null with one CPU. */
  ranOn: string | null;
  linksOut: ({ id: number; pc: number } | null)[];
  linksIn: { id: number; pc: number }[];
  code: TbCodeLine[];
  source: string[];
  history: { id: number; icount: number; reason: string; execCount: number }[];
}

export interface CurrentTbView {
  tb: TbDetail | null;
  /** How the TB was found: it holds EIP, or it is the last one executed. */
  how: 'eip' | 'last' | 'none';
  scroll: number;
}

export type TbSort = 'execs' | 'recent' | 'address';

export interface TbRow {
  id: number;
  pc: number;
  symbol: string | null;
  ninsns: number;
  size: number;
  execCount: number;
  translatedAt: number;
  linksIn: number;
  linksOut: number;
  /** How many times a TB at this pc has been invalidated. */
  invalidations: number;
  inRegion: boolean;
  /** Translated after the instruction count shown (the view is in the past). */
  later?: boolean;
  /** For the history list: why and when it was invalidated. */
  invalidatedAt?: number;
  reason?: string;
}

export interface TbStatsView {
  live: number;
  limit: number;
  translations: number;
  invalidations: number;
  flushes: number;
  chainsMade: number;
  hitRate: number;
  regions: number;
}

export interface TbInspectorView {
  mode: 'live' | 'history';
  sort: TbSort;
  filter: string;
  filterEditing: boolean;
  /** Total rows after the filter; `rows` is the visible window from `offset`. */
  total: number;
  offset: number;
  selected: number;
  rows: TbRow[];
  stats: TbStatsView;
  detail: TbDetail | null;
  detailScroll: number;
}

export interface IrqEventView {
  kind: 'irq-raise' | 'irq-lower' | 'irq-deliver' | 'exception';
  icount: number;
  line: number | null;
  vector: number | null;
  eip: number | null;
  errorCode: number | null;
  /** For a raise: the delivery that answered it (icount, EIP, vector), if one followed. */
  delivered: { icount: number; eip: number; vector: number } | null;
  /** For IRQ 14/15: the last IDE command given to that channel before the event ("READ DMA lba 8 count 1, status 0x58"). */
  ideCommand?: string;
  /** With several CPUs: the CPU that took the interrupt or exception. */
  cpu?: number;
}

export interface IrqRowView {
  label: string;
  cells: string;
  /** Column of the selected event in this row, or -1. */
  selectedCol: number;
  count: string;
}

export interface IrqTimelineView {
  start: number;
  perCol: number;
  cols: number;
  follow: boolean;
  rows: IrqRowView[];
  selected: IrqEventView | null;
  totalEvents: number;
  vectorBase: { master: number; slave: number };
  /** IRQ lines left out for want of rows (ascending), and where the list is scrolled to. */
  hidden: number[];
  lineOffset: number;
}

export interface ConsoleView {
  lines: string[];
  /** Bytes typed into the guest's serial input. */
  sent: number;
}

export interface BreakpointRow {
  id: number;
  kind: 'break' | 'hbreak' | 'watch' | 'rwatch' | 'awatch';
  addr: number;
  len: number;
  owner: string;
  symbol: string | null;
}

export interface BreakpointsView {
  rows: BreakpointRow[];
  selected: number;
}

export interface MemoryView {
  addr: number;
  physical: boolean;
  follow: string | null;
  /** One entry per 16-byte line; null bytes are unmapped. */
  lines: { addr: number; bytes: (number | null)[] }[];
}

/** A run of cells with one VGA attribute byte. */
export interface VgaRun {
  text: string;
  attr: number;
}

export interface VgaView {
  /** What the VGA shows: a text screen, or graphics (nothing to draw in a terminal). */
  mode: 'text' | 'graphics' | 'vbe';
  /** Graphics modes: the resolution, for the message shown instead. */
  graphics: string | null;
  screenCols: number;
  screenRows: number;
  /** The window on screen: its first row and column, and its size. */
  top: number;
  left: number;
  /** The visible rows, each cut to the window, as runs of equal attributes. */
  lines: VgaRun[][];
  /** The hardware cursor, in screen coordinates (null when hidden). */
  cursor: { x: number; y: number } | null;
  /** The window follows the text and the cursor (false once scrolled by hand). */
  follow: boolean;
  /** Rows and columns that hold text or colour (the rest is blank). */
  usedRows: number;
  usedCols: number;
  blank: boolean;
  post: number | null;
}

export interface LogView {
  lines: string[];
}

export interface CommandLineView {
  active: boolean;
  text: string;
}

/** Everything the layout draws. */
export interface UiSnapshot {
  seq: number;
  columns: number;
  rows: number;
  focus: PaneId;
  tab: PaneId;
  zoom: boolean;
  help: boolean;
  helpScroll: number;
  status: StatusView;
  registers: RegistersView;
  disasm: DisasmView;
  /** The tabbed pane on screen (null when the disassembly is zoomed). */
  pane: PaneSnapshot | null;
  commandLine: CommandLineView;
  message: string | null;
  helpLine: string;
  helpText: { title: string; lines: string[] }[];
}

/** The one tabbed pane that is on screen. */
export type PaneSnapshot =
  | { id: 'console'; view: ConsoleView }
  | { id: 'tb'; view: CurrentTbView }
  | { id: 'tbs'; view: TbInspectorView }
  | { id: 'irq'; view: IrqTimelineView }
  | { id: 'bps'; view: BreakpointsView }
  | { id: 'mem'; view: MemoryView }
  | { id: 'log'; view: LogView }
  | { id: 'vga'; view: VgaView };
