// Where the guest's console bytes go (-serial, -debugcon, -device isa-debugcon): a file,
// stdout, stderr or nowhere. Sinks buffer bytes and the run loop flushes them at every
// slice end and stop. Sinks on the same descriptor share one buffer, so bytes written to
// COM1 and to the debug console come out in the order the guest wrote them.
import { openSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { Sink } from './options.js';
import { UserError, systemErrorText } from '../src/user-error.js';

/**
 * Write all of `data` to `fd` (non-blocking stdio may take it in parts, or say EAGAIN). A
 * closed reader (EPIPE) ends the output quietly; other errors are thrown if `strict`.
 */
export function writeAll(fd: number, data: Uint8Array, strict: boolean): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EPIPE' || !strict) return;
      throw e;
    }
  }
}

const ESC = 0x1b;
const RESET = [[ESC, 0x63]]; // ESC c (RIS): full reset
const AFTER_RESET = [
  [ESC, 0x5b, 0x3f, 0x37, 0x6c], // ESC [ ? 7 l: no automatic wrap
  [ESC, 0x5b, 0x32, 0x4a], // ESC [ 2 J: clear the screen
];

/**
 * For a terminal: drops a terminal reset (ESC c) and the "no wrap" and "clear screen"
 * that follow it (SeaBIOS's serial console starts with ESC c ESC[?7l ESC[2J), which
 * would wipe the user's screen and leave the shell without line wrap after the run.
 * Everything else passes (a guest's `clear`, colours, cursor moves); files and pipes
 * get the bytes unchanged.
 */
export class TerminalResetFilter {
  private pending: number[] = [];
  private afterReset = false;

  push(b: number, out: number[]): void {
    if (this.pending.length === 0 && b !== ESC) {
      out.push(b);
      this.afterReset = false;
      return;
    }
    this.pending.push(b);
    const candidates = this.afterReset ? [...RESET, ...AFTER_RESET] : RESET;
    const p = this.pending;
    const match = candidates.find((c) => c.length === p.length && c.every((x, i) => x === p[i]));
    if (match) {
      this.pending = [];
      this.afterReset = true;
      return;
    }
    if (candidates.some((c) => c.length > p.length && p.every((x, i) => x === c[i]))) return;
    out.push(...p);
    this.pending = [];
    this.afterReset = false;
  }

  /** Bytes held back as the start of a sequence (at the end of the run). */
  drain(out: number[]): void {
    out.push(...this.pending);
    this.pending = [];
  }
}

interface FdBuffer {
  fd: number;
  bytes: number[];
}

/** The sinks of one run: one buffer per descriptor. */
export class OutputSinks {
  private readonly buffers = new Map<number, FdBuffer>();
  private readonly files = new Map<string, number>();

  private buffer(fd: number): FdBuffer {
    let b = this.buffers.get(fd);
    if (!b) this.buffers.set(fd, (b = { fd, bytes: [] }));
    return b;
  }

  /** A writer for `sink`; `console` marks the guest's serial console (filtered on a terminal). */
  writer(sink: Sink, opts: { console?: boolean } = {}): SinkWriter {
    let fd: number | null = null;
    if (sink.kind === 'file') {
      fd = this.files.get(sink.path) ?? null;
      if (fd === null) {
        try {
          fd = openSync(sink.path, 'w');
        } catch (e) {
          throw new UserError(`cannot open ${sink.path}: ${systemErrorText(e)}`);
        }
        this.files.set(sink.path, fd);
      }
    } else if (sink.kind === 'stdio') fd = 1;
    else if (sink.kind === 'stderr') fd = 2;
    const filter = opts.console && fd !== null && (fd === 1 || fd === 2) && isatty(fd) ? new TerminalResetFilter() : null;
    return new SinkWriter(this, fd === null ? null : this.buffer(fd), filter);
  }

  flush(): void {
    for (const b of this.buffers.values()) {
      if (b.bytes.length === 0) continue;
      const data = Uint8Array.from(b.bytes);
      b.bytes = [];
      writeAll(b.fd, data, true);
    }
  }
}

export class SinkWriter {
  constructor(private readonly sinks: OutputSinks, private readonly buf: FdBuffer | null, private readonly filter: TerminalResetFilter | null) {}

  readonly put = (b: number): void => {
    if (this.buf === null) return;
    if (this.filter) this.filter.push(b, this.buf.bytes);
    else this.buf.bytes.push(b);
  };

  /** Flushes every sink of the run (they share descriptors). */
  flush(): void {
    this.sinks.flush();
  }

  /** At the end of the run: what the filter held back goes out too. */
  finish(): void {
    if (this.filter && this.buf) this.filter.drain(this.buf.bytes);
    this.sinks.flush();
  }
}
