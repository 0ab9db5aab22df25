// Takes down a run's inputs as it goes (src/replay/recording.ts): every input from
// outside the guest at the point of the run it arrived at, the debugger's interrupt-free
// single steps, the rates of -icount shift=auto, and the guest's serial output. The
// recorder writes what it takes to a file; the reverse debugger keeps it in memory.
import type { ExternalInput, MachineRunOptions, MachineStop, PcMachine } from '../machine/pc-machine.js';
import { saveCpuState } from '../cpu/cpu-state.js';
import type { LogEvent, Position } from './recording.js';

export class LogTaker {
  events: LogEvent[] = [];
  /** [icount, byte] of every serial byte. */
  out: number[] = [];
  /** The address of the breakpoint the last run stopped at, until the next run. */
  private stoppedAt = -1;
  /** Where the current run started (a rate change happens there). */
  private runStart: Position | null = null;

  constructor(readonly machine: PcMachine) {}

  /** Where the run is now (between runs). */
  position(): Position {
    const m = this.machine;
    const p: Position = { icount: m.cpu.icount, ns: m.clock.now() };
    if (this.stoppedAt >= 0) p.bp = this.stoppedAt;
    return p;
  }

  /** The run stopped at a breakpoint at `pc` (a position reached some other way: -1). */
  setStoppedAt(pc: number): void {
    this.stoppedAt = pc;
  }

  run(maxInsns: number, opts: MachineRunOptions, inner: (n: number, o: MachineRunOptions) => MachineStop): MachineStop {
    const step = opts.single === true && opts.noIrq === true;
    const from = this.position();
    this.runStart = from;
    this.stoppedAt = -1;
    let stop: MachineStop;
    try {
      stop = inner(maxInsns, opts);
    } finally {
      this.runStart = null;
    }
    this.stoppedAt = stop.kind === 'breakpoint' ? stop.pc : -1;
    if (step) this.events.push({ k: 'step', p: from, end: this.position() });
    return stop;
  }

  input(e: ExternalInput): void {
    if (e.kind === 'cpu') {
      const smp = this.machine.smp;
      this.events.push({ k: 'cpu', p: this.position(), cpu: saveCpuState(this.machine.cpu), ...(smp !== null ? { cpuIndex: smp.current.index } : {}) });
    }
    else this.events.push({ k: 'input', p: this.position(), input: e });
  }

  rate(nsPerInsn: number): void {
    this.events.push({ k: 'rate', p: this.runStart ?? this.position(), nsPerInsn });
  }

  readonly serial = (b: number): void => {
    const cpu = this.machine.cpu;
    this.out.push(cpu.icount + cpu.icountOff, b);
  };
}
