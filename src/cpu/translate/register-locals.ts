// The guest's general registers, and the lazy-flags fields, held in JavaScript locals for
// the length of a compiled TB or region, and written back to the CPU where anything else
// can look at them: every way out (return), and the catch that hands a fault to the CPU
// loop. V8 keeps locals in machine registers; each R[n] is a typed-array access and each
// c.ccDst a field access it must keep. The kernel's hottest block ran 28 -> 20 ns with its
// registers in locals, and 20 -> 16 ns with its flags too.
//
// Only code that nothing else reads the registers in the middle of: its calls are the
// memory paths (whose slow paths walk page tables, fault, or stop the block at a device
// access, never touching a general register) and helpers of the flags and arithmetic
// alone. A block with any other call (string instructions, I/O, PUSHF, CPUID...) keeps
// R[n] as it is. The first tier's templates are not rewritten (their code is shared).
import { scanNames } from './code-scan.js';

/** Calls that neither read nor write the general registers (c.regs). */
const SAFE_CALLS = new Set([
  'ld8', 'ld16', 'ld32', 'st8', 'st16', 'st32', 'sg', 'Math.imul', 'Math.clz32',
  'H.cond', 'H.setCf', 'H.setZf', 'H.setCfOf', 'H.mulhs', 'H.mulhu', 'c.getCarry',
]);
/** Of those, the ones that read or write the lazy flags (c.ccOp and co.). */
const FLAG_CALLS = new Set(['H.cond', 'H.setCf', 'H.setZf', 'H.setCfOf', 'c.getCarry']);
/** The lazy-flags fields and their locals. */
const FLAG_FIELDS: ReadonlyMap<string, string> = new Map([['c.ccOp', 'f$op'], ['c.ccDst', 'f$dst'], ['c.ccSrc', 'f$src'], ['c.ccAux', 'f$aux']]);
const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'catch', 'return', 'typeof']);

export interface RegisterLocals {
  /** The code with R[n] (and the lazy flags) replaced by locals and a write-back before each return. */
  readonly body: string;
  /** Declares and loads the locals (before the function's try). */
  readonly load: string;
  /** Writes what the code assigns back (for the catch). */
  readonly writeBack: string;
}

/**
 * `body` (the statements of a compiled TB or region) with its registers in locals, or null
 * when it cannot be done safely: a call that may look at the registers, a register by a
 * computed index, or a way out other than `return <number>;`. The lazy-flags fields go to
 * locals too, unless a call reads or writes them. What the code assigns is written back
 * (what it only reads holds what the CPU has: nothing else writes it here).
 */
export function registerLocals(body: string): RegisterLocals | null {
  /** Field or register text ("R[3]", "c.ccDst") -> its local, for what the code names. */
  const used = new Map<string, string>();
  const assigned = new Set<string>();
  let flagCalls = false;
  /** Notes what a name is; false where the code cannot be rewritten. */
  const ok = (name: string, at: number, after: number): boolean => {
    if (name === 'R') {
      if (body.charCodeAt(after) !== 91) return true;
      const r = body.charCodeAt(after + 1) - 48;
      if (r < 0 || r > 7 || body.charCodeAt(after + 2) !== 93) return false;
      used.set(`R[${r}]`, `r$${r}`);
      if (assigns(body, at, after + 3)) assigned.add(`R[${r}]`);
      return true;
    }
    const flag = FLAG_FIELDS.get(name);
    if (flag !== undefined) {
      used.set(name, flag);
      if (assigns(body, at, after)) assigned.add(name);
      return true;
    }
    if (name === 'return') return /^ \d+;/.test(body.slice(after, after + 12));
    let j = after;
    while (body.charCodeAt(j) === 32) j++;
    if (body.charCodeAt(j) !== 40 || KEYWORDS.has(name)) return true;
    if (FLAG_CALLS.has(name)) flagCalls = true;
    return SAFE_CALLS.has(name);
  };
  if (!scanNames(body, (name, at, after) => (ok(name, at, after) ? after : -1))) return null;
  if (flagCalls) for (const f of FLAG_FIELDS.keys()) used.delete(f);
  if (used.size === 0) return null;
  const names = [...used.keys()].sort();
  const writeBack = names.filter((k) => assigned.has(k)).map((k) => `${k} = ${used.get(k)!};`).join(' ');
  let out = '';
  let from = 0;
  scanNames(body, (name, at, after) => {
    if (name === 'R' && body.charCodeAt(after) === 91) {
      out += `${body.slice(from, at)}r$${body[after + 1]}`;
      from = after + 3;
    } else if (used.has(name)) {
      out += `${body.slice(from, at)}${used.get(name)!}`;
      from = after;
    } else if (name === 'return') {
      const semi = body.indexOf(';', after);
      out += `${body.slice(from, at)}{ ${writeBack} return ${body.slice(after, semi).trim()}; }`;
      from = semi + 1;
    }
    return after;
  });
  out += body.slice(from);
  return { body: out, load: `let ${names.map((k) => `${used.get(k)!} = ${k}`).join(', ')};`, writeBack };
}

/** Is the register reference code[at, end) the target of an assignment, ++ or --? */
function assigns(code: string, at: number, end: number): boolean {
  let k = end;
  while (code.charCodeAt(k) === 32) k++;
  const rest = code.slice(k, k + 4);
  if (/^(=(?!=)|[-+*/%&|^]=|\*\*=|<<=|>>=|>>>=|\+\+|--)/.test(rest)) return true;
  const before = code.slice(Math.max(0, at - 2), at);
  return before === '++' || before === '--';
}
