// QEMU's isa-debug-exit (hw/misc/debugexit.c): a write of any size to any of its ports
// ends the emulator with status (value << 1) | 1, so a guest can report a test result
// (and can never look like a clean exit 0). Reads return 0.
import type { IoBus, PortHandler } from './io-bus.js';
import type { Resettable, SavesState } from './device.js';

export const DEBUG_EXIT_IOBASE = 0xf4;
export const DEBUG_EXIT_IOSIZE = 4;

export interface IsaDebugExitOptions {
  iobase?: number;
  iosize?: number;
  /**
   * Receives the full code (value << 1) | 1 for the written value (zero-extended to the
   * access size; up to 2^33 - 1). The process exit status is that mod 256, as QEMU's
   * exit() gives the shell: a byte write of 0x31 exits with 0x63 = 99.
   */
  onExit?: (code: number) => void;
}

export interface IsaDebugExitState {
  lastCode: number | null;
}

export interface IsaDebugExitInfo {
  iobase: number;
  iosize: number;
  lastCode: number | null;
}

/** The exit code QEMU computes for a written value. */
export function debugExitCode(value: number): number {
  return (value >>> 0) * 2 + 1;
}

export class IsaDebugExit implements PortHandler, Resettable, SavesState<IsaDebugExitState> {
  readonly iobase: number;
  readonly iosize: number;
  onExit: (code: number) => void;
  private lastCode: number | null = null;

  constructor(io: IoBus, opts: IsaDebugExitOptions = {}) {
    this.iobase = opts.iobase ?? DEBUG_EXIT_IOBASE;
    this.iosize = opts.iosize ?? DEBUG_EXIT_IOSIZE;
    this.onExit = opts.onExit ?? (() => {});
    io.register(this.iobase, this.iosize, this, 'isa-debug-exit');
  }

  read(): number {
    return 0;
  }

  write(_port: number, value: number): void {
    const code = debugExitCode(value);
    this.lastCode = code;
    this.onExit(code);
  }

  reset(): void {}

  saveState(): IsaDebugExitState {
    return { lastCode: this.lastCode };
  }

  loadState(s: IsaDebugExitState): void {
    this.lastCode = s.lastCode;
  }

  info(): IsaDebugExitInfo {
    return { iobase: this.iobase, iosize: this.iosize, lastCode: this.lastCode };
  }
}
