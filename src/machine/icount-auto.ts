// -icount shift=auto: guest time follows wall-clock time. The rate stays a power of two
// (2^shift ns per instruction, as QEMU's icount_time_shift) and is moved one step at a
// time, at most every ADJUST_PERIOD of wall time, when virtual time runs ahead of or
// behind the wall clock by more than it did at the last check (QEMU's icount_adjust, with
// its hysteresis). While the CPU halts, virtual time may skip ahead only as far as wall
// time has gone (QEMU warps idle time the same way), so a guest waiting for a timer
// waits in real time. Every change is reported (onChange), so a run can be repeated
// deterministically with -icount shift=N.
import type { VirtualClock } from './virtual-clock.js';

export const ICOUNT_MAX_SHIFT = 10;
/** QEMU's first guess: 8 ns per instruction (125 MIPS). */
export const ICOUNT_AUTO_START_SHIFT = 3;
const NS_PER_MS = 1_000_000;
/** Wall time between two adjustments (QEMU adjusts every 100 ms). */
const ADJUST_PERIOD_NS = 100 * NS_PER_MS;
/** QEMU's ICOUNT_WOBBLE: a change of the gap smaller than this moves nothing. */
const WOBBLE_NS = 100 * NS_PER_MS;

export interface IcountChange {
  shift: number;
  icount: number;
  /** Virtual minus wall time when the change was made (positive: the guest was ahead). */
  aheadNs: number;
}

export class IcountAuto {
  shift = ICOUNT_AUTO_START_SHIFT;
  /** Every rate chosen, in order (the first is the starting guess). */
  readonly changes: IcountChange[] = [];
  onChange: (c: IcountChange) => void = () => {};
  private started = false;
  /** Wall time that counts as guest time: running and idle, not paused in a debugger. */
  private wallBase = 0;
  private pausedAt: number | null = null;
  private virtBase = 0;
  private lastAdjust = 0;
  private lastDelta = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly icount: () => number,
    /** Monotonic wall clock in ns (performance.now() by default). */
    private readonly wallNs: () => number = () => performance.now() * NS_PER_MS,
  ) {}

  private start(): void {
    this.started = true;
    this.wallBase = this.wallNs();
    this.virtBase = this.clock.now();
    this.lastAdjust = this.wallBase;
    this.setShift(this.shift);
  }

  /** Wall time run since the start, without debugger pauses. */
  private wallElapsed(): number {
    return (this.pausedAt ?? this.wallNs()) - this.wallBase;
  }

  /** Virtual minus wall time since the start (positive: the guest is ahead). */
  aheadNs(): number {
    return this.clock.now() - this.virtBase - this.wallElapsed();
  }

  /** Between slices: move the rate one step if the guest drifts away from wall time. */
  adjust(): void {
    if (!this.started) {
      this.start();
      return;
    }
    if (this.pausedAt !== null) this.resume();
    const wall = this.wallNs();
    if (wall - this.lastAdjust < ADJUST_PERIOD_NS) return;
    this.lastAdjust = wall;
    const delta = this.aheadNs();
    let shift = this.shift;
    if (delta > 0 && this.lastDelta + WOBBLE_NS < delta * 2 && shift > 0) shift--;
    if (delta < 0 && this.lastDelta - WOBBLE_NS > delta * 2 && shift < ICOUNT_MAX_SHIFT) shift++;
    this.lastDelta = delta;
    if (shift !== this.shift) this.setShift(shift);
  }

  /**
   * The virtual time a halted CPU may skip to now: where wall time has got to. Beyond
   * it, the guest waits (in real time) for its next timer.
   */
  idleLimitNs(): number {
    if (!this.started) this.start();
    return this.virtBase + this.wallElapsed();
  }

  /** The debugger stopped the machine: wall time stops counting until it runs again. */
  pause(): void {
    if (this.started && this.pausedAt === null) this.pausedAt = this.wallNs();
  }

  resume(): void {
    if (this.pausedAt === null) return;
    const paused = this.wallNs() - this.pausedAt;
    this.wallBase += paused;
    this.lastAdjust += paused;
    this.pausedAt = null;
  }

  private setShift(shift: number): void {
    this.shift = shift;
    this.clock.setNsPerInsn(2 ** shift);
    const c: IcountChange = { shift, icount: this.icount(), aheadNs: Math.round(this.aheadNs()) };
    this.changes.push(c);
    this.onChange(c);
  }
}
