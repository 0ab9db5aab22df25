// The first tier of translation: a new TB runs as a sequence of shared per-instruction
// functions instead of a JavaScript function of its own. Most TBs of a boot run a few
// times (bench:linux: 80% fewer than 100 times), and compiling each with `new Function`
// and warming its inline caches cost more than running it. The code is the one the
// generators emit for the TB; only its constants become parameters: `R[5] = ld32(((R[4]
// + 12) | 0));` is the template `R[K$[0]] = ld32(((R[K$[1]] + K$[2]) | 0));` with K$ = [5, 4,
// 12]. Templates are compiled once per runtime and shared by every TB, so they are warm
// (and optimised by V8) from the start. A TB that keeps running is compiled as a whole
// (CpuExec's TIER_UP), then joined into a region like any other. A TB keeps its
// instructions' constants in one array, each template reading its own from an offset
// (`K$[o$ + 1]`): an array per instruction cost ~50 bytes each, over tens of thousands of TBs.
import { compileGenerated } from './compile.js';
import { isIdPart, stringEnd } from './code-scan.js';
import { RUNTIME_NAMES, type Runtime } from '../runtime.js';
import type { Cpu } from '../cpu.js';

/**
 * One instruction's code, given the TB's constants and where its own start: falls through
 * (undefined) or leaves the TB with an exit code.
 */
export type TemplateOp = (k: readonly number[], o: number) => number | undefined;

export interface Template {
  readonly op: TemplateOp;
  /** The normalised code (numbers replaced by K$[i]), for the inspector. */
  readonly text: string;
  /** How many constants it takes. */
  readonly nk: number;
}

export interface Templated {
  text: string;
  values: number[];
}

const isIdStart = (ch: number): boolean =>
  (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || ch === 95 || ch === 36;
const isDigit = (ch: number): boolean => ch >= 48 && ch <= 57;

/**
 * The template of one instruction's generated code: comments dropped, every number
 * except 0 replaced by `K$[i]` (0 stays: `| 0` is how the code says int32). Null when the
 * code uses what only a whole TB function has (its own loop, the TB or its EIP table).
 * It runs for every instruction translated (over a million in a Linux boot), so the text
 * between numbers and comments is copied in one piece: building it a character or a token
 * at a time was the boot's largest allocation.
 */
export function templateOf(code: string): Templated | null {
  let out = '';
  const values: number[] = [];
  let i = 0;
  /** Start of the text not yet copied to `out`. */
  let from = 0;
  const n = code.length;
  while (i < n) {
    const ch = code.charCodeAt(i);
    if (ch === 47 && code.charCodeAt(i + 1) === 47) {
      // a comment, to the end of the line
      out += code.slice(from, i);
      while (i < n && code.charCodeAt(i) !== 10) i++;
      from = i;
      continue;
    }
    if (ch === 39 || ch === 34 || ch === 96) {
      i = stringEnd(code, i);
      continue;
    }
    if (isIdStart(ch)) {
      const start = i;
      while (i < n && isIdPart(code.charCodeAt(i))) i++;
      if (onlyWholeTb(code, start, i - start)) return null;
      continue;
    }
    if (isDigit(ch)) {
      const start = i;
      i = numberEnd(code, i);
      if (i < 0) return null;
      const v = Number(code.slice(start, i));
      if (Number.isNaN(v)) return null;
      out += code.slice(from, start);
      from = i;
      if (v === 0) out += '0';
      else {
        out += `K$[${values.length}]`;
        values.push(v);
      }
      continue;
    }
    // (a number written from its point, `.5`: the generators never write one)
    if (ch === 46 && isDigit(code.charCodeAt(i + 1))) return null;
    i++;
  }
  out += code.slice(from, n);
  return { text: out, values };
}

/** Is code[start, start+len) a name only a whole TB function has (`continue`, T, E, M, RG)? */
function onlyWholeTb(code: string, start: number, len: number): boolean {
  const c0 = code.charCodeAt(start);
  if (len === 1) return c0 === 84 || c0 === 69 || c0 === 77; // T E M
  if (len === 2) return c0 === 82 && code.charCodeAt(start + 1) === 71; // RG
  return len === 8 && code.startsWith('continue', start);
}

/**
 * End of the JavaScript number literal at `i` (hex `0x..`, or decimal with an optional
 * fraction and exponent); -1 for `0x` with no digits.
 */
function numberEnd(code: string, i: number): number {
  const n = code.length;
  if (code.charCodeAt(i) === 48 && (code.charCodeAt(i + 1) | 0x20) === 120) {
    let j = i + 2;
    while (j < n && isHexDigit(code.charCodeAt(j))) j++;
    return j === i + 2 ? -1 : j;
  }
  let j = i;
  while (j < n && isDigit(code.charCodeAt(j))) j++;
  if (code.charCodeAt(j) === 46 && isDigit(code.charCodeAt(j + 1))) {
    j++;
    while (j < n && isDigit(code.charCodeAt(j))) j++;
  }
  const e = code.charCodeAt(j) | 0x20;
  if (e === 101) {
    let k = j + 1;
    const sign = code.charCodeAt(k);
    if (sign === 43 || sign === 45) k++;
    if (isDigit(code.charCodeAt(k))) {
      while (k < n && isDigit(code.charCodeAt(k))) k++;
      j = k;
    }
  }
  return j;
}

const isHexDigit = (ch: number): boolean => isDigit(ch) || ((ch | 0x20) >= 97 && (ch | 0x20) <= 102);

/** The code of a template with its constants put back (what the inspector shows). */
export function instantiate(text: string, values: readonly number[]): string {
  return text.replace(/K\$\[(\d+)\]/g, (_, j: string) => {
    const v = values[Number(j)]!;
    return v < 0 ? `(${v})` : String(v);
  });
}

/** Compiled templates of one runtime (user or supervisor memory access). */
export class TemplateCache {
  private readonly byText = new Map<string, Template>();
  /** Templates compiled (each one V8 compile; the rest of the first tier compiles nothing). */
  compiled = 0;

  constructor(private readonly runtime: Runtime) {}

  /** The template for `text`, or null when it does not compile (the TB is compiled whole). */
  get(text: string): Template | null {
    const t = this.byText.get(text);
    if (t !== undefined) return t;
    let op: TemplateOp;
    let nk = 0;
    const code = text.replace(/K\$\[(\d+)\]/g, (_, j: string) => {
      nk = Math.max(nk, Number(j) + 1);
      return j === '0' ? 'K$[o$]' : `K$[o$ + ${j}]`;
    });
    try {
      const factory = compileGenerated(RUNTIME_NAMES, `return (function op(K$, o$) {\n${code}\n});`);
      op = factory(...RUNTIME_NAMES.map((name) => this.runtime[name])) as TemplateOp;
    } catch {
      return null;
    }
    // Bounded: a guest generating endless distinct code shapes cannot grow it for ever.
    if (this.byText.size >= 50_000) this.byText.clear();
    const made = { op, text, nk };
    this.byText.set(text, made);
    this.compiled++;
    return made;
  }

  get size(): number {
    return this.byText.size;
  }
}

/**
 * A TB's function in the first tier: its instructions' templates run in order, each with
 * its constants in `ks` from where the one before left off. A fault is handled as in a
 * compiled TB: EIP and the count of the faulting instruction, then the exception goes on
 * to the loop.
 */
export function threadedFunction(c: Cpu, tpls: readonly Template[], ks: readonly number[], E: readonly number[]): () => number {
  const n = tpls.length;
  return function threaded(): number {
    let i = 0;
    let o = 0;
    try {
      for (; i < n; i++) {
        const t = tpls[i]!;
        const r = t.op(ks, o);
        if (r !== undefined) return r;
        o += t.nk;
      }
      // (generated code always leaves by a return or an exception; as a compiled TB would)
      return undefined as unknown as number;
    } catch (e) {
      c.eip = E[i]!;
      c.icount += i;
      c.icountOff = 0;
      throw e;
    }
  };
}
