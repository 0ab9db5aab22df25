// The TLB-hit path of every guest load and store written out in a compiled TB's own code,
// instead of a call to the runtime's ld32/st32. V8 inlines those calls only while a
// function's inlining budget lasts, which a TB of a dozen memory accesses exhausts: the
// Linux kernel's hottest block (47 instructions, 15 memory accesses, a third of a boot's
// instructions) ran in 72 ns with the calls and 28 ns with the accesses written out.
//
// It is a rewrite of the generated text, done where a TB or a region is compiled as a
// whole. The first tier's shared templates keep the calls: they are small functions V8
// inlines into anyway, and the written-out form's constants would become template
// parameters. The slow path is the same call as before, so what a miss does (the page
// walk, MMIO, code-page stores, faults) does not change.

import { scanNames, stringEnd } from './code-scan.js';

/** Names the written-out code uses, given by the runtime (runtime.ts). */
export const INLINE_MEMORY_NAMES = ['TR', 'TW', 'MB', 'MW', 'MD'] as const;

/** The local the written-out accesses keep a TLB entry in (declared by the function's wrapper). */
export const INLINE_MEMORY_LOCAL = 'let e$ = 0;';

const SIMPLE = /^[A-Za-z_$][\w$]*$/;
const ACCESS = /^(ld|st)(8|16|32)$/;

function loadText(size: number, a: string): string {
  if (size === 1) return `((e$ = ~TR[${a} >>> 12]) >= 0 ? MB[e$ | (${a} & 0xfff)] : ld8(${a}))`;
  if (size === 2) return `((e$ = ~TR[${a} >>> 12]) >= 0 && (${a} & 1) === 0 ? MW[(e$ | (${a} & 0xfff)) >> 1] : ld16(${a}))`;
  return `((e$ = ~TR[${a} >>> 12]) >= 0 && (${a} & 3) === 0 ? MD[(e$ | (${a} & 0xfff)) >> 2] : ld32(${a}))`;
}

function storeText(size: number, a: string, v: string): string {
  if (size === 1) return `{ if ((e$ = ~TW[${a} >>> 12]) >= 0) MB[e$ | (${a} & 0xfff)] = ${v}; else st8(${a}, ${v}); }`;
  if (size === 2) return `{ if ((e$ = ~TW[${a} >>> 12]) >= 0 && (${a} & 1) === 0) MW[(e$ | (${a} & 0xfff)) >> 1] = ${v}; else st16(${a}, ${v}); }`;
  return `{ if ((e$ = ~TW[${a} >>> 12]) >= 0 && (${a} & 3) === 0) MD[(e$ | (${a} & 0xfff)) >> 2] = ${v}; else st32(${a}, ${v}); }`;
}

/** Index just past the `)` closing the `(` at `open`, skipping strings; -1 if unbalanced. */
function closeParen(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const ch = code.charCodeAt(i);
    if (ch === 39 || ch === 34 || ch === 96) i = stringEnd(code, i) - 1;
    else if (ch === 40) depth++;
    else if (ch === 41 && --depth === 0) return i + 1;
  }
  return -1;
}

/** Top-level comma of the argument list code[from, to), or -1. */
function topComma(code: string, from: number, to: number): number {
  let depth = 0;
  for (let i = from; i < to; i++) {
    const ch = code.charCodeAt(i);
    if (ch === 39 || ch === 34 || ch === 96) i = stringEnd(code, i) - 1;
    else if (ch === 40 || ch === 91) depth++;
    else if (ch === 41 || ch === 93) depth--;
    else if (ch === 44 && depth === 0) return i;
  }
  return -1;
}

/** Does a statement start at `at` (only blanks after a `;`, `{`, `}` or the start)? */
function statementStart(code: string, at: number): boolean {
  for (let i = at - 1; i >= 0; i--) {
    const ch = code.charCodeAt(i);
    if (ch === 32 || ch === 10 || ch === 9 || ch === 13) continue;
    return ch === 59 || ch === 123 || ch === 125;
  }
  return true;
}

/**
 * `code` with each `ldN(x)` whose address is a plain name, and each statement `stN(x, v);`
 * likewise, written out as the TLB-hit path with the call kept for a miss. Anything else
 * (an address expression, a store inside an expression) stays a call.
 */
export function inlineMemory(code: string): string {
  let out = '';
  let from = 0;
  scanNames(code, (name, at, after) => {
    const m = ACCESS.exec(name);
    if (m === null || code.charCodeAt(after) !== 40 || (at > 0 && code.charCodeAt(at - 1) === 46)) return after;
    const open = after;
    const end = closeParen(code, open);
    if (end < 0) return after;
    const size = Number(m[2]) >> 3;
    let text: string;
    let stop = end;
    if (m[1] === 'ld') {
      const a = code.slice(open + 1, end - 1).trim();
      if (!SIMPLE.test(a)) return after;
      text = loadText(size, a);
    } else {
      if (code.charCodeAt(end) !== 59 || !statementStart(code, at)) return after;
      const comma = topComma(code, open + 1, end - 1);
      if (comma < 0) return after;
      const a = code.slice(open + 1, comma).trim();
      if (!SIMPLE.test(a)) return after;
      // (the value is written in both branches but evaluated in one: as once before)
      const v = inlineMemory(code.slice(comma + 1, end - 1).trim());
      text = storeText(size, a, v);
      stop = end + 1;
    }
    out += code.slice(from, at) + text;
    from = stop;
    return stop;
  });
  return from === 0 ? code : out + code.slice(from);
}

