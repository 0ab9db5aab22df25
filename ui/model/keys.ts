// Keys as names ('s', 'tab', 'up', 'f7', 'ctrl-c', ...), from what the terminal sends.
// Ink splits its input into events (a run of text, one escape sequence, Esc and one
// character) and hands each to its listeners; we name them here ourselves, because Ink
// 6's useInput passes function keys on with no text and no name (F5-F9 did nothing).
// A burst of typed characters (key repeat, paste, `tmux send-keys a b c`) comes as one
// run of text: it is split into one key per character.

/** One character of typed text as a key name. */
export function charKey(ch: string): string {
  const c = ch.charCodeAt(0);
  if (ch === '\r' || ch === '\n') return 'return';
  if (ch === '\t') return 'tab';
  if (ch === '\x7f' || ch === '\b') return 'backspace';
  if (ch === '\x1b') return 'escape';
  if (ch === ' ') return 'space';
  if (c === 0) return 'ctrl-space';
  if (c > 0 && c < 27) return `ctrl-${String.fromCharCode(c + 96)}`;
  return ch;
}

/** CSI sequences (after ESC [) and SS3 ones (after ESC O) of xterm, VT220, rxvt and tmux. */
const SEQUENCES: Record<string, string> = {
  '[A': 'up', '[B': 'down', '[C': 'right', '[D': 'left', '[H': 'home', '[F': 'end', '[Z': 'shift-tab',
  OA: 'up', OB: 'down', OC: 'right', OD: 'left', OH: 'home', OF: 'end', OM: 'return',
  '[1~': 'home', '[2~': 'insert', '[3~': 'delete', '[4~': 'end', '[5~': 'pageup', '[6~': 'pagedown', '[7~': 'home', '[8~': 'end',
  OP: 'f1', OQ: 'f2', OR: 'f3', OS: 'f4',
  '[11~': 'f1', '[12~': 'f2', '[13~': 'f3', '[14~': 'f4', '[[A': 'f1', '[[B': 'f2', '[[C': 'f3', '[[D': 'f4', '[[E': 'f5',
  '[15~': 'f5', '[17~': 'f6', '[18~': 'f7', '[19~': 'f8', '[20~': 'f9', '[21~': 'f10', '[23~': 'f11', '[24~': 'f12',
};

/**
 * One input event as Ink's input parser delivers it (text, or one escape sequence, or Esc
 * followed by one character) as key names. Modifiers on cursor and function keys
 * (`ESC [1;5A`, `ESC [15;2~`) are dropped: they name the same key.
 */
export function inputToKeys(input: string): string[] {
  if (input === '') return [];
  if (input[0] !== '\x1b') return [...input].map(charKey);
  if (input === '\x1b' || input === '\x1b\x1b') return ['escape'];
  const body = input.slice(1);
  const named = SEQUENCES[body] ?? SEQUENCES[body.replace(/^\[1;\d+([A-HPQRS])$/, '[$1').replace(/^\[(\d+);\d+~$/, '[$1~')] ?? SEQUENCES[body.replace(/^\[1;\d+([PQRS])$/, 'O$1')];
  if (named) return [named];
  if (body[0] === '\x1b') return ['escape', ...inputToKeys(body)];
  // Esc and the next key in one burst (or Alt+key): they were two keystrokes.
  if (body[0] !== '[' && body[0] !== 'O') return ['escape', ...[...body].map(charKey)];
  if (body.length === 1) return ['escape', charKey(body)];
  // An escape sequence nobody binds (mouse, focus, an unknown key): ignored.
  return [];
}

/** The bytes a key sends to the guest's serial line (console pane). */
export function keyToBytes(key: string): number[] {
  switch (key) {
    case 'return': return [13];
    case 'tab': return [9];
    case 'backspace': return [0x7f];
    case 'escape': return [0x1b];
    case 'space': return [32];
    case 'ctrl-space': return [0];
    case 'up': return [0x1b, 0x5b, 0x41];
    case 'down': return [0x1b, 0x5b, 0x42];
    case 'right': return [0x1b, 0x5b, 0x43];
    case 'left': return [0x1b, 0x5b, 0x44];
    case 'home': return [0x1b, 0x5b, 0x48];
    case 'end': return [0x1b, 0x5b, 0x46];
    case 'delete': return [0x1b, 0x5b, 0x33, 0x7e];
    case 'pageup': return [0x1b, 0x5b, 0x35, 0x7e];
    case 'pagedown': return [0x1b, 0x5b, 0x36, 0x7e];
    default:
      if (key.startsWith('ctrl-') && key.length === 6) return [key.charCodeAt(5) - 96];
      if ([...key].length === 1) return [...Buffer.from(key, 'utf8')];
      return [];
  }
}
