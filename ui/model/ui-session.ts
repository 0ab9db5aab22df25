// The UI's container: owns the UI state (focus, cursors, selections, the command line,
// the console and the log), turns keys into actions on the DebugController, and
// publishes snapshots of the machine for the panes at most ~30 times a second (fewer
// while the guest runs), never once per TB. It knows nothing about Ink or React, so it
// is driven the same way by the terminal, by tests and by the benchmark.
import type { ControllerEvent, DebugTarget, StopReason } from '../../src/debug/target.js';
import type { RegisterSnapshot } from '../../src/debug/registers.js';
import { describeStop as describeStopText, hex8, stopContext } from '../../src/debug/describe-stop.js';
import { COMMAND_HELP, newCommandSession, runCommand, type CommandHost } from '../../src/debug/commands.js';
import { ConsoleBuffer } from './console-buffer.js';
import { BINDINGS, helpLine, helpText, lookupKey, type Command } from './keymap.js';
import { keyToBytes, keyToScancodes } from './keys.js';
import { computeLayout } from './layout.js';
import { buildDisasm, tbAtEip } from './disasm-view.js';
import { buildTbInspector, tbDetail } from './tb-view.js';
import { buildIrqTimeline, irqEvents, startShowing } from './irq-view.js';
import { buildMemory, FOLLOW_REGISTERS } from './memory-view.js';
import { buildBreakpoints, breakpointRows } from './breakpoints-view.js';
import { buildVga } from './vga-view.js';
import { FOCUS_ORDER, REGISTER_PAGES, TAB_PANES, type PaneId, type PaneSnapshot, type RegisterPage, type TbSort, type UiSnapshot } from './types.js';

/**
 * While the guest runs, a frame every RUNNING_UI_SHARE times what the last one cost at
 * most: drawing takes no more than 1/20 of the time (issue 10: Linux under the terminal
 * UI within 10% of headless; a 120x40 frame of a running Linux costs ~15 ms).
 */
const RUNNING_UI_SHARE = 20;

export interface UiSessionOptions {
  guestName?: string;
  /** gdb status for the status line ("attached :1234", "listening :1234"), or null. */
  gdbStatus?: () => string | null;
  /** Redraws per second at most (keys, stops). */
  maxFps?: number;
  /** Redraws per second while the guest runs with nothing typed. */
  runningFps?: number;
  columns?: number;
  rows?: number;
  onQuit?: () => void;
  /** Timers; tests pass fakes. */
  now?: () => number;
}

export type SnapshotListener = (s: UiSnapshot) => void;

const SORTS: readonly TbSort[] = ['execs', 'recent', 'address'];

/** A stop reason in words, with the symbol where there is one. */
export function describeStop(ctl: DebugTarget, r: StopReason): string {
  return describeStopText(r, stopContext(ctl));
}

export class UiSession {
  columns: number;
  rows: number;
  focus: PaneId = 'disasm';
  tab: PaneId = 'console';
  zoom = false;
  help = false;
  private helpScroll = 0;
  readonly console = new ConsoleBuffer();
  private readonly logLines: string[] = [];
  private message: string | null = null;
  private cmd = { active: false, text: '', history: [] as string[], index: -1 };

  // Pane state.
  private dis = { cursor: null as number | null, top: null as number | null, addrs: [] as number[], rows: 1 };
  private tbScroll = 0;
  private tbs = {
    mode: 'live' as 'live' | 'history', sort: 'execs' as TbSort, filter: '', filterEditing: false, selected: 0, offset: 0,
    detailId: null as number | null, detailScroll: 0, ids: [] as number[], rows: 1, pcs: [] as number[],
  };
  private irq = { start: null as number | null, perCol: null as number | null, selected: -1, shownStart: 0, shownPerCol: 1, cols: 1, lineOffset: 0 };
  private bpSelected = 0;
  private mem = { addr: 0, physical: false, follow: 'esp' as string | null, lines: 1 };
  private logScroll = 0;
  private vga = { top: 0, left: 0, follow: true, shownTop: 0, shownLeft: 0, rows: 1, cols: 1 };
  private regPage: RegisterPage = 'general';

  // Registers at the last two stops (changes are highlighted).
  private lastStopRegs: RegisterSnapshot;
  private prevStopRegs: RegisterSnapshot | null = null;
  private run = { t0: 0, i0: 0, mips: 0 };

  private readonly listeners = new Set<SnapshotListener>();
  /** Built on first use: the terminal sizes the session before its first frame. */
  private snapshotCache: UiSnapshot | null = null;
  private get snapshot(): UiSnapshot {
    return (this.snapshotCache ??= this.build());
  }

  private set snapshot(s: UiSnapshot) {
    this.snapshotCache = s;
  }
  private seq = 0;
  private lastPublish = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private idleTicker: ReturnType<typeof setInterval> | null = null;
  private queue: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | null = null;
  private readonly now: () => number;
  quitting = false;
  /** Snapshots built (for the benchmark). */
  builds = 0;
  buildMs = 0;

  /** The command line's state and what it may do here (panes, running, quitting). */
  private readonly commands: CommandHost;

  constructor(readonly ctl: DebugTarget, private readonly opts: UiSessionOptions = {}) {
    this.columns = opts.columns ?? 120;
    this.rows = opts.rows ?? 40;
    this.now = opts.now ?? (() => performance.now());
    this.lastStopRegs = ctl.registers();
    this.commands = {
      session: newCommandSession(),
      run: {
        stepInstruction: (n) => this.stepInstruction(n),
        stepBlock: (n) => this.stepBlock(n),
        continueGuest: () => this.continueGuest(),
        pauseGuest: () => this.pauseGuest(),
      },
      quit: () => this.quit(),
      showMemory: (a, p) => this.showMemory(a, p),
      showTb: (id) => this.showTb(id),
      showDisasm: (a) => this.showDisasm(a),
      showIrq: () => this.showIrq(),
      showRegisters: (page) => this.showRegisters(page),
      showVga: () => this.showVga(),
    };
  }

  // ---- wiring ------------------------------------------------------------------------------

  /** Follow the controller's events; returns the detach function. */
  attach(): () => void {
    const off = this.ctl.subscribe((e) => this.onControllerEvent(e));
    this.unsubscribe = off;
    // A stopped machine can still change under us (gdb writes registers or memory, a
    // debugger attaches): look again twice a second.
    this.idleTicker = setInterval(() => {
      if (this.ctl.status().state !== 'running') this.schedule('tick');
    }, 500);
    this.idleTicker.unref?.();
    if (this.ctl.status().state === 'running') this.onControllerEvent({ type: 'resume', by: 'debugger' });
    return () => this.dispose();
  }

  dispose(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    if (this.ticker) clearInterval(this.ticker);
    if (this.idleTicker) clearInterval(this.idleTicker);
    this.timer = null;
    this.ticker = null;
    this.idleTicker = null;
  }

  private onControllerEvent(e: ControllerEvent): void {
    switch (e.type) {
      case 'resume':
        this.run.t0 = this.now();
        this.run.i0 = this.ctl.status().icount;
        if (this.ctl.status().state === 'running' && !this.ticker) {
          this.ticker = setInterval(() => this.schedule('tick'), 1000 / (this.opts.runningFps ?? 5));
        }
        // Not at once: a key that resumed has its frame scheduled already, and a short run
        // (a step, a few milliseconds to the next breakpoint) should not pay for a frame.
        this.schedule('tick');
        break;
      case 'stop': {
        if (this.ticker) clearInterval(this.ticker);
        this.ticker = null;
        const dt = this.now() - this.run.t0;
        if (dt > 50) this.run.mips = ((this.ctl.status().icount - this.run.i0) / dt) * 1000;
        this.prevStopRegs = this.lastStopRegs;
        this.lastStopRegs = this.ctl.registers();
        this.dis.cursor = null;
        // With several CPUs, the one that stopped is the selected one now: the stop's words
        // keep naming it when another is selected later.
        this.stopCpu = this.ctl.selectedCpu();
        this.stopText = { reason: e.reason, text: this.stopWords(e.reason) };
        if (e.reason.kind !== 'step') this.log(`stopped: ${this.stopText.text}`);
        this.schedule('stop');
        break;
      }
      case 'breakpoints':
        this.schedule('key');
        break;
      case 'slice':
        break;
    }
  }

  /** Serial output of the guest (one byte). */
  serialOutput(byte: number): void {
    this.console.push(byte);
    this.schedule('output');
  }

  subscribe(l: SnapshotListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  getSnapshot(): UiSnapshot {
    return this.snapshot;
  }

  resize(columns: number, rows: number): void {
    if (columns === this.columns && rows === this.rows) return;
    this.columns = columns;
    this.rows = rows;
    this.schedule('key');
  }

  // ---- publishing --------------------------------------------------------------------------

  /**
   * Publish a snapshot soon: at most maxFps a second, runningFps for output and ticks while
   * running, and then no more often than keeps drawing under 1/RUNNING_UI_SHARE of the time
   * (a frame of a big terminal costs more: the guest, not the picture of it, keeps the CPU).
   */
  schedule(why: 'key' | 'stop' | 'output' | 'tick'): void {
    if (this.quitting) return;
    const fast = why === 'key' || why === 'stop' || this.ctl.status().state !== 'running';
    const interval = fast
      ? 1000 / (this.opts.maxFps ?? 30)
      : Math.max(1000 / (this.opts.runningFps ?? 5), RUNNING_UI_SHARE * this.frameCost);
    // While running, the first frame comes one interval after the resume: a run that ends
    // sooner (a step, a short continue) goes straight to the frame of its stop.
    const since = fast ? this.lastPublish : Math.max(this.lastPublish, this.run.t0);
    const wait = Math.max(0, since + interval - this.now());
    if (this.timer) {
      if (!fast) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.publishNow();
    }, wait);
  }

  /**
   * The front end drew the frame of the last snapshot: what it cost, from building the
   * snapshot to the terminal write (React and Ink render after publishNow returns).
   */
  frameDrawn(): void {
    this.frameCost = Math.max(0, this.now() - this.lastPublish);
  }

  private frameCost = 0;

  /** Build and push a snapshot now (tests call this directly). */
  publishNow(): UiSnapshot {
    this.lastPublish = this.now();
    const snap = this.build();
    // Nothing changed (a stopped machine looked at again): no frame to draw.
    const signature = JSON.stringify({ ...snap, seq: 0 });
    if (signature === this.lastSignature) return this.snapshot;
    this.lastSignature = signature;
    this.snapshot = snap;
    for (const l of [...this.listeners]) l(this.snapshot);
    return this.snapshot;
  }

  private lastSignature = '';

  /** The board's CPU count (-smp; fixed for a machine). */
  private get cpuCount(): number {
    return this.ctl.cpus().length;
  }

  /** The CPU selected when the last stop came (null before one was seen: the selected one). */
  private stopCpu: number | null = null;
  /** The last stop in words, as it was then (the PC of the CPU that stopped, not of one selected since). */
  private stopText: { reason: StopReason; text: string } | null = null;

  /** Why the guest stopped, in words; with several CPUs, on which CPU. */
  private stopWords(r: StopReason): string {
    const text = describeStop(this.ctl, r);
    if (this.cpuCount < 2) return text;
    const onCpu = r.kind === 'breakpoint' || r.kind === 'watchpoint' || r.kind === 'step' || r.kind === 'interrupt' || r.kind === 'history-begin' || r.kind === 'halted';
    return onCpu ? `${text} on CPU ${this.stopCpu ?? this.ctl.selectedCpu()}` : text;
  }

  private build(): UiSnapshot {
    const t0 = performance.now();
    const ctl = this.ctl;
    const st = ctl.status();
    const layout = computeLayout(this.columns, this.rows, this.focus, this.zoom);
    const running = st.state === 'running';
    const status = {
      state: st.state,
      reason: running ? '' : this.stopText?.reason === st.lastStop ? this.stopText.text : this.stopWords(st.lastStop),
      icount: st.icount,
      mips: running ? st.mips : this.run.mips,
      gdb: this.opts.gdbStatus?.() ?? null,
      guest: this.opts.guestName ?? '',
      halted: st.halted,
      post: st.postCode,
      present: ctl.history()?.present ?? null,
      cpu: this.cpuCount > 1 ? `CPU ${ctl.selectedCpu()}/${this.cpuCount}` : null,
    };
    const registers = {
      page: this.regPage,
      cur: ctl.registers(),
      prev: running ? this.lastStopRegs : this.prevStopRegs,
      running,
    };
    this.dis.rows = layout.disasmBody.height;
    const d = buildDisasm(ctl, { cursor: this.dis.cursor ?? st.pc, top: this.dis.top, rows: this.dis.rows });
    this.dis.addrs = d.addrs;
    this.dis.top = d.top;
    const disasm = { rows: d.rows, eip: d.eip, cursor: d.cursor, tb: d.tb, bitness: d.bitness };
    let pane: PaneSnapshot | null = null;
    if (layout.tab) pane = this.buildPane(layout.tabBody.width, layout.tabBody.height);
    const snap: UiSnapshot = {
      seq: ++this.seq,
      columns: this.columns,
      rows: this.rows,
      focus: this.focus,
      tab: this.tab,
      zoom: this.zoom,
      help: this.help,
      helpScroll: this.helpScroll,
      status,
      registers,
      disasm,
      pane,
      commandLine: { active: this.cmd.active, text: this.cmd.text },
      message: this.message,
      helpLine: this.focus === 'vga' && this.vgaTyping ? 'VGA: typing goes to the guest\'s keyboard  Esc stop  ^C quit' : helpLine(this.focus, BINDINGS, layout.columns),
      helpText: this.help ? [...helpText(BINDINGS), { title: 'command line (:) and gdb monitor', lines: [...COMMAND_HELP] }] : [],
    };
    this.builds++;
    this.buildMs += performance.now() - t0;
    return snap;
  }

  private buildPane(width: number, height: number): PaneSnapshot {
    const ctl = this.ctl;
    switch (this.tab) {
      case 'console':
      default:
        return { id: 'console', view: { lines: this.console.tail(height), sent: this.consoleSent } };
      case 'tb': {
        const { tb, how } = tbAtEip(ctl);
        const detail = tb ? ctl.tbDetail(tb.id) : null;
        return { id: 'tb', view: { tb: detail ? tbDetail(ctl, detail, ctl.status().pc) : null, how, scroll: this.tbScroll } };
      }
      case 'tbs': {
        this.tbs.rows = Math.max(1, height - 3);
        const v = buildTbInspector(ctl, { ...this.tbs, rows: this.tbs.rows });
        this.tbs.ids = v.ids;
        this.tbs.selected = v.selected;
        this.tbs.offset = v.offset;
        this.tbs.pcs = v.rows.map((r) => r.pc);
        const { ids: _ids, ...view } = v;
        if (this.tbs.detailId !== null && !view.detail) this.tbs.detailId = null;
        return { id: 'tbs', view };
      }
      case 'irq': {
        const cols = Math.max(8, width - 12);
        this.irq.cols = cols;
        const v = buildIrqTimeline(ctl, { start: this.irq.start, perCol: this.irq.perCol, cols, rows: height - 2, selected: this.irq.selected, lineOffset: this.irq.lineOffset });
        this.irq.shownStart = v.start;
        this.irq.shownPerCol = v.perCol;
        this.irq.lineOffset = v.lineOffset;
        const { eventCount: _n, ...view } = v;
        return { id: 'irq', view };
      }
      case 'bps': {
        const v = buildBreakpoints(ctl, this.bpSelected);
        this.bpSelected = v.selected;
        return { id: 'bps', view: v };
      }
      case 'mem': {
        this.mem.lines = height;
        return { id: 'mem', view: buildMemory(ctl, this.mem) };
      }
      case 'log': {
        const end = Math.max(0, this.logLines.length - this.logScroll);
        return { id: 'log', view: { lines: this.logLines.slice(Math.max(0, end - height), end) } };
      }
      case 'vga': {
        this.vga.rows = height;
        this.vga.cols = width;
        const v = buildVga(ctl, { top: this.vga.top, left: this.vga.left, follow: this.vga.follow, width, height });
        this.vga.shownTop = v.top;
        this.vga.shownLeft = v.left;
        return { id: 'vga', view: v };
      }
    }
  }

  private consoleSent = 0;
  /** The VGA pane sends keys to the guest's keyboard (`i` starts, Esc ends). */
  vgaTyping = false;

  // ---- keys --------------------------------------------------------------------------------

  handleKeys(keys: readonly string[]): void {
    for (const k of keys) this.handleKey(k);
  }

  handleKey(key: string): void {
    if (this.quitting) return;
    this.schedule('key');
    if (key === 'ctrl-c') return this.quit();
    if (this.help) {
      const d = key === 'down' || key === 'j' ? 1 : key === 'up' || key === 'k' ? -1 : key === 'pagedown' ? 10 : key === 'pageup' ? -10 : 0;
      if (d) this.helpScroll = Math.max(0, this.helpScroll + d);
      else this.help = false;
      return;
    }
    if (this.cmd.active) return this.editCommand(key);
    if (this.focus === 'tbs' && this.tbs.filterEditing) return this.editFilter(key);
    if (this.focus === 'vga' && this.vgaTyping) {
      // Typing into the guest's PS/2 keyboard (boot menus, GRUB): Esc ends it.
      if (key === 'escape') {
        this.vgaTyping = false;
        return;
      }
      const codes = keyToScancodes(key);
      if (codes.length) this.ctl.keyboardInput(codes);
      return;
    }
    if (this.focus === 'console') {
      if (key === 'escape') {
        this.focus = 'disasm';
        return;
      }
      const bytes = keyToBytes(key);
      if (bytes.length) {
        this.ctl.serialInput(bytes);
        this.consoleSent += bytes.length;
      }
      return;
    }
    this.message = null;
    const command = lookupKey(key, this.focus);
    if (command) this.execute(command);
  }

  private editCommand(key: string): void {
    const c = this.cmd;
    switch (key) {
      case 'return': {
        const line = c.text;
        c.active = false;
        c.text = '';
        if (line.trim()) {
          c.history.push(line);
          if (c.history.length > 100) c.history.shift();
        }
        c.index = -1;
        this.logLines.push(`(bmbt) ${line}`);
        this.enqueue(async () => {
          const out = await runCommand(this.ctl, line, this.commands);
          if (out) this.log(out.trimEnd());
        });
        return;
      }
      case 'escape':
        c.active = false;
        c.text = '';
        return;
      case 'backspace':
        if (c.text === '') c.active = false;
        c.text = c.text.slice(0, -1);
        return;
      case 'up':
        if (c.history.length === 0) return;
        c.index = c.index < 0 ? c.history.length - 1 : Math.max(0, c.index - 1);
        c.text = c.history[c.index]!;
        return;
      case 'down':
        if (c.index < 0) return;
        c.index++;
        if (c.index >= c.history.length) {
          c.index = -1;
          c.text = '';
        } else c.text = c.history[c.index]!;
        return;
      case 'space':
        c.text += ' ';
        return;
      default:
        if ([...key].length === 1) c.text += key;
    }
  }

  private editFilter(key: string): void {
    const t = this.tbs;
    if (key === 'return' || key === 'escape') t.filterEditing = false;
    else if (key === 'backspace') t.filter = t.filter.slice(0, -1);
    else if (key === 'space') t.filter += ' ';
    else if ([...key].length === 1) t.filter += key;
    t.selected = 0;
    t.offset = 0;
  }

  private focusPane(p: PaneId): void {
    this.focus = p;
    if (TAB_PANES.includes(p)) this.tab = p;
  }

  private execute(command: Command): void {
    const ctl = this.ctl;
    switch (command) {
      case 'stepInstruction': return void this.enqueue(() => this.stepInstruction(1));
      case 'stepBlock': return void this.enqueue(() => this.stepBlock(1));
      case 'stepBack': return void this.enqueue(() => this.reverse('step'));
      case 'continueBack': return void this.enqueue(() => this.reverse('continue'));
      case 'stepBackBlock': {
        // Back over the last block that ran: as many instructions as it holds.
        const tb = ctl.lastTb();
        const to = ctl.status().icount - (tb?.ninsns ?? 1);
        return void this.enqueue(() => this.travel(Math.max(0, to)));
      }
      case 'gotoEvent': {
        const e = irqEvents(ctl)[this.irq.selected];
        if (!e) return this.log('select an event first (left/right)');
        return void this.enqueue(() => this.travel(e.icount));
      }
      case 'continue': return void this.enqueue(() => this.continueGuest());
      case 'pause': return void this.enqueue(() => this.pauseGuest());
      case 'toggleBreakpoint': {
        const addr = this.dis.cursor ?? ctl.status().pc;
        if (ctl.breakpoints().some((b) => b.addr === addr)) {
          ctl.removeBreakpoint(addr);
          this.log(`breakpoint at 0x${hex8(addr)} removed`);
        } else {
          const bp = ctl.addBreakpoint(addr, { owner: 'ui' });
          this.log(`Breakpoint ${bp.id} at 0x${hex8(addr)}`);
        }
        return;
      }
      case 'nextPane':
      case 'prevPane': {
        const i = FOCUS_ORDER.indexOf(this.focus);
        const n = FOCUS_ORDER.length;
        return this.focusPane(FOCUS_ORDER[(i + (command === 'nextPane' ? 1 : n - 1)) % n]!);
      }
      case 'focusConsole': return this.focusPane('console');
      case 'focusTb': return this.focusPane('tb');
      case 'focusTbs': return this.focusPane('tbs');
      case 'focusIrq': return this.focusPane('irq');
      case 'focusBps': return this.focusPane('bps');
      case 'focusMem': return this.focusPane('mem');
      case 'focusLog': return this.focusPane('log');
      case 'focusVga': return this.focusPane('vga');
      case 'typeVga':
        this.vgaTyping = true;
        return;
      case 'nextCpu': {
        if (this.cpuCount < 2) {
          this.message = 'one CPU';
          return;
        }
        const next = (this.ctl.selectedCpu() + 1) % this.cpuCount;
        if (!this.ctl.selectCpu(next)) {
          this.message = 'pause the guest to choose a CPU';
          return;
        }
        this.dis.cursor = null;
        this.message = `CPU ${next} selected`;
        return;
      }
      case 'registersPage':
        this.regPage = REGISTER_PAGES[(REGISTER_PAGES.indexOf(this.regPage) + 1) % REGISTER_PAGES.length]!;
        return;
      case 'focusDisasm': return this.focusPane('disasm');
      case 'zoom':
        this.zoom = !this.zoom;
        return;
      case 'commandLine':
        this.cmd.active = true;
        this.cmd.text = '';
        return;
      case 'help':
        this.help = true;
        this.helpScroll = 0;
        return;
      case 'quit': return this.quit();
      case 'cursorUp': return this.move(-1);
      case 'cursorDown': return this.move(1);
      case 'pageUp': return this.move(-this.page());
      case 'pageDown': return this.move(this.page());
      case 'cursorHome':
        this.dis.cursor = null;
        return;
      case 'open': {
        if (this.tbs.detailId !== null) return;
        const id = this.tbs.ids[this.tbs.selected];
        if (id === undefined) return;
        if (this.tbs.mode === 'live') this.tbs.detailId = id;
        else {
          const pc = this.tbs.pcs[this.tbs.selected - this.tbs.offset];
          const live = pc !== undefined ? ctl.tbs(pc).find((t) => t.pc === pc) : undefined;
          if (live) this.tbs.detailId = live.id;
          else this.message = 'no live TB at that address now';
        }
        this.tbs.detailScroll = 0;
        return;
      }
      case 'back':
        this.tbs.detailId = null;
        return;
      case 'sortTbs':
        this.tbs.sort = SORTS[(SORTS.indexOf(this.tbs.sort) + 1) % SORTS.length]!;
        this.tbs.selected = 0;
        return;
      case 'filterTbs':
        this.tbs.filterEditing = true;
        this.tbs.filter = '';
        this.tbs.detailId = null;
        return;
      case 'historyTbs':
        this.tbs.mode = this.tbs.mode === 'live' ? 'history' : 'live';
        this.tbs.selected = 0;
        this.tbs.detailId = null;
        if (this.tbs.mode === 'history') this.tbs.sort = 'recent';
        return;
      case 'flushTbs': return this.flushTbs();
      case 'zoomIn':
      case 'zoomOut': {
        // From what the last key asked for, not from the last frame: keys come in bursts
        // (key repeat, `+ + + +`) faster than frames.
        const per = this.irq.shownPerCol;
        const next = command === 'zoomIn' ? Math.max(1, per / 2) : per * 2;
        // Keep the selected event (or the middle) where it is.
        const events = irqEvents(ctl);
        const sel = events[this.irq.selected];
        const pivot = sel ? sel.icount : this.irq.shownStart + (this.irq.cols * per) / 2;
        this.irq.perCol = next;
        if (this.irq.start !== null || sel) this.irq.start = Math.max(0, pivot - (this.irq.cols * next) / 2);
        this.irq.shownPerCol = next;
        this.irq.shownStart = this.irq.start ?? Math.max(0, pivot - (this.irq.cols * next) / 2);
        return;
      }
      case 'scrollLeft':
      case 'scrollRight': {
        if (this.focus === 'vga') return this.scrollVga(0, command === 'scrollLeft' ? -8 : 8);
        const span = this.irq.cols * this.irq.shownPerCol;
        const delta = Math.floor(span / 4) * (command === 'scrollLeft' ? -1 : 1);
        this.irq.perCol = this.irq.shownPerCol;
        this.irq.start = Math.max(0, this.irq.shownStart + delta);
        this.irq.shownStart = this.irq.start;
        return;
      }
      case 'prevEvent':
      case 'nextEvent': {
        const events = irqEvents(ctl);
        if (events.length === 0) return;
        let i = this.irq.selected;
        if (i < 0 || i >= events.length) {
          // Start from the newest event on screen.
          const end = this.irq.shownStart + this.irq.cols * this.irq.shownPerCol;
          i = events.length - 1;
          while (i > 0 && events[i]!.icount >= end) i--;
        } else i = Math.max(0, Math.min(events.length - 1, i + (command === 'nextEvent' ? 1 : -1)));
        this.irq.selected = i;
        this.irq.perCol = this.irq.shownPerCol;
        this.irq.start = startShowing(events[i]!.icount, this.irq.shownStart, this.irq.shownPerCol, this.irq.cols);
        return;
      }
      case 'follow':
        if (this.focus === 'vga') {
          this.vga.follow = true;
          return;
        }
        this.irq.start = null;
        this.irq.perCol = null;
        this.irq.selected = -1;
        return;
      case 'deleteBreakpoint': {
        const row = breakpointRows(ctl)[this.bpSelected];
        if (row) {
          ctl.removeBreakpointById(row.id);
          this.log(`deleted ${row.id}`);
        }
        return;
      }
      case 'togglePhysical':
        this.mem.physical = !this.mem.physical;
        return;
      case 'followRegister': {
        const regs = [...FOLLOW_REGISTERS, null];
        const i = regs.indexOf(this.mem.follow as (typeof regs)[number]);
        if (this.mem.follow) this.mem.addr = this.snapshot.pane?.id === 'mem' ? this.snapshot.pane.view.addr : this.mem.addr;
        this.mem.follow = regs[(i + 1) % regs.length]!;
        return;
      }
      case 'leaveConsole':
        this.focus = 'disasm';
        return;
    }
  }

  private page(): number {
    switch (this.focus) {
      case 'disasm': return Math.max(1, this.dis.rows - 2);
      case 'tbs': return Math.max(1, this.tbs.rows - 1);
      case 'mem': return Math.max(1, this.mem.lines - 1);
      case 'vga': return Math.max(1, this.vga.rows - 1);
      default: return 10;
    }
  }

  private move(delta: number): void {
    switch (this.focus) {
      case 'disasm': {
        const addrs = this.dis.addrs;
        const cur = this.dis.cursor ?? this.ctl.status().pc;
        const i = addrs.indexOf(cur);
        if (i < 0) return;
        const j = Math.max(0, Math.min(addrs.length - 1, i + delta));
        this.dis.cursor = addrs[j]!;
        return;
      }
      case 'tb':
        this.tbScroll = Math.max(0, this.tbScroll + delta);
        return;
      case 'irq':
        this.irq.lineOffset = Math.max(0, this.irq.lineOffset + delta);
        return;
      case 'tbs':
        if (this.tbs.detailId !== null) this.tbs.detailScroll = Math.max(0, this.tbs.detailScroll + delta);
        else this.tbs.selected = Math.max(0, Math.min(this.tbs.ids.length - 1, this.tbs.selected + delta));
        return;
      case 'bps':
        this.bpSelected = Math.max(0, this.bpSelected + delta);
        return;
      case 'mem':
        if (this.mem.follow) {
          this.mem.addr = this.snapshot.pane?.id === 'mem' ? this.snapshot.pane.view.addr : this.mem.addr;
          this.mem.follow = null;
        }
        this.mem.addr = (this.mem.addr + delta * 16) >>> 0;
        return;
      case 'log':
        this.logScroll = Math.max(0, Math.min(this.logLines.length - 1, this.logScroll - delta));
        return;
      case 'vga':
        return this.scrollVga(delta, 0);
      default:
    }
  }

  /** Scroll the VGA window by hand from where it is shown now (it stops following). */
  private scrollVga(rows: number, cols: number): void {
    const v = this.vga;
    v.follow = false;
    v.top = Math.max(0, Math.min(Math.max(0, 25 - v.rows), v.shownTop + rows));
    v.left = Math.max(0, Math.min(Math.max(0, 80 - v.cols), v.shownLeft + cols));
    v.shownTop = v.top;
    v.shownLeft = v.left;
  }

  // ---- actions (CommandHost) ------------------------------------------------------------

  /** Run controller actions one after another (a key pressed during a step waits for it). */
  private enqueue(fn: () => Promise<void> | void): Promise<void> {
    const next = this.queue.then(fn).catch((e: unknown) => this.log(`error: ${(e as Error).message ?? String(e)}`));
    this.queue = next.then(() => this.schedule('key'));
    return next;
  }

  /** Wait until every queued action has run (tests). */
  idle(): Promise<void> {
    return this.queue;
  }

  log(text: string): void {
    const lines = text.split('\n');
    this.logLines.push(...lines);
    if (this.logLines.length > 2000) this.logLines.splice(0, this.logLines.length - 2000);
    this.logScroll = 0;
    this.message = lines.length > 1 ? `${lines[0]} … (7: log)` : lines[0]!;
    this.schedule('key');
  }

  /** Add to the log without taking over the message line (debugcon, gdb notes). */
  logQuiet(text: string): void {
    this.logLines.push(...text.split('\n'));
    if (this.logLines.length > 2000) this.logLines.splice(0, this.logLines.length - 2000);
    this.schedule('output');
  }

  // The command line runs inside the action queue (enqueue), so these act at once; keys
  // go through the queue (execute) so that a key pressed during a step waits for it.

  async stepInstruction(n: number): Promise<void> {
    if (this.ctl.status().state === 'exited') return this.log('the guest has exited');
    await this.ctl.stepInstruction(n, 'ui');
  }

  /** Reverse execution: back one instruction, or to the last breakpoint or watchpoint hit. */
  async reverse(what: 'step' | 'continue'): Promise<void> {
    if ((await this.ctl.reverse(what, 'ui')) === null) this.log('no history to go back in (reverse execution is off while recording or replaying)');
  }

  /** To the machine state at instruction count `icount` (the IRQ timeline's events, `:goto`). */
  async travel(icount: number): Promise<void> {
    if ((await this.ctl.goto(icount, 'ui')) === null) this.log('no history to go back in (reverse execution is off while recording or replaying)');
  }

  async stepBlock(n: number): Promise<void> {
    if (this.ctl.status().state === 'exited') return this.log('the guest has exited');
    await this.ctl.stepBlock(n, 'ui');
  }

  continueGuest(): void {
    if (this.ctl.status().state === 'exited') return this.log('the guest has exited');
    this.ctl.resume('ui');
  }

  async pauseGuest(): Promise<void> {
    if (this.ctl.status().state === 'running') await this.ctl.pause('ui');
  }

  quit(): void {
    if (this.quitting) return;
    this.quitting = true;
    this.dispose();
    this.opts.onQuit?.();
  }

  showMemory(addr: number, physical: boolean): void {
    this.mem.addr = addr >>> 0;
    this.mem.physical = physical;
    this.mem.follow = null;
    this.focusPane('mem');
  }

  showTb(id: number): void {
    this.focusPane('tbs');
    this.tbs.mode = 'live';
    this.tbs.filterEditing = false;
    this.tbs.detailId = id;
    this.tbs.detailScroll = 0;
  }

  showDisasm(addr: number): void {
    this.dis.cursor = addr >>> 0;
    this.dis.top = null;
    this.focusPane('disasm');
  }

  showIrq(): void {
    this.focusPane('irq');
  }

  showRegisters(page: RegisterPage): void {
    this.regPage = page;
  }

  showVga(): void {
    this.focusPane('vga');
  }

  flushTbs(): void {
    this.log(`TB cache flushed (${this.ctl.tbFlush('ui')} TBs)`);
  }

}
