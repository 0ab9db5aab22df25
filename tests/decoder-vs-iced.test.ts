// The decoder against iced-x86 as an oracle: instruction length, validity and operands
// over random byte strings (biased towards prefixes and the 0F map) in 16- and 32-bit mode,
// plus an exhaustive sweep of opcode x ModRM for both opcode maps.
//
// Reproduce a run with DECODER_SEED=<seed> (printed at the start); DECODER_COUNT=<n> sets
// the number of random strings per mode.
//
// THE ORACLE. iced decodes every x86 extension up to today; our CPU is P6-class (see
// SUPPORTED below). iced is run with options that make it decode as a P6 would:
//   NoPause      F3 90 is NOP (PAUSE did not exist; the REP prefix is ignored)
//   NoWbnoinvd   F3 0F 09 is WBINVD (ditto)
//   NoMPFX_0FBC  F3 0F BC is BSF, not TZCNT (ditto)
//   NoMPFX_0FBD  F3 0F BD is BSR, not LZCNT (ditto)
// and otherwise with its default invalid-encoding checks (e.g. LOCK on a non-lockable
// instruction or with a register destination, MOV to CS, CR1/CR5-7 are invalid).
//
// WHAT IS REQUIRED. For each string:
//  * iced valid and all its CPUID features in SUPPORTED: ours valid, same length, same
//    mnemonic (modulo ALIASES), same LOCK, same operand size where the instruction has one
//    (PUSHA vs PUSHAD...), same counter (CX/ECX) for LOOPcc/JCXZ, and the same operands:
//    count, kinds, registers (size and number; AH..BH are our 8-bit registers 4-7), memory
//    operand (address size, base, index, scale, displacement reduced to the address size,
//    effective segment, access size), immediates (value reduced to the size it is extended
//    to, and that size), near-branch targets (masked to the operand size), far pointers.
//  * iced valid but needing a feature we do not implement: ours invalid (#UD).
//  * iced invalid: ours invalid. When iced with NoInvalidCheck does decode it as an instruction
//    we implement (e.g. LOCK on a register destination, MOV CS,r/m, MOV r32,CR1), our length
//    and operands must match that decoding too: the decoder decodes such encodings fully and
//    only flags them, so a too-long one is still reported as too long, and the translator
//    can name what it refused. Otherwise (an undefined opcode or group slot) the length is
//    not compared: the bytes are never executed, so their length has no architectural
//    meaning (and iced's own length for them is wherever it stopped).
//  * 15-byte limit: when ours reports '(toolong)' (#GP(0)), iced must report an invalid
//    instruction of length 15 (its too-long verdict), except for an undefined opcode or group
//    slot (invalid even with NoInvalidCheck): there iced stops at the ModRM byte while ours
//    also consumes the addressing bytes that ModRM implies, so which of #UD and #GP wins is
//    not something iced can tell. Any instruction iced decodes as valid is at most 15 bytes
//    and ours must agree on its length (so it cannot be '(toolong)').
//
// NORMALISATIONS (iced's view -> ours), each applied only where stated:
//  N1 String instructions (MOVS CMPS STOS LODS SCAS INS OUTS): iced lists the implicit
//     operands ([seg:(E)SI], ES:[(E)DI], AL/AX/EAX, DX); ours has none and gives the element
//     size in Instr.strSize. We check strSize, the address size (SI vs ESI), the effective
//     segment of the source ([seg:(E)SI]: DS or the override) and the REP/REPNE prefix.
//  N2 XLAT: iced shows the memory operand [(E)BX+AL]; ours has no operand. We check the
//     address size and the effective segment instead.
//  N3 x87 (D8-DF): decoded for length and memory operand only, so only the length, the
//     validity and the memory operand's address (not its size; ST(i) and the AX of FNSTSW AX
//     are not modelled) are compared.
//  N4 Hint NOPs 0F 19-1F: on a CPU without CET, MPX or CLDEMOTE these are NOPs whatever the
//     prefixes and ModRM (that is why ENDBR32, BNDx and CLDEMOTE were put there), so for this
//     range the oracle is iced with ForceReservedNop. iced's second operand (the ModRM.reg
//     register, which a hint NOP ignores) is dropped; ours has just the r/m operand.
//  N5 r/m16 sources: iced names a 32-bit register for the 16-bit r/m source of LAR, LSL,
//     LLDT, LTR, VERR, VERW, LMSW, MOV Sreg,r/m (and both operands of ARPL) under a 32-bit
//     operand size ("r32/m16"); ours names the 16-bit register, the part that is read
//     (ARPL writes only the low word). Destinations written under the operand size
//     (MOV r/m,Sreg, SLDT, STR, SMSW) are compared as they are.
//  Needing no normalisation: D0-D3 shifts by 1 (both give an 8-bit immediate 1), segment,
//  control and debug register operands, AH..BH, and the prefixes both ignore (branch hints
//  2E/3E, XACQUIRE/XRELEASE and BND as F2/F3, REP on non-string instructions).
// EXCEPTIONS (iced valid, ours invalid by design):
//  E1 UD0 (0F FF), UD1 (0F B9), UD2 (0F 0B): iced decodes them as instructions; ours sets
//     invalid (they exist to raise #UD) but must still agree on length and operands.
//  E2 the prefetch space 0F 18 (PREFETCHh, SSE, and reserved NOPs) and 0F 0D (PREFETCH/W,
//     3DNow!/PREFETCHW): as QEMU 7.2 on every CPU model (measured, tests/guests/cpu-probe),
//     the memory forms are NOPs and the register forms are invalid, whatever iced says
//     about features; lengths must agree.
import { describe, expect, it } from 'vitest';
import { decode } from '../src/cpu/decoder.js';
import { F_X87 } from '../src/cpu/opcode-table.js';
import { OpKind, REP_E, REP_NE, SEG_DS, type Instr } from '../src/cpu/instr.js';
import { iced, icedDecode, type IcedInsn, type IcedOp } from './support/iced.js';

const { DecoderOptions } = iced;

/** CPUID features (iced's CpuidFeature names) of the instructions our CPU implements. */
const SUPPORTED = new Set([
  'INTEL8086', 'INTEL186', 'INTEL286', 'INTEL386', 'INTEL486', // base integer ISA
  'CPUID', 'TSC', 'MSR', 'CX8', 'CMOV', 'RDPMC', 'MULTIBYTENOP', 'SEP', // P6 additions
  'FPU', 'FPU287', 'FPU387', // x87 (FCMOV/FCOMI are FPU+CMOV)
  'FXSR', // FXSAVE/FXRSTOR
  'MMX', 'SSE', 'SSE2', 'SSE3', 'CLFSH', // issue 15 (CLFLUSH decodes; no model has it, so it is #UD when translated)
]);
// Not supported, for the record: the *_ONLY features (8086/286/386/486A-only oddities such as
// LOADALL, XBTS/IBTS, CMPXCHG at 0F A6), FPU287XL_ONLY/FPU387SL_ONLY, SMM (RSM)
// (SYSENTER/SYSEXIT), SYSCALL, MMX, SSE*, 3DNow!, FXSR, PREFETCHW, CLFSH, VMX, SMX, SVM,
// RTM/HLE (XBEGIN/XABORT/XEND/XTEST), POPCNT, MOVBE, CET, MONITOR, XSAVE, RDTSCP, ...

const BASE_OPTS =
  DecoderOptions.NoPause | DecoderOptions.NoWbnoinvd | DecoderOptions.NoMPFX_0FBC | DecoderOptions.NoMPFX_0FBD;
const HINT_NOP_OPTS = BASE_OPTS | DecoderOptions.ForceReservedNop;
const NO_CHECK_OPTS = BASE_OPTS | DecoderOptions.NoInvalidCheck;

/** iced mnemonic -> ours, where the two names differ for the same operation. */
const SSE_ALIASES: Record<string, string> = { movhlps: 'movlps', movlhps: 'movhps' };
const ALIASES: Record<string, string> = {
  sal: 'shl', // C0-D3 /6: SAL is SHL
  wait: 'fwait',
  pushaw: 'pusha', pushad: 'pusha', popaw: 'popa', popad: 'popa',
  pushfw: 'pushf', pushfd: 'pushf', popfw: 'popf', popfd: 'popf',
  iretw: 'iret', iretd: 'iret',
  cwde: 'cbw', cdq: 'cwd', // 98/99 under a 32-bit operand size
  jecxz: 'jcxz',
  enterw: 'enter', enterd: 'enter', leavew: 'leave', leaved: 'leave',
  retnw: 'ret', retnd: 'ret', retfw: 'retf', retfd: 'retf',
  xlatb: 'xlat',
  movsb: 'movs', movsw: 'movs', movsd: 'movs',
  cmpsb: 'cmps', cmpsw: 'cmps', cmpsd: 'cmps',
  stosb: 'stos', stosw: 'stos', stosd: 'stos',
  lodsb: 'lods', lodsw: 'lods', lodsd: 'lods',
  scasb: 'scas', scasw: 'scas', scasd: 'scas',
  insb: 'ins', insw: 'ins', insd: 'ins',
  outsb: 'outs', outsw: 'outs', outsd: 'outs',
};
/** iced calls far CALL/JMP 'call'/'jmp'; ours 'callf'/'jmpf'. */
function callOrJmpFar(insn: IcedInsn): string | null {
  if (/^(Call|Jmp)_(ptr|m)16(16|32)/.test(insn.code)) return insn.code.startsWith('Call') ? 'callf' : 'jmpf';
  return null;
}

// --- formatting both decodings into comparable strings ---------------------------------

const hex = (v: number): string => (v >>> 0).toString(16);
const mask = (bytes: number): number => (bytes >= 4 ? 0xffffffff : (1 << (bytes * 8)) - 1);

function fmtEa(adsize: number, base: number, index: number, scale: number, disp: number, seg: number): string {
  const idx = index < 0 ? '' : `+i${index}*${scale}`;
  return `[a${adsize * 8} b${base}${idx} d${hex(disp & mask(adsize))} s${seg}]`;
}

function oursOperand(ins: Instr, k: number, withMemSize: boolean): string {
  const o = ins.operands[k]!;
  switch (o.kind) {
    case OpKind.Reg:
      return `r${o.size}:${o.reg}`;
    case OpKind.Seg:
      return `seg:${o.reg}`;
    case OpKind.Cr:
      return `cr:${o.reg}`;
    case OpKind.Dr:
      return `dr:${o.reg}`;
    case OpKind.Xmm:
      return `xmm:${o.reg}`;
    case OpKind.Mmx:
      return `mm:${o.reg}`;
    case OpKind.Imm:
      return `imm${o.size}:${hex(o.value & mask(o.size))}`;
    case OpKind.Rel:
      return `rel${o.size}:${hex(o.value)}`;
    case OpKind.FarImm:
      return `far${o.size}:${hex(o.value2)}:${hex(o.value)}`;
    case OpKind.Mem:
    case OpKind.Moffs: {
      const ea = ins.ea;
      const head = withMemSize ? `mem${o.size}` : 'mem';
      if (ea === null) return `${head}[no ea!]`;
      return head + fmtEa(ins.adsize, ea.base, ea.index, ea.scale, ea.disp, ea.seg);
    }
    default:
      return `?kind${String(o.kind)}`;
  }
}

function icedOperand(insn: IcedInsn, o: IcedOp, withMemSize: boolean): string {
  switch (o.kind) {
    case 'reg': {
      const r = o.reg;
      if (r.cls === 'gpr') return `r${r.size}:${r.num}`;
      if (r.cls === 'seg') return `seg:${r.num}`;
      if (r.cls === 'cr') return `cr:${r.num}`;
      if (r.cls === 'dr') return `dr:${r.num}`;
      if (r.cls === 'st') return `st:${r.num}`;
      if (r.cls === 'xmm') return `xmm:${r.num}`;
      if (r.cls === 'mm') return `mm:${r.num}`;
      return `?${r.name}`;
    }
    case 'imm':
      return `imm${o.size}:${hex(Number(o.value & BigInt(mask(o.size))))}`;
    case 'near':
      return `rel${o.size}:${hex(o.target)}`;
    case 'far':
      return `far${o.size}:${hex(o.selector)}:${hex(o.offset)}`;
    case 'str':
      return `str:${o.which}${o.adsize * 8}`;
    case 'other':
      return `?${o.name}`;
    case 'mem': {
      const m = insn.mem!;
      const adsize = m.base ? m.base.size : m.index ? m.index.size : m.dispSize;
      const head = withMemSize ? `mem${m.size}` : 'mem';
      return head + fmtEa(adsize, m.base ? m.base.num : -1, m.index ? m.index.num : -1, m.scale, m.disp, m.seg);
    }
  }
}

function describeOurs(ins: Instr): string {
  const ops = ins.operands.map((_, k) => oursOperand(ins, k, true)).join(' ');
  return (
    `${ins.mnem} | len ${ins.len} | ${ins.invalid ? 'INVALID' : 'valid'} | o${ins.opsize * 8} a${ins.adsize * 8}` +
    `${ins.lock ? ' lock' : ''}${ins.rep ? ` rep${ins.rep}` : ''} seg${ins.segOverride} strSize ${ins.strSize} | ops: ${ops}`
  );
}

function describeIced(insn: IcedInsn): string {
  const ops = insn.ops.map((o) => icedOperand(insn, o, true)).join(' ');
  const mem = insn.mem ? ` (${insn.mem.sizeName})` : '';
  return `${insn.text} | len ${insn.len} | ${insn.code} | ${insn.error} | ${insn.features.join(',')} | ops: ${ops}${mem}`;
}

// --- the comparison -----------------------------------------------------------------------

const UD_CODES = /^(Ud0|Ud1|Ud2)(_|$)/;
const PREFETCH_SPACE_NOP = /^Reservednop_.*_0F(0D|18)$/;
const HINT_NOP = /^Reservednop_.*_0F1[9A-F]$/;
// N5: iced codes with r32/m16 operands that we report as 16-bit registers (operand indexes).
const R32M16_READS: Record<string, number[]> = {
  Lar_r32_r32m16: [1], Lsl_r32_r32m16: [1], Mov_Sreg_r32m16: [1],
  Lldt_r32m16: [0], Ltr_r32m16: [0], Verr_r32m16: [0], Verw_r32m16: [0], Lmsw_r32m16: [0],
  Arpl_r32m16_r32: [0, 1],
};

// FISTTP is SSE3 for iced; QEMU 7.2 runs it on every CPU model, and so does our FPU.
const supported = (insn: IcedInsn): boolean =>
  insn.valid && (insn.features.every((f) => SUPPORTED.has(f)) || /^Fisttp_/.test(insn.code));

/** Compares a valid (or E1/NoInvalidCheck) iced decoding with ours; returns the differences. */
function compareDecodings(ours: Instr, ref: IcedInsn, stats: Stats): string[] {
  const diffs: string[] = [];
  if (ours.len !== ref.len) diffs.push(`length ${ours.len} != ${ref.len}`);
  const x87 = (ours.flags & F_X87) !== 0;
  let expected: string[];
  let actual: string[];
  if (x87 || ref.features.some((f) => f.startsWith('FPU'))) {
    // N3
    stats.x87++;
    if (!x87) diffs.push('iced decodes an x87 instruction, ours does not');
    expected = ref.ops.filter((o) => o.kind === 'mem').map((o) => icedOperand(ref, o, false));
    actual = ours.operands.flatMap((o, k) => (o.kind === OpKind.Mem ? [oursOperand(ours, k, false)] : []));
  } else {
    // MASKMOVQ/MASKMOVDQU: the implicit DS:(E)DI destination is the translator's business
    let ops = ref.ops.filter((o) => !(o.kind === 'other' && /^MemorySeg/.test(o.name)));
    if (ops.some((o) => o.kind === 'str')) {
      // N1
      stats.string++;
      const size = /^[A-Z][a-z]+([bwd])_/.exec(ref.code)?.[1];
      const elem = size === 'b' ? 1 : size === 'w' ? 2 : 4;
      if (ours.strSize !== elem) diffs.push(`strSize ${ours.strSize} != ${elem}`);
      const strOp = ops.find((o) => o.kind === 'str');
      if (strOp?.kind === 'str' && strOp.adsize !== ours.adsize) diffs.push(`string adsize ${ours.adsize} != ${strOp.adsize}`);
      if (ref.strSeg >= 0) {
        const seg = ours.segOverride >= 0 ? ours.segOverride : SEG_DS;
        if (seg !== ref.strSeg) diffs.push(`string source segment ${seg} != ${ref.strSeg}`);
      }
      const rep = ours.rep === REP_E ? 'rep' : ours.rep === REP_NE ? 'repne' : 'none';
      if (rep !== ref.rep) diffs.push(`rep ${rep} != ${ref.rep}`);
      ops = [];
    } else if (ref.code === 'Xlat_m8') {
      // N2
      const m = ref.mem!;
      if (m.base!.size !== ours.adsize) diffs.push(`xlat adsize ${ours.adsize} != ${m.base!.size}`);
      const seg = ours.segOverride >= 0 ? ours.segOverride : SEG_DS;
      if (seg !== m.seg) diffs.push(`xlat segment ${seg} != ${m.seg}`);
      ops = [];
    } else if (HINT_NOP.test(ref.code)) {
      // N4
      stats.hintNop++;
      ops = ops.slice(0, 1);
    }
    expected = ops.map((o) => icedOperand(ref, o, true));
    const r32m16 = R32M16_READS[ref.code];
    if (r32m16) {
      // N5
      for (const k of r32m16) expected[k] = expected[k]!.replace(/^r4:/, 'r2:');
    }
    actual = ours.operands.map((_, k) => oursOperand(ours, k, true));
    // MOVSD/CMPSD are also SSE2 instructions; MOVHLPS/MOVLHPS are our MOVLPS/MOVHPS register forms
    const sse = /_xmm/.test(ref.code);
    const mnem = callOrJmpFar(ref) ?? (sse ? SSE_ALIASES[ref.mnemonic] : ALIASES[ref.mnemonic]) ?? ref.mnemonic;
    if (mnem !== ours.mnem && !HINT_NOP.test(ref.code)) diffs.push(`mnemonic ${ours.mnem} != ${mnem}`);
    if (ours.lock !== ref.lock) diffs.push(`lock ${ours.lock} != ${ref.lock}`);
    if (ref.opSize !== 0 && ref.opSize !== ours.opsize * 8) diffs.push(`operand size ${ours.opsize * 8} != ${ref.opSize}`);
    // LOOPcc/JCXZ: the counter (CX or ECX) is chosen by the address size.
    const counter = /^Jcxz_/.test(ref.code) || /_CX$/.test(ref.code) ? 2 : /^Jecxz_/.test(ref.code) || /_ECX$/.test(ref.code) ? 4 : 0;
    if (counter !== 0 && counter !== ours.adsize) diffs.push(`counter size (address size) ${ours.adsize} != ${counter}`);
  }
  if (expected.join(' ') !== actual.join(' ')) diffs.push(`operands [${actual.join(' ')}] != [${expected.join(' ')}]`);
  return diffs;
}

interface Stats {
  strings: number;
  mode16: number;
  mode32: number;
  valid: number; // iced valid + supported, fully compared
  x87: number;
  string: number;
  hintNop: number;
  ud: number; // E1
  prefetchNop: number; // E2
  unsupported: number; // iced valid, feature we lack -> ours invalid
  invalid: number; // iced invalid -> ours invalid
  invalidCompared: number; // of which NoInvalidCheck decoding compared (length + operands)
  tooLong: number;
  unsupportedFeatures: Map<string, number>;
}

function newStats(): Stats {
  return {
    strings: 0, mode16: 0, mode32: 0, valid: 0, x87: 0, string: 0, hintNop: 0, ud: 0, prefetchNop: 0,
    unsupported: 0, invalid: 0, invalidCompared: 0, tooLong: 0, unsupportedFeatures: new Map(),
  };
}

interface Failure {
  /** Groups failures of the same kind: iced's code and the kinds of difference. */
  readonly key: string;
  readonly text: string;
}

/** Checks one byte string; returns a failure report or null. */
function checkOne(bytes: Uint8Array, code32: boolean, eip: number, stats: Stats): Failure | null {
  const bits = code32 ? 32 : 16;
  stats.strings++;
  if (code32) stats.mode32++;
  else stats.mode16++;
  const ours = decode((off) => bytes[off] ?? 0, eip, code32);
  let ref = icedDecode(bits, BASE_OPTS, bytes, eip);
  if (ref.error === 'nomorebytes') return { key: 'nomorebytes', text: 'test bug: byte string too short for iced' };
  const hint = icedDecode(bits, HINT_NOP_OPTS, bytes, eip);
  if (hint.valid && HINT_NOP.test(hint.code)) ref = hint; // N4
  let diffs: string[] = [];
  let note = '';
  if (ours.mnem === '(toolong)') {
    stats.tooLong++;
    if (!ours.invalid || ours.len !== 15) diffs.push('too long but not invalid with length 15');
    if (ref.valid) diffs.push('ours: longer than 15 bytes; iced: valid');
    else if (ref.len !== 15 && supported(icedDecode(bits, NO_CHECK_OPTS, bytes, eip)))
      diffs.push('ours: longer than 15 bytes; iced: a shorter invalid encoding of a known instruction');
  } else if (ours.opcode === 0x0f18 || ours.opcode === 0x0f0d) {
    // E2
    stats.prefetchNop++;
    const memForm = ours.modrm >= 0 && ours.modrm >> 6 !== 3;
    if (ours.invalid === (memForm && !ours.lock)) diffs.push(memForm && !ours.lock ? 'prefetch-space memory form must be a NOP' : 'prefetch-space register form (or LOCK) must be invalid');
    if (memForm && ours.len !== icedDecode(bits, NO_CHECK_OPTS, bytes, eip).len) diffs.push('length differs from iced');
  } else if (supported(ref)) {
    if (UD_CODES.test(ref.code)) {
      // E1
      stats.ud++;
      if (!ours.invalid) diffs.push('UD0/UD1/UD2 must be invalid');
      diffs.push(...compareDecodings(ours, ref, stats));
    } else {
      stats.valid++;
      if (ours.invalid) diffs.push('ours invalid, iced valid');
      diffs.push(...compareDecodings(ours, ref, stats));
    }
  } else if (ref.valid) {
    stats.unsupported++;
    for (const f of ref.features)
      if (!SUPPORTED.has(f)) stats.unsupportedFeatures.set(f, (stats.unsupportedFeatures.get(f) ?? 0) + 1);
    if (!ours.invalid) diffs.push(`ours valid, iced needs ${ref.features.join(',')}`);
  } else {
    stats.invalid++;
    if (!ours.invalid) diffs.push('ours valid, iced invalid');
    const nic = icedDecode(bits, NO_CHECK_OPTS, bytes, eip);
    if (supported(nic) && !PREFETCH_SPACE_NOP.test(nic.code) && !HINT_NOP.test(nic.code) && !UD_CODES.test(nic.code)) {
      stats.invalidCompared++;
      note = `\n  iced(NoInvalidCheck): ${describeIced(nic)}`;
      const sub = newStats();
      diffs.push(...compareDecodings(ours, nic, sub).map((d) => `(vs NoInvalidCheck) ${d}`));
    }
  }
  if (diffs.length === 0) return null;
  const hexBytes = Array.from(bytes.subarray(0, Math.max(ours.len, ref.len, 1)), (b) => b.toString(16).padStart(2, '0'));
  const kinds = diffs.map((d) => /^(\(vs NoInvalidCheck\) )?[^ ]+( [^ 0-9[]+)?/.exec(d)?.[0] ?? d).join(';');
  return {
    key: `${ref.code}/${kinds}`,
    text:
      `[${bits}-bit eip=0x${hex(eip)}] ${hexBytes.join(' ')}: ${diffs.join('; ')}\n` +
      `  iced: ${describeIced(ref)}${note}\n  ours: ${describeOurs(ours)}`,
  };
}

// --- generators -----------------------------------------------------------------------------

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const PREFIXES = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
const BUF_LEN = 24; // > 15, so iced never runs out of bytes and over-long instructions are seen

/** A random instruction-like byte string: ~55% with prefixes (~10% with 4-14 of them), ~45% 0F. */
function randomString(rnd: () => number): Uint8Array {
  const buf = new Uint8Array(BUF_LEN);
  for (let i = 0; i < BUF_LEN; i++) buf[i] = rnd() & 0xff;
  let pos = 0;
  const r = rnd() % 100;
  const nPrefixes = r < 45 ? 0 : r < 90 ? 1 + (rnd() % 3) : 4 + (rnd() % 11);
  for (let i = 0; i < nPrefixes; i++) buf[pos++] = PREFIXES[rnd() % PREFIXES.length]!;
  if (rnd() % 100 < 45) buf[pos] = 0x0f;
  return buf;
}

function randomEip(rnd: () => number, code32: boolean): number {
  const nearTop = rnd() % 8 === 0; // exercise branch-target wrap-around
  if (code32) return nearTop ? (0xffffff00 + (rnd() & 0xff)) >>> 0 : rnd();
  return nearTop ? 0xff00 + (rnd() & 0xff) : rnd() & 0xffff;
}

function reportStats(title: string, s: Stats, seed: number): void {
  const feats = [...s.unsupportedFeatures].sort((a, b) => b[1] - a[1]).map(([f, n]) => `${f}:${n}`).join(' ');
  console.log(
    `${title} (seed ${seed}): ${s.strings} strings (16-bit ${s.mode16}, 32-bit ${s.mode32}); ` +
      `compared valid ${s.valid} (x87 ${s.x87}, string ${s.string}, hint-NOP ${s.hintNop}); ` +
      `UD0/1/2 ${s.ud}; prefetch space (memory NOP, register #UD) ${s.prefetchNop}; unsupported feature -> #UD ${s.unsupported}; ` +
      `iced invalid -> #UD ${s.invalid} (length+operands vs NoInvalidCheck ${s.invalidCompared}); ` +
      `over 15 bytes ${s.tooLong}\n  unsupported features seen: ${feats}`,
  );
}

/** Throws with one example of each kind of failure (at most 40 kinds), if there are any. */
function fail(failures: Failure[], stats: Stats, seed: number): void {
  if (failures.length === 0) return;
  const byKey = new Map<string, { text: string; n: number }>();
  for (const f of failures) {
    const g = byKey.get(f.key);
    if (g) g.n++;
    else byKey.set(f.key, { text: f.text, n: 1 });
  }
  const shown = [...byKey.values()].slice(0, 40).map((g) => `(${g.n}x) ${g.text}`);
  throw new Error(
    `${failures.length} mismatches out of ${stats.strings} strings (DECODER_SEED=${seed}), ${byKey.size} kinds; ` +
      `one example of each of the first ${shown.length}:\n${shown.join('\n')}`,
  );
}

const envSeed = process.env['DECODER_SEED'];
const SEED = envSeed !== undefined && envSeed !== '' ? Number(envSeed) >>> 0 : (Date.now() ^ (Math.random() * 0x100000000)) >>> 0;
const COUNT = Number(process.env['DECODER_COUNT'] ?? 60_000); // per mode

describe('decoder vs iced-x86', () => {
  it(`agrees on ${COUNT * 2} random byte strings in 16- and 32-bit mode`, () => {
    console.log(`decoder-vs-iced: DECODER_SEED=${SEED}`);
    const rnd = prng(SEED);
    const stats = newStats();
    const failures: Failure[] = [];
    for (let n = 0; n < COUNT * 2; n++) {
      const code32 = (n & 1) === 1;
      const r = checkOne(randomString(rnd), code32, randomEip(rnd, code32), stats);
      if (r) failures.push(r);
    }
    reportStats('random', stats, SEED);
    expect(stats.strings).toBeGreaterThanOrEqual(100_000);
    expect(stats.tooLong).toBeGreaterThan(0);
    fail(failures, stats, SEED);
  });

  it('agrees on every opcode x ModRM of both maps in both modes', () => {
    const rnd = prng(SEED ^ 0x5eed);
    const stats = newStats();
    const failures: Failure[] = [];
    for (const code32 of [false, true])
      for (const twoByte of [false, true])
        for (let op = 0; op < 256; op++)
          for (let modrm = 0; modrm < 256; modrm++) {
            const buf = new Uint8Array(BUF_LEN);
            for (let i = 0; i < BUF_LEN; i++) buf[i] = rnd() & 0xff;
            let p = 0;
            if (twoByte) buf[p++] = 0x0f;
            buf[p++] = op;
            buf[p] = modrm;
            const r = checkOne(buf, code32, randomEip(rnd, code32), stats);
            if (r) failures.push(r);
          }
    reportStats('sweep', stats, SEED);
    fail(failures, stats, SEED);
  });
});
