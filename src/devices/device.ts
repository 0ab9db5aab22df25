// The small capability interfaces every device implements.

/** One interrupt request line into an interrupt controller. */
export interface IrqLine {
  /** Drive the line high (true) or low (false). */
  set(level: boolean): void;
}

export interface Resettable {
  reset(): void;
}

/** Devices that can save and restore their guest-visible state (snapshots, replay). */
export interface SavesState<S> {
  saveState(): S;
  loadState(state: S): void;
}

/** A line that goes nowhere (devices constructed without a wired IRQ). */
export const NO_IRQ: IrqLine = { set() {} };
