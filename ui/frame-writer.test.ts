// FrameWriter writes the rows that changed between two frames, each at its row, and
// clears rows a shorter frame no longer covers; nothing at all for an unchanged frame.
import { describe, expect, it } from 'vitest';
import { FrameWriter } from './frame-writer.js';

describe('FrameWriter', () => {
  it('writes only changed rows, in one synchronized update', () => {
    const out: string[] = [];
    const w = new FrameWriter({ write: (d: string) => out.push(d) });
    w.frame('a\nb\nc');
    expect(out).toEqual(['\x1b[?2026h\x1b[1;1Ha\x1b[0m\x1b[K\x1b[2;1Hb\x1b[0m\x1b[K\x1b[3;1Hc\x1b[0m\x1b[K\x1b[?2026l']);
    w.frame('a\nB\nc');
    expect(out[1]).toBe('\x1b[?2026h\x1b[2;1HB\x1b[0m\x1b[K\x1b[?2026l');
    w.frame('a\nB\nc');
    expect(out).toHaveLength(2);
    // A shorter frame: the row it no longer has is cleared.
    w.frame('a\nB');
    expect(out[2]).toBe('\x1b[?2026h\x1b[3;1H\x1b[0m\x1b[K\x1b[?2026l');
    // After a resize everything is drawn again, on a cleared screen.
    w.invalidate();
    w.frame('a\nB');
    expect(out.slice(3)).toEqual(['\x1b[H\x1b[2J', '\x1b[?2026h\x1b[1;1Ha\x1b[0m\x1b[K\x1b[2;1HB\x1b[0m\x1b[K\x1b[?2026l']);
  });

  it('never addresses a row below the terminal (the cursor would stop on the last row and erase it)', () => {
    const out: string[] = [];
    const w = new FrameWriter({ write: (d: string) => out.push(d), rows: 2 });
    w.frame('a\nb\nc\nd');
    expect(out[0]).toBe('\x1b[?2026h\x1b[1;1Ha\x1b[0m\x1b[K\x1b[2;1Hb\x1b[0m\x1b[K\x1b[?2026l');
  });
});
