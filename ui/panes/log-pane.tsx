// The log: commands typed on the command line, their output, and every stop.
import React from 'react';
import type { LogView } from '../model/types.js';
import { Line, Lines } from './frame.js';

export function LogPane({ view, width, height }: { view: LogView; width: number; height: number }): React.JSX.Element {
  const lines = view.lines.slice(-height);
  if (lines.length === 0) return <Line text="(nothing yet: press : for the command line)" width={width} dim />;
  return <Lines width={width} lines={lines.map((l) => ({ text: l, color: l.startsWith('(bmbt)') ? ('cyan' as const) : undefined }))} />;
}
