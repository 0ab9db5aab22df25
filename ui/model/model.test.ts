// The UI's model without Ink: keys and bindings as data, the console buffer, the command
// line parser, the layout at 80×24 and up, 80-bit values in decimal.
import { describe, expect, it } from 'vitest';
import { BINDINGS, helpLine, helpText, lookupKey } from './keymap.js';
import { inputToKeys, keyToBytes } from './keys.js';
import { ConsoleBuffer } from './console-buffer.js';
import { computeLayout } from './layout.js';
import { parseAddress } from '../../src/debug/commands.js';
import { FOCUS_ORDER } from './types.js';
import { sampleController } from '../../tests/support/sample-controller.js';
import { float80ToString } from '../../src/debug/x87-view.js';
import { UiSession } from './ui-session.js';


describe('key bindings as data', () => {
  it('every global command has a key, pane keys win over global ones, keys are unique per scope', () => {
    expect(lookupKey('s', 'disasm')).toBe('stepInstruction');
    expect(lookupKey('j', 'disasm')).toBe('cursorDown');
    expect(lookupKey('F', 'tbs')).toBe('flushTbs');
    expect(lookupKey('F', 'disasm')).toBeNull();
    expect(lookupKey('escape', 'console')).toBe('leaveConsole');
    for (const scope of new Set(BINDINGS.map((b) => b.scope))) {
      const keys = BINDINGS.filter((b) => b.scope === scope).flatMap((b) => b.keys);
      expect(new Set(keys).size, `duplicate key in ${scope}`).toBe(keys.length);
    }
  });

  it('the help line fits 80 columns with every global command in it, and ? lists every binding', () => {
    const line = helpLine('disasm').split('│')[0]!.trimEnd();
    expect(line.length).toBeLessThanOrEqual(80);
    for (const w of ['step', 'stepTB', 'cont', 'pause', 'break', 'pane', 'cmd', 'help', 'quit']) expect(line).toContain(w);
    expect(helpLine('tbs')).toMatch(/│ .*Enter details.*o sort.*\/ filter/);
    const all = helpText().flatMap((g) => g.lines).join('\n');
    for (const b of BINDINGS) expect(all).toContain(b.help);
    for (const p of FOCUS_ORDER) expect(helpLine(p).length).toBeGreaterThan(10);
  });

  it('input events become one key per character; escape sequences (function keys too) map to names and bytes', () => {
    expect(inputToKeys('sss')).toEqual(['s', 's', 's']);
    expect(inputToKeys('hi there\r')).toEqual(['h', 'i', 'space', 't', 'h', 'e', 'r', 'e', 'return']);
    expect(inputToKeys('\x1b[A')).toEqual(['up']);
    expect(inputToKeys('\x1bOB')).toEqual(['down']);
    expect(inputToKeys('\x03')).toEqual(['ctrl-c']);
    expect(inputToKeys('\x1b[Z')).toEqual(['shift-tab']);
    expect(inputToKeys('\x7f')).toEqual(['backspace']);
    expect(inputToKeys('\x1b/')).toEqual(['escape', '/']);
    expect(inputToKeys('\x1b')).toEqual(['escape']);
    // F5, F7, F8, F9 as xterm and tmux send them, with and without modifiers; F1 as SS3.
    expect(['\x1b[15~', '\x1b[18~', '\x1b[19~', '\x1b[20~', '\x1b[18;2~', '\x1bOP'].map(inputToKeys)).toEqual([['f5'], ['f7'], ['f8'], ['f9'], ['f7'], ['f1']]);
    expect(inputToKeys('\x1b[5~')).toEqual(['pageup']);
    expect(inputToKeys('\x1b[3~')).toEqual(['delete']);
    expect(inputToKeys('\x1b[1;5C')).toEqual(['right']);
    expect(inputToKeys('\x1b[<0;3;4M')).toEqual([]);
    expect(keyToBytes('return')).toEqual([13]);
    expect(keyToBytes('ctrl-d')).toEqual([4]);
    expect(keyToBytes('a')).toEqual([97]);
    expect(keyToBytes('left')).toEqual([27, 91, 68]);
  });
});

describe('ConsoleBuffer', () => {
  it('handles CR LF, backspace and escape sequences, and stays bounded', () => {
    const c = new ConsoleBuffer(3);
    c.write(Buffer.from('echo ready\r\nhx\bi\x1b[1mthere\r\n'));
    expect(c.tail(5)).toEqual(['echo ready', 'hithere', '']);
    c.write(Buffer.from('a\nb\nc\n'));
    expect(c.tail(10)).toEqual(['b', 'c', '']);
  });
});

describe('layout', () => {
  it('fits 80×24 and grows with the terminal', () => {
    const small = computeLayout(80, 24, 'disasm', false);
    expect(small.registers!.width + small.disasm!.width).toBe(80);
    expect(small.disasm!.height + small.tab!.height).toBe(21);
    expect(small.tabBody.height).toBeGreaterThanOrEqual(8);
    expect(small.disasmBody.height).toBeGreaterThanOrEqual(5);
    const big = computeLayout(160, 50, 'tbs', false);
    expect(big.tabBody.width).toBe(160 - 34 - 2);
    const zoomed = computeLayout(80, 24, 'tbs', true);
    expect(zoomed.registers).toBeNull();
    expect(zoomed.tab).toEqual({ width: 80, height: 21 });
  });
});

describe('command-line addresses', () => {
  it('reads numbers, symbols, registers and offsets as gdb does', () => {
    const { ctl, symbol } = sampleController('hello');
    expect(parseAddress(ctl, '0x100b50')).toBe(0x100b50);
    expect(parseAddress(ctl, '*0x100b50')).toBe(0x100b50);
    expect(parseAddress(ctl, '1051472')).toBe(1051472);
    expect(parseAddress(ctl, 'main')).toBe(symbol('main'));
    // The offset in the radix it is written in: 0x10 hex, 10 decimal.
    expect(parseAddress(ctl, 'main+0x10')).toBe(symbol('main') + 16);
    expect(parseAddress(ctl, 'main+10')).toBe(symbol('main') + 10);
    expect(parseAddress(ctl, '$eip')).toBe(0x10000c);
    expect(parseAddress(ctl, '$esp-4')).toBe(0x7bfc);
    expect(parseAddress(ctl, '$esp - 0x10 + 4')).toBe(0x7bf4);
    expect(() => parseAddress(ctl, 'nosuchsymbol')).toThrow(/no symbol/);
  });
});

/** An 80-bit image from its 20 hex digits, sign and exponent first (as gdb's raw shows it). */
function f80(hex: string): number[] {
  return Array.from({ length: 10 }, (_, i) => parseInt(hex.slice(18 - 2 * i, 20 - 2 * i), 16));
}

describe('80-bit values in decimal', () => {
  it('prints 19 significant digits as gdb does, exact for integers, and names the special values', () => {
    expect(float80ToString(f80('4000c90fdaa22168c235'))).toBe('3.141592653589793239');
    expect(float80ToString(f80('c001e000000000000000'))).toBe('-7');
    expect(float80ToString(f80('403e8000000000000000'))).toBe('9223372036854775808'); // 2^63
    expect(float80ToString(f80('3ffbcccccccccccccccd'))).toBe('0.1');
    expect(float80ToString(f80('3fef8000000000000000'))).toBe('1.52587890625e-05'); // 2^-16, as %g
    expect(float80ToString(f80('7ffeffffffffffffffff'))).toBe('1.189731495357231765e+4932');
    expect(float80ToString(f80('00000000000000000001'))).toBe('3.645199531882474603e-4951'); // smallest denormal
    expect(float80ToString(f80('80000000000000000000'))).toBe('-0');
    expect(float80ToString(f80('7fff8000000000000000'))).toBe('inf');
    expect(float80ToString(f80('ffffc000000000000000'))).toBe('-nan');
    expect(float80ToString(f80('7fffa000000000000000'))).toBe('snan');
    expect(float80ToString(f80('3fff0000000000000000'))).toBe('invalid'); // unnormal
    // Fewer digits where the room is short.
    expect(float80ToString(f80('4000c90fdaa22168c235'), 10)).toBe('3.14159265');
    expect(float80ToString(f80('7ffeffffffffffffffff'), 12)).toBe('1.1897e+4932');
  });
});

describe('command line: info float', () => {
  it('turns the registers pane to the x87 page and logs the unit as gdb lays it out', async () => {
    const { ctl } = sampleController('hello');
    const session = new UiSession(ctl, { columns: 120, rows: 40 });
    session.handleKeys([':', 'i', 'n', 'f', 'o', 'space', 'f', 'l', 'o', 'a', 't', 'return']);
    await session.idle();
    const snap = session.publishNow();
    expect(snap.registers.page).toBe('x87');
    session.handleKey('7');
    const log = session.publishNow().pane;
    expect(log?.id).toBe('log');
    const text = log?.id === 'log' ? log.view.lines.join('\n') : '';
    expect(text).toMatch(/=>R0: /);
    expect(text).toMatch(/Control Word: +0x[0-9a-f]{4}/);
    expect(text).toMatch(/Tag Word: +0x[0-9a-f]{4}/);
    // R cycles the pages: x87 -> sse -> general -> system.
    session.handleKeys(['R']);
    expect(session.publishNow().registers.page).toBe('sse');
    session.handleKeys(['R']);
    expect(session.publishNow().registers.page).toBe('general');
    session.handleKeys(['R']);
    expect(session.publishNow().registers.page).toBe('system');
    session.dispose();
  });
});
