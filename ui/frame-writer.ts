// What goes to the terminal: Ink renders each frame as a whole (its debug mode, which
// hands us the frame instead of drawing it), and we write only the lines that changed,
// each at its row, inside one synchronized update. Ink's own drawing clears the screen
// and the scrollback (ESC[2J ESC[3J) whenever a frame fills the terminal, and rewrites
// every line of every frame: 141 KB in 5 s for a guest that only ticks.
import type { EventEmitter } from 'node:events';

/** Begin and end a synchronized update (terminals without it ignore both). */
const BSU = '\x1b[?2026h';
const ESU = '\x1b[?2026l';

export interface FrameTarget {
  write(data: string): unknown;
  readonly columns?: number;
  readonly rows?: number;
  on?(event: 'resize', fn: () => void): unknown;
  off?(event: 'resize', fn: () => void): unknown;
}

export class FrameWriter {
  private shown: string[] = [];
  /** Bytes written so far (the benchmark reads it). */
  bytes = 0;

  constructor(private readonly out: FrameTarget) {}

  /** The escape sequences that turn the screen from what is shown into `frame`. */
  diff(frame: string): string {
    const next = frame.split('\n');
    let s = '';
    // Rows past the terminal's last would land on the last one (the cursor stops there).
    const n = Math.min(Math.max(next.length, this.shown.length), this.out.rows ?? Infinity);
    for (let i = 0; i < n; i++) {
      const line = next[i] ?? '';
      if (line === (this.shown[i] ?? '') && i < this.shown.length) continue;
      // Erase the rest of the row after the text (SGR reset first: no colour bleeds).
      s += `\x1b[${i + 1};1H${line}\x1b[0m\x1b[K`;
    }
    this.shown = next;
    return s;
  }

  private frames = 0;

  /** Told after each frame Ink renders (drawn or unchanged): the session paces itself by it. */
  onFrame: (() => void) | null = null;

  /** Draw `frame` (lines separated by \n), writing only the rows that differ. */
  frame(frame: string): void {
    try {
      this.draw(frame);
    } finally {
      this.onFrame?.();
    }
  }

  private draw(frame: string): void {
    // Every 100 frames everything is drawn again: whatever else touched the screen (a
    // message from another program, a terminal that dropped a byte) does not stay.
    if (++this.frames % 100 === 0) this.shown = [];
    const d = this.diff(frame);
    if (d === '') return;
    const data = BSU + d + ESU;
    this.bytes += Buffer.byteLength(data);
    this.out.write(data);
  }

  /** The screen was changed behind our back (resized): clear it and draw everything next time. */
  invalidate(): void {
    this.shown = [];
    this.out.write('\x1b[H\x1b[2J');
  }

  /**
   * A stdout for Ink in debug mode: every write is one whole frame. Size and resize events
   * are the real terminal's.
   */
  inkStdout(real: NodeJS.WriteStream): NodeJS.WriteStream {
    const writer = this;
    const stream = {
      get columns() {
        return real.columns;
      },
      get rows() {
        return real.rows;
      },
      isTTY: real.isTTY,
      write(data: string | Uint8Array, cb?: unknown): boolean {
        const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
        if (text !== '') writer.frame(text);
        if (typeof cb === 'function') (cb as () => void)();
        return true;
      },
      on(event: string, fn: (...a: unknown[]) => void) {
        (real as unknown as EventEmitter).on(event, fn);
        return stream;
      },
      off(event: string, fn: (...a: unknown[]) => void) {
        (real as unknown as EventEmitter).off(event, fn);
        return stream;
      },
      removeListener(event: string, fn: (...a: unknown[]) => void) {
        (real as unknown as EventEmitter).off(event, fn);
        return stream;
      },
    };
    return stream as unknown as NodeJS.WriteStream;
  }
}
