// Code generation for MMX, SSE and SSE2 (the F_SIMD entries of the opcode table). The
// checks that depend on CR0/CR4 are made at translation time (they are in the TB's
// flags): CR0.EM raises #UD, CR4.OSFXSR clear makes every instruction with an XMM
// operand (and LDMXCSR/STMXCSR) #UD, CR0.TS raises #NM; the fences, MOVNTI and CLFLUSH
// need none of them (SDM vol. 3, 13.1.3 and table 22-7; QEMU 7.2 alike).
//
// Operands become slot numbers of the SIMD unit (src/cpu/simd/simd.ts): XMM registers
// are slots 0-7; a memory source is loaded into slot 8 through the inlined TLB paths
// before anything changes; an MMX source goes to slot 8 and an MMX destination to slot 9
// (written back after the operation, which is what enters MMX mode).
import { OpKind, type Instr, type Operand } from '../instr.js';
import { HF_FPU_EM, HF_FPU_TS, HF_OSFXSR } from '../cpu.js';
import { EXC_NM, EXC_UD } from '../cpu-exception.js';
import { CC_EFLAGS } from '../lazy-flags.js';
import { SLOT_AUX, SLOT_MMD, SLOT_SRC } from '../simd/simd.js';
import { TranslationError, type CodeGen } from './codegen.js';

/** 16-byte memory operands that need not be aligned (all others #GP(0) when misaligned). */
const UNALIGNED = new Set(['movups', 'movupd', 'movdqu', 'lddqu']);

const FOP: Record<string, number> = { add: 0, sub: 1, mul: 2, div: 3, min: 4, max: 5, sqrt: 6 };
const CVT: Record<string, [string, number, number]> = {
  // mnemonic: [kind, source bytes, destination kind 0 xmm / 1 mm]
  cvtdq2ps: ['dq2ps', 16, 0], cvtps2dq: ['ps2dq', 16, 0], cvttps2dq: ['tps2dq', 16, 0],
  cvtdq2pd: ['dq2pd', 8, 0], cvtpd2dq: ['pd2dq', 16, 0], cvttpd2dq: ['tpd2dq', 16, 0],
  cvtpi2ps: ['pi2ps', 8, 0], cvtpi2pd: ['pi2pd', 8, 0],
  cvtps2pi: ['ps2pi', 8, 1], cvttps2pi: ['tps2pi', 8, 1], cvtpd2pi: ['pd2pi', 16, 1], cvttpd2pi: ['tpd2pi', 16, 1],
  cvtps2pd: ['ps2pd', 8, 0], cvtpd2ps: ['pd2ps', 16, 0], cvtss2sd: ['ss2sd', 4, 0], cvtsd2ss: ['sd2ss', 8, 0],
};

/** Two-operand packed integer operations: the call, with $d, $s, $L. */
const PINT: Record<string, string> = {
  paddb: 'X.padd(1, $d, $s, $L)', paddw: 'X.padd(2, $d, $s, $L)', paddd: 'X.padd(4, $d, $s, $L)', paddq: 'X.padd(8, $d, $s, $L)',
  psubb: 'X.psub(1, $d, $s, $L)', psubw: 'X.psub(2, $d, $s, $L)', psubd: 'X.psub(4, $d, $s, $L)', psubq: 'X.psub(8, $d, $s, $L)',
  paddsb: 'X.psat(1, true, false, $d, $s, $L)', paddsw: 'X.psat(2, true, false, $d, $s, $L)',
  paddusb: 'X.psat(1, false, false, $d, $s, $L)', paddusw: 'X.psat(2, false, false, $d, $s, $L)',
  psubsb: 'X.psat(1, true, true, $d, $s, $L)', psubsw: 'X.psat(2, true, true, $d, $s, $L)',
  psubusb: 'X.psat(1, false, true, $d, $s, $L)', psubusw: 'X.psat(2, false, true, $d, $s, $L)',
  pand: 'X.logic(0, $d, $s, $L)', pandn: 'X.logic(1, $d, $s, $L)', por: 'X.logic(2, $d, $s, $L)', pxor: 'X.logic(3, $d, $s, $L)',
  andps: 'X.logic(0, $d, $s, 16)', andpd: 'X.logic(0, $d, $s, 16)', andnps: 'X.logic(1, $d, $s, 16)', andnpd: 'X.logic(1, $d, $s, 16)',
  orps: 'X.logic(2, $d, $s, 16)', orpd: 'X.logic(2, $d, $s, 16)', xorps: 'X.logic(3, $d, $s, 16)', xorpd: 'X.logic(3, $d, $s, 16)',
  pcmpeqb: 'X.pcmp(1, false, $d, $s, $L)', pcmpeqw: 'X.pcmp(2, false, $d, $s, $L)', pcmpeqd: 'X.pcmp(4, false, $d, $s, $L)',
  pcmpgtb: 'X.pcmp(1, true, $d, $s, $L)', pcmpgtw: 'X.pcmp(2, true, $d, $s, $L)', pcmpgtd: 'X.pcmp(4, true, $d, $s, $L)',
  pmullw: "X.pmul('lw', $d, $s, $L)", pmulhw: "X.pmul('hw', $d, $s, $L)", pmulhuw: "X.pmul('huw', $d, $s, $L)",
  pmuludq: "X.pmul('udq', $d, $s, $L)", pmaddwd: "X.pmul('addwd', $d, $s, $L)",
  pminub: 'X.pminmax(1, false, false, $d, $s, $L)', pmaxub: 'X.pminmax(1, false, true, $d, $s, $L)',
  pminsw: 'X.pminmax(2, true, false, $d, $s, $L)', pmaxsw: 'X.pminmax(2, true, true, $d, $s, $L)',
  pavgb: 'X.pavg(1, $d, $s, $L)', pavgw: 'X.pavg(2, $d, $s, $L)', psadbw: 'X.psadbw($d, $s, $L)',
  packsswb: "X.pack('sswb', $d, $s, $L)", packuswb: "X.pack('uswb', $d, $s, $L)", packssdw: "X.pack('ssdw', $d, $s, $L)",
  punpcklbw: 'X.punpck(1, false, $d, $s, $L)', punpcklwd: 'X.punpck(2, false, $d, $s, $L)', punpckldq: 'X.punpck(4, false, $d, $s, $L)',
  punpckhbw: 'X.punpck(1, true, $d, $s, $L)', punpckhwd: 'X.punpck(2, true, $d, $s, $L)', punpckhdq: 'X.punpck(4, true, $d, $s, $L)',
  punpcklqdq: 'X.punpck(8, false, $d, $s, 16)', punpckhqdq: 'X.punpck(8, true, $d, $s, 16)',
  unpcklps: 'X.punpck(4, false, $d, $s, 16)', unpckhps: 'X.punpck(4, true, $d, $s, 16)',
  unpcklpd: 'X.punpck(8, false, $d, $s, 16)', unpckhpd: 'X.punpck(8, true, $d, $s, 16)',
  psrlw: "X.pshift(2, 'r', $d, X.count($s), $L)", psrld: "X.pshift(4, 'r', $d, X.count($s), $L)", psrlq: "X.pshift(8, 'r', $d, X.count($s), $L)",
  psraw: "X.pshift(2, 'a', $d, X.count($s), $L)", psrad: "X.pshift(4, 'a', $d, X.count($s), $L)",
  psllw: "X.pshift(2, 'l', $d, X.count($s), $L)", pslld: "X.pshift(4, 'l', $d, X.count($s), $L)", psllq: "X.pshift(8, 'l', $d, X.count($s), $L)",
  shufps: 'X.shuf(false, $d, $s, $i)', shufpd: 'X.shuf(true, $d, $s, $i)',
  pshufw: "X.pshuf('w', $d, $s, $i)", pshufd: "X.pshuf('d', $d, $s, $i)", pshufhw: "X.pshuf('hw', $d, $s, $i)", pshuflw: "X.pshuf('lw', $d, $s, $i)",
};

const SHIFT_IMM: Record<string, [number, string]> = {
  psrlw: [2, 'r'], psrld: [4, 'r'], psrlq: [8, 'r'], psraw: [2, 'a'], psrad: [4, 'a'], psllw: [2, 'l'], pslld: [4, 'l'], psllq: [8, 'l'],
};

function memSize(o: Operand): number {
  return o.size;
}

class SimdEmitter {
  constructor(readonly g: CodeGen, readonly i: Instr) {}

  private memPrepared = false;

  /** `const a = ...` for the memory operand (once), with the alignment check of 16-byte operands. */
  prep(size: number, write: boolean): void {
    if (this.memPrepared) return;
    this.memPrepared = true;
    this.g.prepMem(size, write);
    if (size === 16 && !UNALIGNED.has(this.i.mnem)) this.g.emit('X.align16(a);');
  }

  /** Load `size` bytes of the memory operand into a slot (dwords, then a word). */
  load(slot: number, size: number): void {
    const g = this.g;
    this.prep(size, false);
    if (size === 2) {
      g.emit(`X.I[${slot * 4}] = ${g.load(2, 'a')};`);
      return;
    }
    for (let k = 0; k < size / 4; k++) g.emit(`X.I[${slot * 4 + k}] = ${g.load(4, k ? `((a + ${4 * k}) | 0)` : 'a')};`);
  }

  /** Store `n` dwords of a slot (from dword `from`) to the memory operand. */
  store(slot: number, from: number, n: number): void {
    const g = this.g;
    this.prep(n * 4, true);
    if (n > 1) g.emit(`X.probeWrite(a, ${n * 4});`);
    for (let k = 0; k < n; k++) g.emit(g.store(4, k ? `((a + ${4 * k}) | 0)` : 'a', `X.I[${slot * 4 + from + k}]`));
    g.checkStop();
  }

  /** A source operand as a slot (memory and MMX sources are brought into slot 8). */
  src(o: Operand, size = memSize(o)): number {
    if (o.kind === OpKind.Xmm) return o.reg;
    if (o.kind === OpKind.Mmx) {
      this.g.emit(`X.mmIn(${SLOT_SRC}, ${o.reg});`);
      return SLOT_SRC;
    }
    if (o.kind === OpKind.Mem) {
      this.load(SLOT_SRC, size);
      return SLOT_SRC;
    }
    throw new TranslationError(`simd source kind ${o.kind}`);
  }

  /** A destination register as a slot; an MMX one is read into slot 9 (`read`) and written back by `done`. */
  dst(o: Operand, read = true): number {
    if (o.kind === OpKind.Xmm) return o.reg;
    if (o.kind === OpKind.Mmx) {
      if (read) this.g.emit(`X.mmIn(${SLOT_MMD}, ${o.reg});`);
      return SLOT_MMD;
    }
    throw new TranslationError(`simd destination kind ${o.kind}`);
  }

  done(o: Operand): void {
    if (o.kind === OpKind.Mmx) this.g.emit(`X.mmOut(${SLOT_MMD}, ${o.reg});`);
  }

  /** A general-register or memory dword source (MOVD, CVTSI2SS, PINSRW). */
  gpr(o: Operand): string {
    const g = this.g;
    if (o.kind === OpKind.Reg) return g.reg(o.reg, o.size);
    this.prep(o.size, false);
    return g.load(o.size, 'a');
  }
}

export function simdGenerator(g: CodeGen, i: Instr): void {
  const m = i.mnem;
  const ops = i.operands;
  // Ordering hints and cache control: nothing to do in a TCG-like machine (QEMU 7.2 alike).
  if (m === 'sfence' || m === 'lfence' || m === 'mfence') return;
  if (m === 'clflush') {
    g.prepMem(1, false);
    g.emit('void ld8(a);');
    return;
  }
  if (m === 'movnti') {
    g.prepMem(4, true);
    g.emit(g.store(4, 'a', g.reg(ops[1]!.reg, 4)));
    g.checkStop();
    return;
  }
  const xmm = ops.some((o) => o.kind === OpKind.Xmm) || m === 'ldmxcsr' || m === 'stmxcsr';
  if (g.hflags & HF_FPU_EM || (xmm && !(g.hflags & HF_OSFXSR))) {
    g.raise(EXC_UD, 0);
    return;
  }
  if (g.hflags & HF_FPU_TS) {
    g.raise(EXC_NM, 0);
    return;
  }
  g.mayFault();
  const e = new SimdEmitter(g, i);
  const [o0, o1, o2] = ops;
  const imm = o2?.kind === OpKind.Imm ? o2.value : o1?.kind === OpKind.Imm ? o1.value : 0;
  const L = (o: Operand | undefined): number => (o?.kind === OpKind.Mmx ? 8 : 16);

  if (PINT[m] !== undefined && o0 && o1 && o1.kind !== OpKind.Imm) {
    const s = e.src(o1, o0.kind === OpKind.Mmx ? (o1.size || 8) : o1.size);
    const d = e.dst(o0);
    g.emit(PINT[m]!.replace(/\$d/g, String(d)).replace(/\$s/g, String(s)).replace(/\$L/g, String(L(o0))).replace(/\$i/g, String(imm)) + ';');
    e.done(o0);
    return;
  }
  if (SHIFT_IMM[m] !== undefined || m === 'psrldq' || m === 'pslldq') {
    const d = e.dst(o0!);
    if (m === 'psrldq' || m === 'pslldq') g.emit(`X.pshiftdq(${m === 'pslldq'}, ${d}, ${Math.min(imm, 16)});`);
    else {
      const [w, k] = SHIFT_IMM[m]!;
      g.emit(`X.pshift(${w}, '${k}', ${d}, ${imm}, ${L(o0)});`);
    }
    e.done(o0!);
    return;
  }
  const fm = /^(add|sub|mul|div|min|max|sqrt)(ps|pd|ss|sd)$/.exec(m);
  if (fm) {
    const s = e.src(o1!);
    const t = fm[2]!;
    if (t === 'sd' && /^(add|sub|mul|div)$/.test(fm[1]!)) g.emit(`X.${m}(${o0!.reg}, ${s});`);
    else if (t === 'sd' || t === 'ss') g.emit(`X.${t}(${FOP[fm[1]!]}, ${o0!.reg}, ${s});`);
    else g.emit(`X.fop(${FOP[fm[1]!]}, ${t[1] === 'd'}, ${o0!.reg}, ${s}, ${t === 'ps' ? 4 : 2});`);
    return;
  }
  const cm = /^cmp(ps|pd|ss|sd)$/.exec(m);
  if (cm) {
    const s = e.src(o1!);
    const t = cm[1]!;
    g.emit(`X.cmp(${imm & 7}, ${t[1] === 'd'}, ${o0!.reg}, ${s}, ${t === 'ps' ? 4 : t === 'pd' ? 2 : 1});`);
    return;
  }
  const rm = /^(rcp|rsqrt)(ps|ss)$/.exec(m);
  if (rm) {
    const s = e.src(o1!);
    g.emit(`X.rcp(${rm[1] === 'rsqrt'}, ${o0!.reg}, ${s}, ${rm[2] === 'ps' ? 4 : 1});`);
    return;
  }
  if (CVT[m] !== undefined) {
    const [kind, size, toMm] = CVT[m]!;
    // CVTPI2PS/PD enter MMX mode even with a memory source (QEMU 7.2, measured)
    if (o1!.kind === OpKind.Mem && (m === 'cvtpi2ps' || m === 'cvtpi2pd')) g.emit('X.mmEnter();');
    const s = e.src(o1!, size);
    if (toMm) {
      g.emit(`X.cvt('${kind}', ${SLOT_MMD}, ${s});`);
      g.emit(`X.mmOut(${SLOT_MMD}, ${o0!.reg});`);
    } else g.emit(`X.cvt('${kind}', ${o0!.reg}, ${s});`);
    return;
  }
  switch (m) {
    case 'comiss': case 'ucomiss': case 'comisd': case 'ucomisd': {
      const s = e.src(o1!);
      g.emit(`c.ccSrc = X.comis(${m.endsWith('d')}, ${o0!.reg}, ${s}, ${m[0] === 'c'}); c.ccOp = ${CC_EFLAGS};`);
      g.flagsUnknown();
      return;
    }
    case 'cvtsi2ss': case 'cvtsi2sd':
      g.emit(`X.cvtsi2f(${m.endsWith('d')}, ${o0!.reg}, ${e.gpr(o1!)});`);
      return;
    case 'cvtss2si': case 'cvttss2si': case 'cvtsd2si': case 'cvttsd2si': {
      const s = e.src(o1!);
      g.emit(g.setReg(o0!.reg, 4, `X.cvtf2si(${m.endsWith('sd2si')}, ${s}, ${m[3] === 't'})`));
      return;
    }
    case 'movups': case 'movupd': case 'movaps': case 'movapd': case 'movdqa': case 'movdqu':
    case 'movntps': case 'movntpd': case 'movntdq':
      if (o0!.kind === OpKind.Mem) e.store(o1!.reg, 0, 4);
      else if (o1!.kind === OpKind.Mem) {
        e.load(SLOT_SRC, 16);
        g.emit(`X.copy(${o0!.reg}, ${SLOT_SRC});`);
      } else g.emit(`X.copy(${o0!.reg}, ${o1!.reg});`);
      return;
    case 'lddqu':
      e.load(SLOT_SRC, 16);
      g.emit(`X.copy(${o0!.reg}, ${SLOT_SRC});`);
      return;
    case 'movsldup': case 'movshdup': {
      const s = e.src(o1!);
      const k = m === 'movshdup' ? 1 : 0;
      g.emit(`X.mov(${SLOT_AUX}, 0, ${s}, ${k}, 1); X.mov(${SLOT_AUX}, 1, ${s}, ${k}, 1); X.mov(${SLOT_AUX}, 2, ${s}, ${k + 2}, 1); X.mov(${SLOT_AUX}, 3, ${s}, ${k + 2}, 1); X.copy(${o0!.reg}, ${SLOT_AUX});`);
      return;
    }
    case 'movddup': {
      const s = e.src(o1!);
      g.emit(`X.mov(${SLOT_AUX}, 0, ${s}, 0, 2); X.mov(${SLOT_AUX}, 2, ${s}, 0, 2); X.copy(${o0!.reg}, ${SLOT_AUX});`);
      return;
    }
    case 'haddps': case 'haddpd': case 'hsubps': case 'hsubpd': case 'addsubps': case 'addsubpd': {
      const s = e.src(o1!);
      g.emit(`X.horizontal('${m.slice(0, -2)}', ${m.endsWith('pd')}, ${o0!.reg}, ${s});`);
      return;
    }
    case 'movss': case 'movsd': {
      const n = m === 'movss' ? 1 : 2;
      if (o0!.kind === OpKind.Mem) e.store(o1!.reg, 0, n);
      else if (o1!.kind === OpKind.Mem) {
        e.load(SLOT_SRC, 4 * n);
        g.emit(`X.mov(${o0!.reg}, 0, ${SLOT_SRC}, 0, ${n}); X.zero(${o0!.reg}, ${n});`);
      } else g.emit(`X.mov(${o0!.reg}, 0, ${o1!.reg}, 0, ${n});`);
      return;
    }
    case 'movlps': case 'movlpd': case 'movhps': case 'movhpd': {
      const high = m[3] === 'h';
      if (o0!.kind === OpKind.Mem) e.store(o1!.reg, high ? 2 : 0, 2);
      else if (o1!.kind === OpKind.Mem) {
        e.load(SLOT_SRC, 8);
        g.emit(`X.mov(${o0!.reg}, ${high ? 2 : 0}, ${SLOT_SRC}, 0, 2);`);
      } else g.emit(`X.mov(${o0!.reg}, ${high ? 2 : 0}, ${o1!.reg}, ${high ? 0 : 2}, 2);`); // MOVLHPS / MOVHLPS
      return;
    }
    case 'movq': {
      if (o0!.kind === OpKind.Mem) {
        // MOVQ m64, mm (0F 7F) / MOVQ m64, xmm (66 0F D6)
        const s = e.src(o1!);
        e.store(s, 0, 2);
        return;
      }
      if (o0!.kind === OpKind.Mmx) {
        const s = e.src(o1!, 8);
        e.dst(o0!, false);
        g.emit(`X.mov(${SLOT_MMD}, 0, ${s}, 0, 2);`);
        e.done(o0!);
        return;
      }
      // MOVQ xmm, xmm/m64 (F3 0F 7E, 66 0F D6 register form): the upper half cleared
      const s = o1!.kind === OpKind.Mem ? e.src(o1!, 8) : o1!.reg;
      g.emit(`X.mov(${o0!.reg}, 0, ${s}, 0, 2); X.zero(${o0!.reg}, 2);`);
      return;
    }
    case 'movq2dq':
      g.emit(`X.mmIn(${SLOT_SRC}, ${o1!.reg}); X.mov(${o0!.reg}, 0, ${SLOT_SRC}, 0, 2); X.zero(${o0!.reg}, 2);`);
      return;
    case 'movdq2q':
      g.emit(`X.mov(${SLOT_MMD}, 0, ${o1!.reg}, 0, 2); X.mmOut(${SLOT_MMD}, ${o0!.reg}, true);`);
      return;
    case 'movd':
      if (o0!.kind === OpKind.Xmm || o0!.kind === OpKind.Mmx) {
        const v = e.gpr(o1!);
        const d = e.dst(o0!, false);
        g.emit(`X.I[${d * 4}] = ${v}; X.zero(${d}, 1);`);
        e.done(o0!);
      } else {
        const s = o1!.kind === OpKind.Xmm ? o1!.reg : e.src(o1!);
        if (o0!.kind === OpKind.Reg) g.emit(g.setReg(o0!.reg, 4, `X.I[${s * 4}]`));
        else e.store(s, 0, 1);
      }
      return;
    case 'movntq':
      e.store(e.src(o1!), 0, 2);
      return;
    case 'movmskps': case 'movmskpd': case 'pmovmskb': {
      const s = e.src(o1!);
      const w = m === 'movmskps' ? 4 : m === 'movmskpd' ? 8 : 1;
      g.emit(g.setReg(o0!.reg, 4, `X.movmsk(${w}, ${s}, ${L(o1)})`));
      return;
    }
    case 'pextrw': {
      const s = e.src(o1!);
      g.emit(g.setReg(o0!.reg, 4, `X.pextrw(${s}, ${L(o1)}, ${imm})`));
      return;
    }
    case 'pinsrw': {
      const v = e.gpr(o1!);
      g.emit(`const v$ = ${v};`);
      const d = e.dst(o0!);
      g.emit(`X.pinsrw(${d}, ${L(o0)}, ${imm}, v$);`);
      e.done(o0!);
      return;
    }
    case 'maskmovq': case 'maskmovdqu': {
      const seg = i.segOverride >= 0 ? i.segOverride : 3;
      const off = i.adsize === 4 ? 'R[7]' : '(R[7] & 0xffff)';
      const n = L(o0);
      g.emit(`const a = ${g.linear(seg, off, n, true)};`);
      const s = e.src(o1!);
      const d = o0!.kind === OpKind.Mmx ? (g.emit(`X.mmIn(${SLOT_MMD}, ${o0!.reg});`), SLOT_MMD) : o0!.reg;
      g.emit(`X.maskmov(${d}, ${s}, ${n}, a);`);
      g.checkStop();
      return;
    }
    case 'emms':
      g.emit('X.emms();');
      return;
    case 'ldmxcsr':
      e.prep(4, false);
      g.emit(`X.ldmxcsr(${g.load(4, 'a')});`);
      return;
    case 'stmxcsr':
      e.prep(4, true);
      g.emit(g.store(4, 'a', 'X.mxcsr'));
      g.checkStop();
      return;
  }
  throw new TranslationError(`no SIMD generator for ${m}`);
}
