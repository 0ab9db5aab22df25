// The guest console: serial bytes as lines of text, bounded. Handles CR, LF, backspace
// and drops other control characters and escape sequences (a debugger's console, not a
// terminal emulator).
export class ConsoleBuffer {
  private readonly lines: string[] = [''];
  private col = 0;
  private esc = 0;
  /** Bytes received over the buffer's lifetime. */
  received = 0;
  /** Bumped on every change, so a snapshot knows whether to copy the lines. */
  version = 0;

  constructor(readonly maxLines = 2000) {}

  push(byte: number): void {
    this.received++;
    this.version++;
    if (this.esc === 1) {
      this.esc = byte === 0x5b ? 2 : 0;
      return;
    }
    if (this.esc === 2) {
      if (byte >= 0x40 && byte <= 0x7e) this.esc = 0;
      return;
    }
    const last = this.lines.length - 1;
    switch (byte) {
      case 0x1b:
        this.esc = 1;
        return;
      case 0x0d:
        this.col = 0;
        return;
      case 0x0a:
        this.lines.push('');
        this.col = 0;
        if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
        return;
      case 0x08:
        if (this.col > 0) this.col--;
        return;
      case 0x09: {
        const n = 8 - (this.col % 8);
        for (let i = 0; i < n; i++) this.put(last, ' ');
        return;
      }
      default:
        if (byte < 0x20 || byte === 0x7f) return;
        this.put(last, String.fromCharCode(byte));
    }
  }

  private put(line: number, ch: string): void {
    const s = this.lines[line]!;
    this.lines[line] = s.length <= this.col ? s.padEnd(this.col) + ch : s.slice(0, this.col) + ch + s.slice(this.col + 1);
    this.col++;
  }

  write(bytes: Iterable<number>): void {
    for (const b of bytes) this.push(b);
  }

  /** The last `n` lines (the line being written included). */
  tail(n: number): string[] {
    return this.lines.slice(Math.max(0, this.lines.length - n));
  }

  text(): string {
    return this.lines.join('\n');
  }
}
