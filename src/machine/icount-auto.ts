// -icount shift=auto: guest time follows wall-clock time. The rate stays a power of two
// (2^shift ns per instruction, as QEMU's icount_time_shift), starting at QEMU's guess of
// 3. Every ADJUST_PERIOD of wall time it is set from the measured speed (instructions per
// wall nanosecond spent running, idle waits left out) so that the next period brings
// guest time back to wall time: down at once, up one step per period (as QEMU's
// icount_adjust), since a speed measured while the JIT warms up is far too low and guest
// time sent ahead cannot be taken back. It moves only when the gap exceeds WOBBLE or the
// rate is off by two steps or more, so it does not flap. While the CPU halts, virtual time may skip ahead only as
// far as wall time has gone (QEMU warps idle time the same way), so a guest waiting for
// a timer waits in real time. Every change is reported (onChange), so a run can be
// repeated deterministically with -icount shift=N.
import type { VirtualClock } from '../time/virtual-clock.js';

export const ICOUNT_MAX_SHIFT = 10;
/** QEMU's first guess: 8 ns per instruction (125 MIPS). */
export const ICOUNT_AUTO_START_SHIFT = 3;
const NS_PER_MS = 1_000_000;
/**
 * Wall time between two adjustments. QEMU adjusts every 100 ms; our speed changes more
 * (a JIT warming up runs several times slower at first), so the measurement is more
 * frequent and an error costs less guest time.
 */
const ADJUST_PERIOD_NS = 25 * NS_PER_MS;
/** A gap to wall time smaller than this (QEMU's ICOUNT_WOBBLE) moves the rate only by two steps or more. */
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
  /** Wall time spent inside the machine's run loop since the last adjustment, and when it was entered. */
  private runningNs = 0;
  private enteredAt: number | null = null;
  private icountAtAdjust = 0;

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
    this.icountAtAdjust = this.icount();
    this.setShift(this.shift);
  }

  /** The machine's run loop starts a slice (its wall time is running time). */
  enter(): void {
    this.enteredAt = this.wallNs();
  }

  /** The slice ended. */
  leave(): void {
    if (this.enteredAt !== null) this.runningNs += this.wallNs() - this.enteredAt;
    this.enteredAt = null;
  }

  /** Wall time run since the start, without debugger pauses. */
  private wallElapsed(): number {
    return (this.pausedAt ?? this.wallNs()) - this.wallBase;
  }

  /** Virtual minus wall time since the start (positive: the guest is ahead). */
  aheadNs(): number {
    return this.clock.now() - this.virtBase - this.wallElapsed();
  }

  /**
   * A replay sets the rate from its log: wall time then neither moves the rate nor paces
   * a halted guest.
   */
  frozen = false;

  /** Between slices: move the rate one step if the guest drifts away from wall time. */
  adjust(): void {
    if (this.frozen) return;
    if (!this.started) {
      this.start();
      return;
    }
    if (this.pausedAt !== null) this.resume();
    const wall = this.wallNs();
    if (wall - this.lastAdjust < ADJUST_PERIOD_NS) return;
    this.lastAdjust = wall;
    const insns = this.icount() - this.icountAtAdjust;
    const running = this.runningNs;
    this.icountAtAdjust = this.icount();
    this.runningNs = 0;
    // An idle period says nothing about speed (and idle time already follows wall time).
    if (insns < 1000 || running <= 0) return;
    const speed = insns / running;
    const delta = this.aheadNs();
    const need = ADJUST_PERIOD_NS - delta;
    let target = need <= 0 ? 0
      : Math.min(ICOUNT_MAX_SHIFT, Math.max(0, Math.round(Math.log2(need / (speed * ADJUST_PERIOD_NS)))));
    // Slower guest time at once, faster one step at a time: a speed measured too low
    // (warm-up) must not send guest time far ahead, where it cannot be taken back.
    target = Math.min(target, this.shift + 1);
    if (target !== this.shift && (Math.abs(delta) > WOBBLE_NS || Math.abs(target - this.shift) >= 2)) this.setShift(target);
  }

  /**
   * The virtual time a halted CPU may skip to now: where wall time has got to. Beyond
   * it, the guest waits (in real time) for its next timer.
   */
  idleLimitNs(): number {
    if (this.frozen) return Infinity;
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
