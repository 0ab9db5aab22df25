// Keys as names ('s', 'tab', 'up', 'ctrl-c', ...). Ink hands a burst of typed characters
// (key repeat, paste, `tmux send-keys a b c`) to useInput as one string, so plain text is
// split here into one key per character.
export interface InkKey {
  upArrow: boolean;
  downArrow: boolean;
  leftArrow: boolean;
  rightArrow: boolean;
  pageDown: boolean;
  pageUp: boolean;
  home?: boolean;
  end?: boolean;
  return: boolean;
  escape: boolean;
  ctrl: boolean;
  shift: boolean;
  tab: boolean;
  backspace: boolean;
  delete: boolean;
  meta: boolean;
}

/** One character of typed text as a key name. */
export function charKey(ch: string): string {
  const c = ch.charCodeAt(0);
  if (ch === '\r' || ch === '\n') return 'return';
  if (ch === '\t') return 'tab';
  if (ch === '\x7f' || ch === '\b') return 'backspace';
  if (ch === '\x1b') return 'escape';
  if (ch === ' ') return 'space';
  if (c > 0 && c < 27) return `ctrl-${String.fromCharCode(c + 96)}`;
  return ch;
}

const FUNCTION_KEYS: Record<string, string> = {
  '[15~': 'f5', '[18~': 'f7', '[19~': 'f8', '[20~': 'f9', '[3~': 'delete',
};

/** Ink's (input, key) pair as key names, one per keystroke. */
export function inkToKeys(input: string, key: InkKey): string[] {
  if (key.upArrow) return ['up'];
  if (key.downArrow) return ['down'];
  if (key.leftArrow) return ['left'];
  if (key.rightArrow) return ['right'];
  if (key.pageUp) return ['pageup'];
  if (key.pageDown) return ['pagedown'];
  if (key.home) return ['home'];
  if (key.end) return ['end'];
  if (key.tab) return [key.shift ? 'shift-tab' : 'tab'];
  if (key.return) return ['return'];
  if (key.escape && input === '') return ['escape'];
  // Ink reports the Backspace key (0x7f) as `delete` on most terminals.
  if (key.backspace || (key.delete && input === '')) return ['backspace'];
  if (key.ctrl && input.length === 1) return [`ctrl-${input.toLowerCase()}`];
  // Esc and the next key in one burst arrive as a meta key: they were two keystrokes.
  if (key.meta && !key.escape && input !== '') return ['escape', ...[...input].map(charKey)];
  const fn = FUNCTION_KEYS[input];
  if (fn) return [fn];
  return [...input].map(charKey);
}

/** The bytes a key sends to the guest's serial line (console pane). */
export function keyToBytes(key: string): number[] {
  switch (key) {
    case 'return': return [13];
    case 'tab': return [9];
    case 'backspace': return [0x7f];
    case 'escape': return [0x1b];
    case 'space': return [32];
    case 'up': return [0x1b, 0x5b, 0x41];
    case 'down': return [0x1b, 0x5b, 0x42];
    case 'right': return [0x1b, 0x5b, 0x43];
    case 'left': return [0x1b, 0x5b, 0x44];
    default:
      if (key.startsWith('ctrl-') && key.length === 6) return [key.charCodeAt(5) - 96];
      if ([...key].length === 1) return [...Buffer.from(key, 'utf8')];
      return [];
  }
}
