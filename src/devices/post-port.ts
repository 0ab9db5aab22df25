// The POST diagnostic port 0x80: BIOSes write progress codes there (and some OSes use it
// as an I/O delay). Every write is kept as the last code and logged as a 'post' event;
// reads return all ones, as QEMU's ioport80 does.
import type { IoBus, PortHandler } from './io-bus.js';
import type { Resettable, SavesState } from './device.js';
import type { EventLog } from '../events/machine-events.js';

export const POST_PORT = 0x80;

export interface PostPortOptions {
  log?: EventLog;
  /** Also called for every code (e.g. a UI status line). */
  onCode?: (code: number) => void;
}

export interface PostPortState {
  last: number | null;
  count: number;
}

export interface PostPortInfo {
  port: number;
  last: number | null;
  count: number;
}

export class PostPort implements PortHandler, Resettable, SavesState<PostPortState> {
  private last: number | null = null;
  private count = 0;
  private readonly log: EventLog | undefined;
  onCode: (code: number) => void;

  constructor(io: IoBus, opts: PostPortOptions = {}) {
    this.log = opts.log;
    this.onCode = opts.onCode ?? (() => {});
    io.register(POST_PORT, 1, this, 'post');
  }

  read(_port: number, size: number): number {
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }

  write(_port: number, value: number): void {
    const code = value & 0xff;
    this.last = code;
    this.count++;
    this.log?.emit({ kind: 'post', icount: this.log.icount(), code });
    this.onCode(code);
  }

  /** The last POST code written, or null. */
  get lastCode(): number | null {
    return this.last;
  }

  /** The code survives a reset (it is what the user wants to see after a hang). */
  reset(): void {}

  saveState(): PostPortState {
    return { last: this.last, count: this.count };
  }

  loadState(s: PostPortState): void {
    this.last = s.last;
    this.count = s.count;
  }

  info(): PostPortInfo {
    return { port: POST_PORT, last: this.last, count: this.count };
  }
}
