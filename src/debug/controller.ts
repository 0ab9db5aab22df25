// The debugger controller: the one place that runs, stops and steps the machine, owns
// breakpoints and watchpoints, and reports stops. The gdb server and the terminal UI are
// both clients of it, so a stop caused by one is seen by the other. Every request is
// async, so the machine can later move into a worker thread behind the same interface.
import type { PcMachine, MachineStop } from '../machine/pc-machine.js';
import type { Watchpoint } from '../cpu/cpu.js';
import { snapshotRegisters, writeRegister, type RegisterSnapshot } from './registers.js';
import { isX87Register, writeX87Register } from './x87-registers.js';
import type { ElfSymbol } from '../boot/elf.js';

export type StopReason =
  | { kind: 'initial' }
  | { kind: 'breakpoint'; pc: number; hw: boolean; id: number }
  | { kind: 'watchpoint'; watch: 'watch' | 'rwatch' | 'awatch'; addr: number; id: number; oldValue?: number[] }
  /** `idle`: the CPU is halted and nothing woke it, so the step did not run an instruction. */
  | { kind: 'step'; idle?: boolean }
  | { kind: 'interrupt'; by: string }
  | { kind: 'exited'; code: number; why?: string }
  | { kind: 'halted' }
  | { kind: 'triple-fault' }
  /** -no-shutdown: the guest powered off, or reset under -no-reboot; the machine is paused for good. */
  | { kind: 'shutdown'; cause: string }
  | { kind: 'budget' }
  | { kind: 'killed' };

export interface Breakpoint {
  id: number;
  addr: number;
  hw: boolean;
  /** Who set it: 'gdb', 'ui', ... (they all share one list). */
  owner: string;
}

export type ControllerEvent =
  | { type: 'stop'; reason: StopReason }
  | { type: 'resume'; by: string }
  | { type: 'breakpoints' }
  | { type: 'output'; stream: 'serial' | 'debugcon'; data: string };

export type ControllerListener = (e: ControllerEvent) => void;

export interface ControllerOptions {
  /** Instructions per slice between visits to the event loop. */
  sliceInsns?: number;
  /** Stop after this many retired instructions. */
  maxInsns?: number | null;
  symbols?: ElfSymbol[];
  /** QEMU's -no-shutdown: power-off (or a -no-reboot reset) stops the machine instead of ending it. */
  noShutdown?: boolean;
}

export class DebugController {
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

  constructor(readonly machine: PcMachine, opts: ControllerOptions = {}) {
    this.slice = opts.sliceInsns ?? 5_000_000;
    this.maxInsns = opts.maxInsns ?? null;
    this.symbols = opts.symbols ?? [];
    this.noShutdown = opts.noShutdown ?? false;
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

  private async loop(): Promise<void> {
    const m = this.machine;
    let idle = 0;
    let t0 = performance.now();
    let i0 = m.cpu.icount;
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
      const stop = m.run(budget);
      const took = performance.now() - start;
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
      const reason = this.translate(stop);
      if (reason) {
        if (reason.kind === 'interrupt' && this.pauseRequest !== null) reason.by = this.pauseRequest;
        this.finish(reason);
        return;
      }
      if (stop.kind === 'idle' || (stop.kind === 'budget' && stop.halted && m.cpu.icount === before)) {
        idle++;
        await new Promise<void>((r) => {
          this.wake = r;
          if (stop.kind !== 'idle') setTimeout(r, Math.min(10, idle));
        });
        this.wake = null;
      } else {
        idle = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  }

  private translate(stop: MachineStop): StopReason | null {
    const cpu = this.machine.cpu;
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
        return this.noShutdown ? { kind: 'shutdown', cause: stop.cause } : { kind: 'exited', code: 0, why: `${stop.cause} (-no-reboot)` };
      case 'triple-fault':
        return { kind: 'triple-fault' };
      case 'exit-request':
        void cpu;
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
    this.emit({ type: 'resume', by });
    let reason: StopReason = { kind: 'step' };
    for (let i = 0; i < n; i++) {
      this.armSkip();
      const before = m.cpu.icount;
      const stop = m.run(opts.single ? 1 : 1_000_000_000, opts);
      const r = this.translate(stop);
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

  addBreakpoint(addr: number, opts: { hw?: boolean; owner?: string } = {}): Breakpoint {
    addr >>>= 0;
    const existing = this.bps.find((b) => b.addr === addr && b.hw === (opts.hw ?? false));
    if (existing) return existing;
    const bp: Breakpoint = { id: this.nextId++, addr, hw: opts.hw ?? false, owner: opts.owner ?? 'debugger' };
    this.bps.push(bp);
    this.machine.exec.addBreakpoint(addr);
    this.emit({ type: 'breakpoints' });
    return bp;
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

  addWatchpoint(addr: number, len: number, kind: 'watch' | 'rwatch' | 'awatch'): Watchpoint {
    addr >>>= 0;
    const cpu = this.machine.cpu;
    const existing = cpu.watchpoints.find((w) => w.addr === addr && w.len === len && w.kind === kind);
    if (existing) return existing;
    const w: Watchpoint = { id: this.nextId++, addr, len, kind };
    cpu.watchpoints = [...cpu.watchpoints, w];
    this.refreshWatchPages();
    this.emit({ type: 'breakpoints' });
    return w;
  }

  removeWatchpoint(addr: number, len: number, kind: 'watch' | 'rwatch' | 'awatch'): boolean {
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

  async registers(): Promise<RegisterSnapshot> {
    return snapshotRegisters(this.machine.cpu);
  }

  registersNow(): RegisterSnapshot {
    return snapshotRegisters(this.machine.cpu);
  }

  async setRegister(name: string, value: number): Promise<boolean> {
    return writeRegister(this.machine.cpu, name, value);
  }

  /** A register wider than 32 bits, as little-endian bytes (the x87 registers). */
  async setRegisterBytes(name: string, bytes: Uint8Array): Promise<boolean> {
    return isX87Register(name) && writeX87Register(this.machine.cpu.fpu, name, bytes);
  }

  /** Linear (default) or physical memory; null when any byte is unmapped. */
  async readMemory(addr: number, len: number, physical = false): Promise<Uint8Array | null> {
    return physical ? this.machine.readPhysical(addr >>> 0, len) : this.machine.readLinear(addr >>> 0, len);
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
    this.machine.reset(`system_reset (${by})`);
    this.lastStop = { kind: 'interrupt', by };
    if (this.state === 'exited') this.state = 'stopped';
  }

  async kill(by = 'debugger'): Promise<void> {
    if (this.state === 'running') await this.pause(by);
    this.finish({ kind: 'killed' });
  }

  /** Symbol containing `addr` (for displays), or null. */
  symbolAt(addr: number): { name: string; offset: number } | null {
    let best: ElfSymbol | null = null;
    for (const s of this.symbols) {
      if (s.type !== 2 && s.type !== 0) continue;
      if (s.value <= addr && (!best || s.value > best.value) && (s.size === 0 || addr < s.value + s.size || s.type === 0)) best = s;
    }
    if (!best || addr - best.value > 0x10000) return null;
    return { name: best.name, offset: addr - best.value };
  }

  lookupSymbol(name: string): number | null {
    const s = this.symbols.find((x) => x.name === name);
    return s ? s.value : null;
  }
}
