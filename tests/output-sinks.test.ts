// The terminal filter of the serial console on stdout (issue 11, defect 16): SeaBIOS's
// reset sequence is held back, however the bytes are split between slices; every other
// escape sequence (a guest's `clear`, colours) passes unchanged.
import { describe, expect, it } from 'vitest';
import { TerminalResetFilter } from '../cli/output-sinks.js';

function run(chunks: string[]): string {
  const f = new TerminalResetFilter();
  const out: number[] = [];
  for (const c of chunks) for (const ch of Buffer.from(c, 'latin1')) f.push(ch, out);
  f.drain(out);
  return Buffer.from(out).toString('latin1');
}

describe('TerminalResetFilter', () => {
  it('drops ESC c and the no-wrap and clear-screen right after it', () => {
    expect(run(['\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS\r\n'])).toBe('\x1b[0mSeaBIOS\r\n');
    // Split anywhere between slices.
    expect(run(['\x1b', 'c\x1b[', '?7', 'l\x1b[2', 'JSea'])).toBe('Sea');
  });

  it('passes a clear screen or no-wrap that does not follow a reset, and other sequences', () => {
    expect(run(['ab\x1b[2Jcd'])).toBe('ab\x1b[2Jcd');
    expect(run(['\x1b[?7l\x1b[31mred\x1b[0m'])).toBe('\x1b[?7l\x1b[31mred\x1b[0m');
    expect(run(['\x1bc', 'x\x1b[2J'])).toBe('x\x1b[2J');
    expect(run(['\x1b'])).toBe('\x1b');
  });
});
