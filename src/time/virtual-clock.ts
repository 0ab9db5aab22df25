// The deterministic virtual clock: time is derived from the retired-instruction count
// (QEMU's icount), plus the time skipped while the CPU halts waiting for a timer. Device
// timers fire at fixed instruction counts, so a run replays exactly.

export const NS_PER_S = 1_000_000_000;

/** Floor of a / b, exact for integers where a / b alone may round up. */
export function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  else if ((q + 1) * b <= a) q++;
  return q;
}

/** Ticks of an `hz` clock seen by virtual time `ns` (exact integer arithmetic). */
export function clockTicksAt(ns: number, hz: number): number {
  ns = Math.floor(ns);
  const q = floorDiv(ns, NS_PER_S);
  return q * hz + floorDiv((ns - q * NS_PER_S) * hz, NS_PER_S);
}

/** The first virtual nanosecond at which an `hz` clock has counted `tick` ticks. */
export function clockTickToNs(tick: number, hz: number): number {
  const q = floorDiv(tick, hz);
  const r = tick - q * hz;
  return q * NS_PER_S - floorDiv(-r * NS_PER_S, hz);
}

export class VirtualClock {
  /**
   * Nanoseconds added to icount * nsPerInsn: the time skipped while halted (icount
   * "warp"), and the rebasing that keeps time continuous when the rate changes (QEMU's
   * qemu_icount_bias).
   */
  warpNs = 0;
  private readonly timers: Timer[] = [];
  private rate: number;
  /** Told about every armed deadline (the machine shortens the running slice if needed). */
  onArm: (deadlineNs: number) => void = () => {};

  /**
   * @param icount source of the retired-instruction count
   * @param nsPerInsn virtual nanoseconds per instruction
   */
  constructor(private readonly icount: () => number, nsPerInsn = 1) {
    this.rate = nsPerInsn;
  }

  /** Virtual nanoseconds per retired instruction (QEMU's 2^icount_time_shift). */
  get nsPerInsn(): number {
    return this.rate;
  }

  /**
   * Change the rate from now on (-icount shift=auto): time stays continuous and armed
   * deadlines keep their virtual time, so they fall due at a different instruction count.
   */
  setNsPerInsn(ns: number): void {
    if (!(ns > 0)) throw new Error(`nsPerInsn ${ns}`);
    const now = this.now();
    this.rate = ns;
    this.warpNs = now - this.icount() * ns;
    this.onRateChange?.(ns);
  }

  /** Told about every rate change (the rate of -icount shift=auto is an input to replay). */
  onRateChange: ((nsPerInsn: number) => void) | null = null;

  /** Virtual time in nanoseconds. */
  now(): number {
    return this.icount() * this.rate + this.warpNs;
  }

  /** The earliest armed deadline, in ns, or Infinity. */
  nextDeadline(): number {
    let d = Infinity;
    for (const t of this.timers) if (t.deadline < d) d = t.deadline;
    return d;
  }

  /** Instruction count at which the next timer is due (Infinity when none is armed). */
  nextDeadlineIcount(): number {
    const d = this.nextDeadline();
    if (d === Infinity) return Infinity;
    return Math.max(0, Math.ceil((d - this.warpNs) / this.nsPerInsn));
  }

  /** Skip forward to the next deadline (the CPU is halted). Returns false if none. */
  warpToNextDeadline(): boolean {
    const d = this.nextDeadline();
    if (d === Infinity) return false;
    const now = this.now();
    if (d > now) this.warpNs += d - now;
    return true;
  }

  /** Skip forward to `ns` (the CPU is halted and nothing is due before then). */
  warpTo(ns: number): void {
    const now = this.now();
    if (ns > now) this.warpNs += ns - now;
  }

  /** Fire every timer whose deadline has passed, in deadline order. */
  runDue(): void {
    const now = this.now();
    for (;;) {
      let due: Timer | null = null;
      for (const t of this.timers) if (t.deadline <= now && (!due || t.deadline < due.deadline)) due = t;
      if (!due) return;
      due.cancel();
      due.callback(now);
    }
  }

  /** @internal */
  add(t: Timer): void {
    if (!this.timers.includes(t)) this.timers.push(t);
    this.onArm(t.deadline);
  }

  /** @internal */
  remove(t: Timer): void {
    const i = this.timers.indexOf(t);
    if (i >= 0) this.timers.splice(i, 1);
  }

  armedTimers(): readonly Timer[] {
    return this.timers;
  }

  /** Time base and armed timers (the devices that own them save and re-arm them). */
  saveState(): ClockState {
    return { warpNs: this.warpNs, nsPerInsn: this.rate, timers: this.timers.map((t) => [t.name, t.deadline]) };
  }

  /** Restore the time base; call before the devices re-arm their timers (it disarms all). */
  loadState(s: ClockState): void {
    for (const t of [...this.timers]) t.cancel();
    this.warpNs = s.warpNs;
    this.rate = s.nsPerInsn;
  }

  /**
   * After the devices re-armed their timers: put them back in the saved order (timers
   * due at the same nanosecond fire in arming order) and check that each is armed as it
   * was. A difference is a device that does not save or restore a timer: a bug.
   */
  checkTimers(s: ClockState): void {
    const order = new Map(s.timers.map(([name], i) => [name, i]));
    this.timers.sort((a, b) => (order.get(a.name) ?? Infinity) - (order.get(b.name) ?? Infinity));
    const now = this.timers.map((t) => `${t.name}@${t.deadline}`).join(' ');
    const want = s.timers.map(([name, d]) => `${name}@${d}`).join(' ');
    if (now !== want) throw new Error(`snapshot: timers armed after loading (${now}) differ from the saved ones (${want})`);
  }
}

export interface ClockState {
  warpNs: number;
  nsPerInsn: number;
  /** Armed timers in arming order: [name, deadline ns]. */
  timers: [string, number][];
}

/** A one-shot timer on the virtual clock; re-arm it from its callback for periodic ones. */
export class Timer {
  deadline = Infinity;

  constructor(
    private readonly clock: VirtualClock,
    readonly name: string,
    readonly callback: (now: number) => void,
  ) {}

  /** Fire at absolute virtual time `deadlineNs`. */
  arm(deadlineNs: number): void {
    this.deadline = deadlineNs;
    this.clock.add(this);
  }

  cancel(): void {
    this.deadline = Infinity;
    this.clock.remove(this);
  }

  get armed(): boolean {
    return this.deadline !== Infinity;
  }
}
