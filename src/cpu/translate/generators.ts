// Code generators, one per mnemonic of the opcode table. Each emits the JavaScript of one
// instruction. Rule for precise exceptions: everything that can fault (loads, stores,
// segment checks, helpers that check) comes before the first change of architectural
// state, so a faulting instruction leaves registers, flags and memory untouched.
import { OpKind, REP_E, REP_NONE, SEG_DS, SEG_ES, SEG_SS, type Instr } from '../instr.js';
import {
  CC_ADC, CC_ADD, CC_DEC, CC_INC, CC_LOGIC, CC_MUL, CC_SAR, CC_SBB, CC_SHL, CC_SUB, ccFor,
} from '../lazy-flags.js';
import { EXC_BP, EXC_GP, EXC_NM, EXC_UD } from '../cpu-exception.js';
import { CONDITIONS } from '../opcode-table.js';
import { CodeGen, EXIT_LOOKUP, EXIT_STOP, TranslationError } from './codegen.js';
import { HF_FPU_EM, HF_FPU_MP, HF_FPU_TS, HF_VM } from '../cpu.js';
import { x87Code, x87MemOperand } from '../fpu/fpu.js';

export type Generator = (g: CodeGen, i: Instr) => void;

const MASK: Record<number, number> = { 1: 0xff, 2: 0xffff, 4: -1 };

function op0(i: Instr) {
  return i.operands[0]!;
}
function op1(i: Instr) {
  return i.operands[1]!;
}

/** Privileged instructions raise #GP(0) outside ring 0; CPL is fixed per TB. */
function privileged(g: CodeGen): boolean {
  if (g.cpl !== 0) {
    g.raise(EXC_GP, 0);
    return false;
  }
  return true;
}

function alu(kind: string): Generator {
  return (g, i) => {
    const d = op0(i);
    const s = op1(i);
    const size = d.size;
    const mem = d.kind === OpKind.Mem || s.kind === OpKind.Mem;
    const writes = kind !== 'cmp' && kind !== 'test';
    if (mem) g.prepMem(size, writes && d.kind === OpKind.Mem);
    g.emit(`const x = ${g.read(d)};`);
    g.emit(`const y = ${g.read(s)};`);
    const m = (v: string) => g.mask(size, v);
    let flags: () => void;
    switch (kind) {
      case 'add':
        g.emit(`const r = ${m('x + y')};`);
        flags = () => g.setFlags(ccFor(CC_ADD, size), 'r', 'y');
        break;
      case 'adc':
        g.emit(`const cf = ${g.carry()};`);
        g.emit(`const r = ${m('x + y + cf')};`);
        flags = () => g.setFlags(ccFor(CC_ADC, size), 'r', 'y', 'cf');
        break;
      case 'sub': case 'cmp':
        g.emit(`const r = ${m('x - y')};`);
        flags = () => g.setFlags(ccFor(CC_SUB, size), 'r', 'y');
        break;
      case 'sbb':
        g.emit(`const cf = ${g.carry()};`);
        g.emit(`const r = ${m('x - y - cf')};`);
        flags = () => g.setFlags(ccFor(CC_SBB, size), 'r', 'y', 'cf');
        break;
      case 'and':
        g.emit(`const r = x & y;`);
        flags = () => g.setFlags(ccFor(CC_LOGIC, size), 'r', null);
        break;
      case 'or':
        g.emit(`const r = x | y;`);
        flags = () => g.setFlags(ccFor(CC_LOGIC, size), 'r', null);
        break;
      case 'xor':
        g.emit(`const r = x ^ y;`);
        flags = () => g.setFlags(ccFor(CC_LOGIC, size), 'r', null);
        break;
      case 'test':
        g.emit(`const r = x & y;`);
        flags = () => g.setFlags(ccFor(CC_LOGIC, size), 'r', null);
        break;
      default:
        throw new TranslationError(kind);
    }
    if (writes) g.emit(g.write(d, 'r'));
    flags();
    if (writes && d.kind === OpKind.Mem) g.checkStop();
    else if (mem) g.checkStopIfWatching();
  };
}

function incdec(inc: boolean): Generator {
  return (g, i) => {
    const d = op0(i);
    const size = d.size;
    if (d.kind === OpKind.Mem) g.prepMem(size, true);
    if (g.flagsLive) g.emit(`const cf = ${g.carry()};`);
    g.emit(`const r = ${g.mask(size, `${g.read(d)} ${inc ? '+' : '-'} 1`)};`);
    g.emit(g.write(d, 'r'));
    g.setFlags(ccFor(inc ? CC_INC : CC_DEC, size), 'r', null, 'cf');
    if (d.kind === OpKind.Mem) g.checkStop();
  };
}

function unary(kind: 'not' | 'neg'): Generator {
  return (g, i) => {
    const d = op0(i);
    const size = d.size;
    if (d.kind === OpKind.Mem) g.prepMem(size, true);
    g.emit(`const x = ${g.read(d)};`);
    if (kind === 'not') {
      g.emit(g.write(d, g.mask(size, '~x')));
    } else {
      g.emit(`const r = ${g.mask(size, '-x')};`);
      g.emit(g.write(d, 'r'));
      g.setFlags(ccFor(CC_SUB, size), 'r', 'x');
    }
    if (d.kind === OpKind.Mem) g.checkStop();
  };
}

function mov(g: CodeGen, i: Instr): void {
  const d = op0(i);
  const s = op1(i);
  if (d.kind === OpKind.Seg) {
    // MOV Sreg: descriptor checks and the MOV SS interrupt shadow live in the helper.
    if (s.kind === OpKind.Mem) g.prepMem(2, false);
    g.emit(`const v = ${g.read(s)};`);
    g.mayFault();
    g.emit(`H.loadSeg(${d.reg}, v);`);
    // MOV SS starts a one-instruction interrupt shadow (SDM vol. 2, MOV).
    if (d.reg === SEG_SS) g.emit('c.inhibitIrq = true; c.inhibitDebug = true;');
    g.emit(g.exitLookup(g.next));
    g.ended = true;
    return;
  }
  if (d.kind === OpKind.Cr || s.kind === OpKind.Cr || d.kind === OpKind.Dr || s.kind === OpKind.Dr) {
    if (!privileged(g)) return;
    g.mayFault();
    if (s.kind === OpKind.Cr) g.emit(`R[${d.reg}] = H.readCr(${s.reg});`);
    else if (s.kind === OpKind.Dr) g.emit(`R[${d.reg}] = H.readDr(${s.reg});`);
    else if (d.kind === OpKind.Cr) {
      g.emit(`H.writeCr(${d.reg}, R[${s.reg}]);`);
      g.emit(g.exitLookup(g.next));
      g.ended = true;
    } else {
      g.emit(`H.writeDr(${d.reg}, R[${s.reg}]);`);
      g.emit(g.exitLookup(g.next));
      g.ended = true;
    }
    return;
  }
  if (s.kind === OpKind.Seg) {
    // MOV r32, Sreg zero-extends on P6-family processors.
    const size = d.kind === OpKind.Mem ? 2 : d.size;
    if (d.kind === OpKind.Mem) g.prepMem(2, true);
    g.emit(g.write({ ...d, size }, `c.segSel[${s.reg}]`));
    if (d.kind === OpKind.Mem) g.checkStop();
    return;
  }
  if (d.kind === OpKind.Mem) {
    g.prepMem(d.size, true);
    g.emit(`const v = ${g.read(s)};`);
    g.emit(g.write(d, 'v'));
    g.checkStop();
    return;
  }
  if (s.kind === OpKind.Mem) {
    g.prepMem(s.size, false);
    g.emit(g.write(d, g.read(s)));
    g.checkStopIfWatching();
    return;
  }
  g.emit(g.write(d, g.read(s)));
}

function lea(g: CodeGen, i: Instr): void {
  const d = op0(i);
  g.emit(g.write(d, g.eaOffset(i)));
}

function movx(signed: boolean): Generator {
  return (g, i) => {
    const d = op0(i);
    const s = op1(i);
    if (s.kind === OpKind.Mem) g.prepMem(s.size, false);
    g.emit(g.write(d, signed ? g.readS(s) : g.read(s)));
    if (s.kind === OpKind.Mem) g.checkStopIfWatching();
  };
}

function xchg(g: CodeGen, i: Instr): void {
  const d = op0(i);
  const s = op1(i);
  const size = d.size;
  if (d.kind === OpKind.Mem) g.prepMem(size, true);
  g.emit(`const x = ${g.read(d)};`);
  g.emit(`const y = ${g.read(s)};`);
  g.emit(g.write(d, 'y'));
  g.emit(g.write(s, 'x'));
  if (d.kind === OpKind.Mem) g.checkStop();
}

function xadd(g: CodeGen, i: Instr): void {
  const d = op0(i);
  const s = op1(i);
  const size = d.size;
  if (d.kind === OpKind.Mem) g.prepMem(size, true);
  g.emit(`const x = ${g.read(d)};`);
  g.emit(`const y = ${g.read(s)};`);
  g.emit(`const r = ${g.mask(size, 'x + y')};`);
  if (d.kind === OpKind.Mem) {
    g.emit(g.write(d, 'r'));
    g.emit(g.write(s, 'x'));
  } else {
    g.emit(g.write(s, 'x'));
    g.emit(g.write(d, 'r'));
  }
  g.setFlags(ccFor(CC_ADD, size), 'r', 'y');
  if (d.kind === OpKind.Mem) g.checkStop();
}

function cmpxchg(g: CodeGen, i: Instr): void {
  const d = op0(i);
  const s = op1(i);
  const size = d.size;
  if (d.kind === OpKind.Mem) g.prepMem(size, true);
  g.emit(`const x = ${g.read(d)};`);
  g.emit(`const acc = ${g.reg(0, size)};`);
  g.emit(`const r = ${g.mask(size, 'acc - x')};`);
  g.emit(`const eq = r === 0;`);
  if (d.kind === OpKind.Mem) {
    // The destination is written in both cases (with its old value when unequal).
    g.emit(g.write(d, `eq ? ${g.read(s)} : x`));
    g.emit(`if (!eq) ${g.setReg(0, size, 'x')}`);
  } else {
    g.emit(`if (eq) { ${g.write(d, g.read(s))} } else { ${g.setReg(0, size, 'x')} }`);
  }
  g.setFlags(ccFor(CC_SUB, size), 'r', 'x');
  if (d.kind === OpKind.Mem) g.checkStop();
}

function cmpxchg8b(g: CodeGen, _i: Instr): void {
  g.prepMem(8, true);
  g.emit('H.cmpxchg8b(a);');
  g.flagsUnknown();
  g.checkStop();
}

function bswap(g: CodeGen, i: Instr): void {
  // BSWAP with a 16-bit operand is undefined in the SDM; QEMU 7.2 ignores the operand size
  // and swaps all 32 bits (measured), so we do too (decisions.md 3).
  const r = op0(i).reg;
  g.emit(`{ const x = R[${r}]; R[${r}] = ((x >>> 24) | ((x >> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24)); }`);
}

function convert(kind: 'cbw' | 'cwd'): Generator {
  return (g, i) => {
    if (kind === 'cbw') {
      if (i.opsize === 2) g.emit(g.setReg(0, 2, '((R[0] << 24) >> 24)'));
      else g.emit('R[0] = (R[0] << 16) >> 16;');
    } else if (i.opsize === 2) g.emit(g.setReg(2, 2, '((R[0] << 16) >> 31)'));
    else g.emit('R[2] = R[0] >> 31;');
  };
}

// ---- multiply / divide ----------------------------------------------------------------

function mul1(signed: boolean): Generator {
  return (g, i) => {
    const s = op0(i);
    const size = s.size;
    if (s.kind === OpKind.Mem) g.prepMem(size, false);
    if (size === 1) {
      if (signed) {
        g.emit(`const r = ${g.regS(0, 1)} * ${g.readS(s)};`);
        g.emit(g.setReg(0, 2, 'r'));
        g.setFlags(ccFor(CC_MUL, 1), 'r', `(r !== ((r << 24) >> 24) ? 1 : 0)`);
      } else {
        g.emit(`const r = ${g.reg(0, 1)} * ${g.read(s)};`);
        g.emit(g.setReg(0, 2, 'r'));
        g.setFlags(ccFor(CC_MUL, 1), 'r', `(r >> 8)`);
      }
    } else if (size === 2) {
      if (signed) {
        g.emit(`const r = ${g.regS(0, 2)} * ${g.readS(s)};`);
        g.emit(g.setReg(0, 2, 'r'));
        g.emit(g.setReg(2, 2, '(r >> 16)'));
        g.setFlags(ccFor(CC_MUL, 2), 'r', `(r !== ((r << 16) >> 16) ? 1 : 0)`);
      } else {
        g.emit(`const r = ${g.reg(0, 2)} * ${g.read(s)};`);
        g.emit(g.setReg(0, 2, 'r'));
        g.emit(g.setReg(2, 2, '(r >>> 16)'));
        g.setFlags(ccFor(CC_MUL, 2), 'r', `(r >>> 16)`);
      }
    } else {
      g.emit(`const y = ${g.read(s)};`);
      g.emit(`const x = R[0];`);
      g.emit(`const lo = Math.imul(x, y);`);
      g.emit(`const hi = ${signed ? 'H.mulhs(x, y)' : 'H.mulhu(x, y)'};`);
      g.emit('R[0] = lo; R[2] = hi;');
      g.setFlags(ccFor(CC_MUL, 4), 'lo', signed ? '(hi !== (lo >> 31) ? 1 : 0)' : 'hi');
    }
    if (s.kind === OpKind.Mem) g.checkStopIfWatching();
  };
}

function imul(g: CodeGen, i: Instr): void {
  if (i.operands.length === 1) {
    mul1(true)(g, i);
    return;
  }
  const d = op0(i);
  const s = op1(i);
  const t = i.operands[2];
  const size = d.size;
  if (s.kind === OpKind.Mem) g.prepMem(size, false);
  g.emit(`const x = ${g.readS(s)};`);
  g.emit(`const y = ${t ? g.readS(t) : g.regS(d.reg, size)};`);
  if (size === 2) {
    g.emit('const p = x * y;');
    g.emit('const r = (p << 16) >> 16;');
    g.emit(g.setReg(d.reg, 2, 'r'));
    g.setFlags(ccFor(CC_MUL, 2), 'r', '(p !== r ? 1 : 0)');
  } else {
    g.emit('const r = Math.imul(x, y);');
    if (g.flagsLive) g.emit('const hi = H.mulhs(x, y);');
    g.emit(`R[${d.reg}] = r;`);
    g.setFlags(ccFor(CC_MUL, 4), 'r', '(hi !== (r >> 31) ? 1 : 0)');
  }
  if (s.kind === OpKind.Mem) g.checkStopIfWatching();
}

function divide(signed: boolean): Generator {
  return (g, i) => {
    const s = op0(i);
    if (s.kind === OpKind.Mem) g.prepMem(s.size, false);
    g.mayFault();
    g.emit(`H.${signed ? 'idiv' : 'div'}${s.size * 8}(${g.read(s)});`);
    if (s.kind === OpKind.Mem) g.checkStopIfWatching();
  };
}

// ---- shifts and rotates -------------------------------------------------------------

function shift(kind: string): Generator {
  return (g, i) => {
    const d = op0(i);
    const c = op1(i);
    const size = d.size;
    const bits = size * 8;
    if (d.kind === OpKind.Mem) g.prepMem(size, true);
    const constCount = c.kind === OpKind.Imm ? c.value & 31 : -1;
    if (constCount === 0) {
      // A masked count of 0 changes nothing, flags included; the operand is still read.
      if (d.kind === OpKind.Mem) g.emit(`${g.read(d)};`);
      return;
    }
    g.emit(`const x = ${g.read(d)};`);
    g.emit(`const n = ${constCount >= 0 ? constCount : '(R[1] & 31)'};`);
    const body: string[] = [];
    const emitBody = (s: string) => body.push(s);
    const sx = size === 4 ? 'x' : size === 2 ? '((x << 16) >> 16)' : '((x << 24) >> 24)';
    const m = (v: string) => g.mask(size, v);
    let flagOp = -1;
    let flagSrc = '';
    switch (kind) {
      case 'shl':
        emitBody(`const r = ${m('x << n')};`);
        flagOp = ccFor(CC_SHL, size);
        flagSrc = '(x << (n - 1))';
        break;
      case 'shr':
        emitBody(`const r = ${size === 4 ? '(x >>> n) | 0' : 'x >>> n'};`);
        flagOp = ccFor(CC_SAR, size);
        flagSrc = size === 4 ? '((x >>> (n - 1)) | 0)' : '(x >>> (n - 1))';
        break;
      case 'sar':
        emitBody(`const r = ${m(`${sx} >> n`)};`);
        flagOp = ccFor(CC_SAR, size);
        flagSrc = `(${sx} >> (n - 1))`;
        break;
      case 'rol':
        emitBody(`const k = n & ${bits - 1};`);
        emitBody(`const r = ${m(`(x << k) | (${size === 4 ? 'x' : 'x'} >>> (${bits} - k))`)};`);
        break;
      case 'ror':
        emitBody(`const k = n & ${bits - 1};`);
        emitBody(`const r = ${m(`(x >>> k) | (x << (${bits} - k))`)};`);
        break;
      case 'rcl': case 'rcr':
        emitBody(`const r = H.${kind}${bits}(x, n);`);
        break;
      default:
        throw new TranslationError(kind);
    }
    const write = g.write(d, 'r');
    const setF = (): string[] => {
      const out: string[] = [];
      if (!g.flagsLive && kind !== 'rcl' && kind !== 'rcr') return out;
      if (flagOp >= 0) {
        out.push(`c.ccDst = r; c.ccSrc = ${flagSrc}; c.ccOp = ${flagOp};`);
      } else if (kind === 'rol') {
        out.push(`H.setCfOf(r & 1, ((r >>> ${bits - 1}) ^ r) & 1);`);
      } else if (kind === 'ror') {
        out.push(`H.setCfOf((r >>> ${bits - 1}) & 1, ((r >>> ${bits - 1}) ^ (r >>> ${bits - 2})) & 1);`);
      }
      // RCL/RCR helpers set CF/OF themselves.
      return out;
    };
    if (constCount > 0) {
      for (const s of body) g.emit(s);
      g.emit(write);
      if (flagOp >= 0) g.setFlags(flagOp, 'r', flagSrc);
      else if (g.flagsLive || kind === 'rcl' || kind === 'rcr') {
        for (const s of setF()) g.emit(s);
        g.flagsUnknown();
        if (kind === 'rol' || kind === 'ror') g.ccKnown = 0;
      }
    } else {
      g.emit('if (n !== 0) {');
      for (const s of body) g.emit(s);
      g.emit(write);
      for (const s of setF()) g.emit(s);
      g.emit('}');
      g.flagsUnknown();
    }
    if (d.kind === OpKind.Mem) g.checkStop();
  };
}

function shiftDouble(left: boolean): Generator {
  return (g, i) => {
    const d = op0(i);
    const s = op1(i);
    const c = i.operands[2]!;
    const size = d.size;
    if (d.kind === OpKind.Mem) g.prepMem(size, true);
    const constCount = c.kind === OpKind.Imm ? c.value & 31 : -1;
    if (constCount === 0) {
      if (d.kind === OpKind.Mem) g.emit(`${g.read(d)};`);
      return;
    }
    g.emit(`const x = ${g.read(d)};`);
    g.emit(`const y = ${g.read(s)};`);
    g.emit(`const n = ${constCount >= 0 ? constCount : '(R[1] & 31)'};`);
    const body: string[] = [];
    if (size === 4) {
      if (left) {
        body.push('const r = (x << n) | (y >>> (32 - n));');
        body.push(g.write(d, 'r'));
        if (g.flagsLive) body.push(`c.ccDst = r; c.ccSrc = x << (n - 1); c.ccOp = ${ccFor(CC_SHL, 4)};`);
      } else {
        body.push('const r = (x >>> n) | (y << (32 - n));');
        body.push(g.write(d, 'r'));
        if (g.flagsLive) body.push(`c.ccDst = r; c.ccSrc = x >> (n - 1); c.ccOp = ${ccFor(CC_SAR, 4)};`);
      }
    } else {
      body.push(`const r = H.${left ? 'shld' : 'shrd'}16(x, y, n);`);
      body.push(g.write(d, 'r'));
    }
    g.emit('if (n !== 0) {');
    for (const b of body) g.emit(b);
    g.emit('}');
    g.flagsUnknown();
    if (d.kind === OpKind.Mem) g.checkStop();
  };
}

// ---- bit operations ----------------------------------------------------------------

function bitop(kind: 'bt' | 'bts' | 'btr' | 'btc'): Generator {
  return (g, i) => {
    const d = op0(i);
    const s = op1(i);
    const size = d.size;
    const bits = size * 8;
    const writes = kind !== 'bt';
    if (d.kind === OpKind.Mem) {
      g.mayFault();
      if (s.kind === OpKind.Imm) {
        g.emit(`const bit = ${s.value & (bits - 1)};`);
        g.prepMem(size, writes);
      } else {
        // A register bit offset addresses memory outside the operand (SDM vol. 2, BT).
        g.emit(`const off = ${g.regS(s.reg, size)};`);
        g.emit(`const bit = off & ${bits - 1};`);
        const ea = g.eaOffset(i);
        const adj = `${ea} + ((off >> ${Math.log2(bits)}) * ${size})`;
        const offExpr = i.adsize === 4 ? `((${adj}) | 0)` : `((${adj}) & 0xffff)`;
        g.emit(`const a = ${g.linear(i.ea!.seg, offExpr, size, writes)};`);
      }
    } else {
      g.emit(`const bit = ${s.kind === OpKind.Imm ? s.value & (bits - 1) : `(${g.read(s)} & ${bits - 1})`};`);
    }
    g.emit(`const x = ${g.read(d)};`);
    g.emit('const cf = (x >>> bit) & 1;');
    if (kind === 'bts') g.emit(g.write(d, g.mask(size, 'x | (1 << bit)')));
    else if (kind === 'btr') g.emit(g.write(d, g.mask(size, 'x & ~(1 << bit)')));
    else if (kind === 'btc') g.emit(g.write(d, g.mask(size, 'x ^ (1 << bit)')));
    if (g.flagsLive) {
      g.emit('H.setCf(cf);');
      g.ccKnown = 0;
    }
    if (writes && d.kind === OpKind.Mem) g.checkStop();
    else if (d.kind === OpKind.Mem) g.checkStopIfWatching();
  };
}

function bitscan(reverse: boolean): Generator {
  return (g, i) => {
    const d = op0(i);
    const s = op1(i);
    const size = d.size;
    if (s.kind === OpKind.Mem) g.prepMem(size, false);
    g.emit(`const x = ${g.read(s)} & ${MASK[size]};`);
    // Zero source: ZF=1 and the destination is left unchanged (as AMD documents and QEMU does).
    const idx = reverse ? '31 - Math.clz32(x)' : '31 - Math.clz32(x & -x)';
    g.emit(`if (x !== 0) { ${g.setReg(d.reg, size, idx)} }`);
    g.setFlags(ccFor(CC_LOGIC, size), 'x', null);
    if (s.kind === OpKind.Mem) g.checkStopIfWatching();
  };
}

// ---- stack ---------------------------------------------------------------------------

function push(g: CodeGen, i: Instr): void {
  const s = op0(i);
  const size = i.opsize;
  if (s.kind === OpKind.Seg) {
    g.emit(`const v = c.segSel[${s.reg}];`);
    g.push('v', size);
    return;
  }
  if (s.kind === OpKind.Mem) {
    g.prepMem(size, false);
    g.emit(`const v = ${g.read(s)};`);
  } else g.emit(`const v = ${g.read({ ...s, size })};`);
  g.push('v', size);
  g.checkStop();
}

function pop(g: CodeGen, i: Instr): void {
  const d = op0(i);
  const size = i.opsize;
  if (d.kind === OpKind.Seg) {
    const commit = g.pop(size, 'v');
    g.mayFault();
    g.emit(`H.loadSeg(${d.reg}, v & 0xffff);`);
    g.emit(commit);
    if (d.reg === SEG_SS) g.emit('c.inhibitIrq = true; c.inhibitDebug = true;');
    g.emit(g.exitLookup(g.next));
    g.ended = true;
    return;
  }
  const commit = g.pop(size, 'v');
  if (d.kind === OpKind.Mem) {
    // An ESP-based destination address is computed after the increment (SDM vol. 2, POP).
    const nsp = g.ss32 ? `((R[4] + ${size}) | 0)` : `((R[4] & -65536) | ((R[4] + ${size}) & 0xffff))`;
    g.prepMem(size, true, 'a', { 4: nsp });
    g.emit(g.write(d, 'v'));
    g.emit(commit);
    g.checkStop();
  } else {
    g.emit(commit);
    g.emit(g.write(d, 'v'));
  }
}

function leave(g: CodeGen, i: Instr): void {
  const size = i.opsize;
  g.mayFault();
  const bp = g.ss32 ? 'R[5]' : '(R[5] & 0xffff)';
  g.emit(`const sp0 = ${bp};`);
  g.emit(`const v = ${g.load(size, g.linear(SEG_SS, 'sp0', size, false))};`);
  g.emit(g.ss32 ? `R[4] = (sp0 + ${size}) | 0;` : `R[4] = (R[4] & -65536) | ((sp0 + ${size}) & 0xffff);`);
  g.emit(g.setReg(5, size, 'v'));
}

function helperCall(call: string, opts: { flags?: boolean; end?: boolean; store?: boolean } = {}): Generator {
  return (g, i) => {
    g.mayFault();
    g.emit(call.replace(/\$opsize/g, String(i.opsize)).replace(/\$adsize/g, String(i.adsize)).replace(/\$next/g, String(g.next)));
    if (opts.flags) g.flagsUnknown();
    if (opts.end) {
      g.emit(g.exitLookup(g.next));
      g.ended = true;
    } else if (opts.store) g.checkStop();
  };
}

// ---- control flow --------------------------------------------------------------------

function jcc(cc: number): Generator {
  return (g, i) => {
    const t = op0(i).value;
    g.emit(`if (${g.cond(cc)}) { ${g.targetCheck(t)}${g.exitTo(0, t)} }`);
    g.emit(g.exitTo(1, g.next));
    g.ended = true;
  };
}

function jmp(g: CodeGen, i: Instr): void {
  const t = op0(i);
  if (t.kind === OpKind.Rel) {
    g.emit(g.targetCheck(t.value));
    g.emit(g.exitTo(0, t.value));
  } else {
    if (t.kind === OpKind.Mem) g.prepMem(t.size, false);
    g.emit(`const t = ${i.opsize === 2 ? `${g.read(t)} & 0xffff` : `${g.read(t)} >>> 0`};`);
    g.emit(g.targetCheck('t'));
    g.emit(g.exitIndirect('t'));
  }
  g.ended = true;
}

function call(g: CodeGen, i: Instr): void {
  const t = op0(i);
  const size = i.opsize;
  if (t.kind === OpKind.Rel) {
    g.emit(g.targetCheck(t.value));
    g.emit(`const v = ${g.next | 0};`);
    g.push('v', size);
    g.emit(g.exitTo(0, t.value));
  } else {
    if (t.kind === OpKind.Mem) g.prepMem(t.size, false, 'ta');
    g.emit(`const t = ${size === 2 ? `${g.read(t, 'ta')} & 0xffff` : `${g.read(t, 'ta')} >>> 0`};`);
    g.emit(g.targetCheck('t'));
    g.emit(`const v = ${g.next | 0};`);
    g.push('v', size);
    g.emit(g.exitIndirect('t'));
  }
  g.ended = true;
}

function ret(g: CodeGen, i: Instr): void {
  const size = i.opsize;
  const imm = i.operands[0]?.value ?? 0;
  g.mayFault();
  const sp0 = g.ss32 ? 'R[4]' : '(R[4] & 0xffff)';
  g.emit(`const sp0 = ${sp0};`);
  g.emit(`const t = ${g.load(size, g.linear(SEG_SS, 'sp0', size, false))}${size === 4 ? ' >>> 0' : ''};`);
  g.emit(g.targetCheck('t'));
  g.emit(g.ss32 ? `R[4] = (sp0 + ${size + imm}) | 0;` : `R[4] = (R[4] & -65536) | ((sp0 + ${size + imm}) & 0xffff);`);
  g.emit(g.exitIndirect('t'));
  g.ended = true;
}

function loop(kind: 'loop' | 'loope' | 'loopne' | 'jcxz'): Generator {
  return (g, i) => {
    const t = op0(i).value;
    const cx = i.adsize === 4 ? 'R[1]' : '(R[1] & 0xffff)';
    if (kind === 'jcxz') {
      g.emit(`if (${cx} === 0) { ${g.targetCheck(t)}${g.exitTo(0, t)} }`);
    } else {
      g.emit(i.adsize === 4 ? 'const cx = (R[1] - 1) | 0;' : 'const cx = (R[1] - 1) & 0xffff;');
      let cond = 'cx !== 0';
      if (kind === 'loope') cond += ` && ${g.cond(4)}`;
      if (kind === 'loopne') cond += ` && ${g.cond(5)}`;
      g.emit(`const taken = ${cond};`);
      // The count is written after the limit check: a faulting LOOP changes nothing.
      if (g.targetCheck(t)) g.emit(`if (taken) { ${g.targetCheck(t)}}`);
      g.emit(i.adsize === 4 ? 'R[1] = cx;' : 'R[1] = (R[1] & -65536) | cx;');
      g.emit(`if (taken) ${g.exitTo(0, t)}`);
    }
    g.emit(g.exitTo(1, g.next));
    g.ended = true;
  };
}

function setcc(cc: number): Generator {
  return (g, i) => {
    const d = op0(i);
    if (d.kind === OpKind.Mem) g.prepMem(1, true);
    g.emit(`const v = ${g.cond(cc)} ? 1 : 0;`);
    g.emit(g.write(d, 'v'));
    if (d.kind === OpKind.Mem) g.checkStop();
  };
}

function cmovcc(cc: number): Generator {
  return (g, i) => {
    const d = op0(i);
    const s = op1(i);
    if (s.kind === OpKind.Mem) g.prepMem(s.size, false);
    g.emit(`const v = ${g.read(s)};`);
    g.emit(`if (${g.cond(cc)}) { ${g.write(d, 'v')} }`);
    if (s.kind === OpKind.Mem) g.checkStopIfWatching();
  };
}

// ---- strings -------------------------------------------------------------------------

function string(kind: string): Generator {
  return (g, i) => {
    const seg = i.segOverride >= 0 ? i.segOverride : SEG_DS;
    const size = i.strSize;
    g.mayFault();
    // A device sees the EIP of the I/O instruction (QEMU's kvmvapic reads it).
    if (kind === 'ins' || kind === 'outs') g.emit(`c.eip = ${i.eip};`);
    if (i.rep !== REP_NONE) {
      // The helper runs as many iterations as the instruction budget allows and counts
      // them itself; EIP stays on the instruction until ECX reaches zero.
      g.emit(`if (H.rep_${kind}(${size}, ${i.adsize}, ${seg}, ${i.rep}, ${g.k})) {`);
      g.emit(`  c.eip = ${g.next}; c.icount += ${g.k}; return ${EXIT_LOOKUP};`);
      g.emit('}');
      g.emit(`c.eip = ${i.eip}; c.icount += ${g.k}; return ${EXIT_STOP};`);
      g.ended = true;
      if (kind === 'cmps' || kind === 'scas') g.flagsUnknown();
      return;
    }
    g.emit(`H.${kind}(${size}, ${i.adsize}, ${seg});`);
    if (kind === 'cmps' || kind === 'scas') g.ccKnown = ccFor(CC_SUB, size);
    if (kind === 'ins' || kind === 'outs') {
      g.emit(g.exitLookup(g.next));
      g.ended = true;
      return;
    }
    g.checkStop();
  };
}

// ---- I/O ---------------------------------------------------------------------------

function inOut(isIn: boolean): Generator {
  return (g, i) => {
    const ops = i.operands;
    const portOp = isIn ? ops[1]! : ops[0]!;
    const dataOp = isIn ? ops[0]! : ops[1]!;
    const size = dataOp.size;
    const port = portOp.kind === OpKind.Imm ? String(portOp.value) : '(R[2] & 0xffff)';
    g.mayFault();
    // Devices see the time and the EIP of this instruction, not of the TB's first one
    // (QEMU's icount makes I/O exact the same way; its kvmvapic reads EIP).
    g.emit(`c.icountOff = ${g.k}; c.eip = ${i.eip};`);
    if (isIn) g.emit(g.setReg(0, size, `H.in(${port}, ${size})`));
    else g.emit(`H.out(${port}, ${g.reg(0, size)}, ${size});`);
    g.emit('c.icountOff = 0;');
    g.emit(g.exitLookup(g.next));
    g.ended = true;
  };
}

// ---- flags instructions --------------------------------------------------------------

function flagOp(kind: string): Generator {
  return (g) => {
    if (!g.flagsLive && ['clc', 'stc', 'cmc', 'sahf'].includes(kind)) return;
    switch (kind) {
      case 'clc': g.emit('H.setCf(0);'); g.ccKnown = 0; break;
      case 'stc': g.emit('H.setCf(1);'); g.ccKnown = 0; break;
      case 'cmc': g.emit(`H.setCf(${g.carry()} ^ 1);`); g.ccKnown = 0; break;
      case 'cld': g.emit('c.eflags &= ~0x400;'); break;
      case 'std': g.emit('c.eflags |= 0x400;'); break;
      case 'sahf': g.emit('H.sahf();'); g.ccKnown = 0; break;
      case 'lahf': g.emit(g.setReg(4, 1, 'H.lahf()')); break;
      case 'salc': g.emit(g.setReg(0, 1, `${g.carry()} ? 0xff : 0`)); break;
      default: throw new TranslationError(kind);
    }
  };
}

function interrupt(kind: 'int' | 'int3' | 'into' | 'int1'): Generator {
  return (g, i) => {
    g.mayFault();
    if (kind === 'into') {
      g.emit(`if (${g.cond(0)}) { c.eip = ${g.next}; H.softInt(4, ${g.next}, 0, ${i.eip}); ${g.exitHelper()} }`);
      g.emit(g.exitLookup(g.next));
    } else {
      const vec = kind === 'int' ? op0(i).value : kind === 'int3' ? EXC_BP : 1;
      // The pushed return address is the next instruction: state is committed first.
      g.emit(`c.eip = ${g.next}; H.softInt(${vec}, ${g.next}, ${kind === 'int' ? 1 : kind === 'int1' ? 2 : 0}, ${i.eip});`);
      g.emit(g.exitHelper());
    }
    g.ended = true;
  };
}

/**
 * NOP, and PAUSE (F3 90): as QEMU's helper_pause, PAUSE lets another CPU run: with several
 * CPUs (`c.onPause` set by the board) the CPU's turn ends after it when another CPU can
 * run. With one CPU it is a NOP.
 */
function nop(g: CodeGen, i: Instr): void {
  if (i.opcode === 0x90 && i.rep === REP_E) g.emit(`if (c.onPause !== null && c.onPause()) ${g.exitLookup(g.next)}`);
}

function hlt(g: CodeGen): void {
  if (!privileged(g)) return;
  g.emit(`c.eip = ${g.next}; c.halted = true;`);
  g.emit(g.exitHelper(EXIT_STOP));
  g.ended = true;
}

function x87(g: CodeGen, i: Instr): void {
  // CR0.EM or CR0.TS: #NM (a guest can emulate the FPU or switch its state lazily).
  if (g.hflags & (HF_FPU_EM | HF_FPU_TS)) {
    g.raise(EXC_NM, 0);
    return;
  }
  const seg = i.ea ? i.ea.seg : 0;
  const code = x87Code(i.opcode, i.modrm, seg, i.opsize === 4);
  g.mayFault();
  if (i.ea) {
    const m = x87MemOperand(i.opcode, i.modrm, i.opsize);
    g.prepMem(m.size, m.write);
    g.emit(`H.x87(${code}, a, ${g.eaOffset(i)}, ${i.eip});`);
  } else g.emit(`H.x87(${code}, 0, 0, ${i.eip});`);
  // FCOMI/FUCOMI write EFLAGS; stores may hit translated code or a watchpoint.
  g.flagsUnknown();
  g.checkStop();
}

function fwait(g: CodeGen): void {
  if ((g.hflags & (HF_FPU_MP | HF_FPU_TS)) === (HF_FPU_MP | HF_FPU_TS)) {
    g.raise(EXC_NM, 0);
    return;
  }
  g.mayFault();
  g.emit('H.fwait();');
}

/** FXSAVE/FXRSTOR m512: #NM with CR0.EM or CR0.TS, #GP unless 16-byte aligned (in the FPU). */
function fxsaveRestore(save: boolean): Generator {
  return (g) => {
    if (g.hflags & (HF_FPU_EM | HF_FPU_TS)) {
      g.raise(EXC_NM, 0);
      return;
    }
    g.prepMem(512, save);
    g.emit(`H.${save ? 'fxsave' : 'fxrstor'}(a);`);
    g.checkStop();
  };
}

function unimplemented(g: CodeGen, i: Instr, what: string): void {
  g.mayFault();
  g.emit(`H.unimplemented(${i.eip}, ${JSON.stringify(i.bytes)}, ${JSON.stringify(what)});`);
  g.ended = true;
}

function undefinedOpcode(g: CodeGen): void {
  g.raise(EXC_UD, 0);
}

function far(kind: 'jmpf' | 'callf'): Generator {
  return (g, i) => {
    const t = op0(i);
    g.mayFault();
    if (t.kind === OpKind.FarImm) {
      g.emit(`H.${kind}(${t.value2}, ${t.value}, ${i.opsize}, ${g.next});`);
    } else {
      g.prepMem(i.opsize + 2, false);
      g.emit(`const off = ${i.opsize === 4 ? 'ld32(a)' : 'ld16(a)'};`);
      g.emit(`const sel = ld16(${g.linear(i.ea!.seg, `${g.eaOffset(i)} + ${i.opsize}`, 2, false)});`);
      g.emit(`H.${kind}(sel, ${i.opsize === 4 ? 'off >>> 0' : 'off'}, ${i.opsize}, ${g.next});`);
    }
    g.emit(g.exitHelper());
    g.ended = true;
  };
}

function loadFarPointer(seg: number): Generator {
  return (g, i) => {
    const d = op0(i);
    g.prepMem(i.opsize + 2, false);
    g.emit(`const off = ${i.opsize === 4 ? 'ld32(a)' : 'ld16(a)'};`);
    g.emit(`const sel = ld16(${g.linear(i.ea!.seg, `${g.eaOffset(i)} + ${i.opsize}`, 2, false)});`);
    g.emit(`H.loadSeg(${seg}, sel);`);
    g.emit(g.setReg(d.reg, i.opsize, 'off'));
    g.emit(g.exitLookup(g.next));
    g.ended = true;
  };
}

function enter(g: CodeGen, i: Instr): void {
  g.mayFault();
  g.emit(`H.enter(${i.opsize}, ${op0(i).value}, ${op1(i).value & 31});`);
  g.checkStop();
}

function bound(g: CodeGen, i: Instr): void {
  g.prepMem(i.opsize * 2, false);
  g.emit(`H.bound(${g.regS(op0(i).reg, i.opsize)}, a, ${i.opsize});`);
}

function arpl(g: CodeGen, i: Instr): void {
  const d = op0(i);
  if (!(g.hflags & 0x10) || g.hflags & HF_VM) {
    g.raise(EXC_UD, 0);
    return;
  }
  if (d.kind === OpKind.Mem) g.prepMem(2, true);
  g.emit(`const x = ${g.read(d)};`);
  g.emit(`const y = ${g.reg(op1(i).reg, 2)};`);
  g.emit('const adj = (x & 3) < (y & 3);');
  g.emit(`if (adj) { ${g.write(d, '(x & ~3) | (y & 3)')} }`);
  g.emit('H.setZf(adj ? 1 : 0);');
  g.ccKnown = 0;
  if (d.kind === OpKind.Mem) g.checkStop();
}

function xlat(g: CodeGen, i: Instr): void {
  const seg = i.segOverride >= 0 ? i.segOverride : SEG_DS;
  const off = i.adsize === 4 ? '((R[3] + (R[0] & 0xff)) | 0)' : '((R[3] + (R[0] & 0xff)) & 0xffff)';
  g.mayFault();
  g.emit(g.setReg(0, 1, g.load(1, g.linear(seg, off, 1, false))));
  g.checkStopIfWatching();
}

/** Descriptor-table and system instructions with a memory or register operand. */
function system(name: string, opts: { priv?: boolean; end?: boolean; pm?: boolean } = {}): Generator {
  return (g, i) => {
    if (opts.pm && (!(g.hflags & 0x10) || g.hflags & HF_VM)) {
      g.raise(EXC_UD, 0);
      return;
    }
    if (opts.priv && !privileged(g)) return;
    const o = i.operands[0];
    g.mayFault();
    if (o && o.kind === OpKind.Mem) {
      g.emit(`const a = ${g.linear(i.ea!.seg, g.eaOffset(i), o.size || 6, false)};`);
      g.emit(`H.${name}(a, ${i.opsize}, true, ${op1IfReg(i)});`);
    } else if (o && o.kind === OpKind.Reg) {
      g.emit(`H.${name}(${o.reg}, ${i.opsize}, false, ${op1IfReg(i)});`);
    } else g.emit(`H.${name}(0, ${i.opsize}, false, -1);`);
    g.flagsUnknown();
    if (opts.end) {
      g.emit(g.exitLookup(g.next));
      g.ended = true;
    } else g.checkStop();
  };
}

function op1IfReg(i: Instr): number {
  const o = i.operands[0];
  return o && o.kind === OpKind.Reg && i.operands[1]?.kind === OpKind.Reg ? i.operands[1].reg : -1;
}

/** LAR/LSL/VERR/VERW: selector from r/m16, result into a register and ZF. */
function descriptorQuery(name: string): Generator {
  return (g, i) => {
    if (!(g.hflags & 0x10) || g.hflags & HF_VM) {
      g.raise(EXC_UD, 0);
      return;
    }
    const hasDest = name === 'lar' || name === 'lsl';
    const src = hasDest ? op1(i) : op0(i);
    if (src.kind === OpKind.Mem) g.prepMem(2, false);
    g.mayFault();
    g.emit(`const sel = ${g.read({ ...src, size: 2 })};`);
    if (hasDest) {
      g.emit(`const r = H.${name}(sel);`);
      g.emit(`if (r !== null) { ${g.setReg(op0(i).reg, i.opsize, 'r')} }`);
    } else g.emit(`H.${name}(sel);`);
    g.ccKnown = 0;
  };
}

export const GENERATORS: Record<string, Generator> = {
  add: alu('add'), or: alu('or'), adc: alu('adc'), sbb: alu('sbb'), and: alu('and'), sub: alu('sub'),
  xor: alu('xor'), cmp: alu('cmp'), test: alu('test'),
  inc: incdec(true), dec: incdec(false), not: unary('not'), neg: unary('neg'),
  mov, lea, movzx: movx(false), movsx: movx(true), xchg, xadd, cmpxchg, cmpxchg8b, bswap,
  cbw: convert('cbw'), cwd: convert('cwd'),
  mul: mul1(false), imul, div: divide(false), idiv: divide(true),
  shl: shift('shl'), shr: shift('shr'), sar: shift('sar'), rol: shift('rol'), ror: shift('ror'),
  rcl: shift('rcl'), rcr: shift('rcr'), shld: shiftDouble(true), shrd: shiftDouble(false),
  bt: bitop('bt'), bts: bitop('bts'), btr: bitop('btr'), btc: bitop('btc'),
  bsf: bitscan(false), bsr: bitscan(true),
  push, pop, leave, enter,
  pusha: helperCall('H.pusha($opsize);', { store: true }),
  popa: helperCall('H.popa($opsize);'),
  pushf: helperCall('H.pushf($opsize);', { store: true }),
  popf: helperCall('H.popf($opsize);', { flags: true, end: true }),
  jmp, call, ret,
  jmpf: far('jmpf'), callf: far('callf'),
  retf: (g, i) => {
    g.mayFault();
    g.emit(`H.retf(${i.opsize}, ${i.operands[0]?.value ?? 0});`);
    g.flagsUnknown();
    g.emit(g.exitHelper());
    g.ended = true;
  },
  iret: (g, i) => {
    g.mayFault();
    g.emit(`H.iret(${i.opsize}, ${g.next});`);
    g.flagsUnknown();
    g.emit(g.exitHelper());
    g.ended = true;
  },
  loop: loop('loop'), loope: loop('loope'), loopne: loop('loopne'), jcxz: loop('jcxz'),
  movs: string('movs'), cmps: string('cmps'), stos: string('stos'), lods: string('lods'),
  scas: string('scas'), ins: string('ins'), outs: string('outs'),
  in: inOut(true), out: inOut(false),
  clc: flagOp('clc'), stc: flagOp('stc'), cmc: flagOp('cmc'), cld: flagOp('cld'), std: flagOp('std'),
  sahf: flagOp('sahf'), lahf: flagOp('lahf'), salc: flagOp('salc'),
  cli: helperCall('H.cli();'),
  sti: helperCall('H.sti();', { end: true }),
  int: interrupt('int'), int3: interrupt('int3'), into: interrupt('into'), int1: interrupt('int1'),
  hlt, nop, fwait, x87, fxsave: fxsaveRestore(true), fxrstor: fxsaveRestore(false),
  daa: helperCall('H.daa();', { flags: true }), das: helperCall('H.das();', { flags: true }),
  aaa: helperCall('H.aaa();', { flags: true }), aas: helperCall('H.aas();', { flags: true }),
  aam: (g, i) => helperCall(`H.aam(${op0(i).value});`, { flags: true })(g, i),
  aad: (g, i) => helperCall(`H.aad(${op0(i).value});`, { flags: true })(g, i),
  xlat, bound, arpl,
  les: loadFarPointer(SEG_ES), lds: loadFarPointer(SEG_DS), lss: loadFarPointer(SEG_SS),
  lfs: loadFarPointer(4), lgs: loadFarPointer(5),
  cpuid: helperCall('H.cpuid();'),
  rdtsc: (g, i) => {
    // The TSC of this instruction: the ones before it in the TB have retired.
    g.emit(`c.icountOff = ${g.k};`);
    helperCall('H.rdtsc();')(g, i);
    g.emit('c.icountOff = 0;');
  },
  rdmsr: (g, i) => {
    if (!privileged(g)) return;
    // IA32_TSC reads the time of this instruction, as RDTSC.
    g.emit(`c.icountOff = ${g.k};`);
    helperCall('H.rdmsr();')(g, i);
    g.emit('c.icountOff = 0;');
  },
  wrmsr: (g, i) => { if (privileged(g)) helperCall('H.wrmsr();', { end: true })(g, i); },
  rdpmc: helperCall('H.rdpmc();'),
  sysenter: (g, i) => {
    g.emit('H.sysenter();');
    g.emit(g.exitHelper());
    g.ended = true;
    void i;
  },
  sysexit: (g, i) => {
    g.emit(`H.sysexit(${i.opsize});`);
    g.emit(g.exitHelper());
    g.ended = true;
  },
  invd: (g) => { privileged(g); },
  wbinvd: (g) => { privileged(g); },
  clts: (g, i) => { if (privileged(g)) helperCall('H.clts();', { end: true })(g, i); },
  sgdt: system('sgdt'), sidt: system('sidt'),
  lgdt: system('lgdt', { priv: true, end: true }), lidt: system('lidt', { priv: true, end: true }),
  sldt: system('sldt', { pm: true }), str: system('str', { pm: true }),
  lldt: system('lldt', { priv: true, end: true, pm: true }), ltr: system('ltr', { priv: true, end: true, pm: true }),
  smsw: system('smsw'), lmsw: system('lmsw', { priv: true, end: true }),
  invlpg: system('invlpg', { priv: true, end: true }),
  lar: descriptorQuery('lar'), lsl: descriptorQuery('lsl'), verr: descriptorQuery('verr'), verw: descriptorQuery('verw'),
  ud2: undefinedOpcode, ud1: undefinedOpcode, ud0: undefinedOpcode,
};

CONDITIONS.forEach((name, cc) => {
  GENERATORS['j' + name] = jcc(cc);
  GENERATORS['set' + name] = setcc(cc);
  GENERATORS['cmov' + name] = cmovcc(cc);
});

export { unimplemented, undefinedOpcode };
export const EXIT_CODES = { EXIT_LOOKUP, EXIT_STOP };
