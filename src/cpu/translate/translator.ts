// tbGenCode: decode guest instructions from (CS base + EIP) until a control transfer, a
// page boundary or a size limit, generate one JavaScript function for them, compile it.
import type { Cpu } from '../cpu.js';
import { HF_CPL_MASK, HF_CS32 } from '../cpu.js';
import { decode } from '../decoder.js';
import { F_BLOCK_END, F_SIMD, F_STRING } from '../opcode-table.js';
import { simdGenerator } from './simd-generators.js';
import { EXC_GP, EXC_UD, GUEST_EXCEPTION } from '../cpu-exception.js';
import { REP_NONE, SEG_CS, type Instr } from '../instr.js';
import { ACCESS_FETCH } from '../mmu.js';
import { absentOnModel } from '../cpu-models.js';
import { CodeGen, EXIT_DEBUG, EXIT_LOOKUP } from './codegen.js';
import { compileGenerated } from './compile.js';
import { compiledBody } from './compiled-body.js';
import { flagsLiveAfter } from './flag-liveness.js';
import { GENERATORS, unimplemented } from './generators.js';
import { RUNTIME_NAMES, type Runtime } from '../runtime.js';
import { instantiate, templateOf, threadedFunction, type Template, type TemplateCache } from './threaded.js';
import { CF_NOBP, CF_SINGLE, TranslationBlock } from '../../tb/translation-block.js';
import { STORE_FIRST_TIER, STORE_NO_SELF_LOOP, type StoredTb, type TbStore } from '../../tb/tb-store.js';

export const MAX_TB_INSNS = 64;

export interface TranslateOptions {
  /** Linear addresses with breakpoints: a TB stops before them. */
  breakpoints: ReadonlySet<number>;
  /** Guest instruction breakpoints (DR0-DR3) by linear address, when any is enabled. */
  drExec?: ReadonlyMap<number, number> | null;
  runtime: (user: boolean) => Runtime;
  newId: () => number;
  /** No loop inside a TB: each pass returns to the CPU loop (-d nochain traces every pass). */
  noSelfLoop?: boolean;
  /**
   * Linear addresses of instructions that access devices (MMIO): each runs as a block of
   * its own, so the device sees its exact instruction count and EIP, and an interrupt it
   * raises is taken right after it (QEMU's icount ends a block at I/O the same way).
   */
  ioPcs?: ReadonlySet<number>;
  /** The first tier's templates (threaded.ts) for user or supervisor code; absent: compile every TB. */
  templates?: (user: boolean) => TemplateCache | null;
  /** The persistent translation cache: TBs of earlier runs are taken from it, new ones kept in it. */
  store?: TbStore | null;
}

/** Thrown (as a guest exception) when the first instruction cannot be fetched. */
export function tbGenCode(cpu: Cpu, cflags: number, opts: TranslateOptions): TranslationBlock {
  const flags = cpu.hflags;
  const csBase = cpu.segBase[SEG_CS]! >>> 0;
  const startEip = cpu.eip >>> 0;
  const pc = (csBase + startEip) >>> 0;
  const code32 = (flags & HF_CS32) !== 0;
  const user = (flags & HF_CPL_MASK) === 3;
  const csLimit = cpu.segLimit[SEG_CS]!;
  if (startEip > csLimit) cpu.raiseException(EXC_GP, 0);
  const phys0 = cpu.mmu.translate(pc, ACCESS_FETCH, user);
  const page0 = pc & ~0xfff;
  const store = opts.store ?? null;
  if (store !== null) {
    const tb = fromStore(cpu, store, cflags, opts, pc, phys0, user);
    if (tb !== null) return tb;
  }
  let phys2 = -1;
  const bytesOut: number[] = [];

  // Fetch through the page mapping; a second page is translated on demand.
  const fetch = (lin: number): number => {
    lin >>>= 0;
    if ((lin & ~0xfff) === page0) return cpu.phys.read8((phys0 & ~0xfff) | (lin & 0xfff));
    if (phys2 === -1) phys2 = cpu.mmu.translate(lin, ACCESS_FETCH, user) & ~0xfff;
    return cpu.phys.read8(phys2 | (lin & 0xfff));
  };

  const single = (cflags & CF_SINGLE) !== 0;
  // Phase 1: decode the block.
  const decoded: Instr[] = [];
  let drPrologue = '';
  let tail: string | null = null;
  let eip = startEip;
  let size = 0;
  let ioBlock = false;
  for (let k = 0; ; k++) {
    const lin = (csBase + eip) >>> 0;
    if (opts.breakpoints.has(lin) && !(k === 0 && cflags & CF_NOBP)) {
      tail = `c.eip = ${eip}; c.icount += ${k}; return ${EXIT_DEBUG};`;
      break;
    }
    const io = opts.ioPcs !== undefined && opts.ioPcs.has(lin);
    // (both ends link directly: an interrupt the access raises stops the chain there)
    if (io && k > 0) break;
    const drHit = opts.drExec?.get(lin);
    if (drHit !== undefined) {
      // A guest instruction breakpoint is a #DB fault before the instruction, unless RF
      // is set; it starts its own TB so the check runs where the loop can see RF.
      if (k > 0) {
        tail = `c.eip = ${eip}; c.icount += ${k}; return ${EXIT_LOOKUP};`;
        break;
      }
      drPrologue = `if (!(c.eflags & 0x10000)) { c.dr[6] |= ${drHit}; c.raiseException(1); }`;
    }
    let instr: Instr;
    const savedPhys2 = phys2;
    const savedCr2 = cpu.cr2;
    try {
      instr = decode((off) => fetch(lin + off), eip, code32);
    } catch (e) {
      // A fetch fault on a later instruction ends the TB before it (and must not be seen:
      // CR2 is restored); on the first one, it is the instruction's own fault.
      if (e !== GUEST_EXCEPTION || k === 0) throw e;
      cpu.cr2 = savedCr2;
      phys2 = savedPhys2;
      tail = `c.eip = ${eip}; c.icount += ${k}; return ${EXIT_LOOKUP};`;
      break;
    }
    // A TB never spans more than two pages; an instruction needing a third ends it first.
    if (k > 0 && phys2 !== savedPhys2 && savedPhys2 !== -1) {
      phys2 = savedPhys2;
      tail = `c.eip = ${eip}; c.icount += ${k}; return ${EXIT_LOOKUP};`;
      break;
    }
    // Instructions the CPU model lacks (CMOV on a Pentium...) are #UD, as under QEMU.
    if (!instr.invalid && absentOnModel(cpu.model.edx, instr, cpu.model.ecx)) instr.invalid = true;
    for (let i = 0; i < instr.len; i++) bytesOut.push(instr.bytes[i] ?? 0);
    decoded.push(instr);
    size += instr.len;
    const nextEip = code32 ? (eip + instr.len) >>> 0 : (eip + instr.len) & 0xffff;
    if (io) {
      ioBlock = true;
      break;
    }
    const repString = (instr.flags & F_STRING) !== 0 && instr.rep !== REP_NONE;
    if (instr.invalid || instr.flags & F_BLOCK_END || repString) break;
    eip = nextEip;
    const nextLin = (csBase + eip) >>> 0;
    if (single || k + 1 >= MAX_TB_INSNS || (nextLin & ~0xfff) !== page0 || phys2 !== -1) break;
  }

  // The first tier (threaded.ts) for a new TB; a guest instruction breakpoint's prologue
  // is compiled with the TB.
  const templates = drPrologue === '' ? opts.templates?.(user) ?? null : null;
  let gen: GeneratedBody;
  // Only a TB that translation of the same bytes always makes is kept for later runs: not
  // one cut short by a breakpoint, a fault or a device access, nor a translator error.
  let keep = store !== null && tail === null && drPrologue === '' && !ioBlock &&
    (code32 || startEip + size <= 0x10000) && (phys2 === -1) === (((pc + size - 1) & ~0xfff) === page0);
  try {
    gen = generateBody(decoded, tail, flags, startEip, csLimit, templates === null && !single && !opts.noSelfLoop && !ioBlock, null, ioBlock, templates !== null);
  } catch (e) {
    if (e === GUEST_EXCEPTION) throw e;
    cpu.onUnimplemented(startEip, bytesOut.slice(0, 15), `translator error: ${(e as Error).message}`);
    gen = { body: `c.eip = ${startEip}; c.raiseException(${EXC_UD}, 0);`, eips: [startEip], selfLoop: false };
    keep = false;
  }
  const tb = new TranslationBlock(
    opts.newId(), pc, csBase, startEip, flags, cflags, phys0, phys2, size, decoded.length, cpu.icount, bytesOut,
  );
  tb.decoded = decoded;
  tb.io = ioBlock;
  tb.csLimit = csLimit;
  tb.tail = tail;
  tb.eips = gen.eips.slice();
  if (templates !== null && gen.chunks !== undefined && threadTb(cpu, tb, gen.chunks, tb.eips, templates)) {
    if (keep) store!.add(storedOf(tb, decoded, storeMode(true, opts), { tpls: tb.firstTier!.tpls.map((t) => t.text), ks: tb.firstTier!.ks }));
    return tb;
  }
  if (compileTb(cpu, tb, gen, opts.runtime(user), drPrologue) && keep) {
    store!.add(storedOf(tb, decoded, storeMode(templates !== null, opts), { body: gen.body, selfLoop: gen.selfLoop }));
  }
  return tb;
}

/** What else than cflags shapes a TB's code: whether the first tier is on, self-loops. */
function storeMode(firstTier: boolean, opts: TranslateOptions): number {
  return (firstTier ? STORE_FIRST_TIER : 0) | (opts.noSelfLoop ? STORE_NO_SELF_LOOP : 0);
}

function storedOf(tb: TranslationBlock, decoded: readonly Instr[], mode: number, code: StoredTb['code']): StoredTb {
  return {
    pc: tb.pc, csBase: tb.csBase, eip: tb.eip, flags: tb.flags, cflags: tb.cflags | mode, csLimit: tb.csLimit,
    page2: tb.phys2 !== -1, bytes: tb.bytes, lens: Uint8Array.from(decoded, (i) => i.len), neips: tb.eips.length,
    codeSize: tb.codeSize, code,
  };
}

/**
 * The TB at `pc` from the persistent cache, when it holds one for these bytes and this
 * state; null: translate. Everything that can send the TB back to translation is checked
 * before it takes an id, so a hit and a translation number TBs alike.
 */
function fromStore(cpu: Cpu, store: TbStore, cflags: number, opts: TranslateOptions, pc: number, phys0: number, user: boolean): TranslationBlock | null {
  const page0 = pc & ~0xfff;
  const csBase = cpu.segBase[SEG_CS]! >>> 0;
  const eip = cpu.eip >>> 0;
  const flags = cpu.hflags;
  const csLimit = cpu.segLimit[SEG_CS]!;
  let phys2 = -1;
  let unmapped = false;
  const cr2 = cpu.cr2;
  const read = (i: number): number => {
    const lin = (pc + i) >>> 0;
    if ((lin & ~0xfff) === page0) return cpu.phys.read8((phys0 & ~0xfff) | (lin & 0xfff));
    if (phys2 === -1) {
      if (unmapped) return -1;
      try {
        phys2 = cpu.mmu.translate(lin, ACCESS_FETCH, user) & ~0xfff;
      } catch (e) {
        if (e !== GUEST_EXCEPTION) throw e;
        // Translation will end the TB before this page (or fault in its own right).
        cpu.cr2 = cr2;
        unmapped = true;
        return -1;
      }
    }
    return cpu.phys.read8(phys2 | (lin & 0xfff));
  };
  const bps = opts.breakpoints;
  const dr = opts.drExec ?? null;
  const io = opts.ioPcs ?? null;
  const first = (cflags & CF_NOBP) !== 0 ? pc : -1;
  const blocked = (lin: number): boolean =>
    (bps.size > 0 && lin !== first && bps.has(lin)) || (dr !== null && dr.size > 0 && dr.has(lin)) || (io !== null && io.has(lin));
  const templates = opts.templates?.(user) ?? null;
  const st = store.find(pc, csBase, eip, flags, cflags | storeMode(templates !== null, opts), csLimit, read, blocked);
  if (st === null) return null;
  const code32 = (flags & HF_CS32) !== 0;
  const eips: number[] = [];
  let e = eip;
  for (let k = 0; k < st.neips; k++) {
    eips.push(e);
    e = code32 ? (e + st.lens[k]!) >>> 0 : (e + st.lens[k]!) & 0xffff;
  }
  let threaded: { tpls: Template[]; ks: number[] } | null = null;
  if (st.code.tpls !== undefined) {
    if (templates === null) return null;
    const tpls: Template[] = [];
    for (const text of st.code.tpls) {
      const t = templates.get(text);
      if (t === null) return null;
      tpls.push(t);
    }
    threaded = { tpls, ks: (st.code.ks ?? []).slice() };
  }
  const tb = new TranslationBlock(
    opts.newId(), pc, csBase, eip, flags, cflags, phys0, st.page2 ? phys2 : -1, st.bytes.length, st.lens.length, cpu.icount, st.bytes,
  );
  tb.csLimit = csLimit;
  tb.eips = eips;
  if (threaded !== null) {
    tb.fn = threadedFunction(cpu, threaded.tpls, threaded.ks, eips);
    tb.tier = 0;
    tb.codeSize = st.codeSize;
    tb.firstTier = threaded;
    tb.sourceText = firstTierSource;
  } else {
    compileTb(cpu, tb, { body: st.code.body ?? '', eips, selfLoop: st.code.selfLoop === true }, opts.runtime(user));
    tb.codeSize = st.codeSize;
  }
  tb.fromStore = true;
  return tb;
}

/**
 * The TB's own JavaScript function (the second tier, and the only one with a DR prologue).
 * False when the code did not compile (the TB raises #UD instead).
 */
export function compileTb(cpu: Cpu, tb: TranslationBlock, gen: GeneratedBody, rt: Runtime, drPrologue = ''): boolean {
  const loop = gen.selfLoop;
  // (a DR prologue leaves the block by a return of its own, in a loop after registers changed)
  const code = compiledBody(gen.body, drPrologue === '');
  // The parentheses make V8 compile the function now, with the factory (its lazy
  // compilation at the first call parses the source a second time).
  const source = [
    `return (function tb_${tb.pc.toString(16)}() {`,
    'let ix$ = 0;',
    code.prologue,
    'try {',
    loop ? 'for (;;) {' : '',
    drPrologue,
    code.body,
    loop ? '}' : '',
    `} catch (e) { ${code.onFault} c.eip = E[ix$]; c.icount += ix$; c.icountOff = 0; throw e; }`,
    '});',
  ].join('\n');
  tb.tier = 1;
  tb.sourceText = null;
  tb.firstTier = null;
  tb.codeSize = gen.body.length;
  try {
    const factory = compileGenerated([...RUNTIME_NAMES, 'E', 'T'], source);
    tb.fn = factory(...RUNTIME_NAMES.map((n) => rt[n]), gen.eips, tb) as () => number;
    return true;
  } catch (e) {
    // A translator bug must not take the emulator down: report it, and the guest sees #UD
    // at the block's first instruction.
    cpu.onUnimplemented(tb.eip, Array.from(tb.bytes.slice(0, 15)), `translator error: ${(e as Error).message}`);
    tb.fn = () => cpu.raiseException(EXC_UD, 0);
    return false;
  }
}

/** Make `tb` run in the first tier; false when some instruction's code has no template. */
function threadTb(cpu: Cpu, tb: TranslationBlock, chunks: readonly string[], eips: readonly number[], templates: TemplateCache): boolean {
  const tpls: Template[] = [];
  const ks: number[] = [];
  let size = 0;
  for (const chunk of chunks) {
    size += chunk.length;
    const t = templateOf(chunk);
    if (t === null) return false;
    const tpl = templates.get(t.text);
    if (tpl === null) return false;
    tpls.push(tpl);
    for (const v of t.values) ks.push(v);
  }
  // (exact-size copies: arrays grown by push keep up to half again as much room)
  const code = { tpls: tpls.slice(), ks: ks.slice() };
  tb.fn = threadedFunction(cpu, code.tpls, code.ks, eips);
  tb.tier = 0;
  tb.codeSize = size;
  tb.firstTier = code;
  tb.sourceText = firstTierSource;
  return true;
}

/** A first-tier TB's code as the inspector shows it: each instruction's template, filled in. */
function firstTierSource(tb: TranslationBlock): string {
  const ft = tb.firstTier;
  if (ft === null) return tb.fn.toString();
  const instrs = tb.instructions;
  let o = 0;
  return [
    `function tb_${tb.pc.toString(16)}() { // first tier: each instruction's shared code, with its constants`,
    ...ft.tpls.map((t, k) => {
      const i = instrs[k];
      const code = instantiate(t.text, ft.ks.slice(o, o + t.nk));
      o += t.nk;
      return `${i ? `// ${i.eip.toString(16)}: ${i.mnem}\n` : ''}${code}`;
    }),
    '}',
  ].join('\n');
}

/**
 * A first-tier TB that kept running, compiled as a whole (with its loop, when it jumps to
 * itself). False when its bytes no longer decode as they did (it stays as it is).
 */
export function tierUp(cpu: Cpu, tb: TranslationBlock, rt: Runtime, noSelfLoop: boolean): boolean {
  const decoded = redecodeTb(tb, cpu.model.edx);
  if (decoded === null) return false;
  let gen: GeneratedBody;
  try {
    const loopOk = !(tb.cflags & CF_SINGLE) && !noSelfLoop && !tb.io;
    gen = generateBody(decoded, tb.tail, tb.flags, tb.eip, tb.csLimit, loopOk, null, tb.io);
  } catch {
    return false;
  }
  compileTb(cpu, tb, gen, rt);
  return true;
}

/**
 * The instructions of `tb` decoded again from its bytes (TBs do not keep their decoded
 * form: it is most of a TB's memory, and only the few TBs that become region members need
 * it again). Null if the bytes do not decode to the same instructions.
 */
export function redecodeTb(tb: TranslationBlock, modelEdx: number, modelEcx = 0): Instr[] | null {
  const out = tb.decodeAgain();
  let size = 0;
  for (const instr of out) {
    size += instr.len;
    if (!instr.invalid && absentOnModel(modelEdx, instr, modelEcx)) instr.invalid = true;
  }
  return size > tb.size ? null : out;
}

export interface RegionContext {
  /** Member index by EIP (members share CS base and flags). */
  readonly byEip: ReadonlyMap<number, number>;
  /** Instruction count of each member (for the budget check before entering it). */
  readonly ninsns: readonly number[];
}

export interface GeneratedBody {
  body: string;
  eips: number[];
  selfLoop: boolean;
  /**
   * With `chunks` asked for: the code of each instruction (its exits and the block's tail
   * with the last), without the fault-index bookkeeping: what the first tier runs.
   */
  chunks?: string[];
}

/** Phases 2 and 3 of translation: flag liveness, then code for each instruction. */
export function generateBody(
  decoded: readonly Instr[], tail: string | null, flags: number, startEip: number, csLimit: number, loopOk: boolean,
  region: RegionContext | null, io = false, chunks = false,
): GeneratedBody {
  const live = flagsLiveAfter(decoded);
  const g = new CodeGen(flags, startEip, loopOk && region === null);
  g.region = region;
  const eips: number[] = [];
  const starts: number[] = [];
  for (let k = 0; k < decoded.length; k++) {
    const instr = decoded[k]!;
    eips.push(instr.eip);
    starts.push(g.lines.length);
    g.begin(instr, k);
    g.flagsLive = live[k]!;
    g.emit(`{ // ${instr.eip.toString(16)}: ${instr.mnem}`);
    // A device access block (see ioPcs): the count is exact for its one instruction.
    if (io) g.emit('c.ioExact = true;');
    if (instr.mnem === '(toolong)' || instr.eip + instr.len - 1 > csLimit) {
      g.raise(EXC_GP, 0);
    } else if (instr.invalid) {
      g.raise(EXC_UD, 0);
    } else {
      const gen = instr.flags & F_SIMD ? simdGenerator : GENERATORS[instr.mnem];
      if (!gen) unimplemented(g, instr, instr.mnem);
      else gen(g, instr);
    }
    if (io && !g.ended) g.emit('c.ioExact = false;');
    g.emit('}');
    if (g.ended) break;
    const repString = (instr.flags & F_STRING) !== 0 && instr.rep !== REP_NONE;
    if (instr.flags & F_BLOCK_END || repString) {
      g.emit(g.exitLookup(g.next));
      g.ended = true;
      break;
    }
  }
  if (!g.ended) {
    if (tail !== null) g.emit(tail);
    else g.emit(g.exitTo(0, decoded.length > 0 ? g.next : startEip));
  }
  let body = g.lines.join('\n');
  // Inside a region every way out records which member is leaving.
  if (region) body = body.replace(/return (\d);/g, '{ RG.last = s; return $1; }');
  const out: GeneratedBody = { body, eips, selfLoop: g.selfLoop };
  if (chunks) {
    // (begin() put the fault index first in each instruction's lines: the first tier counts itself)
    out.chunks = starts.length === 0
      ? [body]
      : starts.map((st, k) => g.lines.slice(st + 1, starts[k + 1] ?? g.lines.length).join('\n'));
  }
  return out;
}
