// The layout, and nothing else: status line on top, registers on the left, disassembly
// and the tabbed pane on the right, the command/message line and the help line at the
// bottom. Everything it draws comes from one snapshot.
import React from 'react';
import { Box, Text } from 'ink';
import type { PaneId, UiSnapshot } from './model/types.js';
import { PANE_TITLES, TAB_PANES } from './model/types.js';
import { computeLayout } from './model/layout.js';
import { Frame, fit } from './panes/frame.js';
import { StatusLine } from './panes/status-line.js';
import { RegistersPane } from './panes/registers-pane.js';
import { DisasmPane } from './panes/disasm-pane.js';
import { ConsolePane } from './panes/console-pane.js';
import { CurrentTbPane } from './panes/current-tb-pane.js';
import { TbInspectorPane } from './panes/tb-inspector-pane.js';
import { IrqTimelinePane } from './panes/irq-timeline-pane.js';
import { BreakpointsPane } from './panes/breakpoints-pane.js';
import { MemoryPane } from './panes/memory-pane.js';
import { LogPane } from './panes/log-pane.js';
import { VgaPane, vgaInfo } from './panes/vga-pane.js';
import { CommandLine, HelpLine } from './panes/bottom-lines.js';
import { HelpOverlay } from './panes/help-overlay.js';

const SHORT_TITLES: Record<PaneId, string> = { disasm: 'Dis', console: 'Con', tb: 'TB', tbs: 'TBs', irq: 'IRQ', bps: 'Brk', mem: 'Mem', log: 'Log', vga: 'VGA' };

export function TabBar({ active, width }: { active: PaneId; width: number }): React.JSX.Element {
  // Long titles two spaces apart, or one space apart, or short titles: the first that fits.
  const longLength = TAB_PANES.map((p, i) => `${i + 1} ${PANE_TITLES[p]}`).join(' ').length;
  const long = longLength <= width;
  const gap = long && longLength + TAB_PANES.length - 1 <= width ? '  ' : ' ';
  return (
    <Text wrap="truncate-end">
      {TAB_PANES.map((p, i) => {
        const label = long ? `${i + 1} ${PANE_TITLES[p]}` : `${i + 1}${SHORT_TITLES[p]}`;
        return (
          <Text key={p}>
            {i ? gap : ''}
            <Text inverse={p === active} bold={p === active} color={p === active ? 'cyan' : 'gray'}>
              {label}
            </Text>
          </Text>
        );
      })}
    </Text>
  );
}

function TabPane({ snap, width, height }: { snap: UiSnapshot; width: number; height: number }): React.JSX.Element {
  const pane = snap.pane;
  const focused = snap.focus === snap.tab;
  const w = width - 2;
  const h = height - 3;
  let body: React.JSX.Element | null = null;
  let info: string | undefined;
  if (pane) {
    switch (pane.id) {
      case 'console':
        body = <ConsolePane view={pane.view} width={w} height={h} focused={focused} />;
        info = focused ? 'keys go to the guest · Esc leaves' : `${pane.view.sent} bytes typed`;
        break;
      case 'tb':
        body = <CurrentTbPane view={pane.view} width={w} height={h} />;
        break;
      case 'tbs':
        body = <TbInspectorPane view={pane.view} width={w} height={h} focused={focused} />;
        break;
      case 'irq':
        body = <IrqTimelinePane view={pane.view} width={w} height={h} />;
        break;
      case 'bps':
        body = <BreakpointsPane view={pane.view} width={w} height={h} focused={focused} />;
        break;
      case 'mem':
        body = <MemoryPane view={pane.view} width={w} height={h} />;
        break;
      case 'log':
        body = <LogPane view={pane.view} width={w} height={h} />;
        break;
      case 'vga':
        body = <VgaPane view={pane.view} width={w} height={h} />;
        info = vgaInfo(pane.view);
        break;
    }
  }
  return (
    <Frame title={PANE_TITLES[snap.tab]} width={width} height={height} focused={focused} info={info}>
      <TabBar active={snap.tab} width={w} />
      <Box flexDirection="column" height={h} overflow="hidden">
        {body}
      </Box>
    </Frame>
  );
}

export function App({ snap }: { snap: UiSnapshot }): React.JSX.Element {
  const layout = computeLayout(snap.columns, snap.rows, snap.focus, snap.zoom);
  const width = layout.columns;
  return (
    <Box flexDirection="column" width={width} height={layout.main + 3}>
      <StatusLine status={snap.status} width={width} />
      {snap.help ? (
        <HelpOverlay groups={snap.helpText} width={width} height={layout.main} scroll={snap.helpScroll} />
      ) : (
        <Box flexDirection="row" height={layout.main}>
          {layout.registers ? <RegistersPane view={snap.registers} width={layout.registers.width} height={layout.registers.height} /> : null}
          <Box flexDirection="column">
            {layout.disasm ? <DisasmPane view={snap.disasm} width={layout.disasm.width} height={layout.disasm.height} focused={snap.focus === 'disasm'} /> : null}
            {layout.tab ? <TabPane snap={snap} width={layout.tab.width} height={layout.tab.height} /> : null}
          </Box>
        </Box>
      )}
      <CommandLine cmd={snap.commandLine} message={snap.message} width={width} />
      <HelpLine text={snap.helpLine} width={width} />
    </Box>
  );
}

/** Shown instead of the layout when the terminal is too small to be useful. */
export function TooSmall({ columns, rows }: { columns: number; rows: number }): React.JSX.Element {
  return <Text>{fit(`bmbt-dbg needs at least 80×24 (this terminal is ${columns}×${rows}); q quits`, Math.max(10, columns))}</Text>;
}
