// The differential-test encoder checked against iced-x86's decoder: every instruction of
// many generated cases and of the edge cases decodes to the same length, mnemonic and
// operands; the generator's flag tables agree with iced-x86's.
import { createRequire } from 'node:module';
import type * as IcedApi from 'iced-x86';
import { describe, expect, it } from 'vitest';
import * as A from './x86-asm.js';
import type { Insn, Mem, Op } from './x86-asm.js';
import { aluFlags, shiftFlags, ARITH, CF, PF, AF, ZF, SF, OF, type FlagEffect } from './flags.js';
import { generateCase, caseSeed } from './generator.js';
import { edgeCases } from './edge-cases.js';
import { CASE_MODES, modeDefaults } from '../support/diff-target.js';

const require = createRequire(import.meta.url);
const iced = require('iced-x86') as typeof IcedApi;
const { Decoder, DecoderOptions, Mnemonic, OpKind, Register, MemorySize, Code } = iced;

const SIZE_OF_MEM: Record<string, number> = {
  UInt8: 1, Int8: 1, UInt16: 2, Int16: 2, UInt32: 4, Int32: 4, UInt64: 8, Int64: 8,
  Bound16_WordWord: 4, Bound32_DwordDword: 8, Unknown: 0, WordOffset: 2, DwordOffset: 4,
};

function icedFlags(bits: number): number {
  // iced: OF=1 SF=2 ZF=4 AF=8 CF=16 PF=32
  return (bits & 1 ? OF : 0) | (bits & 2 ? SF : 0) | (bits & 4 ? ZF : 0) | (bits & 8 ? AF : 0) | (bits & 16 ? CF : 0) | (bits & 32 ? PF : 0);
}

/** Decodes one instruction and describes what differs from ours (empty if nothing). */
function check(bits: 16 | 32, ip: number, insn: Insn): string[] {
  const bytes = Uint8Array.from(insn.bytes);
  const d = new Decoder(bits, bytes, DecoderOptions.None);
  d.ip = BigInt(ip);
  const ins = d.decode();
  const bad: string[] = [];
  try {
    if (ins.isInvalid) return [`iced: invalid (${insn.text})`];
    if (ins.length !== bytes.length) bad.push(`length ${ins.length} vs ${bytes.length}`);
    const mn = Mnemonic[ins.mnemonic]!.toLowerCase();
    if (mn !== insn.mnem) bad.push(`mnemonic ${mn} vs ${insn.mnem}`);
    const implicit = insn.ops.length === 0;
    if (!implicit && ins.opCount !== insn.ops.length) bad.push(`operand count ${ins.opCount} vs ${insn.ops.length}`);
    const amask = (a16: boolean) => (a16 ? 0xffff : 0xffffffff);
    for (let i = 0; !implicit && i < Math.min(ins.opCount, insn.ops.length); i++) {
      const o: Op = insn.ops[i]!;
      const kind = OpKind[ins.opKind(i)]!;
      if (o.k === 'reg' || o.k === 'sreg') {
        const name = Register[ins.opRegister(i)]!.toLowerCase();
        const mine = o.k === 'reg' ? A.REG_NAMES[o.size][o.n]! : A.SEG_NAMES[o.n]!;
        if (kind !== 'Register' || name !== mine) bad.push(`op${i} ${kind}:${name} vs ${mine}`);
      } else if (o.k === 'imm') {
        if (!kind.startsWith('Immediate')) bad.push(`op${i} ${kind} vs imm`);
        const mask = o.size === 4 ? 0xffffffffn : o.size === 2 ? 0xffffn : 0xffn;
        const v = ins.immediate(i) & mask;
        if (v !== (BigInt(o.v >>> 0) & mask)) bad.push(`op${i} imm ${v.toString(16)} vs ${(o.v >>> 0).toString(16)}`);
      } else if (o.k === 'rel') {
        if (!kind.startsWith('NearBranch')) bad.push(`op${i} ${kind} vs rel`);
        if (ins.nearBranchTarget !== BigInt(o.target >>> 0)) bad.push(`op${i} target ${ins.nearBranchTarget.toString(16)} vs ${o.target.toString(16)}`);
      } else {
        const m: Mem = o;
        if (kind !== 'Memory') {
          bad.push(`op${i} ${kind} vs mem`);
          continue;
        }
        const names = m.a16 ? A.REG_NAMES[2] : A.REG_NAMES[4];
        const base = Register[ins.memoryBase]!.toLowerCase();
        const index = Register[ins.memoryIndex]!.toLowerCase();
        const wantBase = m.base === undefined ? 'none' : names[m.base]!;
        const wantIndex = m.index === undefined ? 'none' : names[m.index]!;
        if (m.a16) {
          // iced calls a lone [si]/[di] the base; compare the register set
          const got = [base, index].filter((r) => r !== 'none').sort().join('+');
          const want = [wantBase, wantIndex].filter((r) => r !== 'none').sort().join('+');
          if (got !== want) bad.push(`op${i} registers ${got} vs ${want}`);
        } else {
          if (base !== wantBase) bad.push(`op${i} base ${base} vs ${wantBase}`);
          if (index !== wantIndex) bad.push(`op${i} index ${index} vs ${wantIndex}`);
        }
        if (m.index !== undefined && ins.memoryIndexScale !== m.scale) bad.push(`op${i} scale ${ins.memoryIndexScale} vs ${m.scale}`);
        const disp = Number(ins.memoryDisplacement & BigInt(amask(m.a16)));
        if (disp !== ((m.disp & amask(m.a16)) >>> 0)) bad.push(`op${i} disp ${disp.toString(16)} vs ${((m.disp & amask(m.a16)) >>> 0).toString(16)}`);
        const seg = Register[ins.memorySegment]!.toLowerCase();
        if (seg !== A.SEG_NAMES[A.effectiveSeg(m)]) bad.push(`op${i} segment ${seg} vs ${A.SEG_NAMES[A.effectiveSeg(m)]}`);
        const size = SIZE_OF_MEM[MemorySize[ins.memorySize]!];
        if (size !== undefined && m.size !== 0 && size !== m.size && mn !== 'nop') bad.push(`op${i} size ${size} vs ${m.size}`);
      }
    }
    if (insn.rep) {
      const got = ins.hasRepnePrefix ? 'repne' : ins.hasRepePrefix ? (insn.mnem.startsWith('cmps') || insn.mnem.startsWith('scas') ? 'repe' : 'rep') : 'none';
      if (got !== insn.rep) bad.push(`prefix ${got} vs ${insn.rep}`);
    }
    if (insn.asize) {
      const code = Code[ins.code]!;
      let a16: boolean | undefined;
      for (let i = 0; i < ins.opCount; i++) {
        const k = OpKind[ins.opKind(i)]!;
        if (/^Memory(Seg)?(ES)?(SI|DI|RSI|RDI)$/.test(k)) a16 = true;
        if (/^Memory(Seg)?(ES)?(ESI|EDI)$/.test(k)) a16 = false;
      }
      if (/_CX$/.test(code)) a16 = true;
      if (/_ECX$/.test(code)) a16 = false;
      if (insn.mnem === 'xlatb') a16 = Register[ins.memoryBase] === 'BX';
      if (a16 !== undefined && a16 !== (insn.asize === 2)) bad.push(`address size ${a16 ? 16 : 32} vs ${insn.asize * 8}`);
    }
    if (insn.seg !== undefined) {
      const seg = Register[ins.segmentPrefix]!.toLowerCase();
      if (seg !== A.SEG_NAMES[insn.seg]) bad.push(`segment prefix ${seg} vs ${A.SEG_NAMES[insn.seg]}`);
    }
  } finally {
    ins.free();
    d.free();
  }
  return bad;
}

describe('x86 encoder', () => {
  it('encodes representative forms to the expected bytes', () => {
    const hex = (i: Insn) => i.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    expect(hex(A.alu(32, 'add', A.mem(2, { base: A.ESI, index: A.ECX, scale: 4, disp: 0x10 }), A.r16(A.EAX)))).toBe('66 01 44 8e 10');
    expect(hex(A.alu(32, 'add', A.r32(A.EAX), A.imm(4, 0xffffffff)))).toBe('05 ff ff ff ff');
    expect(hex(A.alu(32, 'add', A.r32(A.EAX), A.imm(4, 0xffffffff), 2))).toBe('83 c0 ff');
    expect(hex(A.alu(32, 'add', A.r32(A.EAX), A.imm(4, 0xffffffff), 1))).toBe('81 c0 ff ff ff ff');
    expect(hex(A.alu(32, 'cmp', A.r8(A.EAX), A.imm(1, 0x80)))).toBe('3c 80');
    expect(hex(A.alu(32, 'sub', A.r8(4), A.imm(1, 1), 2))).toBe('82 ec 01');
    expect(hex(A.mov(32, A.r32(A.EAX), A.mem(4, { base: A.ESP })))).toBe('8b 04 24');
    expect(hex(A.mov(32, A.r32(A.EAX), A.mem(4, { base: A.EBP })))).toBe('8b 45 00');
    expect(hex(A.mov(32, A.r32(A.EAX), A.mem(4, { index: A.EBX, scale: 8, disp: 4 })))).toBe('8b 04 dd 04 00 00 00');
    expect(hex(A.mov(16, A.r16(A.EAX), A.mem(2, { a16: true, base: A.EBP, disp: -5 })))).toBe('8b 46 fb');
    expect(hex(A.mov(16, A.r16(A.EAX), A.mem(2, { a16: true, base: A.EBP })))).toBe('8b 46 00');
    expect(hex(A.mov(32, A.r16(A.EAX), A.mem(2, { a16: true, base: A.EBX, index: A.ESI, seg: A.FS })))).toBe('64 66 67 8b 00');
    expect(hex(A.mov(32, A.mem(4, { disp: 0x300000 }), A.r32(A.EAX), 2))).toBe('a3 00 00 30 00');
    expect(hex(A.shift(32, 'shl', A.r32(A.EAX), 1))).toBe('d1 e0');
    expect(hex(A.shift(32, 'shl', A.r32(A.EAX), 1, false))).toBe('c1 e0 01');
    expect(hex(A.shift(32, 'rcr', A.r8(A.EBX), 'cl'))).toBe('d2 db');
    expect(hex(A.shxd(16, 'shrd', A.r16(A.EBX), A.r16(A.EAX), 5))).toBe('0f ac c3 05');
    expect(hex(A.bt(32, 'btc', A.mem(4, { base: A.EBX }), 7))).toBe('0f ba 3b 07');
    expect(hex(A.str(32, 'movs', 4, { rep: 'rep', asize: 2 }))).toBe('f3 67 a5');
    expect(hex(A.str(16, 'cmps', 1, { rep: 'repne', seg: A.ES }))).toBe('f2 26 a6');
    expect(hex(A.push(32, A.imm(4, 0xfffffff0)))).toBe('6a f0');
    expect(hex(A.push(32, A.sreg(A.FS), 2))).toBe('66 0f a0');
    expect(hex(A.enter(32, 0x10, 3))).toBe('c8 10 00 03');
    expect(hex(A.relBranch(32, { cc: 4, short: false }, 0x200000, 0x200010))).toBe('0f 84 0a 00 00 00');
    expect(hex(A.loopInsn(32, 'loop', 0x200010, 0x200000, 2))).toBe('67 e2 ed');
    expect(hex(A.cmpxchg8b(32, A.mem(8, { base: A.EDI })))).toBe('0f c7 0f');
    expect(hex(A.imul3(32, A.r32(A.EAX), A.r32(A.EBX), 0xfffffffb))).toBe('6b c3 fb');
    expect(() => A.relBranch(32, 'jmp8', 0, 300)).toThrow(RangeError);
  });

  it('agrees with iced-x86 on every instruction of 600 generated cases and the edge cases', () => {
    const problems: string[] = [];
    let checked = 0;
    const cases = [
      ...Array.from({ length: 600 }, (_, i) => generateCase(caseSeed(0x5eed, i), { mode: CASE_MODES[i % CASE_MODES.length]! })),
      ...edgeCases(),
    ];
    for (const c of cases) {
      const bits = c.mode === 'code16' ? 16 : 32;
      const origin = modeDefaults(c.mode).eip;
      const list = A.listingOf(c.code);
      if (!list) throw new Error(`${c.name}: no instruction listing`);
      for (const { offset, insn } of list) {
        if (insn.mnem === 'db') continue;
        checked++;
        const bad = check(bits, offset, insn);
        if (bad.length && problems.length < 20) problems.push(`${c.name} +${(offset - origin).toString(16)} ${insn.text}: ${bad.join('; ')}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(10_000);
  });

  it('has flag tables that match iced-x86 for the generic forms', () => {
    const rows: Array<[Insn, FlagEffect]> = [];
    for (const n of A.ALU_NAMES) rows.push([A.alu(32, n, A.r32(A.EAX), A.r32(A.EBX)), aluFlags(n)]);
    rows.push([A.test(32, A.r32(A.EAX), A.r32(A.EBX)), aluFlags('test')]);
    for (const n of ['inc', 'dec'] as const) rows.push([A.incdec(32, n, A.r32(A.EAX)), aluFlags(n)]);
    for (const n of ['neg', 'not', 'mul', 'imul', 'div', 'idiv'] as const) rows.push([A.grp3(32, n, A.r32(A.EBX)), aluFlags(n)]);
    rows.push([A.imul2(32, A.r32(A.EAX), A.r32(A.EBX)), aluFlags('imul')]);
    for (const n of A.BT_NAMES) rows.push([A.bt(32, n, A.r32(A.EAX), A.r32(A.EBX)), aluFlags(n)]);
    for (const n of ['bsf', 'bsr'] as const) rows.push([A.bsx(32, n, A.r32(A.EAX), A.r32(A.EBX)), aluFlags(n)]);
    rows.push([A.cmpxchg(32, A.r32(A.EAX), A.r32(A.EBX)), aluFlags('cmpxchg')]);
    rows.push([A.xadd(32, A.r32(A.EAX), A.r32(A.EBX)), aluFlags('xadd')]);
    rows.push([A.cmpxchg8b(32, A.mem(8, { base: A.EDI })), aluFlags('cmpxchg8b')]);
    for (const [n, op] of [['daa', 0x27], ['das', 0x2f], ['aaa', 0x37], ['aas', 0x3f], ['sahf', 0x9e], ['lahf', 0x9f], ['clc', 0xf8], ['stc', 0xf9], ['cmc', 0xf5], ['into', 0xce]] as const) {
      rows.push([A.simple(32, n, [op]), aluFlags(n)]);
    }
    rows.push([A.aam(32, 10), aluFlags('aam')]);
    rows.push([A.aad(32, 10), aluFlags('aad')]);
    rows.push([A.pushf(32, 4), aluFlags('pushf')]);
    rows.push([A.popf(32, 4), aluFlags('popf')]);
    for (const n of ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar'] as const) {
      rows.push([A.shift(32, n, A.r32(A.EAX), 1), shiftFlags(n, 4, 1)]);
      rows.push([A.shift(32, n, A.r32(A.EAX), 5), shiftFlags(n, 4, 5)]);
    }
    const bad: string[] = [];
    for (const [insn, f] of rows) {
      const d = new Decoder(32, Uint8Array.from(insn.bytes), DecoderOptions.None);
      const ins = d.decode();
      const read = icedFlags(ins.rflagsRead) & ARITH;
      const def = icedFlags(ins.rflagsWritten | ins.rflagsCleared | ins.rflagsSet) & ARITH;
      const undef = icedFlags(ins.rflagsUndefined) & ARITH;
      ins.free();
      d.free();
      // POPF/PUSHF: iced lists all flags; ours is ARITH as well
      if (read !== (f.reads & ARITH) || def !== (f.def & ARITH) || undef !== (f.undef & ARITH)) {
        bad.push(`${insn.text}: iced r=${read.toString(16)} w=${def.toString(16)} u=${undef.toString(16)}; ours r=${f.reads.toString(16)} w=${f.def.toString(16)} u=${f.undef.toString(16)}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

