// The reverse debugger's history: while a debugger is attached, the machine keeps
// checkpoints (snapshots, in a ring bounded in bytes) and the log of every input since
// the oldest (src/replay/log-taker.ts). Going back to any earlier point restores the
// nearest checkpoint before it and re-runs the log up to it (src/replay/log-player.ts);
// the machine is deterministic, so the re-run is the past. From the past, running on
// re-creates the recorded future until it reaches the present; a new input there (a
// register written, a byte typed) forks history: the old future is dropped.
//
// On top: reverseStep (back one instruction) and reverseContinue (back to the last
// breakpoint or watchpoint hit), gdb's `bs` and `bc`; `history-begin` when there is no
// more history (gdb's replaylog:begin).
import type { MachineRunOptions, MachineStop, PcMachine, RunObserver } from '../machine/pc-machine.js';
import type { WatchHit } from '../cpu/cpu.js';
import { snapshotEngine, type MachineSnapshot, type SnapshotEngine } from '../snapshot/machine-snapshot.js';
import { namedSnapshots } from '../snapshot/named-snapshots.js';
import { LogTaker } from './log-taker.js';
import { LogPlayer, type Inner } from './log-player.js';
import type { Position } from './recording.js';

/** Running wall time between checkpoints, at least (and at least 20 times what one costs). */
const CHECKPOINT_MS = 100;
/** A checkpoint's state record beyond its memory pages (CPU, devices, TLB), roughly. */
const STATE_BYTES = 64 * 1024;

interface Checkpoint {
  pos: Position;
  snap: MachineSnapshot;
  /** Index of the first log event after it, and of its first serial byte (by twos). */
  event: number;
  out: number;
  stateBytes: number;
}

export type TravelStop =
  | { kind: 'step' }
  | { kind: 'breakpoint'; pc: number }
  | { kind: 'watchpoint'; hit: WatchHit }
  | { kind: 'history-begin' };

export interface HistoryStats {
  checkpoints: number;
  /** Bytes the checkpoints hold (memory pages shared with other snapshots included). */
  bytes: number;
  /** Instruction count of the oldest point one can go back to. */
  begin: number;
  /** Log events kept. */
  events: number;
  /** In the past: where the present is. */
  present: number | null;
  checkpointsTaken: number;
  checkpointMs: number;
}

/**
 * A point to travel to: exact (an event's), or the first time the count reaches icount;
 * with `event`, the log's events there before that index are applied (see LogPlayer.hold).
 */
type Target = { icount: number; ns?: number; bp?: number; event?: number };

export class History implements RunObserver {
  private readonly taker: LogTaker;
  private readonly engine: SnapshotEngine;
  private checkpoints: Checkpoint[] = [];
  /** Set while the machine is in the past. */
  private player: LogPlayer | null = null;
  /** The present, while in the past. */
  private frontier: Position | null = null;
  private runMs = 0;
  private lastCost = 0;
  private taken = 0;
  private takenMs = 0;
  /** How the last run stopped (a breakpoint stop marks the position). */
  private lastBp = -1;
  /** Travelling: the runs are ours, not the user's. */
  private driving = false;

  /**
   * `checkpointMs`: the running wall time between checkpoints (where they fall depends on
   * how loaded the machine is; what reverse execution finds must not); 0 takes one after
   * every run.
   */
  constructor(readonly machine: PcMachine, readonly budgetBytes: number, private readonly checkpointMs = CHECKPOINT_MS) {
    if (machine.runObserver !== null) throw new Error('the machine is recorded or replayed already');
    this.engine = snapshotEngine(machine);
    this.taker = new LogTaker(machine);
    this.checkpoint();
    machine.runObserver = this;
    machine.inputGate = (e) => {
      const p = this.player;
      if (p !== null && p.applying) return true;
      if (p !== null) this.fork();
      this.taker.input(e);
      return true;
    };
    machine.serialTaps.add(this.onSerial);
    machine.clock.onRateChange = (ns) => {
      if (this.player === null) this.taker.rate(ns);
    };
    namedSnapshots(machine).onLoad.add(() => this.restart());
  }

  private readonly onSerial = (b: number): void => {
    if (this.player !== null) this.player.serial(b);
    else this.taker.serial(b);
  };

  /** In the past (reverse-executed, not yet back at the present). */
  get inPast(): boolean {
    return this.player !== null;
  }

  stats(): HistoryStats {
    return {
      checkpoints: this.checkpoints.length,
      bytes: this.bytes(),
      begin: this.checkpoints[0]!.pos.icount,
      events: this.taker.events.length,
      present: this.frontier?.icount ?? null,
      checkpointsTaken: this.taken,
      checkpointMs: this.takenMs,
    };
  }

  /** What the oldest checkpoint holds: every non-zero page then, and its record. */
  firstCheckpointBytes(): number {
    const c = this.checkpoints[0]!;
    return c.snap.ram.nonZeroBytes + c.snap.vram.nonZeroBytes + c.stateBytes;
  }

  private bytes(): number {
    let n = this.engine.pageBytes;
    for (const c of this.checkpoints) n += c.stateBytes;
    return n;
  }

  // ---- going forward --------------------------------------------------------------------

  run(maxInsns: number, opts: MachineRunOptions, inner: Inner): MachineStop {
    const p = this.player;
    if (p !== null) {
      // The user runs on from where the travel stopped: what was held there goes in.
      if (!this.driving) p.hold = null;
      if (this.frontier !== null && p.at(this.frontier) && p.pending <= 1) this.toPresent();
      else {
        const stop = p.run(maxInsns, opts, inner);
        this.lastBp = stop.kind === 'breakpoint' ? stop.pc : -1;
        if (p.live) this.toPresent();
        return stop;
      }
    }
    const t0 = performance.now();
    const stop = this.taker.run(maxInsns, opts, inner);
    this.lastBp = stop.kind === 'breakpoint' ? stop.pc : -1;
    this.runMs += performance.now() - t0;
    if (this.checkpointMs === 0 || this.runMs >= Math.max(this.checkpointMs, 20 * this.lastCost)) this.checkpoint();
    return stop;
  }

  /** Back at the present: the log grows again. */
  private toPresent(): void {
    this.player = null;
    this.frontier = null;
    this.machine.outputMuted = false;
    if (this.machine.icountAuto) this.machine.icountAuto.frozen = false;
    this.taker.setStoppedAt(this.lastBp);
  }

  /** A new input in the past: the future that was is gone, this is the present now. */
  private fork(): void {
    const p = this.player!;
    const here = this.position();
    this.taker.events.length = p.next;
    this.taker.out.length = p.outNext;
    while (this.checkpoints.length > 1 && after(this.checkpoints[this.checkpoints.length - 1]!.pos, here)) {
      this.engine.release(this.checkpoints.pop()!.snap);
    }
    this.toPresent();
  }

  private position(): Position {
    const m = this.machine;
    const p: Position = { icount: m.cpu.icount, ns: m.clock.now() };
    if (this.lastBp >= 0) p.bp = this.lastBp;
    return p;
  }

  private checkpoint(): void {
    const t0 = performance.now();
    const snap = this.engine.take();
    this.checkpoints.push({
      pos: this.taker.position(), snap, event: this.taker.events.length, out: this.taker.out.length,
      stateBytes: STATE_BYTES + snap.state.cpu.tlb.entries.length * 8,
    });
    // (the first checkpoint copies all memory; the ones after it only what changed)
    this.lastCost = this.taken === 0 ? 0 : performance.now() - t0;
    this.taken++;
    this.takenMs += this.lastCost;
    this.runMs = 0;
    this.evict();
  }

  /** Keep within the budget: the oldest checkpoints go (history begins later). */
  private evict(): void {
    while (this.checkpoints.length > 1 && this.bytes() > this.budgetBytes) {
      this.engine.release(this.checkpoints.shift()!.snap);
      const first = this.checkpoints[0]!;
      const de = first.event;
      const dout = first.out;
      this.taker.events.splice(0, de);
      this.taker.out.splice(0, dout);
      for (const c of this.checkpoints) {
        c.event -= de;
        c.out -= dout;
      }
    }
  }

  /** The machine's state was replaced (loadvm): history starts again here. */
  restart(): void {
    if (this.player !== null) {
      this.player = null;
      this.frontier = null;
      this.machine.outputMuted = false;
      if (this.machine.icountAuto) this.machine.icountAuto.frozen = false;
    }
    for (const c of this.checkpoints) this.engine.release(c.snap);
    this.checkpoints = [];
    this.taker.events = [];
    this.taker.out = [];
    this.taker.setStoppedAt(-1);
    this.lastBp = -1;
    this.checkpoint();
  }

  // ---- going back -----------------------------------------------------------------------

  /** Remember the present (a checkpoint there) before the first step into the past. */
  private beginTravel(): void {
    if (this.player !== null) return;
    const here = this.taker.position();
    const last = this.checkpoints[this.checkpoints.length - 1]!;
    if (!samePos(last.pos, here)) this.checkpoint();
    this.frontier = here;
  }

  /** Restore checkpoint `i` and play the log on from there. */
  private playFrom(i: number): void {
    const c = this.checkpoints[i]!;
    const m = this.machine;
    this.engine.restore(c.snap);
    this.player = new LogPlayer(m, this.taker.events, c.event, this.taker.out, c.out, this.frontier);
    this.lastBp = c.pos.bp ?? -1;
    m.outputMuted = true;
    if (m.icountAuto) m.icountAuto.frozen = true;
  }

  /** The latest checkpoint at or before `t` (strictly before, for a first reach). */
  private checkpointBefore(t: Target): number {
    for (let i = this.checkpoints.length - 1; i > 0; i--) {
      const p = this.checkpoints[i]!.pos;
      if (t.ns === undefined ? p.icount < t.icount : !after(p, t as Position)) return i;
    }
    return 0;
  }

  /**
   * Run on from where the player is to `t`: the first time the count reaches t.icount, or
   * exactly the point t; events due there wait until the user runs on. Breakpoint and
   * watchpoint stops on the way (not at `t` or beyond; with watchAtEnd, also a watchpoint
   * stop at `t`, whose write came before it) are counted; with `stopAt`, the run ends at
   * that many.
   */
  private drive(t: Target, stopAt = 0, watchAtEnd = false): { stops: number; last: MachineStop | null } {
    const m = this.machine;
    const p = this.player!;
    p.hold = { icount: t.icount, ...(t.ns !== undefined ? { ns: t.ns } : {}), ...(t.event !== undefined ? { event: t.event } : {}) };
    const reached = (): boolean => m.cpu.icount > t.icount || (m.cpu.icount === t.icount && (t.ns === undefined || m.clock.now() >= t.ns));
    let stops = 0;
    let last: MachineStop | null = null;
    this.driving = true;
    try {
      while (!reached()) {
        // A point where a breakpoint stopped the machine is that stop, not the count: one
        // more lets the run reach it (with several CPUs the CPU that hit it may take its
        // turn, or an interrupt be delivered, at the same count).
        const stop = m.run(Math.max(1, t.icount - m.cpu.icount + (t.bp !== undefined ? 1 : 0)));
        if (stop.kind === 'breakpoint' || stop.kind === 'watchpoint') {
          // A watchpoint stops after the write: with watchAtEnd, one that stops exactly at
          // `t` is a hit before it (going back from just after a write finds that write, as
          // gdb's reverse-continue does; a checkpoint there must not hide it either).
          const writeBefore = watchAtEnd && stop.kind === 'watchpoint' && m.cpu.icount === t.icount;
          if (reached() && !writeBefore) break;
          stops++;
          last = stop;
          if (stopAt > 0 && stops === stopAt) break;
          if (stop.kind === 'breakpoint') m.exec.skipBreakpointAt = stop.pc;
          continue;
        }
        if ((stop.kind !== 'budget' && stop.kind !== 'exit-request') || p.live) break;
      }
    } finally {
      this.driving = false;
    }
    // Started at the point itself (a checkpoint there): what is due before the hold.
    if (t.event !== undefined && reached()) p.settle();
    return { stops, last };
  }

  /**
   * Go to `t` (see drive): from the checkpoint before it, replaying the log. Returns false
   * when `t` is before the history's beginning (the machine is then there).
   */
  private travelTo(t: Target): boolean {
    this.beginTravel();
    const first = this.checkpoints[0]!.pos;
    if (t.icount < first.icount || (t.icount === first.icount && t.ns !== undefined && t.ns < first.ns)) {
      this.playFrom(0);
      return false;
    }
    this.playFrom(this.checkpointBefore(t));
    this.drive(t);
    return true;
  }

  /**
   * To where the count first reaches `icount`: back through history, forward through
   * the recorded future, or on into a new one. False when `icount` is before history
   * begins (the machine is then at its beginning).
   */
  goto(icount: number): boolean {
    const m = this.machine;
    if (icount < m.cpu.icount || (this.player !== null && icount === m.cpu.icount)) return this.travelTo({ icount });
    if (this.player !== null && this.frontier !== null && icount <= this.frontier.icount) {
      this.drive({ icount });
      return true;
    }
    // Beyond the present: the machine runs there (breakpoints do not stop it).
    const skip = new Set(m.exec.breakpoints);
    for (const b of skip) m.exec.removeBreakpoint(b);
    try {
      while (m.cpu.icount < icount) {
        const stop = m.run(icount - m.cpu.icount);
        if (stop.kind !== 'budget' && stop.kind !== 'exit-request' && stop.kind !== 'watchpoint') break;
        if (stop.kind === 'budget' && stop.halted && m.cpu.icount < icount && m.clock.nextDeadline() === Infinity) break;
      }
    } finally {
      for (const b of skip) m.exec.addBreakpoint(b);
    }
    return true;
  }

  /** The point one instruction back: where the last instruction started. */
  reverseStep(): TravelStop {
    const m = this.machine;
    const here = this.player !== null ? this.position() : this.taker.position();
    const first = this.checkpoints[0]!.pos;
    if (here.icount <= first.icount) {
      if (!samePos(here, first)) this.travelTo(first);
      return { kind: 'history-begin' };
    }
    // Stepped here by the debugger: exactly where that step started, as the debugger left
    // the machine before it stepped (with several CPUs, the CPU it stepped selected).
    const events = this.taker.events;
    const limit = this.player !== null ? this.player.next : events.length;
    for (let i = limit - 1; i >= 0; i--) {
      const e = events[i]!;
      if (e.p.icount < here.icount - 1) break;
      if (e.k === 'step' && samePos(e.end, here)) {
        this.travelTo({ icount: e.p.icount, ns: e.p.ns, ...(e.p.bp !== undefined ? { bp: e.p.bp } : {}), event: i });
        return { kind: 'step' };
      }
    }
    if (!this.travelTo({ icount: here.icount - 1 })) return { kind: 'history-begin' };
    void m;
    return { kind: 'step' };
  }

  /**
   * Back to the last breakpoint or watchpoint hit before here (the debugger's current
   * breakpoints and watchpoints); the beginning of history when there is none. A
   * watchpoint stops before the instruction that wrote (gdb's reverse convention).
   */
  reverseContinue(): TravelStop {
    const here = this.player !== null ? this.position() : this.taker.position();
    this.beginTravel();
    const cps = this.checkpoints;
    let i = cps.length - 1;
    while (i > 0 && !after(here, cps[i]!.pos)) i--;
    let end: Position = here;
    for (; i >= 0; i--) {
      const c = cps[i]!;
      if (!after(end, c.pos)) {
        end = c.pos;
        continue;
      }
      this.playFrom(i);
      const { stops } = this.drive(end, 0, true);
      // The machine stood at a breakpoint where this checkpoint was taken: that is a hit
      // too, though playing on from there steps or continues off it without stopping.
      const atBp = c.pos.bp !== undefined && this.machine.exec.breakpoints.has(c.pos.bp) ? c.pos.bp : -1;
      if (stops === 0 && atBp >= 0) {
        this.playFrom(i);
        return { kind: 'breakpoint', pc: atBp };
      }
      if (stops > 0) {
        // Again, to the last of them.
        this.playFrom(i);
        const { last } = this.drive(end, stops, true);
        if (last?.kind === 'watchpoint') {
          const hit = last.hit;
          // Before the writing instruction.
          this.travelTo({ icount: this.machine.cpu.icount - 1 });
          return { kind: 'watchpoint', hit };
        }
        if (last?.kind === 'breakpoint') return { kind: 'breakpoint', pc: last.pc };
      }
      end = c.pos;
    }
    this.playFrom(0);
    return { kind: 'history-begin' };
  }
}

function samePos(a: Position, b: Position): boolean {
  return a.icount === b.icount && a.ns === b.ns;
}

/** a is later than b. */
function after(a: Position, b: Position): boolean {
  return a.icount > b.icount || (a.icount === b.icount && a.ns > b.ns);
}

const HISTORIES = new WeakMap<PcMachine, History>();

/** Keep history for reverse execution (a debugger attached); `budgetBytes` bounds its checkpoints. */
export function enableHistory(m: PcMachine, budgetBytes: number, checkpointMs?: number): History | null {
  const h = HISTORIES.get(m);
  if (h) return h;
  if (m.runObserver !== null) return null; // recorded or replayed: no reverse execution
  const nh = new History(m, budgetBytes, checkpointMs);
  HISTORIES.set(m, nh);
  return nh;
}

export function historyOf(m: PcMachine): History | null {
  return HISTORIES.get(m) ?? null;
}
