// The debugger controller: the one place that runs, stops and steps the machine, owns
// breakpoints and watchpoints, and reports stops. The gdb server and the terminal UI are
// both clients of it, so a stop caused by one is seen by the other. Every request is
// async, so the machine can later move into a worker thread behind the same interface.
import { driveName, type PcMachine, type MachineStop } from '../machine/pc-machine.js';
import { snapshotRegisters, writeRegister, writeXmmRegister, type RegisterSnapshot, type RegisterWrite } from './registers.js';
import { loadCpuState, saveCpuState } from '../cpu/cpu-state.js';
import { isX87Register, writeX87Register } from './x87-registers.js';
import type { ElfSymbol } from '../boot/elf.js';
import type { MachineEvent, MachineEventKind } from '../events/machine-events.js';
import type {
  CpuRecord,
  Breakpoint, ControllerEvent, ControllerListener, DebugTarget, DeviceName, EventCursor, InvalidationRecord, IrqRecord, StopReason, TargetStatus, TbCacheStats, TbDetailRecord, TbSummary,
  TlbRecord, WatchKind, Watchpoint, SnapshotRecord, HistoryRecord, IdeCommandView,
} from './target.js';
import { tbDetailRecord, tbSummary } from './tb-records.js';
import { namedSnapshots } from '../snapshot/named-snapshots.js';
import { machineCanReverse, reverseMachine } from './reverse.js';
import { enableHistory, historyOf } from '../replay/history.js';
import { changeMedium, ejectMedium } from '../machine/media-change.js';
import { FileImage } from '../block/file-image.js';
import { OverlayBackend, TrackedImage } from '../block/block-image.js';
import { UserError } from '../user-error.js';
import { describeIdeCommand } from './commands.js';
import { HF_CS32 } from '../cpu/cpu.js';
import { CR0_PG, CR4_PAE, CR4_PSE } from '../cpu/mmu.js';
import type { TextScreen } from '../devices/vga.js';

export type { Breakpoint, ControllerEvent, ControllerListener, StopReason, Watchpoint } from './target.js';

export interface ControllerOptions {
  /** Instructions per slice between visits to the event loop. */
  sliceInsns?: number;
  /** Stop after this many retired instructions. */
  maxInsns?: number | null;
  symbols?: ElfSymbol[];
  /** QEMU's -no-shutdown: power-off (or a -no-reboot reset) stops the machine instead of ending it. */
  noShutdown?: boolean;
  /**
   * Whether input has ended (headless: stdin closed): a guest waiting for input then
   * stops the run ('idle') instead of waiting for ever.
   */
  inputEnded?: () => boolean;
  /** Wraps every machine.run of a continue (the run statistics time them). */
  timeSlice?: <T>(run: () => T) => T;
  /**
   * Keep history for reverse execution (a debugger is attached), its checkpoints bounded
   * by this many bytes (--rr-budget); absent, no history.
   */
  historyBytes?: number;
}

/**
 * Wall time a slice may take, whatever its instruction budget: the CPU loop reads the
 * clock (Cpu.wallDeadline) so that a slice of slow instructions (self-modifying code,
 * x87, translation, exception storms) still ends, and stop requests wait at most this.
 */
const SLICE_WALL_MS = 15;
/** Guest time a halted CPU may skip per slice (20 ms at 1 ns per instruction). */
const HALTED_WINDOW_INSNS = 20_000_000;
/** Wall time between slices in which a halted guest ran nothing. */
const IDLE_PAUSE_MS = 2;
/** Slices in a row that ran nothing before a guest whose input has ended counts as idle (1 s). */
const IDLE_SLICES = 500;

export class DebugController implements DebugTarget {
  state: 'stopped' | 'running' | 'exited' = 'stopped';
  lastStop: StopReason = { kind: 'initial' };
  private readonly listeners = new Set<ControllerListener>();
  private readonly bps: Breakpoint[] = [];
  private nextId = 1;
  private pauseRequest: string | null = null;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private slice: number;
  readonly symbols: ElfSymbol[];
  /** Measured guest speed of the last running period (instructions per second). */
  mips = 0;
  readonly maxInsns: number | null;
  readonly noShutdown: boolean;
  private readonly inputEnded: () => boolean;
  private readonly timeSlice: <T>(run: () => T) => T;

  /** The machine is the controller's alone: front ends see it through DebugTarget's records. */
  constructor(private readonly machine: PcMachine, opts: ControllerOptions = {}) {
    this.slice = opts.sliceInsns ?? 5_000_000;
    this.maxInsns = opts.maxInsns ?? null;
    this.symbols = opts.symbols ?? [];
    this.noShutdown = opts.noShutdown ?? false;
    this.inputEnded = opts.inputEnded ?? (() => false);
    this.timeSlice = opts.timeSlice ?? ((run) => run());
    if (opts.historyBytes !== undefined) enableHistory(machine, opts.historyBytes);
  }

  subscribe(l: ControllerListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(e: ControllerEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  /** Called by whoever feeds the guest's input: a halted guest may now have work. */
  kick(): void {
    this.wake?.();
  }

  /** Scan codes from the PS/2 keyboard (the VGA pane's typing): they reach the guest now. */
  keyboardInput(bytes: Uint8Array | readonly number[]): void {
    this.machine.keyboardInput(bytes);
    this.kick();
  }

  /** Bytes typed on the guest's serial line (COM1): they reach it now, running or not. */
  serialInput(bytes: Uint8Array | readonly number[]): void {
    this.machine.serialInput(bytes);
    this.kick();
  }

  // ---- running ----------------------------------------------------------------------

  /** Continue until something stops the guest; returns at once ('stop' events follow). */
  resume(by = 'debugger'): void {
    if (this.state !== 'stopped') return;
    if (this.lastStop.kind === 'shutdown') {
      // As QEMU: a machine paused by -no-shutdown needs a reset before it runs again.
      this.emit({ type: 'resume', by });
      this.finish(this.lastStop);
      return;
    }
    this.logSelection();
    this.state = 'running';
    this.pauseRequest = null;
    this.emit({ type: 'resume', by });
    this.armSkip();
    this.running = this.loop();
  }

  /** Continue and wait for the stop. */
  async continue(by = 'debugger'): Promise<StopReason> {
    if (this.state === 'exited') return this.lastStop;
    if (this.state === 'stopped') this.resume(by);
    await this.running;
    return this.lastStop;
  }

  /** Ask a running guest to stop (Ctrl-C, the UI's pause key); resolves with the stop. */
  async pause(by = 'debugger'): Promise<StopReason> {
    if (this.state !== 'running') return this.lastStop;
    this.pauseRequest = by;
    this.machine.exec.exitRequest = true;
    this.machine.cpu.requestExit();
    this.wake?.();
    await this.running;
    return this.lastStop;
  }

  /** Wait for the current run (if any) to stop. */
  async waitForStop(): Promise<StopReason> {
    if (this.running) await this.running;
    return this.lastStop;
  }

  private armSkip(): void {
    // Resuming from a breakpoint executes the instruction there once.
    const pc = this.machine.cpu.pc;
    if (this.bps.some((b) => b.addr === pc)) this.machine.exec.skipBreakpointAt = pc;
  }

  /**
   * The run loop (QEMU's round-robin CPU thread, on the event loop): slices of about 10 ms
   * of guest work, each followed by a turn of the event loop, so keys, packets and stdin
   * are served and output leaves (the 'slice' event) while the guest runs. A halted guest
   * skips guest time up to its next timer (at most 20 ms of it per slice); when a slice
   * ran nothing at all it waits 2 ms, or until input arrives (kick), or, under -icount
   * auto, until wall time reaches its next timer.
   */
  private async loop(): Promise<void> {
    const m = this.machine;
    let idle = 0;
    let t0 = performance.now();
    let i0 = m.cpu.icount;
    const haltedNs = HALTED_WINDOW_INSNS * m.clock.nsPerInsn;
    for (;;) {
      if (this.pauseRequest !== null) {
        this.finish({ kind: 'interrupt', by: this.pauseRequest });
        return;
      }
      let budget = this.slice;
      if (this.maxInsns !== null) {
        const left = this.maxInsns - m.cpu.icount;
        if (left <= 0) {
          this.finish({ kind: 'budget' });
          return;
        }
        budget = Math.min(budget, left);
      }
      const before = m.cpu.icount;
      const start = performance.now();
      m.cpu.wallDeadline = start + SLICE_WALL_MS;
      let stop: MachineStop;
      try {
        stop = this.timeSlice(() => m.run(budget, { haltedNs }));
      } finally {
        m.cpu.wallDeadline = Infinity;
      }
      const timeUp = m.cpu.wallExpired;
      m.cpu.wallExpired = false;
      const took = performance.now() - start;
      this.emit({ type: 'slice' });
      // Keep slices near 10 ms so keys and packets are served promptly.
      if (stop.kind === 'budget' && !stop.halted) {
        if (took < 5) this.slice = Math.min(this.slice * 2, 200_000_000);
        else if (took > 20) this.slice = Math.max(Math.floor(this.slice / 2), 100_000);
      }
      const now = performance.now();
      if (now - t0 > 250) {
        this.mips = ((m.cpu.icount - i0) / (now - t0)) * 1000;
        t0 = now;
        i0 = m.cpu.icount;
      }
      // A slice whose wall time ran out is a slice that ended, not a stop.
      if (timeUp && stop.kind === 'exit-request' && this.pauseRequest === null) stop = { kind: 'budget' };
      const reason = this.stopReasonOf(stop);
      if (reason) {
        if (reason.kind === 'interrupt' && this.pauseRequest !== null) reason.by = this.pauseRequest;
        this.finish(reason);
        return;
      }
      if (stop.kind === 'idle') {
        // Nothing is scheduled: only input (or a debugger) can wake the guest.
        if (this.inputEnded()) {
          this.finish({ kind: 'idle' });
          return;
        }
        await this.sleep(Infinity);
      } else if (stop.kind === 'budget' && stop.halted && m.cpu.icount === before) {
        if (stop.waitNs !== undefined) {
          // -icount auto: the guest waits for wall time to reach its next timer.
          await this.sleep(Math.min(50, Math.max(1, Math.ceil(stop.waitNs / 1e6))));
        } else {
          if (++idle > IDLE_SLICES && this.inputEnded()) {
            this.finish({ kind: 'idle' });
            return;
          }
          await this.sleep(IDLE_PAUSE_MS);
        }
      } else {
        idle = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  }

  /** Wait `ms` (for ever: Infinity) or until kicked. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      this.wake = () => {
        if (timer) clearTimeout(timer);
        this.wake = null;
        r();
      };
      if (ms !== Infinity) timer = setTimeout(() => this.wake?.(), ms);
    });
  }

  private stopReasonOf(stop: MachineStop): StopReason | null {
    switch (stop.kind) {
      case 'budget':
      case 'idle':
        return null;
      case 'breakpoint': {
        const bp = this.bps.find((b) => b.addr === stop.pc);
        return { kind: 'breakpoint', pc: stop.pc, hw: bp?.hw ?? false, id: bp?.id ?? 0 };
      }
      case 'watchpoint':
        return { kind: 'watchpoint', watch: stop.hit.kind, addr: stop.hit.addr, id: stop.hit.id };
      case 'exit':
        return { kind: 'exited', code: stop.code };
      case 'halted-forever':
        return { kind: 'halted' };
      case 'power-off':
        return this.noShutdown ? { kind: 'shutdown', cause: 'power-off' } : { kind: 'exited', code: 0, why: 'power-off' };
      case 'guest-reset':
        return this.noShutdown ? { kind: 'shutdown', cause: stop.cause } : { kind: 'exited', code: 0, why: 'reset', cause: stop.cause };
      case 'triple-fault':
        return { kind: 'triple-fault' };
      case 'exit-request':
        return { kind: 'interrupt', by: this.pauseRequest ?? 'request' };
    }
  }

  private finish(reason: StopReason): void {
    this.machine.exec.exitRequest = false;
    // -icount auto: time spent stopped in the debugger is not guest time.
    this.machine.icountAuto?.pause();
    this.pauseRequest = null;
    this.lastStop = reason;
    this.state = reason.kind === 'exited' || reason.kind === 'killed' ? 'exited' : 'stopped';
    this.running = null;
    this.emit({ type: 'stop', reason });
  }

  /** Execute `n` instructions (interrupts are not taken while stepping, as QEMU). */
  async stepInstruction(n = 1, by = 'debugger'): Promise<StopReason> {
    return this.stepWith(n, by, { single: true, noIrq: true });
  }

  /** Execute `n` whole translated blocks. */
  async stepBlock(n = 1, by = 'debugger'): Promise<StopReason> {
    return this.stepWith(n, by, { oneBlock: true });
  }

  private async stepWith(n: number, by: string, opts: { single?: boolean; noIrq?: boolean; oneBlock?: boolean }): Promise<StopReason> {
    if (this.state === 'running') await this.pause(by);
    if (this.state === 'exited' || this.lastStop.kind === 'shutdown') return this.lastStop;
    const m = this.machine;
    this.logSelection();
    this.emit({ type: 'resume', by });
    let reason: StopReason = { kind: 'step' };
    for (let i = 0; i < n; i++) {
      this.armSkip();
      const before = m.cpu.icount;
      const stop = m.run(opts.single ? 1 : 1_000_000_000, opts);
      const r = this.stopReasonOf(stop);
      if (r) {
        reason = r;
        break;
      }
      if (m.cpu.icount === before && m.cpu.halted) {
        reason = { kind: 'step', idle: true };
        break;
      }
    }
    this.finish(reason);
    return reason;
  }

  // ---- breakpoints and watchpoints -------------------------------------------------------

  /** `id`: the number to give it, if free (a front end that takes a breakpoint out and puts it back keeps its number). */
  addBreakpoint(addr: number, opts: { hw?: boolean; owner?: string; id?: number } = {}): Breakpoint {
    addr >>>= 0;
    const existing = this.bps.find((b) => b.addr === addr && b.hw === (opts.hw ?? false));
    if (existing) return existing;
    const bp: Breakpoint = { id: this.takeId(opts.id), addr, hw: opts.hw ?? false, owner: opts.owner ?? 'debugger' };
    this.bps.push(bp);
    this.machine.exec.addBreakpoint(addr);
    this.emit({ type: 'breakpoints' });
    return bp;
  }

  private takeId(wanted: number | undefined): number {
    const used = (id: number): boolean => this.bps.some((b) => b.id === id) || this.machine.cpu.watchpoints.some((w) => w.id === id);
    if (wanted !== undefined && wanted > 0 && !used(wanted)) return wanted;
    while (used(this.nextId)) this.nextId++;
    return this.nextId++;
  }

  removeBreakpoint(addr: number, hw?: boolean): boolean {
    addr >>>= 0;
    const i = this.bps.findIndex((b) => b.addr === addr && (hw === undefined || b.hw === hw));
    if (i < 0) return false;
    this.bps.splice(i, 1);
    if (!this.bps.some((b) => b.addr === addr)) this.machine.exec.removeBreakpoint(addr);
    this.emit({ type: 'breakpoints' });
    return true;
  }

  removeBreakpointById(id: number): boolean {
    const bp = this.bps.find((b) => b.id === id);
    if (bp) return this.removeBreakpoint(bp.addr, bp.hw);
    const w = this.machine.cpu.watchpoints.find((x) => x.id === id);
    return w ? this.removeWatchpoint(w.addr, w.len, w.kind) : false;
  }

  breakpoints(): readonly Breakpoint[] {
    return this.bps;
  }

  addWatchpoint(addr: number, len: number, kind: WatchKind, id?: number): Watchpoint {
    addr >>>= 0;
    const cpu = this.machine.cpu;
    const existing = cpu.watchpoints.find((w) => w.addr === addr && w.len === len && w.kind === kind);
    if (existing) return existing;
    const w: Watchpoint = { id: this.takeId(id), addr, len, kind };
    cpu.watchpoints = [...cpu.watchpoints, w];
    this.refreshWatchPages();
    this.emit({ type: 'breakpoints' });
    return w;
  }

  removeWatchpoint(addr: number, len: number, kind: WatchKind): boolean {
    const cpu = this.machine.cpu;
    const before = cpu.watchpoints.length;
    cpu.watchpoints = cpu.watchpoints.filter((w) => !(w.addr === addr >>> 0 && w.len === len && w.kind === kind));
    if (cpu.watchpoints.length === before) return false;
    this.refreshWatchPages();
    this.emit({ type: 'breakpoints' });
    return true;
  }

  watchpoints(): readonly Watchpoint[] {
    return this.machine.cpu.watchpoints;
  }

  private refreshWatchPages(): void {
    // Watched pages lose their TLB entries; translated code checks after each memory
    // instruction only while the flags say so (HF_WATCH).
    this.machine.cpu.refreshWatch();
  }

  // ---- state ----------------------------------------------------------------------------

  registers(): RegisterSnapshot {
    return snapshotRegisters(this.machine.cpu);
  }

  cpus(): CpuRecord[] {
    const m = this.machine;
    if (m.smp === null) {
      return [{ index: 0, apicId: 0, state: m.cpu.halted ? 'halted' : 'running', icount: m.cpu.icount, pc: m.cpu.pc >>> 0 }];
    }
    return m.smp.cpus.map((v) => {
      const s = v.saved;
      const halted = s === null ? m.cpu.halted : s.halted;
      const pc = s === null ? m.cpu.pc : (s.segBase[1]! + s.eip) >>> 0;
      return { index: v.index, apicId: v.apic.info().id, state: v.waitForSipi ? 'wait-for-sipi' : halted ? 'halted' : 'running', icount: v.icount, pc: pc >>> 0 };
    });
  }

  selectedCpu(): number {
    return this.machine.smp?.current.index ?? 0;
  }

  selectCpu(index: number): boolean {
    const smp = this.machine.smp;
    const n = smp?.cpus.length ?? 1;
    if (!Number.isInteger(index) || index < 0 || index >= n || this.state === 'running') return false;
    if (smp !== null && smp.current.index !== index) {
      const from = smp.current.index;
      smp.select(smp.cpus[index]!);
      // Which CPU the engine holds decides what a step runs, so record/replay log it, but
      // only when the guest runs next: looking at another CPU (gdb's Hg before g, `thread
      // N`, the UI's N) is no input, and in the past it would drop the recorded future.
      if (this.unloggedFrom === null) this.unloggedFrom = from;
      else if (this.unloggedFrom === index) this.unloggedFrom = null;
    }
    return true;
  }

  /** The CPU the input logs last heard of, while another one is selected (else null). */
  private unloggedFrom: number | null = null;

  /** Before the guest runs: log a selection that changed. */
  private logSelection(): void {
    if (this.unloggedFrom !== null) {
      this.unloggedFrom = null;
      this.machine.cpuEdited();
    }
  }

  async setRegister(name: string, value: number): Promise<boolean> {
    return this.setRegisters([{ name, value }]);
  }

  /** A register wider than 32 bits, as little-endian bytes (the x87 registers, XMM0-7). */
  async setRegisterBytes(name: string, bytes: Uint8Array): Promise<boolean> {
    return this.setRegisters([{ name, bytes }]);
  }

  /**
   * Several registers as one change, in the order given: all of them, or (false) none.
   * A write can fail after others went in (a segment register whose descriptor a CR3
   * written before it no longer maps), so the CPU is put back as it was.
   */
  async setRegisters(writes: readonly RegisterWrite[]): Promise<boolean> {
    if (writes.length === 0) return true;
    const cpu = this.machine.cpu;
    const before = saveCpuState(cpu);
    for (const w of writes) {
      const ok = 'bytes' in w
        ? (isX87Register(w.name) ? writeX87Register(cpu.fpu, w.name, w.bytes) : writeXmmRegister(cpu, w.name, w.bytes))
        : writeRegister(cpu, w.name, w.value);
      if (!ok) {
        loadCpuState(cpu, before);
        return false;
      }
    }
    // (the edit's log entry names the selected CPU too)
    this.unloggedFrom = null;
    this.machine.cpuEdited();
    return true;
  }

  /** Linear (default) or physical memory; null when any byte is unmapped. */
  readMemory(addr: number, len: number, physical = false): Uint8Array | null {
    return physical ? this.machine.readPhysical(addr >>> 0, len) : this.machine.readLinear(addr >>> 0, len);
  }

  translate(linear: number): number | null {
    return this.machine.cpu.mmu.debugTranslate(linear >>> 0);
  }

  async writeMemory(addr: number, data: Uint8Array, physical = false): Promise<boolean> {
    if (physical) {
      this.machine.writePhysical(addr >>> 0, data);
      return true;
    }
    return this.machine.writeLinear(addr >>> 0, data);
  }

  async reset(by = 'debugger'): Promise<void> {
    if (this.state === 'running') await this.pause(by);
    this.logSelection();
    this.machine.reset(`system_reset (${by})`);
    this.lastStop = { kind: 'interrupt', by };
    if (this.state === 'exited') this.state = 'stopped';
  }

  /**
   * The machine was put in another state (a snapshot was loaded): a guest that had exited
   * can run again, and front ends re-read everything (a stop event says so).
   */
  private stateLoaded(by = 'debugger', reason: StopReason = { kind: 'interrupt', by }): void {
    // The loaded state has its own selected CPU: one chosen before is no longer pending.
    this.unloggedFrom = null;
    if (this.state === 'running') return;
    this.finish(reason);
  }

  // ---- time travel ----------------------------------------------------------------------

  snapshots(): SnapshotRecord[] {
    const shelf = namedSnapshots(this.machine);
    return shelf.entries().map((e) => shelf.describe(e));
  }

  snapshotFile(): string | null {
    return namedSnapshots(this.machine).path;
  }

  async saveSnapshot(name: string, by = 'debugger'): Promise<SnapshotRecord> {
    const shelf = namedSnapshots(this.machine);
    return this.stoppedForAMoment(by, () => shelf.describe(shelf.save(name)));
  }

  async loadSnapshot(name: string, by = 'debugger'): Promise<SnapshotRecord> {
    const shelf = namedSnapshots(this.machine);
    return this.stoppedForAMoment(by, () => {
      const e = shelf.load(name);
      this.stateLoaded(by);
      return shelf.describe(e);
    });
  }

  deleteSnapshot(name: string): boolean {
    return namedSnapshots(this.machine).delete(name);
  }

  canReverse(): boolean {
    return machineCanReverse(this.machine);
  }

  async reverse(what: 'step' | 'continue', by = 'debugger'): Promise<StopReason | null> {
    if (!this.canReverse()) return null;
    if (this.state === 'running') await this.pause(by);
    const reason = reverseMachine(this.machine, what, this.bps);
    if (reason !== null) this.stateLoaded(by, reason);
    return reason;
  }

  async goto(icount: number, by = 'debugger'): Promise<StopReason | null> {
    const h = historyOf(this.machine);
    if (h === null) return null;
    if (this.state === 'running') await this.pause(by);
    const reason: StopReason = h.goto(icount) ? { kind: 'step' } : { kind: 'history-begin' };
    this.stateLoaded(by, reason);
    return reason;
  }

  history(): HistoryRecord | null {
    const h = historyOf(this.machine);
    if (h === null) return null;
    const s = h.stats();
    return {
      begin: s.begin, present: s.present, checkpoints: s.checkpoints, checkpointsTaken: s.checkpointsTaken,
      checkpointMs: s.checkpointMs, bytes: s.bytes, budget: h.budgetBytes, events: s.events,
    };
  }

  /** Run `f` with the guest stopped; a guest that was running runs on afterwards (QEMU's savevm). */
  private async stoppedForAMoment<T>(by: string, f: () => T): Promise<T> {
    const wasRunning = this.state === 'running';
    if (wasRunning) await this.pause(by);
    try {
      return f();
    } finally {
      if (wasRunning && this.state === 'stopped') this.resume(by);
    }
  }

  async kill(by = 'debugger'): Promise<void> {
    if (this.state === 'running') await this.pause(by);
    this.finish({ kind: 'killed' });
  }

  /** Symbol containing `addr` (for displays), or null: functions and labels. */
  symbolAt(addr: number): { name: string; offset: number } | null {
    addr >>>= 0;
    let best: ElfSymbol | null = null;
    for (const s of this.symbols) {
      if (s.type !== 2 && s.type !== 0) continue;
      if (s.value <= addr && (!best || s.value > best.value) && (s.size === 0 || addr < s.value + s.size || s.type === 0)) best = s;
    }
    if (!best || addr - best.value > 0x10000) return null;
    return { name: best.name, offset: addr - best.value };
  }

  /** For data addresses: the object (ELF STT_OBJECT) that holds `addr`, else symbolAt. */
  dataSymbolAt(addr: number): { name: string; offset: number } | null {
    addr >>>= 0;
    const obj = this.symbols.find((s) => s.type === 1 && addr >= s.value && addr < s.value + Math.max(1, s.size));
    return obj ? { name: obj.name, offset: addr - obj.value } : this.symbolAt(addr);
  }

  lookupSymbol(name: string): number | null {
    const s = this.symbols.find((x) => x.name === name);
    return s ? s.value : null;
  }

  // ---- DebugTarget: what the front ends read -----------------------------------------------

  status(): TargetStatus {
    const m = this.machine;
    return {
      state: this.state,
      lastStop: this.lastStop,
      pc: m.cpu.pc >>> 0,
      icount: m.cpu.icount,
      mips: this.mips,
      halted: m.cpu.halted,
      codeBits: m.cpu.hflags & HF_CS32 ? 32 : 16,
      postCode: m.post.lastCode,
      a20: m.cpu.a20Enabled,
    };
  }

  tbStats(): TbCacheStats {
    const tbs = this.machine.exec.tbs;
    let linksLive = 0;
    let inRegions = 0;
    let bytesCached = 0;
    let executions = 0;
    let firstTier = 0;
    for (const t of tbs.all()) {
      if (t.tier === 0) firstTier++;
      linksLive += (t.jmpDest[0] ? 1 : 0) + (t.jmpDest[1] ? 1 : 0);
      if (t.region !== null) inRegions++;
      bytesCached += t.size;
      executions += t.execCount;
    }
    const st = this.machine.tbStore;
    const store = st === null ? null : { file: st.filePath, loaded: st.stats.loaded, rejected: st.stats.rejected, added: st.stats.added };
    return {
      ...tbs.stats, live: tbs.size, limit: tbs.maxTbs, liveBytes: tbs.bytes, byteLimit: tbs.maxBytes, runHistogram: tbs.execCountHistogram(),
      linksLive, inRegions, bytesCached, executions, firstTier, store,
    };
  }

  tbs(linear?: number): TbSummary[] {
    const cache = this.machine.exec.tbs;
    if (linear === undefined) return cache.all().map(tbSummary);
    // The TBs of the page that holds `linear` (physically), then those covering it.
    const lin = linear >>> 0;
    const pa = this.translate(lin);
    const candidates = pa === null ? cache.findByLinear(lin) : cache.touchingPage(pa >>> 12).filter((t) => lin >= t.pc && lin < t.pc + t.size);
    return candidates.map(tbSummary);
  }

  tbDetail(id: number): TbDetailRecord | null {
    const tbs = this.machine.exec.tbs;
    const tb = tbs.findById(id);
    return tb ? tbDetailRecord(tb, tbs.invalidated.filter((r) => r.pc === tb.pc).slice(-20)) : null;
  }

  lastTb(): TbSummary | null {
    const t = this.machine.exec.lastTb;
    return t && t.valid ? tbSummary(t) : null;
  }

  invalidations(): InvalidationRecord[] {
    return this.machine.exec.tbs.invalidated.map((r) => ({ ...r }));
  }

  events(kinds: readonly MachineEventKind[], max = Infinity): MachineEvent[] {
    return this.machine.events.recent(kinds, max);
  }

  eventCount(kind: MachineEventKind): number {
    return this.machine.events.count(kind);
  }

  eventSerial(kind: MachineEventKind): number {
    return this.machine.events.serial(kind);
  }

  eventsSince(kinds: readonly MachineEventKind[], since: EventCursor | null): { events: MachineEvent[]; cursor: EventCursor } {
    const want = new Set(kinds);
    const events: MachineEvent[] = [];
    const cursor: EventCursor = {};
    for (const [name, ring] of Object.entries(this.machine.events.rings)) {
      cursor[name] = ring.total;
      if (since === null) continue;
      const fresh = Math.min(ring.length, ring.total - (since[name] ?? 0));
      if (fresh > 0) for (const e of ring.last(fresh)) if (want.has(e.kind)) events.push(e);
    }
    events.sort((a, b) => a.icount - b.icount);
    return { events, cursor };
  }

  irq(): IrqRecord {
    const cpu = this.machine.cpu;
    return { pic: this.machine.pic.info(), cpuIf: (cpu.eflags & 0x200) !== 0, halted: cpu.halted };
  }

  tlb(max = 100_000): TlbRecord {
    const cpu = this.machine.cpu;
    const mmu = cpu.mmu;
    return {
      paging: (cpu.cr0 & CR0_PG) !== 0, pae: (cpu.cr4 & CR4_PAE) !== 0, pse: (cpu.cr4 & CR4_PSE) !== 0, cr3: cpu.cr3 >>> 0, a20: cpu.a20Enabled,
      mappings: mmu.mappings(max).map((p) => ({ ...p })), validEntries: mmu.validEntries(), fills: mmu.fills, flushes: mmu.flushes,
    };
  }

  ideCommands(): IdeCommandView[] {
    return this.machine.ide.channels.flatMap((ch, channel) => ch.info().commands.map((c) => ({
      channel, unit: c.unit, icount: c.icount ?? -1, text: describeIdeCommand(c),
    })));
  }

  deviceInfo(name: DeviceName): unknown {
    const m = this.machine;
    switch (name) {
      case 'pic': return m.pic.info();
      case 'pit': return m.pit.info();
      case 'serial': return m.com1.info();
      case 'rtc': return m.rtc.info();
      case 'lapic': return m.lapic.info();
      case 'ioapic': return m.ioapic.info();
      case 'pci': return m.pci.devices().map((d) => d.info());
      case 'fw_cfg': return m.fwCfg.info();
      case 'pam': return m.pam.info();
      case 'vga': return m.vga.info();
      case 'hpet': return m.hpet.info();
      case 'kbc': return m.kbc.info();
      case 'post': return m.post.info();
      case 'block': return m.blockInfo();
    }
  }

  vgaText(): TextScreen {
    return this.machine.vga.textScreen();
  }

  tbFlush(reason: string): number {
    const n = this.machine.exec.tbs.size;
    this.machine.exec.tbFlush(reason);
    return n;
  }

  async ejectMedium(device: string, force: boolean, by = 'debugger'): Promise<void> {
    await this.mediaChange(by, () => ejectMedium(this.machine, device, force));
  }

  async changeMedium(device: string, file: string, format: string | undefined, by = 'debugger'): Promise<void> {
    await this.mediaChange(by, () => changeMedium(this.machine, device, (cdrom) => {
      // A drive under -snapshot keeps the new medium's writes in memory too.
      const overlay = this.machine.drives.find((d) => driveName(d) === device)?.snapshot === true;
      const img = FileImage.open(file, { what: `change ${device}`, writable: !cdrom && !overlay, format });
      return new TrackedImage(overlay ? new OverlayBackend(img) : img);
    }));
  }

  /**
   * A medium changes: an input no recording holds, so a recording or replay refuses it,
   * and reverse execution starts again from here (the media before it are closed).
   */
  private async mediaChange(by: string, f: () => void): Promise<void> {
    const h = historyOf(this.machine);
    if (this.machine.runObserver !== null && this.machine.runObserver !== h) {
      throw new UserError('a medium cannot change during --record or --replay (the log does not hold it)');
    }
    await this.stoppedForAMoment(by, f);
    h?.restart();
    this.kick();
  }

  wakeup(): boolean {
    const ok = this.machine.requestWakeup('other');
    if (ok) this.kick();
    return ok;
  }
}
