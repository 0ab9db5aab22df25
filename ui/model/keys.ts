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

// Set 1 make codes of the PC keyboard (US layout), by the character a key types unshifted.
const SET1_KEYS: Record<string, number> = {
  '1': 0x02, '2': 0x03, '3': 0x04, '4': 0x05, '5': 0x06, '6': 0x07, '7': 0x08, '8': 0x09, '9': 0x0a, '0': 0x0b, '-': 0x0c, '=': 0x0d,
  q: 0x10, w: 0x11, e: 0x12, r: 0x13, t: 0x14, y: 0x15, u: 0x16, i: 0x17, o: 0x18, p: 0x19, '[': 0x1a, ']': 0x1b,
  a: 0x1e, s: 0x1f, d: 0x20, f: 0x21, g: 0x22, h: 0x23, j: 0x24, k: 0x25, l: 0x26, ';': 0x27, "'": 0x28, '`': 0x29,
  '\\': 0x2b, z: 0x2c, x: 0x2d, c: 0x2e, v: 0x2f, b: 0x30, n: 0x31, m: 0x32, ',': 0x33, '.': 0x34, '/': 0x35, ' ': 0x39,
};
/** What Shift turns each of those keys into. */
const SHIFTED = '!@#$%^&*()_+QWERTYUIOP{}ASDFGHJKL:"~|ZXCVBNM<>?';
const UNSHIFTED = "1234567890-=qwertyuiop[]asdfghjkl;'`\\zxcvbnm,./";
const SET1_SPECIAL: Record<string, number[]> = {
  return: [0x1c], tab: [0x0f], backspace: [0x0e], escape: [0x01], space: [0x39],
  up: [0xe0, 0x48], down: [0xe0, 0x50], left: [0xe0, 0x4b], right: [0xe0, 0x4d],
  home: [0xe0, 0x47], end: [0xe0, 0x4f], pageup: [0xe0, 0x49], pagedown: [0xe0, 0x51], delete: [0xe0, 0x53], insert: [0xe0, 0x52],
  f1: [0x3b], f2: [0x3c], f3: [0x3d], f4: [0x3e], f5: [0x3f], f6: [0x40], f7: [0x41], f8: [0x42], f9: [0x43], f10: [0x44],
};
const LSHIFT = 0x2a;
const LCTRL = 0x1d;

/** A make code sequence pressed and released (the break code is the make code | 0x80). */
function press(make: number[]): number[] {
  const brk = make.length === 2 ? [make[0]!, make[1]! | 0x80] : [make[0]! | 0x80];
  return [...make, ...brk];
}

/**
 * A terminal key as the PS/2 keyboard would send it (set 1, what the guest reads with
 * the controller's translation on, as BIOSes leave it): make and break codes, with Shift
 * or Ctrl held around the key when the character needs it. Empty for keys it lacks.
 */
export function keyToScancodes(key: string): number[] {
  const special = SET1_SPECIAL[key];
  if (special) return press(special);
  if (key.startsWith('ctrl-') && key.length === 6) {
    const code = SET1_KEYS[key[5]!];
    return code === undefined ? [] : [LCTRL, ...press([code]), LCTRL | 0x80];
  }
  if ([...key].length !== 1) return [];
  const plain = SET1_KEYS[key];
  if (plain !== undefined) return press([plain]);
  const i = SHIFTED.indexOf(key);
  if (i < 0) return [];
  const code = SET1_KEYS[UNSHIFTED[i]!];
  return code === undefined ? [] : [LSHIFT, ...press([code]), LSHIFT | 0x80];
}
