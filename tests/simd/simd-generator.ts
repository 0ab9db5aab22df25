// Seeded random MMX/SSE/SSE2 cases for the differential test against QEMU 7.2
// (tests/simd/simd-diff.test.ts), on the diff harness (tests/diff/README.md), flat 32-bit
// ring 0, -cpu qemu32 on both.
//
// A case: CR4.OSFXSR|OSXMMEXCPT on; FXRSTOR of a random state (MXCSR with a random rounding
// mode, DAZ, FTZ and sticky flags, every exception masked; XMM0-7 of special values: NaNs
// with payloads, denormals, infinities, zeros, extreme and small-integer values, as singles,
// doubles or raw bytes; MM0-7 random); 1-6 instructions drawn from the opcode table's SIMD
// entries (every form: register and memory operands, immediates); FXSAVE of the result.
// Memory operands are 16-byte aligned slots of the data window, which is compared too, with
// the general registers and EFLAGS. Exceptions stay masked here: QEMU 7.2 never raises #XM
// (decisions.md); the unmasked family below compares through QEMU's step-by-step state.
import { Rng, caseSeed } from '../diff/generator.js';
import { LAYOUT } from '../support/harness-layout.js';
import type { DiffCase } from '../support/diff-target.js';
import { TWO_BYTE, F_SIMD, isGroup, isPrefixed, type OpcodeEntry, type PrefixedEntry } from '../../src/cpu/opcode-table.js';

const DATA = LAYOUT.dataArea;
const IMG = 0x000; // FXRSTOR image
const SLOTS = 0x200; // memory operands: 64 slots of 16 bytes
const NSLOTS = 56;
const MASKMOV_AT = 0x580; // EDI for MASKMOVQ/MASKMOVDQU
const MXCSR_SLOT = 0x5c0; // LDMXCSR's operand (a masked MXCSR)
const OUT = 0x600; // FXSAVE at the end
export const SIMD_WINDOW = 0x800;

export interface SimdForm {
  prefix: number; // 0, 0x66, 0xf3, 0xf2
  op: number; // second opcode byte
  group: number; // ModRM.reg of a group entry, or -1
  regForm: boolean | null; // the group slot exists only for mod = 3 (true) or mod != 3 (false); null: both
  e: OpcodeEntry;
}

/** Every SIMD form of the opcode table, except CLFLUSH (absent on qemu32). */
export function simdForms(): SimdForm[] {
  const out: SimdForm[] = [];
  const PFX = [0, 0x66, 0xf3, 0xf2];
  TWO_BYTE.forEach((slot, op) => {
    if (slot === null) return;
    const add = (s: typeof slot | OpcodeEntry | PrefixedEntry | null, group: number, regForm: boolean | null): void => {
      if (s === null) return;
      if (isPrefixed(s)) {
        s.simd.forEach((e, k) => {
          if (e && e.flags & F_SIMD && e.mnem !== 'clflush') out.push({ prefix: PFX[k]!, op, group, regForm, e });
        });
      }
    };
    if (isGroup(slot)) {
      slot.group.forEach((s, r) => add(s, r, slot.reg3 ? false : null));
      slot.reg3?.forEach((s, r) => add(s, r, true));
    } else add(slot, -1, null);
  });
  return out;
}

const FORMS = simdForms();

// ---- values -------------------------------------------------------------------------------

function f32(r: Rng): number {
  const sign = r.int(0, 1) << 31;
  const k = r.weighted([
    ['normal', 30], ['near1', 12], ['int', 8], ['wide', 6], ['zero', 6], ['denormal', 8], ['inf', 4], ['qnan', 4], ['snan', 4],
    ['max', 2], ['minnorm', 3], ['tiny', 4], ['big', 3],
  ] as const);
  switch (k) {
    case 'normal': return sign | ((127 + r.int(-20, 20)) << 23) | (r.u32() & 0x7fffff);
    case 'near1': return sign | ((127 + r.int(-2, 2)) << 23) | ((r.u32() & 0x7fffff) >>> r.int(0, 23) << 0);
    case 'int': {
      const v = Math.fround((r.int(0, 1) ? -1 : 1) * r.int(0, 1 << r.int(0, 31)));
      return new Int32Array(new Float32Array([v]).buffer)[0]!;
    }
    case 'wide': return sign | (r.int(1, 254) << 23) | (r.u32() & 0x7fffff);
    case 'zero': return sign;
    case 'denormal': return sign | (r.u32() & 0x7fffff >>> r.int(0, 22)) | 1;
    case 'inf': return sign | 0x7f800000;
    case 'qnan': return sign | 0x7fc00000 | (r.u32() & 0x3fffff);
    case 'snan': return sign | 0x7f800000 | ((r.u32() & 0x3fffff) | 1);
    case 'max': return sign | 0x7f7fffff - r.int(0, 3);
    case 'minnorm': return sign | (0x00800000 + r.int(-2, 2));
    case 'tiny': return sign | (r.int(1, 30) << 23) | (r.u32() & 0x7fffff);
    default: return sign | (r.int(220, 254) << 23) | (r.u32() & 0x7fffff);
  }
}

function f64(r: Rng): [number, number] {
  const sign = r.int(0, 1) << 31;
  const lo = r.u32() | 0;
  const k = r.weighted([
    ['normal', 30], ['near1', 12], ['int', 8], ['wide', 6], ['zero', 6], ['denormal', 8], ['inf', 4], ['qnan', 4], ['snan', 4],
    ['max', 2], ['tiny', 4], ['big', 3], ['single', 6],
  ] as const);
  switch (k) {
    case 'normal': return [lo, sign | ((1023 + r.int(-40, 40)) << 20) | (r.u32() & 0xfffff)];
    case 'near1': return [r.chance(0.5) ? 0 : lo, sign | ((1023 + r.int(-2, 2)) << 20) | (r.u32() & 0xfffff)];
    case 'int': {
      const v = (r.int(0, 1) ? -1 : 1) * r.int(0, 2 ** r.int(0, 33));
      const b = new Int32Array(new Float64Array([v]).buffer);
      return [b[0]!, b[1]!];
    }
    case 'wide': return [lo, sign | (r.int(1, 2046) << 20) | (r.u32() & 0xfffff)];
    case 'zero': return [0, sign];
    case 'denormal': return [lo | 1, sign | (r.u32() & 0xfffff >>> r.int(0, 20))];
    case 'inf': return [0, sign | 0x7ff00000];
    case 'qnan': return [lo, sign | 0x7ff80000 | (r.u32() & 0x7ffff)];
    case 'snan': return [lo | 1, sign | 0x7ff00000 | (r.u32() & 0x7ffff)];
    case 'max': return [-1 - r.int(0, 3), sign | 0x7fefffff];
    case 'tiny': return [lo, sign | (r.int(1, 60) << 20) | (r.u32() & 0xfffff)];
    case 'big': return [lo, sign | (r.int(1990, 2046) << 20) | (r.u32() & 0xfffff)];
    default: {
      // a double in the single range (CVTSD2SS rounding, overflow and underflow edges)
      return [r.chance(0.5) ? lo & ~0x1fffffff : lo, sign | ((1023 + r.int(-155, 130)) << 20) | (r.u32() & 0xfffff)];
    }
  }
}

/** 16 bytes: four singles, two doubles, or integers. */
function vec(r: Rng): number[] {
  const k = r.weighted([['ps', 4], ['pd', 4], ['int', 2]] as const);
  const d: number[] = [];
  if (k === 'ps') for (let i = 0; i < 4; i++) d.push(f32(r));
  else if (k === 'pd') for (let i = 0; i < 2; i++) d.push(...f64(r));
  else for (let i = 0; i < 4; i++) d.push(r.chance(0.3) ? r.pick([0, -1, 0x7fffffff, -0x80000000, 0x80008000, 0x7fff7fff, 0x00ff00ff]) : r.u32() | 0);
  return d;
}

function put32(b: Uint8Array, off: number, v: number): void {
  new DataView(b.buffer).setUint32(off, v >>> 0, true);
}

function randomMxcsr(r: Rng): number {
  return 0x1f80 | (r.int(0, 3) << 13) | (r.chance(0.25) ? 0x40 : 0) | (r.chance(0.25) ? 0x8000 : 0) | (r.chance(0.5) ? r.u32() & 0x3f : 0);
}

// ---- encoding -------------------------------------------------------------------------------

const GPR_SRC = [0, 1, 2, 3, 5, 6];
const GPR_DST = [0, 1, 2, 3, 5, 6];

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function encode(r: Rng, f: SimdForm, mxcsrStores: number[]): { bytes: number[]; text: string } {
  const ops = f.e.operands;
  let reg = f.group >= 0 ? f.group : 0;
  let rmBytes: number[] = [];
  let mod3 = true;
  let rm = 0;
  const texts: string[] = [];
  const memAllowed = f.regForm !== true;
  const regAllowed = f.regForm !== false;
  let imm: number[] = [];
  // the r/m operand: register or memory
  const rmSpec = ops.find((o) => /^[WQEMUN]/.test(o));
  const wantMem = rmSpec !== undefined && memAllowed && (rmSpec[0] === 'M' || (/^[WQE]/.test(rmSpec) && (!regAllowed || r.chance(0.4))));
  for (const o of ops) {
    const k = o[0]!;
    if (k === 'V' || k === 'P') {
      reg = r.int(0, 7);
      texts.push(`${k === 'V' ? 'xmm' : 'mm'}${reg}`);
    } else if (k === 'G') {
      reg = r.pick(o === ops[0] ? GPR_DST : GPR_SRC);
      texts.push(`r${reg}`);
    } else if (k === 'I') {
      const m = f.e.mnem;
      const v = /^cmp/.test(m) ? r.int(0, 7) : /^p(sr|sl)/.test(m) ? r.pick([0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 200]) : r.int(0, 255);
      imm = [v];
      texts.push(String(v));
    } else if (o === rmSpec) {
      if (wantMem) {
        mod3 = false;
        const slot = f.e.mnem === 'ldmxcsr' ? MXCSR_SLOT : SLOTS + 16 * r.int(0, NSLOTS - 1);
        if (f.e.mnem === 'stmxcsr') mxcsrStores.push(slot);
        rmBytes = le32(DATA + slot);
        texts.push(`[0x${slot.toString(16)}]`);
      } else {
        rm = k === 'E' ? r.pick(o === ops[0] ? GPR_DST : GPR_SRC) : r.int(0, 7);
        texts.push(k === 'E' ? `r${rm}` : k === 'W' || k === 'U' ? `xmm${rm}` : `mm${rm}`);
      }
    }
  }
  if (!rmSpec) mod3 = f.regForm !== false; // fences: register form
  const modrm = mod3 ? 0xc0 | (reg << 3) | rm : (reg << 3) | 5;
  const pre = f.prefix ? [f.prefix] : [];
  const hasModrm = rmSpec !== undefined || f.group >= 0 || ops.some((o) => /^[VPG]/.test(o));
  const bytes = [...pre, 0x0f, f.op, ...(hasModrm ? [modrm] : []), ...rmBytes, ...imm];
  return { bytes, text: `${f.prefix ? f.prefix.toString(16) + ' ' : ''}${f.e.mnem} ${texts.join(', ')}` };
}

export interface SimdCase extends DiffCase {
  /** offset of the FXSAVE image in the data window */
  fxOut: number;
  /** offsets STMXCSR stored to (their DE bit is not compared) */
  mxcsrStores: number[];
}

export function generateSimdCase(seed: number): SimdCase {
  const r = new Rng(seed);
  const data = new Uint8Array(OUT);
  // FXRSTOR image
  put32(data, IMG + 0, 0x037f); // FCW; FSW 0
  data[IMG + 4] = r.chance(0.5) ? 0xff : r.int(0, 255); // abridged tag word
  put32(data, IMG + 24, randomMxcsr(r));
  for (let i = 0; i < 8; i++) {
    put32(data, IMG + 32 + 16 * i, r.u32());
    put32(data, IMG + 36 + 16 * i, r.u32());
    data[IMG + 40 + 16 * i] = r.chance(0.5) ? 0xff : r.int(0, 255);
    data[IMG + 41 + 16 * i] = r.chance(0.5) ? 0xff : r.int(0, 255);
  }
  for (let i = 0; i < 8; i++) vec(r).forEach((v, k) => put32(data, IMG + 160 + 16 * i + 4 * k, v));
  for (let s = 0; s < NSLOTS; s++) vec(r).forEach((v, k) => put32(data, SLOTS + 16 * s + 4 * k, v));
  put32(data, MXCSR_SLOT, randomMxcsr(r));
  const code: number[] = [];
  const listing: string[] = [];
  const mxcsrStores: number[] = [];
  const emit = (b: number[], t: string) => {
    code.push(...b);
    listing.push(t);
  };
  emit([0x0f, 0x20, 0xe0, 0x0d, 0x00, 0x06, 0x00, 0x00, 0x0f, 0x22, 0xe0], 'cr4 |= OSFXSR | OSXMMEXCPT');
  emit([0x0f, 0xae, 0x0d, ...le32(DATA + IMG)], 'fxrstor [img]');
  emit([0xb8, ...le32(r.u32())], 'mov eax, imm');
  const n = r.int(1, 6);
  for (let k = 0; k < n; k++) {
    const f = r.pick(FORMS);
    const { bytes, text } = encode(r, f, mxcsrStores);
    emit(bytes, text);
  }
  emit([0x0f, 0xae, 0x05, ...le32(DATA + OUT)], 'fxsave [out]');
  const regs = {
    ebx: r.u32(), ecx: r.u32(), edx: r.u32(), ebp: r.u32(), esi: r.u32(), edi: DATA + MASKMOV_AT,
  };
  return {
    name: `simd-${seed}`,
    seed,
    mode: 'flat32',
    code: new Uint8Array(code),
    data,
    dataWindow: [0, SIMD_WINDOW],
    listing,
    regs,
    flagsIgnore: 0,
    timeoutMs: 5000,
    fxOut: OUT,
    mxcsrStores,
    reproduce: `SIMD_CASE=${seed}`,
  };
}

export function generateSimdCases(baseSeed: number, count: number): SimdCase[] {
  return Array.from({ length: count }, (_, i) => generateSimdCase(caseSeed(baseSeed ^ 0x55e, i)));
}

// ---- unmasked exceptions ----------------------------------------------------------------------
// QEMU 7.2 never raises #XM: it sets the flags and writes the result, as if masked. The SDM
// (and bmbt-dbg, decisions.md) raise #XM (#UD without CR4.OSXMMEXCPT) before anything is
// written. These cases are compared through what both agree on: an FXSAVE after every
// instruction gives QEMU's state step by step; the first instruction whose new flags
// include an unmasked one is where bmbt-dbg must fault, with the state QEMU had before it
// plus that instruction's flags (only the pre-computation IE/DE/ZE when one of them is
// unmasked), and its EIP. Only instructions with XMM/MMX destinations (no stores, no
// general registers, no EFLAGS) take part, DM and UM stay masked (see below), and the
// initial MXCSR has no sticky flags, so every flag set before the fault was masked.

const SNAPS = 0x600; // FXSAVE after FXRSTOR and after each instruction, 512 bytes each
const MAX_UNMASK_INSNS = 6;
export const FAULT_IMAGE = SNAPS + 0x200 * (MAX_UNMASK_INSNS + 1); // the handler's FXSAVE
export const FAULT_MARK = FAULT_IMAGE + 0x200; // vector, faulting EIP
export const UNMASK_WINDOW = FAULT_MARK + 0x10;

export interface UnmaskCase extends DiffCase {
  /** EIP of each SIMD instruction, in order */
  eips: number[];
  /** how many SIMD instructions (snapshot k + 1 follows instruction k) */
  count: number;
  /** the exceptions unmasked in MXCSR */
  unmasked: number;
  /** CR4.OSXMMEXCPT set: #XM, else #UD */
  osxmmexcpt: boolean;
}

function unmaskable(f: SimdForm): boolean {
  const dst = f.e.operands[0] ?? '';
  if (!/^[VP]/.test(dst)) return false; // XMM/MMX destinations only
  return !/^(movmsk|pmovmsk|pextrw|comis|ucomis|cvt\w*2si$|ldmxcsr|stmxcsr|maskmov|emms)/.test(f.e.mnem);
}
const UNMASK_FORMS = FORMS.filter(unmaskable);

export function generateUnmaskCase(seed: number): UnmaskCase {
  const r = new Rng(seed);
  const data = new Uint8Array(SNAPS);
  put32(data, IMG + 0, 0x037f);
  data[IMG + 4] = 0xff;
  // at least one of IE, ZE, OE, PE unmasked; DM always masked (QEMU has no DE), UM too (an
  // exact tiny result signals an unmasked UE in the SDM, nothing in QEMU's masked semantics)
  let unmasked = 0;
  while (!unmasked) for (const bit of [0, 2, 3, 5]) if (r.chance(0.35)) unmasked |= 1 << bit;
  const mxcsr = ((0x1f80 & ~(unmasked << 7)) | (r.int(0, 3) << 13) | (r.chance(0.25) ? 0x40 : 0) | (r.chance(0.25) ? 0x8000 : 0)) >>> 0;
  put32(data, IMG + 24, mxcsr);
  for (let i = 0; i < 8; i++) {
    put32(data, IMG + 32 + 16 * i, r.u32());
    put32(data, IMG + 36 + 16 * i, r.u32());
  }
  for (let i = 0; i < 8; i++) vec(r).forEach((v, k) => put32(data, IMG + 160 + 16 * i + 4 * k, v));
  for (let s = 0; s < NSLOTS; s++) vec(r).forEach((v, k) => put32(data, SLOTS + 16 * s + 4 * k, v));
  const osxmmexcpt = r.chance(0.8);
  const base = LAYOUT.codeArea;
  const code: number[] = [];
  const listing: string[] = [];
  const emit = (b: number[], t: string) => {
    code.push(...b);
    listing.push(t);
  };
  // the handler of #XM and #UD, jumped over: vector and EIP to FAULT_MARK, FXSAVE, case_done
  const handlerAt: number[] = [];
  emit([0xe9, ...le32(2 * 32)], 'jmp over the handlers');
  for (const v of [19, 6]) {
    handlerAt.push(base + code.length);
    const jmpFrom = base + code.length + 32;
    emit([
      0xc7, 0x05, ...le32(DATA + FAULT_MARK), ...le32(v), // mov dword [mark], v
      0x8f, 0x05, ...le32(DATA + FAULT_MARK + 4), // pop dword [mark + 4] (EIP)
      0x8d, 0x64, 0x24, 0x08, // lea esp, [esp + 8] (CS, EFLAGS; no flags changed)
      0x0f, 0xae, 0x05, ...le32(DATA + FAULT_IMAGE), // fxsave [fault]
      0xe9, ...le32((LAYOUT.caseDone - jmpFrom) | 0), // jmp case_done
    ], `handler ${v}`);
  }
  emit([0x0f, 0x20, 0xe0, 0x0d, 0x00, osxmmexcpt ? 0x06 : 0x02, 0x00, 0x00, 0x0f, 0x22, 0xe0], `cr4 |= OSFXSR${osxmmexcpt ? ' | OSXMMEXCPT' : ''}`);
  emit([0x0f, 0xae, 0x0d, ...le32(DATA + IMG)], 'fxrstor [img]');
  emit([0x0f, 0xae, 0x05, ...le32(DATA + SNAPS)], 'fxsave [snap 0]');
  const n = r.int(1, MAX_UNMASK_INSNS);
  const eips: number[] = [];
  for (let k = 0; k < n; k++) {
    const f = r.pick(UNMASK_FORMS);
    const { bytes, text } = encode(r, f, []);
    eips.push(base + code.length);
    emit(bytes, text);
    emit([0x0f, 0xae, 0x05, ...le32(DATA + SNAPS + 0x200 * (k + 1))], `fxsave [snap ${k + 1}]`);
  }
  return {
    name: `simd-unmask-${seed}`,
    seed,
    mode: 'flat32',
    code: new Uint8Array(code),
    data,
    dataWindow: [0, UNMASK_WINDOW],
    listing,
    regs: { ebx: r.u32(), ecx: r.u32(), edx: r.u32(), ebp: r.u32(), esi: r.u32(), edi: DATA + MASKMOV_AT },
    patches: [
      [LAYOUT.idt + 19 * 8, ((0x08 << 16) | (handlerAt[0]! & 0xffff)) >>> 0], [LAYOUT.idt + 19 * 8 + 4, ((handlerAt[0]! & 0xffff0000) | 0x8e00) >>> 0],
      [LAYOUT.idt + 6 * 8, ((0x08 << 16) | (handlerAt[1]! & 0xffff)) >>> 0], [LAYOUT.idt + 6 * 8 + 4, ((handlerAt[1]! & 0xffff0000) | 0x8e00) >>> 0],
    ],
    flagsIgnore: 0x200,
    timeoutMs: 5000,
    eips,
    count: n,
    unmasked,
    osxmmexcpt,
    reproduce: `SIMD_UNMASK_CASE=${seed}`,
  };
}

export function generateUnmaskCases(baseSeed: number, count: number): UnmaskCase[] {
  return Array.from({ length: count }, (_, i) => generateUnmaskCase(caseSeed(baseSeed ^ 0xa5a5, i)));
}
