// Compares two CaseResults of the same DiffCase (e.g. QEMU and bmbt-dbg), or a result with
// the case's `expect`, applying what the SDM leaves open: undefined flags (per end point),
// undefined registers, and optionally QEMU's known gaps.
import { RF } from './flags.js';
import { flagsIgnoreFor } from './generator.js';
import { REG_NAMES, type CaseResult, type DiffCase, type RegName } from '../support/diff-target.js';

export interface CompareOptions {
  /**
   * Ignore EFLAGS.RF in exception frames (default true): the SDM sets RF in the image a
   * fault pushes; QEMU 7.2 pushes RF = 0. Also masks that bit in the stack window.
   */
  ignoreFrameRf?: boolean;
}

export interface Difference {
  what: string;
  a: string;
  b: string;
}

const hex = (v: number | undefined) => (v === undefined ? '-' : '0x' + (v >>> 0).toString(16));

/** EFLAGS bits to ignore for this result (undefined flags at the point where the case ended). */
export function flagsIgnoreForResult(c: DiffCase, r: CaseResult): number {
  if (r.exception) return flagsIgnoreFor(c, r.exception.offset);
  return flagsIgnoreFor(c);
}

export function compareResults(c: DiffCase, a: CaseResult, b: CaseResult, opts: CompareOptions = {}): Difference[] {
  const out: Difference[] = [];
  const ignoreRf = opts.ignoreFrameRf ?? true;
  if (a.end !== b.end) out.push({ what: 'end', a: a.end, b: b.end });
  // after a triple fault or a hang the state is the target's business (QEMU pauses, bmbt-dbg resets)
  if (a.end === b.end && (a.end === 'shutdown' || a.end === 'timeout')) return out;
  const ea = a.exception;
  const eb = b.exception;
  if (ea || eb) {
    if (ea?.vector !== eb?.vector) out.push({ what: 'exception vector', a: String(ea?.vector), b: String(eb?.vector) });
    if (ea?.errorCode !== eb?.errorCode) out.push({ what: 'error code', a: hex(ea?.errorCode), b: hex(eb?.errorCode) });
    if (ea?.eip !== eb?.eip) out.push({ what: 'exception eip', a: hex(ea?.eip), b: hex(eb?.eip) });
    if (ea?.cr2 !== eb?.cr2) out.push({ what: 'cr2', a: hex(ea?.cr2), b: hex(eb?.cr2) });
    if (ea?.dr6 !== eb?.dr6) out.push({ what: 'dr6', a: hex(ea?.dr6), b: hex(eb?.dr6) });
    if (ea?.via !== eb?.via) out.push({ what: 'delivered via', a: String(ea?.via), b: String(eb?.via) });
  }
  const ignoreRegs = new Set<RegName>(c.regsIgnore ?? []);
  const fmask = ~(flagsIgnoreForResult(c, a) | flagsIgnoreForResult(c, b) | (ignoreRf && (ea || eb) ? RF : 0));
  for (const n of REG_NAMES) {
    if (ignoreRegs.has(n)) continue;
    if (n === 'eip' && a.end === 'done' && b.end === 'done') continue;
    const m = c.regsMask?.[n] ?? 0xffffffff;
    let va = (a.regs[n] & m) >>> 0;
    let vb = (b.regs[n] & m) >>> 0;
    if (n === 'eflags') {
      va = (va & fmask) >>> 0;
      vb = (vb & fmask) >>> 0;
    }
    if (va !== vb) out.push({ what: n, a: hex(va), b: hex(vb) });
  }
  diffBytes(out, 'data', a.dataAddr, a.data, b.data);
  // The EFLAGS image an exception pushed holds the same undefined flags as EFLAGS itself.
  const frameIgnore = ~fmask | 0;
  const sa = maskFrameFlags(a, frameIgnore);
  const sb = maskFrameFlags(b, frameIgnore);
  diffBytes(out, 'stack', a.stackAddr, sa, sb);
  a.readBack.forEach((bytes, i) => diffBytes(out, `readBack[${i}]`, (c.readBack ?? [])[i]?.[0] ?? 0, bytes, b.readBack[i] ?? new Uint8Array(0)));
  return out;
}

/**
 * A copy of the stack window with the ignored EFLAGS bits (undefined flags, and RF when
 * asked) of the EFLAGS image an exception pushed there cleared.
 */
function maskFrameFlags(r: CaseResult, ignore: number): Uint8Array {
  if (!r.exception || !r.frameFlags || ignore === 0) return r.stack;
  const s = r.stack.slice();
  const [addr, size] = r.frameFlags;
  const at = addr - r.stackAddr;
  for (let i = 0; i < size; i++) {
    if (at + i >= 0 && at + i < s.length) s[at + i] = s[at + i]! & ~((ignore >>> (8 * i)) & 0xff);
  }
  return s;
}

function diffBytes(out: Difference[], what: string, base: number, a: Uint8Array, b: Uint8Array): void {
  const n = Math.max(a.length, b.length);
  let shown = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      if (shown++ < 8) out.push({ what: `${what} @${hex(base + i)}`, a: hex(a[i]), b: hex(b[i]) });
    }
  }
  if (shown > 8) out.push({ what: `${what}: ${shown - 8} more bytes differ`, a: '', b: '' });
}

/** Checks a result against a hand-written case's expectation; returns what does not hold. */
export function checkExpectation(c: DiffCase, r: CaseResult): string[] {
  const e = c.expect;
  if (!e) return [];
  const bad: string[] = [];
  if (e.end === 'done') {
    if (r.end !== 'done') bad.push(`expected to finish, got ${r.end}${r.exception ? ` vector ${r.exception.vector} error ${hex(r.exception.errorCode)} at ${hex(r.exception.eip)}` : ''}`);
  } else {
    const x = r.exception;
    if (r.end !== 'exception' || !x) bad.push(`expected vector ${e.end.vector}, got ${r.end}`);
    else {
      if (x.vector !== e.end.vector) bad.push(`vector ${x.vector}, expected ${e.end.vector}`);
      if (e.end.errorCode !== undefined && x.errorCode !== e.end.errorCode) bad.push(`error code ${hex(x.errorCode)}, expected ${hex(e.end.errorCode)}`);
      if (e.end.offset !== undefined && x.offset !== e.end.offset) bad.push(`faulting offset ${x.offset}, expected ${e.end.offset}`);
      if (e.end.cr2 !== undefined && x.cr2 !== e.end.cr2) bad.push(`cr2 ${hex(x.cr2)}, expected ${hex(e.end.cr2)}`);
      if (e.end.dr6 !== undefined && ((x.dr6 ?? 0) & e.end.dr6[0]) >>> 0 !== (e.end.dr6[1] & e.end.dr6[0]) >>> 0) bad.push(`dr6 ${hex(x.dr6)} (& ${hex(e.end.dr6[0])}), expected ${hex(e.end.dr6[1])}`);
      if (e.end.via !== undefined && x.via !== e.end.via) bad.push(`delivered via ${x.via}, expected ${e.end.via}`);
    }
  }
  for (const [n, v] of Object.entries(e.regs ?? {}) as Array<[RegName, number]>) {
    if (r.regs[n] >>> 0 !== v >>> 0) bad.push(`${n} = ${hex(r.regs[n])}, expected ${hex(v)}`);
  }
  if (e.flags) {
    const [mask, value] = e.flags;
    if (((r.regs.eflags & mask) >>> 0) !== ((value & mask) >>> 0)) bad.push(`eflags & ${hex(mask)} = ${hex(r.regs.eflags & mask)}, expected ${hex(value & mask)}`);
  }
  for (const [addr, bytes] of e.memory ?? []) {
    const got = readAt(c, r, addr, bytes.length);
    if (!got) bad.push(`memory at ${hex(addr)} not read back`);
    else if (got.some((b, i) => b !== bytes[i])) bad.push(`memory at ${hex(addr)} = ${[...got].map((b) => b.toString(16)).join(' ')}, expected ${bytes.map((b) => b.toString(16)).join(' ')}`);
  }
  return bad;
}

function readAt(c: DiffCase, r: CaseResult, addr: number, len: number): Uint8Array | undefined {
  const ranges: Array<[number, Uint8Array]> = [[r.dataAddr, r.data], [r.stackAddr, r.stack]];
  (c.readBack ?? []).forEach(([a], i) => ranges.push([a, r.readBack[i] ?? new Uint8Array(0)]));
  for (const [base, bytes] of ranges) {
    if (addr >= base && addr + len <= base + bytes.length) return bytes.subarray(addr - base, addr - base + len);
  }
  return undefined;
}

export function formatDifferences(d: Difference[]): string {
  return d.map((x) => `  ${x.what}: ${x.a} vs ${x.b}`).join('\n');
}

export interface DiffOutcome {
  case: DiffCase;
  a: CaseResult;
  b: CaseResult;
  differences: Difference[];
}

/**
 * Runs every case on both runners and returns the cases whose results differ. Cases with
 * `qemuDiffers` are skipped unless includeQemuDiffers is set (compare those with
 * checkExpectation instead).
 */
export async function diffCases(
  a: { run(c: DiffCase): Promise<CaseResult> },
  b: { run(c: DiffCase): Promise<CaseResult> },
  cases: DiffCase[],
  opts: CompareOptions & { includeQemuDiffers?: boolean } = {},
): Promise<DiffOutcome[]> {
  const out: DiffOutcome[] = [];
  for (const c of cases) {
    if (c.qemuDiffers && !opts.includeQemuDiffers) continue;
    const ra = await a.run(c);
    const rb = await b.run(c);
    const differences = compareResults(c, ra, rb, opts);
    if (differences.length) out.push({ case: c, a: ra, b: rb, differences });
  }
  return out;
}

/** A failure report: how to reproduce, the code, both results, what differs. */
export function formatOutcome(o: DiffOutcome, names: [string, string] = ['a', 'b']): string {
  const c = o.case;
  return [
    `${c.name}${c.reproduce ? ` (reproduce: ${c.reproduce})` : c.seed !== undefined ? ` (reproduce: CASE_SEED=${c.seed})` : ''} mode ${c.mode}`,
    ...(c.listing ?? []).map((l) => `    ${l}`),
    `  ${names[0]}: ${formatResultShort(o.a)}`,
    `  ${names[1]}: ${formatResultShort(o.b)}`,
    `  differences (${names[0]} vs ${names[1]}):`,
    formatDifferences(o.differences),
  ].join('\n');
}

function formatResultShort(r: CaseResult): string {
  const x = r.exception;
  return `${r.end}${x ? ` vector ${x.vector} error ${hex(x.errorCode)} at ${hex(x.eip)}${x.dr6 !== undefined ? ` dr6 ${hex(x.dr6)}` : ''}` : ''}`;
}
