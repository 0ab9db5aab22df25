// System control port A at 0x92 ("fast A20 and reset", PS/2; QEMU hw/i386/port92.c):
// bit 1 gates A20, a 0-to-1 transition of bit 0 resets the CPU. Reads return the last
// value written; reset clears bit 0 only, so A20 keeps the last value written here (QEMU).
import type { IoBus, PortHandler } from './io-bus.js';
import type { Resettable, SavesState } from './device.js';

export const PORT92 = 0x92;
export const PORT92_A20 = 0x02;
export const PORT92_RESET = 0x01;

export interface Port92Options {
  setA20?: (enabled: boolean) => void;
  onReset?: () => void;
}

export interface Port92State {
  outport: number;
}

export class Port92 implements PortHandler, Resettable, SavesState<Port92State> {
  private outport = 0;
  setA20: (enabled: boolean) => void;
  onReset: () => void;

  constructor(io: IoBus, opts: Port92Options = {}) {
    this.setA20 = opts.setA20 ?? (() => {});
    this.onReset = opts.onReset ?? (() => {});
    io.register(PORT92, 1, this, 'port92');
  }

  read(_port: number, size: number): number {
    return size === 1 ? this.outport : size === 2 ? this.outport | 0xff00 : (this.outport | 0xffffff00) >>> 0;
  }

  write(_port: number, value: number): void {
    const old = this.outport;
    this.outport = value & 0xff;
    this.setA20((value & PORT92_A20) !== 0);
    if (value & PORT92_RESET && !(old & PORT92_RESET)) this.onReset();
  }

  reset(): void {
    this.outport &= ~PORT92_RESET;
  }

  saveState(): Port92State {
    return { outport: this.outport };
  }

  loadState(s: Port92State): void {
    this.outport = s.outport & 0xff;
  }

  info(): { port: number; value: number; a20: boolean } {
    return { port: PORT92, value: this.outport, a20: (this.outport & PORT92_A20) !== 0 };
  }
}
