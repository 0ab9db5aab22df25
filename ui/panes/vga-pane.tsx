// The VGA text screen: the characters of the 80×25 page with their attribute bytes as
// terminal colours, and the hardware cursor as an inverted cell. Light grey on black
// (attribute 07h, what BIOSes print with) is drawn in the terminal's own colours, so the
// screen reads like the rest of the UI; other attributes become the 16 ANSI colours.
// Blinking (attribute bit 7) is not shown.
import React from 'react';
import { Text } from 'ink';
import type { VgaRun, VgaView } from '../model/types.js';
import { fit, Line } from './frame.js';
import { colorEnabled, paint } from './paint.js';

/** CGA colour order (black, blue, green, cyan, red, magenta, brown, grey) to ANSI's. */
const CGA_TO_ANSI = [0, 4, 2, 6, 1, 5, 3, 7];

/** The SGR parameters for a VGA attribute byte ('' for the terminal's default colours). */
export function attributeSgr(attr: number): string {
  const fg = attr & 0x0f;
  const bg = (attr >> 4) & 7;
  const codes: number[] = [];
  if (fg !== 7) codes.push(fg < 8 ? 30 + CGA_TO_ANSI[fg]! : 90 + CGA_TO_ANSI[fg - 8]!);
  if (bg !== 0) codes.push(40 + CGA_TO_ANSI[bg]!);
  return codes.join(';');
}

function styled(text: string, attr: number, cursor: boolean): string {
  if (!colorEnabled() || text === '') return text;
  // Blank cells on black need no colour; the cursor on a black foreground (blank memory
  // reads as attribute 00h) is drawn in the terminal's own inverse, so that it shows.
  const blank = ((attr >> 4) & 7) === 0 && text.trim() === '';
  const colours = cursor ? ((attr & 0x0f) === 0 ? '' : attributeSgr(attr)) : blank ? '' : attributeSgr(attr);
  const sgr = [colours, cursor ? '7' : ''].filter((s) => s !== '').join(';');
  return sgr ? `\x1b[${sgr}m${text}\x1b[0m` : text;
}

/** One row of the window: its runs coloured, the cursor cell inverted, padded to `width`. */
export function vgaRowText(runs: readonly VgaRun[], width: number, cursorCol: number | null): string {
  let out = '';
  let col = 0;
  for (const r of runs) {
    const cells = [...r.text];
    if (cursorCol !== null && cursorCol >= col && cursorCol < col + cells.length) {
      const i = cursorCol - col;
      out += styled(cells.slice(0, i).join(''), r.attr, false);
      out += styled(cells[i]!, r.attr, true);
      out += styled(cells.slice(i + 1).join(''), r.attr, false);
    } else out += styled(r.text, r.attr, false);
    col += cells.length;
  }
  // The cursor may sit past the last cell drawn (a window narrower than the screen is not).
  if (cursorCol !== null && cursorCol >= col && cursorCol < width) {
    out += ' '.repeat(cursorCol - col) + styled(' ', 0x07, true);
    col = cursorCol + 1;
  }
  return out + ' '.repeat(Math.max(0, width - col));
}

/** The pane's line in the top border: where the window is and the last POST code. */
export function vgaInfo(v: VgaView): string {
  const parts: string[] = [];
  if (v.graphics === null) {
    const rows = v.lines.length;
    const cols = Math.max(0, ...v.lines.map((l) => l.reduce((n, r) => n + [...r.text].length, 0)));
    // Only what is cut is named: `rows 0-9 cols 0-43` of the 80×25 screen.
    const window = [
      rows < v.screenRows ? `rows ${v.top}-${v.top + rows - 1}` : '',
      cols < v.screenCols ? `cols ${v.left}-${v.left + cols - 1}` : '',
    ].filter((p) => p !== '').join(' ');
    if (window) parts.push(v.follow ? window : `${window} (scrolled)`);
  }
  parts.push(v.post === null ? 'POST --' : `POST ${v.post.toString(16).padStart(2, '0')}h`);
  return parts.join(' · ');
}

export function VgaPane({ view, width, height }: { view: VgaView; width: number; height: number }): React.JSX.Element {
  if (view.graphics !== null) {
    return <Line text={`the VGA is in ${view.graphics} mode: no text screen to show`} width={width} dim />;
  }
  const rows = view.lines.slice(0, height).map((runs, i) => {
    const y = view.top + i;
    const cursorCol = view.cursor && view.cursor.y === y ? view.cursor.x - view.left : null;
    return vgaRowText(runs, width, cursorCol !== null && cursorCol >= 0 && cursorCol < width ? cursorCol : null);
  });
  if (view.blank && !view.cursor) rows[0] = paint(fit('(the text screen is blank)', width), 'dim');
  return <Text>{rows.join('\n')}</Text>;
}
