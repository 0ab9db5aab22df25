// The guest's serial console. While focused, keys go to the guest's serial input.
import React from 'react';
import type { ConsoleView } from '../model/types.js';
import { Line, Lines } from './frame.js';

export function ConsolePane({ view, width, height, focused }: { view: ConsoleView; width: number; height: number; focused: boolean }): React.JSX.Element {
  const lines = view.lines.slice(-height);
  const cursorLine = lines.length - 1;
  if (lines.every((l) => l === '')) {
    return <Line text={focused ? '█ (no serial output yet; typing goes to the guest)' : '(no serial output yet)'} width={width} dim />;
  }
  return <Lines width={width} lines={lines.map((l, i) => ({ text: i === cursorLine && focused ? `${l}█` : l }))} />;
}
