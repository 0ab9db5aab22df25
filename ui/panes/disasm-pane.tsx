// Disassembly around EIP (or the cursor): symbols as labels, breakpoints (●), EIP (▶),
// the cursor (inverse) and the bounds of the TB that holds EIP (┌ │ └).
import React from 'react';
import type { DisasmRow, DisasmView } from '../model/types.js';
import { Frame, Lines } from './frame.js';

const TB_MARK: Record<NonNullable<DisasmRow['tb']>, string> = { first: '┌', mid: '│', last: '└', only: '[' };

export function disasmRowText(r: DisasmRow, width: number): string {
  if (r.kind === 'label') return `    ${r.text}:`;
  const showBytes = width >= 70;
  const marks = `${r.breakpoint ? '●' : ' '}${r.tb ? TB_MARK[r.tb] : ' '}${r.eip ? '▶' : ' '}`;
  return `${marks} ${r.addr.toString(16).padStart(8, '0')}  ${showBytes ? r.bytes.padEnd(21).slice(0, 21) + ' ' : ''}${r.text}`;
}

export interface DisasmPaneProps {
  view: DisasmView;
  width: number;
  height: number;
  focused: boolean;
}

export function DisasmPane({ view, width, height, focused }: DisasmPaneProps): React.JSX.Element {
  const inner = width - 2;
  const info = view.tb ? `TB #${view.tb.id} ${view.tb.start.toString(16)}-${view.tb.end.toString(16)}` : 'EIP not translated yet';
  return (
    <Frame title="Disassembly" width={width} height={height} focused={focused} info={info}>
      <Lines
        width={inner}
        lines={view.rows.map((r) =>
          r.kind === 'label'
            ? { text: disasmRowText(r, inner), color: 'magenta' as const }
            : { text: disasmRowText(r, inner), inverse: r.cursor && focused, bold: r.eip, color: r.eip ? ('yellow' as const) : r.breakpoint ? ('red' as const) : undefined },
        )}
      />
    </Frame>
  );
}
