// The VGA text screen for the VGA pane: the 80×25 page the VGA decodes (characters,
// attribute bytes, the hardware cursor), cut to the window the pane has room for. A
// small pane follows the text: blank rows and columns at the bottom and the right go
// first, then the window scrolls to keep the last line written and the cursor in view,
// as a terminal does; the user can scroll it by hand instead.
import type { DebugTarget, VgaInfo } from '../../src/debug/target.js';
import type { VgaRun, VgaView } from './types.js';

export interface VgaWindow {
  /** Manual position (ignored while following). */
  top: number;
  left: number;
  follow: boolean;
  width: number;
  height: number;
}

/** A cell holds something when it has a visible glyph or a background colour. */
function used(ch: string, attr: number): boolean {
  return (ch !== ' ' && ch !== '\u00a0') || ((attr >> 4) & 7) !== 0;
}

/** Split one row (already cut to the window) into runs of equal attributes. */
export function attributeRuns(chars: string, attrs: readonly number[]): VgaRun[] {
  const cells = [...chars];
  const runs: VgaRun[] = [];
  for (let i = 0; i < cells.length; i++) {
    const a = attrs[i] ?? 0x07;
    const last = runs[runs.length - 1];
    if (last && last.attr === a) last.text += cells[i]!;
    else runs.push({ text: cells[i]!, attr: a });
  }
  return runs;
}

/** The first row or column of a window of `size` over `total` that shows [0, used) and `keep`. */
function followStart(total: number, size: number, usedCount: number, keep: number | null): number {
  if (size >= total) return 0;
  const end = Math.max(usedCount, keep === null ? 0 : keep + 1);
  return Math.max(0, Math.min(total - size, end - size));
}

export function buildVga(t: DebugTarget, win: VgaWindow): VgaView {
  const info = t.deviceInfo('vga') as VgaInfo;
  const post = t.status().postCode;
  const screen = t.vgaText();
  const cols = screen.cols;
  const rows = screen.rows;
  const graphics = info.mode === 'vbe' ? `VBE ${info.vbe.xres}×${info.vbe.yres}×${info.vbe.bpp}` : info.mode === 'graphics' ? `graphics (misc 0x${info.misc.toString(16)})` : null;
  let usedRows = 0;
  let usedCols = 0;
  for (let y = 0; y < rows; y++) {
    const cells = [...screen.chars[y]!];
    const attrs = screen.attrs[y]!;
    for (let x = cols - 1; x >= 0; x--) {
      if (used(cells[x] ?? ' ', attrs[x] ?? 0)) {
        usedRows = y + 1;
        usedCols = Math.max(usedCols, x + 1);
        break;
      }
    }
  }
  const cursor = screen.cursor.visible ? { x: screen.cursor.x, y: screen.cursor.y } : null;
  const width = Math.max(1, win.width);
  const height = Math.max(1, win.height);
  const top = win.follow ? followStart(rows, height, usedRows, cursor?.y ?? null) : Math.max(0, Math.min(Math.max(0, rows - height), win.top));
  const left = win.follow ? followStart(cols, width, Math.min(usedCols, width), cursor?.x ?? null) : Math.max(0, Math.min(Math.max(0, cols - width), win.left));
  const lines: VgaRun[][] = [];
  if (graphics === null) {
    for (let y = top; y < Math.min(rows, top + height); y++) {
      const cells = [...screen.chars[y]!].slice(left, left + width).join('');
      lines.push(attributeRuns(cells, screen.attrs[y]!.slice(left, left + width)));
    }
  }
  return {
    mode: info.mode, graphics, screenCols: cols, screenRows: rows, top, left, lines, cursor, follow: win.follow,
    usedRows, usedCols, blank: usedRows === 0, post,
  };
}
