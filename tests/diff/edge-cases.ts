// Hand-written differential cases for the corners random generation rarely hits, each with
// what the SDM says must happen (`expect`), checked against QEMU by the self-check and to be
// compared between QEMU and our CPU by the lead's diff test. Cases where QEMU is known to
// differ from the SDM carry `qemuDiffers` (compare those against `expect`, not QEMU).
import * as A from './x86-asm.js';
import type { Bits, Insn, RM, Size } from './x86-asm.js';
import { CF, PF, AF, ZF, SF, OF, DF, AC, IF, IOPL, ARITH, shiftFlags } from './flags.js';
import { CTXF, LAYOUT, SEL } from '../support/harness-layout.js';
import { modeDefaults, type CaseExpectation, type CaseMode, type DiffCase, type RegName } from '../support/diff-target.js';

const { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI } = A;
const r32 = A.r32, r16 = A.r16, r8 = A.r8, imm = A.imm;
const MASK: Record<number, number> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };

/** Builds one case's code with offsets relative to the case start. */
class Code {
  readonly asm: A.Asm;
  constructor(readonly mode: CaseMode) {
    const d = modeDefaults(mode);
    this.asm = new A.Asm(mode === 'code16' ? 16 : 32, d.eip === 0 ? 0 : LAYOUT.codeArea);
  }
  get bits(): Bits {
    return this.asm.bits;
  }
  /** offset of the next instruction in the case code */
  get off(): number {
    return this.asm.pc - this.asm.origin;
  }
  get pc(): number {
    return this.asm.pc;
  }
  e(...insns: Insn[]): this {
    for (const i of insns) this.asm.emit(i);
    return this;
  }
  mov(n: number, v: number): this {
    return this.e(A.mov(this.bits, r32(n), imm(4, v >>> 0)));
  }
  /** EFLAGS <- v (push imm32; popfd) */
  flags(v: number): this {
    const os = this.bits === 16 ? 4 : 4;
    return this.e(A.push(this.bits, imm(4, v >>> 0), os, 1), A.popf(this.bits, os));
  }
  raw(bytes: number[], text: string): this {
    return this.e(A.raw(bytes, text));
  }
}

/** 66 EA <case_done> <SEL_CODE32>: from 16-bit code to case_done. */
function farJumpToCaseDone(): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  b[0] = 0x66;
  b[1] = 0xea;
  dv.setUint32(2, LAYOUT.caseDone, true);
  dv.setUint16(6, SEL.CODE32, true);
  return b;
}

function mk(name: string, code: Code, p: Partial<DiffCase> & { expect?: CaseExpectation } = {}): DiffCase {
  return {
    name: `edge-${name}`,
    mode: code.mode,
    code: code.asm.code(),
    listing: code.asm.lines(),
    dataWindow: [0, 0x200],
    ...p,
  };
}

const parity = (v: number) => {
  let x = v & 0xff;
  x ^= x >> 4;
  x ^= x >> 2;
  x ^= x >> 1;
  return (x & 1) === 0;
};

/** Reference shift/rotate (SDM pseudo-code): result and the value of each defined flag. */
export function shiftRef(op: string, size: number, value: number, count: number, cfIn: number): { result: number; flags: number } {
  const bits = size * 8;
  const mask = MASK[size]!;
  const msb = (x: number) => (x >>> (bits - 1)) & 1;
  const v = value & mask;
  const mc = count & 0x1f;
  let r = v;
  let cf = cfIn;
  let of = 0;
  switch (op) {
    case 'rol': {
      const tc = mc % bits;
      r = tc ? ((v << tc) | (v >>> (bits - tc))) & mask : v;
      r >>>= 0;
      if (mc) cf = r & 1;
      of = msb(r) ^ cf;
      break;
    }
    case 'ror': {
      const tc = mc % bits;
      r = tc ? ((v >>> tc) | (v << (bits - tc))) & mask : v;
      r >>>= 0;
      if (mc) cf = msb(r);
      of = msb(r) ^ ((r >>> (bits - 2)) & 1);
      break;
    }
    case 'rcl': {
      const tc = bits === 8 ? mc % 9 : bits === 16 ? mc % 17 : mc;
      for (let i = 0; i < tc; i++) {
        const out = msb(r);
        r = ((r << 1) | cf) & mask;
        cf = out;
      }
      r >>>= 0;
      of = msb(r) ^ cf;
      break;
    }
    case 'rcr': {
      const tc = bits === 8 ? mc % 9 : bits === 16 ? mc % 17 : mc;
      of = msb(v) ^ cf;
      for (let i = 0; i < tc; i++) {
        const out = r & 1;
        r = ((r >>> 1) | (cf << (bits - 1))) & mask;
        cf = out;
      }
      r >>>= 0;
      break;
    }
    case 'shl':
      if (mc) {
        r = mc >= 32 ? 0 : ((v * 2 ** mc) % 2 ** bits) >>> 0;
        cf = mc <= bits ? (v >>> (bits - mc)) & 1 : 0;
        of = msb(r) ^ cf;
      }
      break;
    case 'shr':
      if (mc) {
        r = mc >= bits ? 0 : v >>> mc;
        cf = mc <= bits ? (v >>> (mc - 1)) & 1 : 0;
        of = msb(v);
      }
      break;
    case 'sar':
      if (mc) {
        const sv = bits === 32 ? v | 0 : bits === 16 ? (v << 16) >> 16 : (v << 24) >> 24;
        r = (sv >> Math.min(mc, bits - 1)) & mask;
        r >>>= 0;
        cf = (sv >> Math.min(mc - 1, bits - 1)) & 1;
        of = 0;
      }
      break;
  }
  const flags = (cf ? CF : 0) | (of ? OF : 0) | (r === 0 ? ZF : 0) | (msb(r) ? SF : 0) | (parity(r) ? PF : 0);
  return { result: r >>> 0, flags };
}

// ---- shifts and rotates -------------------------------------------------------------------

function shiftCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const values: Record<number, number> = { 1: 0x81, 2: 0x8001, 4: 0x80000001 };
  for (const op of ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar'] as const) {
    for (const size of [1, 2, 4] as const) {
      for (const count of [0, 1, 31, 32]) {
        for (const how of ['imm', 'cl'] as const) {
          for (const cfIn of op === 'rcl' || op === 'rcr' ? [0, 1] : [1]) {
            const c = new Code('flat32');
            const v = values[size]!;
            c.mov(EAX, 0x5a5a0000 | v).mov(ECX, 0xffffff00 | count);
            // known flags before: CF as chosen, others set so that "unchanged" is visible
            c.flags(2 | (cfIn ? CF : 0) | PF | ZF | OF);
            c.e(A.shift(32, op, A.reg(size, EAX), how === 'cl' ? 'cl' : count, how === 'imm' && count === 1 ? false : true));
            const full = (0x5a5a0000 | v) >>> 0;
            const ref = shiftRef(op, size, full & MASK[size]!, count, cfIn);
            const f = shiftFlags(op, size, count);
            const before = 2 | (cfIn ? CF : 0) | PF | ZF | OF;
            const check = (CF | OF | SF | ZF | PF) & ~f.undef;
            // flags not written keep their value
            const expFlags = (ref.flags & f.def) | (before & ~f.def & ~f.undef);
            out.push(mk(`${op}${size * 8}-${how}-${count}${op[1] === 'c' ? `-cf${cfIn}` : ''}`, c, {
              flagsIgnore: f.undef,
              expect: {
                end: 'done',
                regs: { eax: ((full & ~MASK[size]!) | ref.result) >>> 0 },
                flags: [check, expFlags & check],
              },
            }));
          }
        }
      }
    }
  }
  // SHLD/SHRD counts 0, 1, 16, 31, 32 (16-bit counts above 16 leave the result undefined: not generated)
  for (const op of ['shld', 'shrd'] as const) {
    for (const size of [2, 4] as const) {
      for (const count of size === 2 ? [0, 1, 15, 16, 32, 33] : [0, 1, 16, 31, 32, 33]) {
        const c = new Code('flat32');
        c.mov(EAX, 0x12345678).mov(EBX, 0x9abcdef0).mov(ECX, count);
        c.flags(2 | CF | ZF);
        c.e(A.shxd(32, op, A.reg(size, EAX), A.reg(size, EBX), 'cl'));
        const mc = count & 31;
        const bits = size * 8;
        const a = (0x12345678 & MASK[size]!) >>> 0;
        const b = (0x9abcdef0 & MASK[size]!) >>> 0;
        let r = a;
        if (mc) {
          const wide = op === 'shld' ? (BigInt(a) << BigInt(bits)) | BigInt(b) : (BigInt(b) << BigInt(bits)) | BigInt(a);
          r = op === 'shld'
            ? Number((wide >> BigInt(bits - mc)) & BigInt(MASK[size]!))
            : Number((wide >> BigInt(mc)) & BigInt(MASK[size]!));
        }
        out.push(mk(`${op}${bits}-cl-${count}`, c, {
          flagsIgnore: mc === 0 ? 0 : AF | (mc === 1 ? 0 : OF),
          expect: { end: 'done', regs: { eax: ((0x12345678 & ~MASK[size]!) | r) >>> 0 } },
        }));
      }
    }
  }
  return out;
}

// ---- divide ---------------------------------------------------------------------------------

function divCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const de = (name: string, setup: (c: Code) => void, insn: (bits: Bits) => Insn, regs?: Partial<Record<RegName, number>>) => {
    const c = new Code('flat32');
    setup(c);
    const at = c.off;
    c.e(insn(32));
    out.push(mk(name, c, { flagsIgnore: ARITH, expect: { end: { vector: 0, offset: at }, ...(regs ? { regs } : {}) } }));
  };
  for (const size of [1, 2, 4] as const) {
    for (const op of ['div', 'idiv'] as const) {
      de(`${op}${size * 8}-by-zero`, (c) => c.mov(EAX, 0x1234).mov(EDX, 0).mov(EBX, 0), (b) => A.grp3(b, op, A.reg(size, EBX)), { eax: 0x1234 });
    }
  }
  de('div8-overflow', (c) => c.mov(EAX, 0x1000).mov(EBX, 0x10), (b) => A.grp3(b, 'div', r8(EBX)));
  de('div16-overflow', (c) => c.mov(EAX, 0).mov(EDX, 1).mov(EBX, 1), (b) => A.grp3(b, 'div', r16(EBX)));
  de('div32-overflow', (c) => c.mov(EAX, 0).mov(EDX, 1).mov(EBX, 1), (b) => A.grp3(b, 'div', r32(EBX)));
  de('idiv8-min-by-minus1', (c) => c.mov(EAX, 0xff80).mov(EBX, 0xff), (b) => A.grp3(b, 'idiv', r8(EBX)));
  de('idiv16-min-by-minus1', (c) => c.mov(EAX, 0x8000).mov(EDX, 0xffff).mov(EBX, 0xffff), (b) => A.grp3(b, 'idiv', r16(EBX)));
  de('idiv32-min-by-minus1', (c) => c.mov(EAX, 0x80000000).mov(EDX, 0xffffffff).mov(EBX, 0xffffffff), (b) => A.grp3(b, 'idiv', r32(EBX)));
  de('idiv16-positive-overflow', (c) => c.mov(EAX, 0x8000).mov(EDX, 0).mov(EBX, 1), (b) => A.grp3(b, 'idiv', r16(EBX)));
  de('aam-0', (c) => c.mov(EAX, 0x1234), (b) => A.aam(b, 0), { eax: 0x1234 });
  // defined results
  const ok = (name: string, setup: (c: Code) => void, insn: (bits: Bits) => Insn, regs: Partial<Record<RegName, number>>, flagsIgnore = ARITH) => {
    const c = new Code('flat32');
    setup(c);
    c.e(insn(32));
    out.push(mk(name, c, { flagsIgnore, expect: { end: 'done', regs } }));
  };
  ok('idiv8-min-by-1', (c) => c.mov(EAX, 0xff80).mov(EBX, 1), (b) => A.grp3(b, 'idiv', r8(EBX)), { eax: 0x0080 });
  ok('idiv32-neg', (c) => c.mov(EAX, -7).mov(EDX, -1).mov(EBX, 2), (b) => A.grp3(b, 'idiv', r32(EBX)), { eax: -3 >>> 0, edx: -1 >>> 0 });
  ok('div32-max', (c) => c.mov(EAX, 0xffffffff).mov(EDX, 0xfffffffe).mov(EBX, 0xffffffff), (b) => A.grp3(b, 'div', r32(EBX)), { eax: 0xffffffff, edx: 0xfffffffe });
  ok('aam-10', (c) => c.mov(EAX, 0x00ff), (b) => A.aam(b, 10), { eax: 0x1905 }, OF | AF | CF);
  ok('aad-10', (c) => c.mov(EAX, 0x0905), (b) => A.aad(b, 10), { eax: 0x005f }, OF | AF | CF);
  ok('mul32', (c) => c.mov(EAX, 0xffffffff).mov(EBX, 0xffffffff), (b) => A.grp3(b, 'mul', r32(EBX)), { eax: 1, edx: 0xfffffffe }, SF | ZF | AF | PF);
  ok('imul3-16', (c) => c.mov(EBX, 0x8000), (b) => A.imul3(b, r16(EAX), r16(EBX), 0xffff), { eax: 0x8000 }, SF | ZF | AF | PF);
  return out;
}

// ---- segments -------------------------------------------------------------------------------

const NO_LIMITS = 'QEMU (TCG, 7.2) does not check data-segment limits or the writable bit on accesses';

function segmentCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const acc = (name: string, mode: CaseMode, segs: DiffCase['segs'], build: (c: Code) => void, end: CaseExpectation['end'], differs?: string, extra: Partial<DiffCase> = {}) => {
    const c = new Code(mode);
    let at = 0;
    build(Object.assign(c, { mark: () => (at = c.off) }) as Code & { mark: () => number });
    const e: CaseExpectation = { end: typeof end === 'string' ? end : { ...end, offset: at } };
    const p: Partial<DiffCase> = { expect: e, ...extra };
    if (segs) p.segs = segs;
    if (differs) p.qemuDiffers = differs;
    out.push(mk(name, c, p));
  };
  type C = Code & { mark: () => number };
  const ld = (size: Size, seg: number | undefined, disp: number) => A.mov(32, A.reg(size, EAX), A.mem(size, { disp, ...(seg === undefined ? {} : { seg }) }));
  const st = (size: Size, seg: number | undefined, disp: number) => A.mov(32, A.mem(size, { disp, ...(seg === undefined ? {} : { seg }) }), A.reg(size, EAX));
  acc('ds-limit-ok', 'flat32', { ds: SEL.DATA_SMALL }, (c) => c.e(ld(4, undefined, 0xffc)), 'done');
  acc('ds-limit-read', 'flat32', { ds: SEL.DATA_SMALL }, (c) => ((c as C).mark(), c.e(ld(4, undefined, 0x1000))), { vector: 13, errorCode: 0 }, NO_LIMITS);
  acc('ds-limit-straddle', 'flat32', { ds: SEL.DATA_SMALL }, (c) => ((c as C).mark(), c.e(ld(4, undefined, 0xffd))), { vector: 13, errorCode: 0 }, NO_LIMITS);
  acc('es-limit-write', 'flat32', { es: SEL.DATA_SMALL }, (c) => ((c as C).mark(), c.e(st(1, A.ES, 0x1000))), { vector: 13, errorCode: 0 }, NO_LIMITS);
  acc('expdown32-ok', 'flat32', { ds: SEL.EXPDOWN32 }, (c) => c.e(ld(4, undefined, 0xfffff000 | 0)), 'done');
  acc('expdown32-below', 'flat32', { ds: SEL.EXPDOWN32 }, (c) => ((c as C).mark(), c.e(ld(4, undefined, 0xffffeffc | 0))), { vector: 13, errorCode: 0 }, NO_LIMITS);
  acc('expdown16-ok', 'flat32', { fs: SEL.EXPDOWN16 }, (c) => c.e(ld(2, A.FS, 0xfffe)), 'done');
  acc('expdown16-below', 'flat32', { fs: SEL.EXPDOWN16 }, (c) => ((c as C).mark(), c.e(ld(2, A.FS, 0x7ffe))), { vector: 13, errorCode: 0 }, NO_LIMITS);
  acc('expdown16-above-ffff', 'flat32', { fs: SEL.EXPDOWN16 }, (c) => ((c as C).mark(), c.e(ld(4, A.FS, 0xfffe))), { vector: 13, errorCode: 0 }, NO_LIMITS);
  acc('readonly-write', 'flat32', { ds: SEL.DATA_RO }, (c) => ((c as C).mark(), c.e(st(4, undefined, 0x10))), { vector: 13, errorCode: 0 }, NO_LIMITS);
  acc('readonly-read', 'flat32', { ds: SEL.DATA_RO }, (c) => c.e(ld(4, undefined, 0x10)), 'done');
  // SS-relative (EBP base) beyond the limit: #SS(0); ESP stays valid inside the small segment
  acc('ss-limit-ebp', 'flat32', { ss: SEL.DATA_SMALL }, (c) => ((c as C).mark(), c.e(A.mov(32, r32(EAX), A.mem(4, { base: EBP, disp: 0x1000 })))), { vector: 12, errorCode: 0 }, NO_LIMITS, { regs: { esp: 0x800, ebp: 0 }, stackWindow: [LAYOUT.dataArea + 0x700, 0x200] });
  // ring 3 stack beyond its limit: #SS(0) delivered on the ring 0 stack
  acc('ring3-push-below-limit', 'ring3', { ss: SEL.DATA_SMALL_R3 }, (c) => ((c as C).mark(), c.e(A.push(32, r32(EAX)))), { vector: 12, errorCode: 0 }, NO_LIMITS, { regs: { esp: 2 }, stackWindow: [LAYOUT.dataArea, 0x100] });
  // 16-bit code: a 32-bit near jump past the CS limit
  acc('cs-limit-jmp', 'code16', undefined, (c) => {
    (c as C).mark();
    c.e(A.build({ bits: 16, mnem: 'jmp', ops: [{ k: 'rel', target: 0x10000 }], opcode: [0xe9], osize: 4, imms: [[0x10000 - 6, 4]] }));
  }, { vector: 13, errorCode: 0 }, 'QEMU does not check the CS limit on near jumps', {
    // if the jump is not stopped, land on a far jump to case_done instead of running through memory
    memory: [{ addr: LAYOUT.codeArea + 0x10000, bytes: farJumpToCaseDone() }],
  });
  // loading segment registers
  const load = (name: string, mode: CaseMode, sreg: number, sel: number, end: CaseExpectation['end']) => {
    acc(name, mode, undefined, (c) => {
      c.e(A.mov(c.bits, r16(EAX), imm(2, sel)));
      (c as C).mark();
      c.e(A.mov(c.bits, A.sreg(sreg), r16(EAX)));
    }, end);
  };
  const beyond = (LAYOUT.gdtLimit + 1) & 0xfff8;
  load('load-ds-beyond-gdt', 'flat32', A.DS, beyond, { vector: 13, errorCode: beyond });
  load('load-ds-not-present', 'flat32', A.DS, SEL.DATA_NP, { vector: 11, errorCode: SEL.DATA_NP });
  load('load-ss-readonly', 'flat32', A.SS, SEL.DATA_RO, { vector: 13, errorCode: SEL.DATA_RO });
  load('load-ss-null', 'flat32', A.SS, 0, { vector: 13, errorCode: 0 });
  load('load-ss-dpl3-in-ring0', 'flat32', A.SS, SEL.DATA32_R3, { vector: 13, errorCode: SEL.DATA32_R3 & 0xfffc });
  load('load-ds-exec-only', 'flat32', A.DS, SEL.CODE32_XO, { vector: 13, errorCode: SEL.CODE32_XO });
  load('load-ds-readable-code', 'flat32', A.DS, SEL.CODE32, 'done');
  load('load-ds-tss', 'flat32', A.DS, SEL.TSS, { vector: 13, errorCode: SEL.TSS });
  load('load-ds-ldt-selector', 'flat32', A.DS, 0x0c, { vector: 13, errorCode: 0x0c });
  load('ring3-load-ds-dpl0', 'ring3', A.DS, SEL.DATA32 | 3, { vector: 13, errorCode: SEL.DATA32 });
  load('ring3-load-ds-null', 'ring3', A.DS, 3, 'done');
  const NULL_SEG = 'QEMU (TCG, 7.2) does not fault on memory accesses through a null selector';
  acc('ring3-null-ds-access', 'ring3', { ds: 3 }, (c) => ((c as C).mark(), c.e(ld(4, undefined, LAYOUT.dataArea))), { vector: 13, errorCode: 0 }, NULL_SEG);
  acc('ring0-null-ds-access', 'flat32', { ds: 0 }, (c) => ((c as C).mark(), c.e(ld(4, undefined, LAYOUT.dataArea))), { vector: 13, errorCode: 0 }, NULL_SEG);
  // reading through an execute-only CS
  acc('cs-exec-only-read', 'flat32', { cs: SEL.CODE32_XO }, (c) => ((c as C).mark(), c.e(ld(4, A.CS, LAYOUT.dataArea))), { vector: 13, errorCode: 0 }, NO_LIMITS);
  // 16-bit addressing wraps inside the segment: [bx+si] with bx+si > 0xffff
  acc('a16-wrap', 'code16', undefined, (c) => {
    c.e(A.mov(16, r16(EBX), imm(2, 0xfff0)), A.mov(16, r16(ESI), imm(2, 0x0020)));
    c.e(A.mov(16, r16(EAX), A.mem(2, { a16: true, base: EBX, index: ESI })));
  }, 'done', undefined, { data: Uint8Array.from({ length: 0x20 }, (_, i) => i) });
  out[out.length - 1]!.expect!.regs = { eax: 0x1110 };
  acc('a16-bp-uses-ss', 'code16', undefined, (c) => {
    c.e(A.mov(16, r16(EBP), imm(2, 0x7ff0)), A.mov(16, r16(EDI), imm(2, 0x0004)));
    c.e(A.mov(16, r16(EAX), imm(2, 0x1234)));
    c.e(A.mov(16, A.mem(2, { a16: true, base: EBP, index: EDI }), r16(EAX)));
  }, 'done');
  return out;
}

// ---- paging ---------------------------------------------------------------------------------

const RSVD_P = 'QEMU 7.2 reports reserved-bit page faults without the P bit (error code 8 instead of 9)';

function pagingCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const F = LAYOUT.faultArea;
  const pf = (name: string, mode: CaseMode, addr: number, write: boolean, err: number, differs?: string, flags?: number) => {
    const c = new Code(mode);
    c.mov(EBX, addr);
    const at = c.off;
    c.e(write ? A.mov(32, A.mem(4, { base: EBX }), r32(EAX)) : A.mov(32, r32(EAX), A.mem(4, { base: EBX })));
    const p: Partial<DiffCase> = { expect: { end: { vector: 14, errorCode: err, offset: at, cr2: addr } } };
    if (differs) p.qemuDiffers = differs;
    if (flags !== undefined) p.ctxFlags = flags;
    out.push(mk(name, c, p));
  };
  pf('pf-read-np', 'paging32', F + 0x1000, false, 0);
  pf('pf-write-np', 'paging32', F + 0x1000, true, 2);
  pf('pf-user-read-np', 'ring3', F + 0x1000, false, 4);
  pf('pf-user-write-np', 'ring3', F + 0x1000, true, 6);
  pf('pf-sup-write-ro-wp', 'paging32', F + 0x2000, true, 3);
  pf('pf-user-write-ro', 'ring3', F + 0x2000, true, 7);
  pf('pf-user-read-sup', 'ring3', F + 0x3000, false, 5);
  pf('pf-user-write-sup', 'ring3', F + 0x3000, true, 7);
  pf('pf-sup-write-sup-ro', 'paging32', F + 0x4000, true, 3);
  pf('pf-pde-np', 'paging32', LAYOUT.pdeNpArea + 0x1234, false, 0);
  pf('pf-rsvd-read', 'paging32', LAYOUT.rsvdArea + 0x10, false, 9, RSVD_P);
  pf('pf-rsvd-write', 'paging32', LAYOUT.rsvdArea + 0x10, true, 0xb, RSVD_P);
  pf('pf-rsvd-user-read', 'ring3', LAYOUT.rsvdArea + 0x10, false, 0xd, RSVD_P);
  // without CR0.WP a supervisor write to a read-only page succeeds
  {
    const c = new Code('paging32');
    c.mov(EBX, F + 0x2000).mov(EAX, 0x11223344).e(A.mov(32, A.mem(4, { base: EBX }), r32(EAX)));
    out.push(mk('sup-write-ro-no-wp', c, { ctxFlags: CTXF.PAGING | CTXF.PSE, readBack: [[F + 0x2000, 4]], expect: { end: 'done', memory: [[F + 0x2000, [0x44, 0x33, 0x22, 0x11]]] } }));
  }
  // user reads of a read-only page work
  {
    const c = new Code('ring3');
    c.mov(EBX, F + 0x2000).e(A.mov(32, r32(EAX), A.mem(4, { base: EBX })));
    out.push(mk('user-read-ro', c, { expect: { end: 'done' } }));
  }
  // a dword straddling a present and a not-present page
  {
    const c = new Code('paging32');
    c.mov(EBX, F + 0xffe);
    const at = c.off;
    c.e(A.mov(32, r32(EAX), A.mem(4, { base: EBX })));
    out.push(mk('pf-straddle', c, { expect: { end: { vector: 14, errorCode: 0, offset: at } } }));
  }
  // instruction fetch from a not-present page (jump there)
  for (const mode of ['paging32', 'ring3'] as const) {
    const c = new Code(mode);
    c.mov(EAX, F + 0x1000).e(A.indirect(32, 'jmp', r32(EAX)));
    out.push(mk(`pf-fetch-np-${mode}`, c, { expect: { end: { vector: 14, errorCode: mode === 'ring3' ? 4 : 0, cr2: F + 0x1000 } } }));
  }
  // REP MOVSB running into a not-present page: registers show the iterations done
  {
    const c = new Code('paging32');
    c.mov(ESI, LAYOUT.dataArea).mov(EDI, F + 0xffc).mov(ECX, 8).e(A.simple(32, 'cld', [0xfc]));
    const at = c.off;
    c.e(A.str(32, 'movs', 1, { rep: 'rep' }));
    out.push(mk('pf-rep-movsb-midway', c, {
      data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), readBack: [[F + 0xff8, 8]],
      expect: { end: { vector: 14, errorCode: 2, offset: at, cr2: F + 0x1000 }, regs: { ecx: 4, esi: LAYOUT.dataArea + 4, edi: F + 0x1000 }, memory: [[F + 0xffc, [1, 2, 3, 4]]] },
    }));
  }
  // ring 3 push into a not-present page: #PF(6) taken on the ring 0 stack
  {
    const c = new Code('ring3');
    const at = c.off;
    c.e(A.push(32, r32(EAX)));
    out.push(mk('pf-user-push-np', c, { regs: { esp: F + 0x2000 }, stackWindow: [F + 0x2000, 0x100], expect: { end: { vector: 14, errorCode: 6, offset: at, cr2: F + 0x1ffc } } }));
  }
  return out;
}

// ---- string ops with ECX = 0, REP details ----------------------------------------------------

function stringCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const D = LAYOUT.dataArea;
  const ops: Array<[A.StrOp, 'rep' | 'repe' | 'repne']> = [['movs', 'rep'], ['stos', 'rep'], ['lods', 'rep'], ['cmps', 'repe'], ['cmps', 'repne'], ['scas', 'repe'], ['scas', 'repne']];
  for (const [op, rep] of ops) {
    for (const size of [1, 2, 4] as const) {
      for (const a16 of [false, true]) {
        const c = new Code('flat32');
        // CX = 0 while ECX's upper half is not: a 16-bit count must ignore it
        c.mov(ESI, D + 0x40).mov(EDI, D + 0x80).mov(ECX, a16 ? 0x10000 : 0).mov(EAX, 0x11223344);
        c.flags(2 | CF | ZF | SF | OF | AF | PF);
        const insn = A.str(32, op, size, { rep, asize: a16 ? 2 : 4, ...(a16 ? { seg: A.FS } : {}) });
        if (a16) c.e(A.mov(32, r32(ESI), imm(4, 0x40)), A.mov(32, r32(EDI), imm(4, D + 0x80)));
        c.e(insn);
        out.push(mk(`${rep}-${op}${size * 8}-${a16 ? 'cx' : 'ecx'}-zero`, c, {
          data: Uint8Array.from({ length: 0x100 }, (_, i) => i),
          expect: { end: 'done', regs: { eax: 0x11223344, ecx: a16 ? 0x10000 : 0, edi: D + 0x80 }, flags: [ARITH, CF | ZF | SF | OF | AF | PF] },
        }));
      }
    }
  }
  // REPE CMPSB stopping at the first difference; REPNE SCASB finding a byte; STD direction
  {
    const c = new Code('flat32');
    c.mov(ESI, D).mov(EDI, D + 0x10).mov(ECX, 8).e(A.simple(32, 'cld', [0xfc]), A.str(32, 'cmps', 1, { rep: 'repe' }));
    const data = new Uint8Array(0x20);
    data.set([1, 2, 3, 4, 5, 6, 7, 8]);
    data.set([1, 2, 3, 9, 5, 6, 7, 8], 0x10);
    out.push(mk('repe-cmpsb-mismatch', c, { data, expect: { end: 'done', regs: { ecx: 4, esi: D + 4, edi: D + 0x14 } } }));
  }
  {
    const c = new Code('flat32');
    c.mov(EDI, D + 0x10).mov(ECX, 0x10).mov(EAX, 0x33).e(A.simple(32, 'std', [0xfd]), A.str(32, 'scas', 1, { rep: 'repne' }));
    const data = new Uint8Array(0x20);
    data[0x0c] = 0x33;
    out.push(mk('repne-scasb-std', c, { data, expect: { end: 'done', regs: { ecx: 0x0b, edi: D + 0x0b } } }));
  }
  {
    const c = new Code('flat32');
    c.mov(EDI, D + 0x20).mov(ECX, 4).mov(EAX, 0xa1b2c3d4).e(A.simple(32, 'std', [0xfd]), A.str(32, 'stos', 4, { rep: 'rep' }), A.simple(32, 'cld', [0xfc]));
    out.push(mk('rep-stosd-std', c, { expect: { end: 'done', regs: { ecx: 0, edi: D + 0x10 }, memory: [[D + 0x14, [0xd4, 0xc3, 0xb2, 0xa1]]] } }));
  }
  return out;
}

// ---- interrupts and exceptions ------------------------------------------------------------

function exceptionCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const ex = (name: string, mode: CaseMode, build: (c: Code) => void, vector: number, trap: boolean, p: { errorCode?: number; differs?: string; extra?: Partial<DiffCase> } = {}) => {
    const c = new Code(mode);
    const pre = new Code(mode);
    void pre;
    const marks: number[] = [];
    const cc = Object.assign(c, { mark: () => marks.push(c.off) });
    build(cc);
    const at = marks.length ? marks[0]! : 0;
    const offset = trap ? c.off : at;
    const end: CaseExpectation['end'] = { vector, offset };
    if (p.errorCode !== undefined) end.errorCode = p.errorCode;
    const q: Partial<DiffCase> = { expect: { end }, ...(p.extra ?? {}) };
    if (p.differs) q.qemuDiffers = p.differs;
    out.push(mk(name, c, q));
  };
  type M = Code & { mark: () => number };
  ex('int3', 'flat32', (c) => c.e(A.simple(32, 'int3', [0xcc])), 3, true);
  ex('int-3-cd', 'flat32', (c) => c.e(A.intn(32, 3)), 3, true);
  ex('into-of1', 'flat32', (c) => c.flags(2 | OF).e(A.simple(32, 'into', [0xce])), 4, true);
  {
    const c = new Code('flat32');
    c.flags(2).e(A.simple(32, 'into', [0xce]));
    out.push(mk('into-of0', c, { expect: { end: 'done' } }));
  }
  ex('int80', 'flat32', (c) => c.e(A.intn(32, 0x80)), 0x80, true);
  ex('int80-ring3', 'ring3', (c) => c.e(A.intn(32, 0x80)), 0x80, true);
  ex('int3-ring3', 'ring3', (c) => c.e(A.simple(32, 'int3', [0xcc])), 3, true);
  ex('int55-empty-gate', 'flat32', (c) => ((c as M).mark(), c.e(A.intn(32, 0x55))), 13, false, { errorCode: 0x55 * 8 + 2 });
  ex('ring3-int0d-dpl0-gate', 'ring3', (c) => ((c as M).mark(), c.e(A.intn(32, 0x0d))), 13, false, { errorCode: 0x0d * 8 + 2 });
  ex('int1-icebp', 'flat32', (c) => c.e(A.simple(32, 'int1', [0xf1])), 1, true, { differs: 'QEMU 7.2 (built without WANT_ICEBP) raises #UD for ICEBP (F1)' });
  ex('ud2', 'flat32', (c) => ((c as M).mark(), c.e(A.simple(32, 'ud2', [0x0f, 0x0b]))), 6, false);
  ex('lock-reg-dest', 'flat32', (c) => ((c as M).mark(), c.raw([0xf0, 0x01, 0xd8], 'lock add eax, ebx')), 6, false);
  ex('ring3-hlt', 'ring3', (c) => ((c as M).mark(), c.e(A.simple(32, 'hlt', [0xf4]))), 13, false, { errorCode: 0 });
  ex('ring3-cli', 'ring3', (c) => ((c as M).mark(), c.e(A.simple(32, 'cli', [0xfa]))), 13, false, { errorCode: 0 });
  ex('ring3-in', 'ring3', (c) => ((c as M).mark(), c.raw([0xe4, 0x60], 'in al, 0x60')), 13, false, { errorCode: 0 });
  ex('ring3-mov-cr0', 'ring3', (c) => ((c as M).mark(), c.raw([0x0f, 0x20, 0xc0], 'mov eax, cr0')), 13, false, { errorCode: 0 });
  // BOUND: bounds [0x10, 0x20] at DATA+0
  const bounds = Uint8Array.of(0x10, 0, 0, 0, 0x20, 0, 0, 0);
  for (const [v, raises] of [[0x10, false], [0x20, false], [0x0f, true], [0x21, true], [-1, true]] as const) {
    const c = new Code('flat32');
    c.mov(EAX, v).mov(EBX, LAYOUT.dataArea);
    const at = c.off;
    c.e(A.bound(32, r32(EAX), A.mem(8, { base: EBX })));
    out.push(mk(`bound-${v}`, c, { data: bounds, expect: { end: raises ? { vector: 5, offset: at } : 'done' } }));
  }
  // #AC: ring 3, CR0.AM and EFLAGS.AC, a misaligned dword
  {
    const c = new Code('ring3');
    c.flags(2 | AC).mov(EBX, LAYOUT.dataArea + 1);
    const at = c.off;
    c.e(A.mov(32, r32(EAX), A.mem(4, { base: EBX })));
    out.push(mk('ring3-alignment-check', c, {
      ctxFlags: CTXF.PAGING | CTXF.WP | CTXF.PSE | CTXF.AM,
      qemuDiffers: 'QEMU TCG does not raise #AC (alignment check) at all',
      expect: { end: { vector: 17, errorCode: 0, offset: at } },
    }));
  }
  return out;
}

// ---- flags, stack, misc ---------------------------------------------------------------------

function miscCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const D = LAYOUT.dataArea;
  const done = (name: string, mode: CaseMode, build: (c: Code) => void, expect: Omit<CaseExpectation, 'end'>, extra: Partial<DiffCase> = {}) => {
    const c = new Code(mode);
    build(c);
    out.push(mk(name, c, { expect: { end: 'done', ...expect }, ...extra }));
  };
  done('mov-imm', 'flat32', (c) => c.mov(EAX, 0x12345678), { regs: { eax: 0x12345678 } });
  done('mov-imm-code16', 'code16', (c) => c.e(A.mov(16, r16(EAX), imm(2, 0xbeef))), { regs: { eax: 0xbeef } }, { regs: { eax: 0 } });
  for (const name of ['bsf', 'bsr'] as const) {
    done(`${name}-zero`, 'flat32', (c) => c.mov(EAX, 0x5555).mov(EBX, 0).e(A.bsx(32, name, r32(EAX), r32(EBX))), { flags: [ZF, ZF] }, { regsIgnore: ['eax'], flagsIgnore: CF | OF | SF | AF | PF });
    done(`${name}-value`, 'flat32', (c) => c.mov(EBX, 0x00f00800).e(A.bsx(32, name, r32(EAX), r32(EBX))), { regs: { eax: name === 'bsf' ? 11 : 23 }, flags: [ZF, 0] }, { flagsIgnore: CF | OF | SF | AF | PF });
  }
  done('sahf-all', 'flat32', (c) => c.mov(EAX, 0xff00).e(A.simple(32, 'sahf', [0x9e])), { flags: [0xff, SF | ZF | AF | PF | CF | 2] });
  done('lahf', 'flat32', (c) => c.flags(2 | SF | PF | CF | OF).mov(EAX, 0).e(A.simple(32, 'lahf', [0x9f])), { regs: { eax: (SF | PF | CF | 2) << 8 } });
  done('popf-ring3-ignores-if-iopl', 'ring3', (c) => c.flags(2 | IF | IOPL | CF), { flags: [IF | IOPL | CF, CF] });
  done('popf-ring0-iopl', 'flat32', (c) => c.flags(2 | IOPL | CF), { flags: [IOPL | CF, IOPL | CF] });
  done('popf-reserved-bits', 'flat32', (c) => c.flags(0xffc0802a | CF), { flags: [0xffc0802a | 2 | CF, 2 | CF] });
  done('pushfd-image', 'flat32', (c) => c.flags(2 | CF | DF | OF).e(A.pushf(32, 4), A.pop(32, r32(EAX)), A.simple(32, 'cld', [0xfc])), { regs: { eax: 2 | CF | DF | OF } });
  done('mov-r32-sreg-zero-extends', 'flat32', (c) => c.mov(EAX, 0xffffffff).e(A.mov(32, r32(EAX), A.sreg(A.DS))), { regs: { eax: SEL.DATA32 } });
  done('xlat', 'flat32', (c) => c.mov(EBX, D).mov(EAX, 0x1105).e(A.xlat(32)), { regs: { eax: 0x1150 } }, { data: Uint8Array.from({ length: 0x10 }, (_, i) => i * 0x10) });
  done('cmpxchg8b-equal', 'flat32', (c) => c.mov(EDI, D).mov(EAX, 0x03020100).mov(EDX, 0x07060504).mov(EBX, 0xaaaaaaaa).mov(ECX, 0xbbbbbbbb)
    .e(A.relBranch(32, 'jmp8', c.pc, c.pc + 2), A.cmpxchg8b(32, A.mem(8, { base: EDI }))), { flags: [ZF, ZF], memory: [[D, [0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0xbb, 0xbb]]] }, { data: Uint8Array.from({ length: 8 }, (_, i) => i) });
  done('cmpxchg8b-differ', 'flat32', (c) => c.mov(EDI, D).mov(EAX, 1).mov(EDX, 2)
    .e(A.relBranch(32, 'jmp8', c.pc, c.pc + 2), A.cmpxchg8b(32, A.mem(8, { base: EDI }))), { regs: { eax: 0x03020100, edx: 0x07060504 }, flags: [ZF, 0] }, { data: Uint8Array.from({ length: 8 }, (_, i) => i) });
  // QEMU 7.2: CMPXCHG8B right after a flag setter in the same translation block
  done('cmpxchg8b-after-sub-same-tb', 'flat32', (c) => c.mov(EDI, D).mov(EAX, 1).mov(EDX, 2).mov(EBX, 5)
    .e(A.alu(32, 'sub', r32(EBX), imm(4, 5)), A.cmpxchg8b(32, A.mem(8, { base: EDI }))), { flags: [CF | PF | AF | ZF | SF | OF | 0xffff0000 | 0x7028, PF] },
  { data: Uint8Array.from({ length: 8 }, (_, i) => i), qemuDiffers: 'QEMU 7.2 CMPXCHG8B computes EFLAGS from a stale cc_op when the previous flag setter is in the same TB (garbage EFLAGS)' });
  // ENTER nesting levels
  for (const mode of ['flat32', 'code16'] as const) {
    for (const level of [0, 1, 3]) {
      const c = new Code(mode);
      const d = modeDefaults(mode);
      const os = mode === 'code16' ? 2 : 4;
      const fp = d.esp + 0x40;
      c.e(A.mov(c.bits, A.reg(os as Size, EBP), imm(os as Size, fp)));
      c.e(A.enter(c.bits, 0x10, level));
      const frame = d.esp - os;
      const espAfter = d.esp - os * (level === 0 ? 1 : level + 1) - 0x10;
      out.push(mk(`enter-level${level}-${mode}`, c, { expect: { end: 'done', regs: { ebp: frame, esp: espAfter } } }));
    }
  }
  // CALL/RET imm16 in both code sizes
  for (const mode of ['flat32', 'code16'] as const) {
    const c = new Code(mode);
    const os = mode === 'code16' ? 2 : 4;
    c.e(A.push(c.bits, imm(os as Size, 0x1111), os), A.push(c.bits, imm(os as Size, 0x2222), os));
    const callAt = c.pc;
    const callLen = mode === 'code16' ? 3 : 5;
    const jmpLen = 2;
    c.e(A.relBranch(c.bits, 'call', callAt, callAt + callLen + jmpLen));
    const jmpAt = c.pc;
    const retLen = 3;
    const movLen = mode === 'code16' ? 3 : 5;
    c.e(A.relBranch(c.bits, 'jmp8', jmpAt, jmpAt + jmpLen + movLen + retLen));
    c.e(A.mov(c.bits, A.reg(os as Size, EAX), imm(os as Size, 0x77)), A.ret(c.bits, 2 * os));
    out.push(mk(`call-ret-imm-${mode}`, c, { expect: { end: 'done', regs: { eax: 0x77, esp: modeDefaults(mode).esp } } }));
  }
  // LOOP with CX (address-size prefix) ignores ECX's upper half
  done('loop-cx', 'flat32', (c) => {
    c.mov(ECX, 0x00010003).mov(EAX, 0);
    const head = c.pc;
    c.e(A.incdec(32, 'inc', r32(EAX), 1), A.loopInsn(32, 'loop', c.pc + 1, head, 2));
  }, { regs: { eax: 3, ecx: 0x00010000 } });
  done('jecxz-taken', 'flat32', (c) => {
    c.mov(ECX, 0).mov(EAX, 1);
    c.e(A.loopInsn(32, 'jecxz', c.pc, c.pc + 2 + 5));
    c.mov(EAX, 2);
  }, { regs: { eax: 1 } });
  done('daa', 'flat32', (c) => c.mov(EAX, 0x79).mov(EBX, 0x35).e(A.alu(32, 'add', r8(EAX), r8(EBX)), A.simple(32, 'daa', [0x27])), { regs: { eax: 0x14 }, flags: [CF, CF] }, { flagsIgnore: OF });
  done('aaa', 'flat32', (c) => c.mov(EAX, 0x0108).mov(EBX, 0x08).e(A.alu(32, 'add', r8(EAX), r8(EBX)), A.simple(32, 'aaa', [0x37])), { regs: { eax: 0x0206 }, flags: [CF | AF, CF | AF] }, { flagsIgnore: OF | SF | ZF | PF });
  done('aaa-carry-into-ah', 'flat32', (c) => c.mov(EAX, 0x00fb).flags(2 | AF).e(A.simple(32, 'aaa', [0x37])), { regs: { eax: 0x0201 } }, { flagsIgnore: OF | SF | ZF | PF });
  return out;
}

/** Every hand-written case. */
export function edgeCases(): DiffCase[] {
  return [...shiftCases(), ...divCases(), ...segmentCases(), ...pagingCases(), ...stringCases(), ...exceptionCases(), ...miscCases()];
}

void DF;
void AF;
export type { RM };
