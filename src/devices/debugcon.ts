// Bochs/QEMU debug console ("port E9 hack"): every byte written goes to the host; a read
// returns the readback value (0xE9), which is how guests detect the device.
import type { IoBus, PortHandler } from './io-bus.js';
import type { Resettable, SavesState } from './device.js';

export const DEBUGCON_PORT = 0xe9;
/** QEMU's isa-debugcon `readback` property default. */
export const DEBUGCON_READBACK = 0xe9;

export interface DebugConOptions {
  /** The port (0xE9; SeaBIOS and OVMF use 0x402). */
  port?: number;
  onOutput?: (byte: number) => void;
  readback?: number;
  /** Port-claim name on the IoBus (give each instance its own). */
  name?: string;
}

export interface DebugConState {
  bytes: number;
}

export interface DebugConInfo {
  port: number;
  readback: number;
  bytes: number;
}

export class DebugCon implements PortHandler, Resettable, SavesState<DebugConState> {
  readonly port: number;
  readonly readback: number;
  onOutput: (byte: number) => void;
  private bytes = 0;

  constructor(io: IoBus, opts: DebugConOptions = {}) {
    this.port = opts.port ?? DEBUGCON_PORT;
    this.readback = (opts.readback ?? DEBUGCON_READBACK) & 0xff;
    this.onOutput = opts.onOutput ?? (() => {});
    io.register(this.port, 1, this, opts.name ?? `debugcon@0x${this.port.toString(16)}`);
  }

  // QEMU's debugcon accepts only 1-byte accesses and splits wider ones into byte accesses
  // at consecutive ports: only the first byte is ours, the following ports are unclaimed
  // (reads of all ones, writes dropped).
  read(_port: number, size: number): number {
    const rest = size === 1 ? 0 : size === 2 ? 0xff00 : 0xffffff00;
    return (rest | this.readback) >>> 0;
  }

  write(_port: number, value: number): void {
    this.bytes++;
    this.onOutput(value & 0xff);
  }

  reset(): void {}

  saveState(): DebugConState {
    return { bytes: this.bytes };
  }

  loadState(s: DebugConState): void {
    this.bytes = s.bytes;
  }

  info(): DebugConInfo {
    return { port: this.port, readback: this.readback, bytes: this.bytes };
  }
}
