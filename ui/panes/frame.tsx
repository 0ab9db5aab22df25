// A bordered pane with its title in the top border; the body is width-2 × height-2.
import React from 'react';
import { Box, Text } from 'ink';
import { paint } from './paint.js';

export interface FrameProps {
  title: string;
  width: number;
  height: number;
  focused?: boolean;
  /** Extra text at the right end of the top border. */
  info?: string;
  children?: React.ReactNode;
}

/** Cut or pad `s` to exactly `w` columns (the panes' text is ASCII and box drawing). */
export function fit(s: string, w: number): string {
  if (w <= 0) return '';
  const chars = [...s];
  if (chars.length > w) return chars.slice(0, Math.max(0, w - 1)).join('') + '…';
  return s + ' '.repeat(w - chars.length);
}

/** Cut a string with ANSI styles to at most `w` columns (styles reset where it is cut). */
export function fitStyled(s: string, w: number): string {
  let visible = 0;
  let out = '';
  // eslint-disable-next-line no-control-regex
  const parts = s.split(/(\x1b\[[0-9;]*m)/);
  const total = parts.reduce((n, p, i) => n + (i % 2 ? 0 : [...p].length), 0);
  if (total <= w) return s;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i % 2) {
      out += p;
      continue;
    }
    const cells = [...p];
    const room = w - 1 - visible;
    if (cells.length > room) return `${out}${cells.slice(0, Math.max(0, room)).join('')}…\x1b[0m`;
    out += p;
    visible += cells.length;
  }
  return out;
}

/**
 * `╭─ title ─── info ╮` in exactly `width` columns, corners kept: what does not fit goes,
 * the info first (cut, then left out), then the end of the title.
 */
export function topBorder(title: string, info: string | undefined, width: number): string {
  const avail = Math.max(0, width - 3);
  let label = ` ${title} `;
  if ([...label].length > avail) label = avail >= 3 ? ` ${fit(title, avail - 2)} ` : '';
  let right = '';
  const room = avail - [...label].length - 1;
  if (info && room >= 4) right = [...info].length + 2 <= room ? ` ${info} ` : ` ${fit(info, room - 2)} `;
  const fill = Math.max(0, avail - [...label].length - [...right].length);
  return `╭─${label}${'─'.repeat(fill)}${right}╮`.slice(0, Math.max(0, width));
}

export function Frame({ title, width, height, focused = false, info, children }: FrameProps): React.JSX.Element {
  const color = focused ? 'cyan' : 'gray';
  const top = topBorder(title, info, width);
  return (
    <Box flexDirection="column" width={width} height={height} flexShrink={0}>
      <Text color={color} bold={focused} wrap="truncate-end">
        {fit(top, width)}
      </Text>
      <Box
        borderStyle="round"
        borderTop={false}
        borderColor={color}
        width={width}
        height={Math.max(1, height - 1)}
        flexDirection="column"
        overflow="hidden"
      >
        {children}
      </Box>
    </Box>
  );
}

/** One line of plain text, cut to the pane's width. */
export function Line({ text, width, color, inverse, bold, dim }: { text: string; width: number; color?: string; inverse?: boolean; bold?: boolean; dim?: boolean }): React.JSX.Element {
  return (
    <Text color={color} inverse={inverse} bold={bold} dimColor={dim} wrap="truncate-end">
      {fit(text, width)}
    </Text>
  );
}

export interface StyledLine {
  text: string;
  color?: 'red' | 'green' | 'yellow' | 'cyan' | 'magenta' | 'gray';
  bold?: boolean;
  inverse?: boolean;
  dim?: boolean;
}

/** Many lines as one Ink node: each cut to `width` and styled with ANSI codes. */
export function Lines({ lines, width }: { lines: readonly StyledLine[]; width: number }): React.JSX.Element {
  return <Text>{lines.map((l) => paint(fit(l.text, width), l.color, l.bold && 'bold', l.inverse && 'inverse', l.dim && 'dim')).join('\n')}</Text>;
}
