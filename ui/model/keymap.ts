// Key bindings are data: each command names its keys, its scope (everywhere, or one
// pane) and its help text. The help line and the `?` overlay are generated from this
// table, and the session looks keys up in it; nothing else knows which key does what.
import type { PaneId } from './types.js';

export type Command =
  | 'stepInstruction'
  | 'stepBlock'
  | 'stepBack'
  | 'stepBackBlock'
  | 'continueBack'
  | 'gotoEvent'
  | 'continue'
  | 'pause'
  | 'toggleBreakpoint'
  | 'nextPane'
  | 'prevPane'
  | 'focusConsole'
  | 'focusTb'
  | 'focusTbs'
  | 'focusIrq'
  | 'focusBps'
  | 'focusMem'
  | 'focusLog'
  | 'focusVga'
  | 'typeVga'
  | 'registersPage'
  | 'nextCpu'
  | 'focusDisasm'
  | 'zoom'
  | 'commandLine'
  | 'help'
  | 'quit'
  | 'cursorUp'
  | 'cursorDown'
  | 'pageUp'
  | 'pageDown'
  | 'cursorHome'
  | 'open'
  | 'back'
  | 'sortTbs'
  | 'filterTbs'
  | 'historyTbs'
  | 'flushTbs'
  | 'zoomIn'
  | 'zoomOut'
  | 'scrollLeft'
  | 'scrollRight'
  | 'prevEvent'
  | 'nextEvent'
  | 'follow'
  | 'deleteBreakpoint'
  | 'togglePhysical'
  | 'followRegister'
  | 'leaveConsole';

export type Scope = 'global' | PaneId;

export interface Binding {
  command: Command;
  /** Key names as `keyName()` produces them: 's', 'S', 'tab', 'up', 'ctrl-c', ... */
  keys: string[];
  scope: Scope;
  help: string;
  /** Shown in the one-line help summary (short label). */
  short?: string;
  /** The keys as the summary shows them, when not the first key. */
  shortKeys?: string;
}

export const BINDINGS: readonly Binding[] = [
  { command: 'stepInstruction', keys: ['s', 'f7'], scope: 'global', help: 'step one instruction', short: 'step' },
  { command: 'stepBlock', keys: ['t', 'f8'], scope: 'global', help: 'step one translated block', short: 'stepTB' },
  { command: 'continue', keys: ['c', 'f5'], scope: 'global', help: 'continue', short: 'cont' },
  { command: 'stepBack', keys: ['S'], scope: 'global', help: 'step back one instruction (reverse execution)' },
  { command: 'stepBackBlock', keys: ['T'], scope: 'global', help: 'step back over the last translated block that ran' },
  { command: 'continueBack', keys: ['C'], scope: 'global', help: 'continue back to the last breakpoint or watchpoint hit' },
  { command: 'pause', keys: ['p', 'space'], scope: 'global', help: 'pause the guest', short: 'pause' },
  { command: 'toggleBreakpoint', keys: ['b', 'f9'], scope: 'global', help: 'toggle a breakpoint at the cursor (disassembly) or at EIP', short: 'break' },
  { command: 'nextPane', keys: ['tab'], scope: 'global', help: 'focus the next pane', short: 'pane', shortKeys: 'Tab/1-8' },
  { command: 'prevPane', keys: ['shift-tab'], scope: 'global', help: 'focus the previous pane' },
  { command: 'focusConsole', keys: ['1'], scope: 'global', help: 'console (keys go to the guest; Esc leaves)' },
  { command: 'focusTb', keys: ['2'], scope: 'global', help: 'current TB: guest code and generated JavaScript' },
  { command: 'focusTbs', keys: ['3'], scope: 'global', help: 'TB-cache inspector' },
  { command: 'focusIrq', keys: ['4'], scope: 'global', help: 'IRQ timeline' },
  { command: 'focusBps', keys: ['5'], scope: 'global', help: 'breakpoints and watchpoints' },
  { command: 'focusMem', keys: ['6'], scope: 'global', help: 'memory' },
  { command: 'focusLog', keys: ['7'], scope: 'global', help: 'log of commands and stops' },
  { command: 'focusVga', keys: ['8'], scope: 'global', help: 'VGA text screen (and the last POST code)' },
  { command: 'focusDisasm', keys: ['0', '`'], scope: 'global', help: 'disassembly' },
  { command: 'registersPage', keys: ['R'], scope: 'global', help: 'registers pane: general / system registers / x87 pages' },
  { command: 'nextCpu', keys: ['N'], scope: 'global', help: 'next CPU (-smp): registers, disassembly and steps follow it (stopped)' },
  { command: 'zoom', keys: ['z'], scope: 'global', help: 'give the focused pane the whole screen (again: back)' },
  { command: 'commandLine', keys: [':'], scope: 'global', help: 'command line: b, d, si, sb, c, x/Nx, tb, irq, q, help', short: 'cmd' },
  { command: 'help', keys: ['?'], scope: 'global', help: 'all key bindings', short: 'help' },
  { command: 'quit', keys: ['q', 'ctrl-c'], scope: 'global', help: 'quit (also Ctrl-C)', short: 'quit' },

  { command: 'cursorUp', keys: ['up', 'k'], scope: 'disasm', help: 'move the cursor' },
  { command: 'cursorDown', keys: ['down', 'j'], scope: 'disasm', help: 'move the cursor' },
  { command: 'pageUp', keys: ['pageup'], scope: 'disasm', help: 'page up' },
  { command: 'pageDown', keys: ['pagedown'], scope: 'disasm', help: 'page down' },
  { command: 'cursorHome', keys: ['home', '.'], scope: 'disasm', help: 'cursor back to EIP' },

  { command: 'leaveConsole', keys: ['escape'], scope: 'console', help: 'leave the console (other keys go to the guest)' },

  { command: 'cursorUp', keys: ['up', 'k'], scope: 'tb', help: 'scroll' },
  { command: 'cursorDown', keys: ['down', 'j'], scope: 'tb', help: 'scroll' },
  { command: 'pageUp', keys: ['pageup'], scope: 'tb', help: 'page up' },
  { command: 'pageDown', keys: ['pagedown'], scope: 'tb', help: 'page down' },

  { command: 'cursorUp', keys: ['up', 'k'], scope: 'tbs', help: 'select / scroll' },
  { command: 'cursorDown', keys: ['down', 'j'], scope: 'tbs', help: 'select / scroll' },
  { command: 'pageUp', keys: ['pageup'], scope: 'tbs', help: 'page up' },
  { command: 'pageDown', keys: ['pagedown'], scope: 'tbs', help: 'page down' },
  { command: 'open', keys: ['return'], scope: 'tbs', help: 'details of the selected TB', short: 'details' },
  { command: 'back', keys: ['escape', 'backspace'], scope: 'tbs', help: 'back to the list' },
  { command: 'sortTbs', keys: ['o'], scope: 'tbs', help: 'sort by exec count / recency / address', short: 'sort' },
  { command: 'filterTbs', keys: ['/'], scope: 'tbs', help: 'filter by symbol or address', short: 'filter' },
  { command: 'historyTbs', keys: ['i'], scope: 'tbs', help: 'live TBs / invalidation history', short: 'invalidated' },
  { command: 'flushTbs', keys: ['F'], scope: 'tbs', help: 'flush the TB cache', short: 'flush' },

  { command: 'cursorUp', keys: ['up', 'k'], scope: 'irq', help: 'scroll the IRQ lines (when they do not all fit)' },
  { command: 'cursorDown', keys: ['down', 'j'], scope: 'irq', help: 'scroll the IRQ lines (when they do not all fit)' },
  { command: 'zoomIn', keys: ['+', '='], scope: 'irq', help: 'zoom in', short: 'zoom' },
  { command: 'zoomOut', keys: ['-', '_'], scope: 'irq', help: 'zoom out' },
  { command: 'scrollLeft', keys: ['[', 'pageup'], scope: 'irq', help: 'scroll back in time', short: 'scroll' },
  { command: 'scrollRight', keys: [']', 'pagedown'], scope: 'irq', help: 'scroll forward in time' },
  { command: 'prevEvent', keys: ['left', 'h'], scope: 'irq', help: 'select the previous event', short: 'event' },
  { command: 'nextEvent', keys: ['right', 'l'], scope: 'irq', help: 'select the next event' },
  { command: 'follow', keys: ['f', 'end'], scope: 'irq', help: 'follow the newest events', short: 'follow' },
  { command: 'gotoEvent', keys: ['return', 'g'], scope: 'irq', help: 'go to the machine state at the selected event (reverse execution)', short: 'go there' },

  { command: 'cursorUp', keys: ['up', 'k'], scope: 'bps', help: 'select' },
  { command: 'cursorDown', keys: ['down', 'j'], scope: 'bps', help: 'select' },
  { command: 'deleteBreakpoint', keys: ['d', 'delete', 'backspace'], scope: 'bps', help: 'delete the selected breakpoint', short: 'delete' },

  { command: 'cursorUp', keys: ['up', 'k'], scope: 'mem', help: 'scroll 16 bytes' },
  { command: 'cursorDown', keys: ['down', 'j'], scope: 'mem', help: 'scroll 16 bytes' },
  { command: 'pageUp', keys: ['pageup'], scope: 'mem', help: 'page up' },
  { command: 'pageDown', keys: ['pagedown'], scope: 'mem', help: 'page down' },
  { command: 'togglePhysical', keys: ['m'], scope: 'mem', help: 'linear / physical addresses', short: 'lin/phys' },
  { command: 'followRegister', keys: ['r'], scope: 'mem', help: 'follow a register (cycles esp, eip, eax, ..., off)', short: 'follow reg' },

  { command: 'cursorUp', keys: ['up', 'k'], scope: 'log', help: 'scroll' },
  { command: 'cursorDown', keys: ['down', 'j'], scope: 'log', help: 'scroll' },

  { command: 'cursorUp', keys: ['up', 'k'], scope: 'vga', help: 'scroll up / down', short: 'scroll', shortKeys: '↑↓←→' },
  { command: 'cursorDown', keys: ['down', 'j'], scope: 'vga', help: 'scroll up / down' },
  { command: 'pageUp', keys: ['pageup'], scope: 'vga', help: 'page up' },
  { command: 'pageDown', keys: ['pagedown'], scope: 'vga', help: 'page down' },
  { command: 'scrollLeft', keys: ['left', 'h'], scope: 'vga', help: 'scroll left / right (narrow panes)' },
  { command: 'scrollRight', keys: ['right', 'l'], scope: 'vga', help: 'scroll left / right (narrow panes)' },
  { command: 'follow', keys: ['f', 'end'], scope: 'vga', help: 'follow the text and the cursor again', short: 'follow' },
  { command: 'typeVga', keys: ['i'], scope: 'vga', help: 'type into the guest\'s PS/2 keyboard (Esc stops)', short: 'type', shortKeys: 'i' },
];

/** The command bound to `key` in the focused pane (pane bindings win over global ones). */
export function lookupKey(key: string, focus: PaneId, bindings: readonly Binding[] = BINDINGS): Command | null {
  const pane = bindings.find((b) => b.scope === focus && b.keys.includes(key));
  if (pane) return pane.command;
  const global = bindings.find((b) => b.scope === 'global' && b.keys.includes(key));
  return global ? global.command : null;
}

const KEY_LABELS: Record<string, string> = {
  tab: 'Tab', 'shift-tab': 'S-Tab', return: 'Enter', escape: 'Esc', up: '↑', down: '↓', left: '←', right: '→',
  pageup: 'PgUp', pagedown: 'PgDn', home: 'Home', end: 'End', space: 'Space', 'ctrl-c': '^C', backspace: 'Bksp', delete: 'Del',
};

export function keyLabel(key: string): string {
  return KEY_LABELS[key] ?? (key.startsWith('f') && key.length > 1 ? key.toUpperCase() : key);
}

/**
 * The one-line summary: the global short bindings, then the focused pane's. When both do
 * not fit in `width`, the pane's keep their words and the global ones shrink: their keys
 * alone, then only help and quit.
 */
export function helpLine(focus: PaneId, bindings: readonly Binding[] = BINDINGS, width = Infinity): string {
  const entries = (scope: Scope): { keys: string; label: string }[] => {
    const parts: { keys: string; label: string }[] = [];
    const seen = new Set<Command>();
    for (const b of bindings) {
      if (b.scope !== scope || !b.short || seen.has(b.command)) continue;
      seen.add(b.command);
      parts.push({ keys: b.shortKeys ?? keyLabel(b.keys[0]!), label: b.short });
    }
    return parts;
  };
  if (focus === 'console') return 'console: typing goes to the guest  Esc leave  ^C quit';
  const global = entries('global');
  const pane = entries(focus).map((e) => `${e.keys} ${e.label}`).join('  ');
  const variants = [
    global.map((e) => `${e.keys} ${e.label}`).join('  '),
    global.map((e) => e.keys).join(' '),
    global.filter((e) => e.label === 'help' || e.label === 'quit').map((e) => `${e.keys} ${e.label}`).join('  '),
  ];
  const join = (g: string): string => (pane ? `${g}  │ ${pane}` : g);
  for (const g of variants) if ([...join(g)].length <= width) return join(g);
  return join(variants[variants.length - 1]!);
}

/** Every binding, grouped by scope, for the `?` overlay: one line per global binding,
 * one line per pane (its bindings joined). */
export function helpText(bindings: readonly Binding[] = BINDINGS): { title: string; lines: string[] }[] {
  const titles: Record<Scope, string> = {
    global: 'everywhere', disasm: 'disassembly', console: 'console', tb: 'current TB', tbs: 'TB cache', irq: 'IRQ timeline',
    bps: 'breakpoints', mem: 'memory', log: 'log', vga: 'VGA screen',
  };
  const scopes: Scope[] = [];
  for (const b of bindings) if (!scopes.includes(b.scope)) scopes.push(b.scope);
  return scopes.map((scope) => {
    const list = bindings.filter((b) => b.scope === scope);
    if (scope === 'global') return { title: titles[scope], lines: list.map((b) => `${b.keys.map(keyLabel).join('/').padEnd(12)} ${b.help}`) };
    // Bindings with the same help text (up and down: "scroll") share one entry.
    const byHelp = new Map<string, string[]>();
    for (const b of list) byHelp.set(b.help, [...(byHelp.get(b.help) ?? []), b.keys.map(keyLabel).join('/')]);
    return { title: titles[scope], lines: [[...byHelp].map(([help, keys]) => `${keys.join(' ')} ${help}`).join(' · ')] };
  });
}
