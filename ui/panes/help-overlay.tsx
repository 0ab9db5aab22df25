// `?`: every key binding (from the binding table) and the command-line commands, in as
// many columns as fit; ↑/↓ scroll when even that is not enough, any other key closes.
import React from 'react';
import { Box } from 'ink';
import { Frame, Line } from './frame.js';

function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent + word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

export function helpOverlayLines(groups: { title: string; lines: string[] }[], colWidth: number): { text: string; title: boolean }[] {
  const lines: { text: string; title: boolean }[] = [];
  for (const g of groups) {
    lines.push({ text: g.title, title: true });
    for (const l of g.lines) for (const w of wrap(`  ${l}`, colWidth - 1, '      ')) lines.push({ text: w, title: false });
  }
  return lines;
}

export function HelpOverlay({ groups, width, height, scroll = 0 }: { groups: { title: string; lines: string[] }[]; width: number; height: number; scroll?: number }): React.JSX.Element {
  const inner = width - 2;
  const ncols = Math.max(1, Math.floor(inner / 60));
  const colWidth = Math.floor(inner / ncols);
  const perCol = height - 2;
  const lines = helpOverlayLines(groups, colWidth);
  const first = Math.max(0, Math.min(scroll, Math.max(0, lines.length - perCol * ncols)));
  const cols = Array.from({ length: ncols }, (_, i) => lines.slice(first + i * perCol, first + (i + 1) * perCol));
  const more = lines.length > first + perCol * ncols ? ' · ↓ more' : '';
  return (
    <Frame title={`Keys${more} · any other key closes`} width={width} height={height} focused>
      <Box flexDirection="row">
        {cols.map((c, i) => (
          <Box key={i} flexDirection="column" width={colWidth}>
            {c.map((l, j) => (
              <Line key={j} text={l.text} width={colWidth} color={l.title ? 'cyan' : undefined} bold={l.title} />
            ))}
          </Box>
        ))}
      </Box>
    </Frame>
  );
}
