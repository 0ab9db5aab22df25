// Plays a log of inputs (src/replay/recording.ts) back into a machine that starts where
// the log starts: each input goes in at the point of the run it arrived at. The front
// ends drive the machine as usual; its run() stops where the next input is due. Every
// serial byte is checked against the log, so a replay that would go wrong says where.
// Used by --replay (a file) and by the reverse debugger (its history, in memory).
import type { ExternalInput, MachineRunOptions, MachineStop, PcMachine } from '../machine/pc-machine.js';
import { loadCpuState } from '../cpu/cpu-state.js';
import { UserError } from '../user-error.js';
import type { LogEvent, Position } from './recording.js';

/** The replay cannot follow the log: the guest did something else. */
export class ReplayDivergence extends UserError {}

export type Inner = (n: number, o: MachineRunOptions) => MachineStop;

export class LogPlayer {
  /** Past the log's end: the machine runs on its own. */
  live = false;
  private diverged: string | null = null;
  /** Inputs the player itself applies. */
  applying = false;
  /** Told once when the log ends (its end event, or its end position). */
  onEnd: (why: string) => void = () => {};
  /**
   * While the machine is at this point, events due there wait (the reverse debugger
   * stops right before a stepped instruction, in the state it was stepped from); with
   * `event`, those before that index go in first (what the debugger did there before it
   * stepped: selected the CPU it stepped, wrote a register).
   */
  hold: { icount: number; ns?: number; event?: number } | null = null;

  constructor(
    readonly machine: PcMachine,
    readonly events: readonly LogEvent[],
    /** Index of the next event to apply. */
    public next: number,
    readonly out: readonly number[],
    /** Index (into out, by twos) of the next serial byte expected. */
    public outNext: number,
    /** Where the log ends, when it has no end event (the reverse debugger's present). */
    readonly end: Position | null = null,
  ) {}

  /** Events still to come (the end position counts as one). */
  get pending(): number {
    return this.live ? 0 : this.events.length - this.next + (this.end ? 1 : 0);
  }

  readonly serial = (b: number): void => {
    if (this.live || this.diverged !== null) return;
    const cpu = this.machine.cpu;
    const at = cpu.icount + cpu.icountOff;
    const out = this.out;
    if (this.outNext >= out.length) {
      this.diverge(`the guest wrote 0x${hex2(b)} at instruction ${at}, after the log's last byte`);
      return;
    }
    const wantAt = out[this.outNext]!;
    const want = out[this.outNext + 1]!;
    this.outNext += 2;
    if (want !== b || wantAt !== at) {
      this.diverge(`the guest wrote 0x${hex2(b)} at instruction ${at} where the recording has 0x${hex2(want)} at instruction ${wantAt}`);
    }
  };

  private diverge(msg: string): void {
    this.diverged = msg;
    this.machine.exec.exitRequest = true;
    this.machine.cpu.requestExit();
  }

  private check(): void {
    if (this.diverged !== null) throw new ReplayDivergence(`replay diverged: ${this.diverged}`);
  }

  goLive(why: string): void {
    if (this.live) return;
    this.live = true;
    this.onEnd(why);
  }

  /** At the hold point (see `hold`). */
  held(): boolean {
    const h = this.hold;
    return h !== null && this.machine.cpu.icount === h.icount && (h.ns === undefined || this.machine.clock.now() === h.ns) && (h.event === undefined || this.next >= h.event);
  }

  at(p: Position): boolean {
    return this.machine.cpu.icount === p.icount && this.machine.clock.now() === p.ns;
  }

  /** The next point the run must stop at: an event's, or the log's end. */
  private target(): Position | null {
    const e = this.events[this.next];
    if (e) return e.p;
    return this.end;
  }

  /**
   * Apply every event due at the current point (and notice the end). With `oneStep`,
   * stop after a stepped instruction (true): what came after it at the same point (the
   * debugger selecting another CPU or writing a register, then stepping again) is the
   * next run's.
   */
  private applyDue(inner: Inner, oneStep = false): boolean {
    const m = this.machine;
    while (!this.live) {
      if (this.held()) return false;
      const e = this.events[this.next];
      const p = e ? e.p : this.end;
      if (p === null) return false;
      if (!this.at(p)) {
        if (p.icount < m.cpu.icount || (p.icount === m.cpu.icount && p.ns < m.clock.now())) {
          throw new ReplayDivergence(`replay diverged: the log has an input at instruction ${p.icount}, which the replay passed (now at ${m.cpu.icount})`);
        }
        return false;
      }
      if (!e) {
        this.goLive(`reached the end of the log at instruction ${p.icount}`);
        return false;
      }
      this.next++;
      this.apply(e, inner);
      if (oneStep && e.k === 'step') return true;
    }
    return false;
  }

  /**
   * At the hold point, apply what is due there before it (a CPU selected, a register
   * written): the reverse debugger's travel can start at a checkpoint taken right there.
   */
  settle(): void {
    const e = this.events[this.next];
    if (this.live || this.hold?.event === undefined || !e || e.k === 'step' || !this.at(e.p)) return;
    this.applyDue(() => {
      throw new Error('a stepped instruction before the hold point');
    });
  }

  private apply(e: LogEvent, inner: Inner): void {
    const m = this.machine;
    this.applying = true;
    try {
      switch (e.k) {
        case 'input':
          applyInput(m, e.input);
          break;
        case 'cpu':
          if (e.cpuIndex !== undefined && m.smp !== null) m.smp.select(m.smp.cpus[e.cpuIndex]!);
          loadCpuState(m.cpu, e.cpu);
          break;
        case 'rate':
          m.clock.setNsPerInsn(e.nsPerInsn);
          break;
        case 'step': {
          // The debugger's stepi: one instruction with interrupts held off (it ran even
          // if a breakpoint is set there now: the debugger steps off its breakpoints).
          m.exec.skipBreakpointAt = m.cpu.pc;
          const stop = this.runToBreakpoint(e.end, inner, { single: true, noIrq: true, untilNs: e.end.ns }, 1);
          this.check();
          if (!this.at(e.end) || (e.end.bp !== undefined && (stop.kind !== 'breakpoint' || stop.pc !== e.end.bp))) {
            throw new ReplayDivergence(`replay diverged: a stepped instruction at ${e.p.icount} ended at instruction ${m.cpu.icount}, the log's at ${e.end.icount}`);
          }
          break;
        }
        case 'end':
          this.goLive(`end of the recording at instruction ${e.p.icount} (${e.how})`);
          break;
      }
    } finally {
      this.applying = false;
    }
  }

  /**
   * Run (in `opts`' mode) to the stop at `p`, made by a breakpoint at p.bp: the stop is
   * reproduced with a breakpoint there (the loop may have delivered an interrupt before
   * it, at the same count); earlier hits of that address run on.
   */
  runToBreakpoint(p: Position, inner: Inner, opts: MachineRunOptions, budget: number): MachineStop {
    const m = this.machine;
    const exec = m.exec;
    const bp = p.bp;
    const added = bp !== undefined && !exec.breakpoints.has(bp);
    if (added) exec.addBreakpoint(bp!);
    try {
      for (;;) {
        const stop = inner(Math.max(1, Math.min(budget, p.icount + 1 - m.cpu.icount)), opts);
        if (bp === undefined || stop.kind !== 'breakpoint' || stop.pc !== bp) return stop;
        if (m.cpu.icount === p.icount) return stop;
        // An earlier pass over the address: on, unless it is the user's own breakpoint.
        if (!added || m.cpu.icount > p.icount) return stop;
        exec.skipBreakpointAt = bp;
      }
    } finally {
      if (added) exec.removeBreakpoint(bp!);
    }
  }

  run(maxInsns: number, opts: MachineRunOptions, inner: Inner): MachineStop {
    if (this.live) return inner(maxInsns, opts);
    const m = this.machine;
    // The budget counts from here: a stepped instruction applied below is part of it.
    const endAt = m.cpu.icount + maxInsns;
    // The front end's single step is one stepped instruction of the log at most, whatever
    // the log has at the point where it ends (another step at once, after a CPU selected
    // or a register written there: with several CPUs the steps of two CPUs meet at one count).
    const single = opts.single === true;
    const stepped = this.applyDue(inner, single);
    this.check();
    if (stepped) return { kind: 'budget' };
    maxInsns = endAt - m.cpu.icount;
    if (maxInsns <= 0 && !m.cpu.halted) return { kind: 'budget' };
    maxInsns = Math.max(1, maxInsns);
    if (this.live) return inner(maxInsns, opts);
    if (this.held()) return { kind: 'budget' };
    const p = this.target()!;
    // The log's rules: interrupts are taken as they were (a stepi here does not hold them
    // off), and a halted CPU never skips time past the next input's moment.
    const o: MachineRunOptions = { ...opts, noIrq: false, untilNs: p.ns };
    const left = p.icount - m.cpu.icount;
    if (left === 0 && !(m.cpu.halted && p.ns > m.clock.now())) {
      throw new ReplayDivergence(`replay diverged: the log has an input at instruction ${p.icount} (${p.ns} ns), and the replay cannot reach it from instruction ${m.cpu.icount} (${m.clock.now()} ns), running`);
    }
    let stop: MachineStop;
    if (p.bp !== undefined && maxInsns >= left) stop = this.runToBreakpoint(p, inner, o, maxInsns);
    else stop = inner(Math.max(1, Math.min(maxInsns, left)), o);
    this.check();
    // A debugger stop is reported where it happened: what is due there waits for the next run.
    if ((stop.kind === 'breakpoint' && m.exec.breakpoints.has(stop.pc)) || stop.kind === 'watchpoint') return stop;
    // Inputs due now go in before the front end sees the stop (an idle guest gets its byte);
    // after a single step they wait for the next run, which starts with them.
    if (!single) {
      this.applyDue(inner);
      this.check();
    }
    // A stop the player made for itself is no stop for the front end.
    if (stop.kind === 'breakpoint' && !m.exec.breakpoints.has(stop.pc)) return { kind: 'budget' };
    return stop;
  }
}

function applyInput(m: PcMachine, i: ExternalInput): void {
  switch (i.kind) {
    case 'serial':
      m.serialInput(i.bytes);
      break;
    case 'keyboard':
      m.keyboardInput(i.bytes);
      break;
    case 'wakeup':
      m.requestWakeup('other');
      break;
    case 'reset':
      m.reset(i.cause);
      break;
    case 'memory':
      i.pas.forEach((pa, k) => m.writePhysical(pa, Uint8Array.of(i.data[k]!)));
      break;
    case 'cpu':
      break;
  }
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}
