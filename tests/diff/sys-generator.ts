// Seeded random generators of the issue-5 ("full i386 system semantics") differential cases.
// Each family is a pure function of its seed (SYS_CASE_SEED=<family>:<seed> reproduces one
// case); the cases run on the diff harness (tests/guests/diff-harness) in its system modes.
//
// Families:
//   insn-<mode>  the issue-2 instruction generator in real mode, unreal mode, V86 mode,
//                rings 1 and 2, PAE paging (rings 0 and 3)
//   modeswitch   real mode <-> protected mode inside a case (CR0.PE on/off, far jumps to
//                reload CS, LIDT, unreal data segments), random instruction blocks between
//   farxfer      far CALL/JMP/RETF/INT/IRET across privilege levels: call gates with
//                parameter copying, conforming segments, interrupt/trap gates to inner rings,
//                returns to outer rings (data-segment nulling), stack switches from the TSS,
//                and an illegal transfer now and then (#GP/#NP/#TS/#SS with selector errors)
//   desc         descriptor loads with random descriptors/selectors: MOV/POP Sreg, LxS, far
//                JMP/CALL, LTR, LLDT, LAR/LSL/VERR/VERW, ARPL (every check, every error code)
//   excdeliver   exception and interrupt delivery through patched IDT gates: not-present and
//                bad gates (IDT bit), bad target selectors (EXT bit), 16-bit gates, trap vs
//                interrupt gates, #DF from a contributory fault during delivery, #TS/#NP/#SS
//   v86io        V86 mode: IOPL-sensitive instructions at IOPL 0 and 3, INT n to the
//                protected-mode handler, IN/OUT/INS/OUTS through the TSS I/O permission bitmap
//                (also in ring 3), POPF/IRET flag rules
//   paging       random page-table entries (32-bit and PAE, 4 KiB/4 MiB/2 MiB pages, U/S, R/W,
//                WP, global pages with INVLPG and CR4.PGE toggles): #PF error codes, CR2, A/D bits
//   debug        DR0-DR3 instruction and data breakpoints (1/2/4 bytes, write and read/write),
//                DR6 status, DR7.GD, TF single-step (also set by POPF/IRET), RF, MOV SS/POP SS shadow
//   task         hardware task switches (JMP/CALL to a TSS and to a task gate, INT through a task
//                gate, IRET with NT; 32- and 16-bit TSSs, busy bits, back link): not run by
//                default until bmbt-dbg implements task switching (DIFF_TASKS=1)
import * as A from './x86-asm.js';
import type { Insn, Reg } from './x86-asm.js';
import * as S from './sys-asm.js';
import { AC, AF, ARITH, CF, DF, IF, IOPL, NT, OF, RF, TF, ZF } from './flags.js';
import { Gen, Rng, caseSeed, generateCase, DATA_WINDOW } from './generator.js';
import { CTXF, LAYOUT, LDT_SEL, SEL, segmentOf, realSegment } from '../support/harness-layout.js';
import {
  flatCodeFor, modeDefaults, farJump, type CaseMode, type DiffCase, type GprName, type MemInit, type SystemMode,
} from '../support/diff-target.js';

const { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI } = A;
const r32 = A.r32;
const imm32 = (v: number) => A.imm(4, v >>> 0);
const hex = (v: number) => '0x' + (v >>> 0).toString(16);

/** Data selector (flat, writable) of a privilege level, with RPL = the level. */
export function flatDataFor(cpl: number): number {
  return [SEL.DATA32, SEL.DATA32_R1, SEL.DATA32_R2, SEL.DATA32_R3][cpl & 3]!;
}

/** Stack top each ring's code uses in the generated privilege cases (windows read back). */
export function ringStackTop(ring: number): number {
  return [LAYOUT.kstackTop, LAYOUT.r1StackTop, LAYOUT.r2StackTop, LAYOUT.caseEsp][ring & 3]!;
}

/** The ring stack windows (0xCC-filled, read back): ring 0's TSS stack, ring 1's, ring 2's. */
export function ringStackWindows(): { memory: MemInit[]; readBack: Array<[number, number]> } {
  const w: Array<[number, number]> = [
    [LAYOUT.kstackTop - 0x200, 0x200],
    [LAYOUT.r1StackTop - 0x300, 0x300],
    [LAYOUT.r2StackTop - 0x300, 0x300],
  ];
  return { memory: w.map(([a, n]) => ({ addr: a, bytes: new Uint8Array(n).fill(0xcc) })), readBack: w };
}

/** A program of flat 32-bit code at CODE_AREA (EIP = linear), with patches and scratch descriptors. */
export class Prog {
  readonly asm = new A.Asm(32, LAYOUT.codeArea);
  readonly patches: Array<[number, number]> = [];
  readonly memory: MemInit[] = [];
  private scratch = 0;
  private ldtNext = 6;
  private vecNext = 0x40;
  constructor(readonly rng: Rng) {}
  get pc(): number {
    return this.asm.pc;
  }
  get off(): number {
    return this.asm.pc - this.asm.origin;
  }
  e(...insns: Insn[]): this {
    for (const i of insns) this.asm.emit(i);
    return this;
  }
  mov(reg: number, v: number): this {
    return this.e(A.mov(32, r32(reg), imm32(v)));
  }
  /** A free GDT scratch selector (RPL 0). */
  gdtSlot(): number {
    if (this.scratch >= LAYOUT.scratchCount) throw new Error('out of scratch descriptors');
    return SEL.SCRATCH + 8 * this.scratch++;
  }
  /** A free LDT selector (TI = 1, RPL 0); the case must run with LDTR = SEL_LDT. */
  ldtSlot(): number {
    if (this.ldtNext >= 32) throw new Error('out of LDT slots');
    return (this.ldtNext++ << 3) | 4;
  }
  /** GDT or LDT slot at random. */
  slot(ldtOk = true): number {
    return ldtOk && this.rng.chance(0.3) && this.ldtNext < 32 ? this.ldtSlot() : this.gdtSlot();
  }
  /** A free IDT vector for a patched gate. */
  vector(): number {
    return this.vecNext++;
  }
  desc(sel: number, d: S.DescPair): number {
    this.patches.push(...S.descPatch(sel, d));
    return sel;
  }
  /** jmp rel32 to a later point: returns the function that resolves it to the current pc. */
  fwdJmp(): () => void {
    const at = this.pc;
    const idx = this.asm.listing.length;
    this.e(A.relBranch(32, 'jmp', at, at + 5));
    return () => {
      const insn = A.relBranch(32, 'jmp', at, this.pc);
      const entry = this.asm.listing[idx]!;
      const o = entry.offset - this.asm.origin;
      for (let i = 0; i < insn.bytes.length; i++) this.asm.bytes[o + i] = insn.bytes[i]!;
      entry.insn = insn;
    };
  }
  /** The end of the case from privilege level cpl: far jump to case_done. */
  end(cpl: number): this {
    return this.e(A.raw([...farJump(32, flatCodeFor(cpl), LAYOUT.caseDone, 4)], `jmp far ${hex(flatCodeFor(cpl))}:case_done`));
  }
}

/** Selectors LAR/LSL/VERR/VERW probe: every kind of descriptor the harness has, and nonsense. */
function probeSelector(rng: Rng, extra: number[] = []): number {
  const pool = [
    0, 3, SEL.CODE32, SEL.DATA32, SEL.CODE32_R3, SEL.DATA32_R3, SEL.CODE32_XO, SEL.DATA_NP, SEL.TSS, SEL.LDT, SEL.TSS_A,
    SEL.TSS16_C, SEL.CODE32_CONF, SEL.CODE32_CONF_R2, SEL.CODE32_R1, SEL.DATA32_R2, SEL.DATA_RO, SEL.EXPDOWN16,
    LDT_SEL.DATA32, LDT_SEL.CODE32_R3, LDT_SEL.DATA_NP, (LAYOUT.gdtLimit + 1) & 0xfff8, 0x7f8 | 4, ...extra,
  ];
  const s = rng.pick(pool);
  return (s & ~3) | (rng.chance(0.5) ? s & 3 : rng.int(0, 3));
}

/**
 * LAR or LSL of the selector in `reg` into `reg`. A 32-bit LAR leaves bits 19:16 undefined
 * (SDM): they are cleared afterwards (flags saved around the AND).
 */
export function larLsl(p: Prog, reg: number, bits: 16 | 32 = 32, which = p.rng.pick(['lar', 'lsl'] as const)): void {
  const r = A.reg(bits === 16 ? 2 : 4, reg);
  p.e(S.larLsl(32, which, r, A.r16(reg)));
  if (which === 'lar' && bits === 32) p.e(A.pushf(32, 4), A.alu(32, 'and', r32(reg), imm32(0xfff0ffff)), A.popf(32, 4));
}

/** Random body instructions at a privilege level (flat 32-bit code; no undefined flags). */
function body(p: Prog, cpl: number, frameBytes: number, n: number, extraSels: number[] = []): void {
  const rng = p.rng;
  for (let i = 0; i < n; i++) {
    const k = rng.int(0, 11);
    const reg = rng.pick([EAX, ECX, EDX, EBX, EBP, ESI, EDI]);
    switch (k) {
      case 0: p.mov(reg, rng.u32()); break;
      case 1: p.e(A.alu(32, rng.pick(['add', 'sub', 'adc', 'sbb', 'cmp'] as const), r32(reg), rng.chance(0.5) ? r32(rng.int(0, 7)) : imm32(rng.u32()))); break;
      case 2: if (frameBytes >= 4) p.e(A.mov(32, r32(reg), A.mem(4, { base: ESP, disp: 4 * rng.int(0, frameBytes / 4 - 1) }))); break;
      case 3: p.e(A.mov(32, r32(reg), A.sreg(rng.int(0, 5)))); break;
      case 4: p.e(S.larLsl(32, rng.pick(['lar', 'lsl'] as const), r32(reg), A.r16(reg)), A.mov(32, r32(reg), imm32(0)), A.raw([0x0f, 0x94, 0xc0 | reg], `sete ${A.REG_NAMES[1][reg]}`)); break;
      case 5: p.mov(reg, probeSelector(rng, extraSels)); larLsl(p, reg); break;
      case 6: p.mov(reg, probeSelector(rng, extraSels)).e(S.grp6(32, rng.pick(['verr', 'verw'] as const), A.r16(reg))); break;
      case 7: p.e(A.push(32, imm32(rng.u32())), A.pop(32, r32(reg))); break;
      case 8: p.e(A.pushf(32, 4), A.pop(32, r32(reg))); break;
      case 9: p.e(S.grp6(32, rng.pick(['str', 'sldt'] as const), r32(reg))); break;
      case 10: p.e(S.grp7(32, 'smsw', r32(reg))); break;
      case 11: {
        // a data segment valid at this level (DPL >= CPL) into DS/ES/FS/GS
        const sel = rng.pick([flatDataFor(cpl), SEL.DATA32_R3, SEL.DATA_WIN_R3, SEL.DATA_SMALL_R3, LDT_SEL.DATA32_R3, ...(cpl <= 2 ? [SEL.DATA32_R2] : []), ...(cpl <= 1 ? [SEL.DATA32_R1] : []), ...(cpl === 0 ? [SEL.DATA32, SEL.DATA_WIN, SEL.CODE32] : [])]);
        const rpl = rng.int(0, 3) <= cpl ? cpl : (sel & 3);
        p.mov(reg, (sel & ~3) | Math.max(rpl, sel & 3) & 3).e(A.mov(32, A.sreg(rng.pick([A.DS, A.ES, A.FS, A.GS])), A.r16(reg)));
        break;
      }
    }
  }
}

// ---- farxfer ------------------------------------------------------------------------------

interface XState {
  cpl: number;
  depth: number;
  ended: boolean;
  faults: number;
}

const MODE_OF_RING: Record<number, CaseMode> = { 0: 'flat32', 1: 'ring1', 2: 'ring2', 3: 'ring3' };

/** Far control transfers across privilege levels. */
export function genFarXfer(seed: number): DiffCase {
  const rng = new Rng(seed);
  const p = new Prog(rng);
  const ring0 = rng.weighted([[3, 4], [2, 1], [1, 1], [0, 2]] as const);
  const mode = MODE_OF_RING[ring0]!;
  const st: XState = { cpl: ring0, depth: 0, ended: false, faults: 0 };
  const extraSels: number[] = [];

  // a transfer at the current level; the callee runs `inner` and returns (or ends the case)
  const hop = (): void => {
    const c = st.cpl;
    const kind = rng.weighted([['gate', 5], ['direct', 2], ['int', 3], ['jmpgate', 1]] as const);
    const bad = st.faults === 0 && rng.chance(0.12);
    if (kind === 'gate' || kind === 'jmpgate') {
      // target: a ring t <= c (non-conforming) or a conforming segment (runs at c). QEMU 7.2
      // runs a conforming target with DPL < CPL at CPL = DPL (see README): only DPL = CPL here.
      const confOk = c === 0 ? [SEL.CODE32_CONF] : c === 2 ? [SEL.CODE32_CONF_R2] : [];
      const conf = confOk.length && rng.chance(0.2) ? rng.pick(confOk) : undefined;
      const t = kind === 'jmpgate' ? c : rng.int(0, c);
      let target = conf ?? flatCodeFor(t) & ~3;
      const newCpl = conf !== undefined ? c : t;
      let gdpl = rng.int(c, 3);
      let rpl = rng.int(0, gdpl);
      const params = kind === 'gate' ? rng.weighted([[0, 2], [1, 1], [2, 1], [3, 1], [5, 0.5]] as const) : 0;
      let willFault = false;
      if (bad) {
        willFault = true;
        st.faults++;
        const how = rng.int(0, 5);
        if (how === 0 && c > 0) gdpl = rng.int(0, c - 1); // gate DPL < CPL: #GP(gate)
        else if (how === 1 && gdpl < 3) rpl = rng.int(gdpl + 1, 3); // RPL > gate DPL: #GP(gate)
        else if (how === 2 && kind === 'gate') target = p.desc(p.gdtSlot(), S.segDesc(0, 0xfffff, S.access(false, t, true, 0xb), 0xc)); // not present: #NP(target) (QEMU: #GP for JMP)
        else if (how === 3) target = rng.pick([SEL.DATA32, SEL.TSS, 0, SEL.LDT]); // not code: #GP(target)
        else if (how === 4 && c < 3) target = flatCodeFor(rng.int(c + 1, 3)) & ~3; // DPL > CPL: #GP(target)
        else if (how === 5 && t === 1 && c > 1 && conf === undefined && kind === 'gate') {
          // the inner stack from the TSS is bad: #TS(SS1) / #SS(SS1)
          // (a not-present SS is #SS(SS) in the SDM, #TS in QEMU 7.2: edge cases only)
          const ss = rng.pick([SEL.DATA32 | 1, SEL.DATA32_R2, 0, SEL.CODE32_R1, SEL.DATA_RO | 1, (LAYOUT.gdtLimit + 1) | 1]);
          p.patches.push(S.tssPatch(16, ss));
        } else willFault = false;
      }
      const gsel = p.slot() | rpl;
      const gateAt = p.patches.length;
      p.patches.push([0, 0], [0, 0]); // filled in when the callee's address is known
      extraSels.push(gsel);
      for (let i = 0; i < params; i++) p.e(A.push(32, imm32(rng.chance(0.5) ? rng.u32() : i + 1)));
      const viaMem = rng.chance(0.3);
      if (viaMem) {
        p.e(A.push(32, imm32(gsel)), A.push(32, imm32(rng.u32())));
        p.e(S.farMem(32, kind === 'gate' ? 'call' : 'jmp', A.mem(0, { base: ESP })));
      } else p.e(S.farPtr(32, kind === 'gate' ? 'call' : 'jmp', gsel, rng.u32()));
      const over = p.fwdJmp();
      const calleeAt = p.pc;
      const gd = S.gateDesc(0xc, target, calleeAt, gdpl, params);
      const ga = gsel & 4 ? LAYOUT.ldtArea : LAYOUT.gdt;
      p.patches[gateAt] = [ga + (gsel & 0xfff8), gd[0]];
      p.patches[gateAt + 1] = [ga + (gsel & 0xfff8) + 4, gd[1]];
      const switched = newCpl < c;
      const frame = kind === 'jmpgate' ? 0 : 8 + (switched ? 4 * params + 8 : 0);
      callee(newCpl, conf !== undefined ? (conf & ~3) | c : flatCodeFor(newCpl), frame, kind === 'gate' ? { retf: 4 * params } : undefined);
      over();
      if (viaMem) p.e(A.lea(32, r32(ESP), A.mem(0, { base: ESP, disp: 8 })));
      void willFault;
    } else if (kind === 'direct') {
      // same privilege: the flat code of this level, or a conforming segment
      let target = rng.pick([flatCodeFor(c), SEL.CODE32_CONF | c, ...(c >= 2 ? [SEL.CODE32_CONF_R2 | c] : [])]);
      if (bad) {
        st.faults++;
        target = rng.pick([flatCodeFor((c + rng.int(1, 3)) & 3), SEL.CODE32_CONF_R2 | c, SEL.CODE32_XO | c, SEL.DATA32_R3, (flatCodeFor(c) & ~3) | 3]);
      }
      p.e(S.farPtr(32, 'call', target, 0));
      const callAt = p.asm.listing.length - 1;
      const over = p.fwdJmp();
      const calleeAt = p.pc;
      // patch the call's offset
      const ent = p.asm.listing[callAt]!;
      const fixed = S.farPtr(32, 'call', target, calleeAt);
      const o = ent.offset - p.asm.origin;
      for (let i = 0; i < fixed.bytes.length; i++) p.asm.bytes[o + i] = fixed.bytes[i]!;
      ent.insn = fixed;
      const conforming = segmentOf(target)?.conforming ?? false;
      callee(c, conforming ? (target & ~3) | c : target, 8, { retf: 0 });
      over();
    } else {
      // INT n through a patched interrupt/trap gate to ring t <= c
      const v = p.vector();
      const conf = rng.chance(0.15);
      const t = rng.int(0, c);
      let target = conf ? SEL.CODE32_CONF : flatCodeFor(t) & ~3;
      const newCpl = conf ? c : t;
      let gdpl = rng.int(c, 3);
      let present = true;
      const type = rng.pick([0xe, 0xf]);
      if (bad) {
        st.faults++;
        const how = rng.int(0, 3);
        if (how === 0 && c > 0) gdpl = rng.int(0, c - 1); // #GP(v*8+2)
        else if (how === 1) present = false; // #NP(v*8+2)
        else if (how === 2) target = rng.pick([SEL.DATA32, 0, p.desc(p.gdtSlot(), S.segDesc(0, 0xfffff, S.access(false, t, true, 0xb), 0xc))]);
        else target = c < 3 ? flatCodeFor(rng.int(c + 1, 3)) & ~3 : SEL.TSS;
      }
      p.e(A.intn(32, v));
      const over = p.fwdJmp();
      p.patches.push(...S.idtPatch(v, S.gateDesc(type, target, p.pc, gdpl, 0, present)));
      const switched = newCpl < c;
      callee(newCpl, conf ? SEL.CODE32_CONF | c : flatCodeFor(newCpl), 12 + (switched ? 8 : 0), { iret: true });
      over();
    }
  };

  // code that runs after a transfer: body, maybe a nested transfer, then return or end
  const callee = (cpl: number, cs: number, frame: number, ret?: { retf?: number; iret?: boolean }): void => {
    const saved = st.cpl;
    st.cpl = cpl;
    st.depth++;
    void cs;
    body(p, cpl, frame, rng.int(1, 4), extraSels);
    if (st.depth < 3 && rng.chance(0.35)) hop();
    body(p, cpl, frame, rng.int(0, 2), extraSels);
    if (ret && rng.chance(0.85)) {
      if (ret.iret) p.e(S.iret(32));
      else p.e(S.retf(32, ret.retf ?? 0));
      st.cpl = saved;
    } else {
      // end the case here (this level)
      p.end(cpl);
      st.ended = true;
    }
    st.depth--;
  };

  // a return to an outer level with a made-up frame (RETF or IRET)
  const drop = (): void => {
    const c = st.cpl;
    if (c === 3) return;
    const o = rng.int(c + 1, 3);
    let cs = flatCodeFor(o);
    let ss = flatDataFor(o);
    const esp = ringStackTop(o) - 0x80 - 4 * rng.int(0, 8);
    const useIret = rng.chance(0.5);
    if (st.faults === 0 && rng.chance(0.12)) {
      st.faults++;
      const how = rng.int(0, 3);
      if (how === 0) ss = flatDataFor(o === 3 ? 2 : 3); // SS RPL != CS RPL: #GP(ss)
      else if (how === 1) ss = (SEL.DATA_RO & ~3) | o; // not writable: #GP(ss)
      else if (how === 2) cs = (flatCodeFor(o) & ~3) | c; // RPL < ... returns to the same level (no stack pop)
      else cs = SEL.DATA32_R3; // not code: #GP(cs)
    }
    const fl = (2 | (rng.u32() & (ARITH | DF)) | (rng.chance(0.3) ? IF : 0) | (c === 0 && rng.chance(0.3) ? rng.int(0, 3) << 12 : 0)) >>> 0;
    p.e(A.push(32, imm32(ss)), A.push(32, imm32(esp)));
    if (useIret) p.e(A.push(32, imm32(fl)));
    p.e(A.push(32, imm32(cs)));
    const at = p.asm.listing.length;
    p.e(A.push(32, imm32(0), 4, 1));
    p.e(useIret ? S.iret(32) : S.retf(32));
    // patch the pushed EIP to the next instruction
    const ent = p.asm.listing[at]!;
    const fixed = A.push(32, imm32(p.pc), 4, 1);
    const off = ent.offset - p.asm.origin;
    for (let i = 0; i < fixed.bytes.length; i++) p.asm.bytes[off + i] = fixed.bytes[i]!;
    ent.insn = fixed;
    st.cpl = o;
    if (useIret) {
      // DF may have changed: keep the rest of the case independent of it
      p.e(A.simple(32, 'cld', [0xfc]));
    }
  };

  const steps = rng.int(1, 4);
  for (let i = 0; i < steps && !st.ended; i++) {
    body(p, st.cpl, 0, rng.int(0, 3), extraSels);
    if (st.cpl < 3 && rng.chance(0.25)) drop();
    else hop();
  }
  if (!st.ended) {
    body(p, st.cpl, 0, rng.int(0, 2), extraSels);
    p.end(st.cpl);
  }

  const rw = ringStackWindows();
  const regs: Partial<Record<GprName, number>> = {};
  for (const n of ['eax', 'ecx', 'edx', 'ebx', 'ebp', 'esi', 'edi'] as const) regs[n] = rng.u32();
  return {
    name: `sys-farxfer-${seed.toString(16).padStart(8, '0')}`,
    seed,
    mode,
    code: p.asm.code(),
    noEpilogue: true,
    listing: p.asm.lines(),
    regs,
    eflags: 2 | (rng.u32() & ARITH),
    ctxFlags: rng.chance(0.5) ? modeDefaults(mode).flags : CTXF.PSE,
    ldtr: SEL.LDT,
    patches: p.patches,
    memory: [...rw.memory, ...p.memory],
    readBack: rw.readBack,
    dataWindow: [0, 0x100],
  };
}

export { hex, r32, imm32 };
export type { Reg };
void AC; void CF; void NT; void OF; void RF; void TF; void ZF; void IOPL; void DATA_WINDOW; void generateCase; void caseSeed; void realSegment;
export type { SystemMode };

// ---- desc: descriptor loads and checks -----------------------------------------------------

interface RandDesc {
  sel: number;
  d: S.DescPair;
  system: boolean;
  type: number;
  code: boolean;
  present: boolean;
  dpl: number;
  base: number;
}

const SYS_TYPES = [1, 2, 3, 4, 5, 6, 7, 9, 0xb, 0xc, 0xe, 0xf, 0, 8, 0xa, 0xd];

/** A random descriptor (data, code, or system) for a scratch slot. `landing`: linear address far transfers should reach. */
function randomDesc(rng: Rng, sel: number, landing: number, cpl = 0): RandDesc {
  const kind = rng.weighted([['data', 40], ['code', 30], ['sys', 30]] as const);
  const present = rng.chance(0.9);
  const dpl = rng.chance(0.6) ? rng.int(cpl, 3) : rng.int(0, 3);
  if (kind === 'sys') {
    const type = rng.pick(SYS_TYPES);
    let d: S.DescPair;
    if (type === 4 || type === 0xc || type === 5 || type === 6 || type === 7 || type === 0xe || type === 0xf) {
      // 16-bit gates carry a 16-bit offset: their targets are 16-bit code based at CODE_AREA
      const wide = type >= 8;
      const target = rng.pick(wide
        ? [SEL.CODE32, SEL.CODE32_R1, SEL.CODE32_R2, SEL.CODE32_R3, SEL.CODE32_CONF, SEL.DATA32, SEL.TSS_A, 0, LDT_SEL.CODE32_R3, SEL.CODE16_CASE]
        : [SEL.CODE16_CASE, SEL.CODE16_R3, SEL.DATA32, 0, SEL.DATA_WIN]);
      const base = segmentOf(target)?.base ?? 0;
      // (the upper offset word of a 16-bit gate is reserved: QEMU 7.2 uses it, CPUs do not)
      d = S.gateDesc(type, target, (landing - base) & (wide ? 0xffffffff : 0xffff), dpl, rng.int(0, 3), present);
    } else {
      const base = type === 2 ? LAYOUT.ldtArea : rng.pick([LAYOUT.tssA, LAYOUT.tssB, LAYOUT.tss16C]);
      const limit = type === 2 ? rng.pick([0xff, 0x7, 0x2f]) : rng.pick([103, 43, 0x67 + 0x2000, 20]);
      d = S.segDesc(base, limit, S.access(present, dpl, false, type), 0);
    }
    return { sel, d, system: true, type, code: false, present, dpl, base: 0 };
  }
  // code: accessed already (QEMU 7.2 does not set the accessed bit on CS loads); 16-bit code
  // and small limits based at CODE_AREA, so that the landing pad is within the limit
  const type = kind === 'code' ? 9 | rng.int(0, 7) : rng.int(0, 7);
  const [limit, g] = rng.pick([[0xfffff, 1], [0xfffff, 1], [0xfff, 0], [0xffff, 0], [0x7fff, 0], [0xffffe, 1]] as const);
  const db = rng.chance(0.7) ? 1 : 0;
  const base = kind === 'code' ? (db === 0 || g === 0 || rng.chance(0.3) ? LAYOUT.codeArea : 0) : rng.pick([0, LAYOUT.dataArea, LAYOUT.stackArea]);
  const d = S.segDesc(base, limit, S.access(present, dpl, true, type), (g << 3) | (db << 2) | (rng.chance(0.2) ? 1 : 0));
  return { sel, d, system: false, type, code: kind === 'code', present, dpl, base };
}

/** Descriptor loads with random descriptors and selectors (MOV/POP Sreg, LxS, far JMP/CALL, LTR, LLDT, LAR/LSL/VERR/VERW, ARPL). */
export function genDesc(seed: number): DiffCase {
  const rng = new Rng(seed);
  const p = new Prog(rng);
  const cpl = rng.weighted([[0, 4], [3, 3], [1, 1], [2, 1]] as const);
  const mode = MODE_OF_RING[cpl]!;
  // the landing pad for far transfers that succeed: INT 0x80 (DPL 3: reports CS, EIP, the stack)
  const landAt = LAYOUT.codeArea + 0x800;
  const descs: RandDesc[] = [];
  const n = rng.int(1, 5);
  for (let i = 0; i < n; i++) {
    const sel = p.slot();
    const rd = randomDesc(rng, sel, landAt, cpl);
    p.desc(sel, rd.d);
    descs.push(rd);
  }
  const pickSel = (): number => {
    const r = rng.int(0, 9);
    let s: number;
    if (r < 6) s = rng.pick(descs).sel;
    else if (r < 8) s = probeSelector(rng);
    else s = rng.pick([0, (LAYOUT.gdtLimit + 1) & 0xfff8, 0x100 | 4, SEL.DATA32_R3, SEL.CODE32_R3, SEL.DATA_NP, SEL.CODE32_XO, SEL.DATA_RO]);
    return ((s & ~3) | (rng.chance(0.6) ? cpl : rng.int(0, 3))) & 0xffff;
  };
  const isTaskTarget = (sel: number) => {
    const rd = descs.find((x) => (x.sel & ~3) === (sel & ~3));
    if (rd) return rd.system && [1, 3, 5, 9, 0xb].includes(rd.type);
    return (sel & ~7) === (SEL.TSS & ~7) || (sel & ~7) === (SEL.TSS_A & ~7) || (sel & ~7) === (SEL.TSS16_C & ~7);
  };
  const steps = rng.int(1, 4);
  let ended = false;
  for (let i = 0; i < steps && !ended; i++) {
    const reg = rng.pick([EAX, ECX, EDX, EBX, ESI, EDI]);
    const sel = pickSel();
    const op = rng.weighted([['movs', 5], ['pops', 2], ['lxs', 2], ['movss', 1], ['far', 3], ['ltr', cpl === 0 ? 1.5 : 0.3], ['lldt', cpl === 0 ? 1.5 : 0.3], ['lar', 3], ['verx', 2], ['arpl', 1], ['str', 1]] as const);
    switch (op) {
      case 'movs':
        p.mov(reg, sel).e(A.mov(32, A.sreg(rng.pick([A.DS, A.ES, A.FS, A.GS])), A.r16(reg)));
        break;
      case 'pops':
        p.e(A.push(32, imm32(sel)), A.pop(32, A.sreg(rng.pick([A.DS, A.ES, A.FS, A.GS]))));
        break;
      case 'lxs': {
        const which = rng.pick(['lds', 'les', 'lfs', 'lgs', 'lss'] as const);
        p.e(A.push(32, imm32(sel)), A.push(32, imm32(rng.u32())), S.lxs(32, which, r32(reg), A.mem(0, { base: ESP })));
        if (which === 'lss') {
          p.end(cpl);
          ended = true;
        } else p.e(A.lea(32, r32(ESP), A.mem(0, { base: ESP, disp: 8 })));
        break;
      }
      case 'movss':
        // a successful SS load ends the case (QEMU does not check SS limits on pushes)
        p.mov(reg, sel).e(A.mov(32, A.sreg(A.SS), A.r16(reg)));
        p.end(cpl);
        ended = true;
        break;
      case 'far': {
        if (isTaskTarget(sel)) break; // hardware task switches: the task family
        const rd = descs.find((x) => (x.sel & ~3) === (sel & ~3));
        const off = (landAt - (rd && !rd.system ? rd.base : 0)) >>> 0;
        p.e(S.farPtr(32, rng.pick(['call', 'jmp'] as const), sel, off));
        // if it did not transfer (it faults), nothing runs after it; if it did, the landing pad reports
        ended = true;
        break;
      }
      case 'ltr':
        // (LTR with a null selector: QEMU 7.2 loads it, the SDM says #GP(0): edge case)
        p.mov(reg, (sel & 0xfffc) === 0 ? SEL.TSS_B : sel).e(S.grp6(32, 'ltr', A.r16(reg)), S.grp6(32, 'str', r32(reg)));
        break;
      case 'lldt':
        // (LLDT of a null selector with RPL 1..3: SLDT then reads 0 on bmbt-dbg, the raw selector on
        // QEMU; the SDM only says "LDTR invalid": not generated)
        p.mov(reg, (sel & 0xfffc) === 0 ? 0 : sel).e(S.grp6(32, 'lldt', A.r16(reg)), S.grp6(32, 'sldt', r32(reg)));
        break;
      case 'lar':
        p.mov(reg, sel);
        larLsl(p, reg, rng.chance(0.3) ? 16 : 32);
        break;
      case 'verx':
        p.mov(reg, sel).e(S.grp6(32, rng.pick(['verr', 'verw'] as const), A.r16(reg)));
        break;
      case 'arpl': {
        const r2 = rng.pick([EAX, ECX, EDX, EBX, ESI, EDI].filter((x) => x !== reg));
        p.mov(reg, sel).mov(r2, rng.u32()).e(S.arpl(32, A.r16(reg), A.r16(r2)));
        break;
      }
      case 'str':
        p.e(S.grp6(32, rng.pick(['str', 'sldt'] as const), r32(reg)));
        break;
    }
    if (!ended && rng.chance(0.3)) p.e(A.mov(32, r32(rng.pick([EAX, ECX, EDX, EBX])), A.sreg(rng.int(0, 5))));
  }
  if (!ended) p.end(cpl);
  // the landing pad
  while (p.pc < landAt) p.e(S.int3());
  p.e(A.intn(32, 0x80));
  const rw = ringStackWindows();
  return {
    name: `sys-desc-${seed.toString(16).padStart(8, '0')}`,
    seed,
    mode,
    code: p.asm.code(),
    noEpilogue: true,
    listing: p.asm.lines().filter((l) => !l.endsWith(' int3')),
    regs: { eax: rng.u32(), ecx: rng.u32(), edx: rng.u32(), ebx: rng.u32(), esi: rng.u32(), edi: rng.u32(), ebp: rng.u32() },
    eflags: 2 | (rng.u32() & ARITH),
    ctxFlags: CTXF.PSE,
    ldtr: SEL.LDT,
    patches: p.patches,
    memory: rw.memory,
    readBack: [...rw.readBack, [LAYOUT.gdt + SEL.SCRATCH, LAYOUT.scratchCount * 8], [LAYOUT.ldtArea, 0x100], [LAYOUT.tssA, 0x68]],
    dataWindow: [0, 0x100],
  };
}

// ---- excdeliver: exception and interrupt delivery through patched gates ----------------------

type Trigger = 'intn' | 'int3' | 'into' | 'ud' | 'de' | 'br' | 'gp' | 'np' | 'ss' | 'pf' | 'nm' | 'ts';
const TRIGGER_VECTOR: Record<Exclude<Trigger, 'intn'>, number> = { int3: 3, into: 4, ud: 6, de: 0, br: 5, gp: 13, np: 11, ss: 12, pf: 14, nm: 7, ts: 10 };

/** Exceptions and INT n delivered through random gates (IDT/EXT bits, 16-bit gates, #DF). */
export function genExcDeliver(seed: number): DiffCase {
  const rng = new Rng(seed);
  const p = new Prog(rng);
  const cpl = rng.weighted([[0, 3], [3, 3], [1, 1], [2, 1]] as const);
  const mode = MODE_OF_RING[cpl]!;
  const landAt = LAYOUT.codeArea + 0x800;
  let ctxFlags = CTXF.PSE;
  const trig = rng.weighted([['intn', 4], ['int3', 1], ['into', 1], ['ud', 2], ['de', 2], ['br', 1], ['gp', 3], ['np', 2], ['ss', 1], ['pf', 2], ['nm', 1], ['ts', cpl >= 2 ? 1 : 0]] as const);
  const v = trig === 'intn' ? rng.int(0x40, 0x7f) : TRIGGER_VECTOR[trig];
  body(p, cpl, 0, rng.int(0, 2));
  switch (trig) {
    case 'intn': p.e(A.intn(32, v)); break;
    case 'int3': p.e(S.int3()); break;
    case 'into': p.e(A.push(32, imm32(2 | OF)), A.popf(32, 4), S.into()); break;
    case 'ud': p.e(S.ud2()); break;
    case 'de': p.mov(ECX, 0).e(A.grp3(32, 'div', r32(ECX))); break;
    // (SS-relative: the body may have loaded DS with a small segment, and QEMU does not check limits)
    case 'br': p.mov(EBX, LAYOUT.dataArea).mov(EAX, 0x99).e(A.bound(32, r32(EAX), A.mem(8, { base: EBX, seg: A.SS }))); break;
    case 'gp':
      if (cpl === 3) p.e(S.hlt());
      else p.mov(EAX, SEL.CODE32_XO | 0).e(A.mov(32, A.sreg(A.DS), A.r16(EAX)));
      break;
    case 'np': {
      const np = p.desc(p.slot(), S.segDesc(0, 0xfffff, S.access(false, 3, true, 3), 0xc)) | cpl;
      p.mov(EAX, np).e(A.mov(32, A.sreg(rng.pick([A.DS, A.ES, A.FS, A.GS])), A.r16(EAX)));
      break;
    }
    case 'ss': {
      const np = p.desc(p.slot(), S.segDesc(0, 0xfffff, S.access(false, cpl, true, 3), 0xc)) | cpl;
      p.mov(EAX, np).e(A.mov(32, A.sreg(A.SS), A.r16(EAX)));
      break;
    }
    case 'pf':
      ctxFlags = CTXF.PAGING | CTXF.PSE | (rng.chance(0.5) ? CTXF.WP : 0);
      p.mov(EBX, LAYOUT.faultArea + rng.pick([0x1000, 0x1ffc, 0x2000, 0x3000])).e(A.mov(32, A.mem(4, { base: EBX, seg: A.SS }), r32(EAX)));
      break;
    case 'nm':
      ctxFlags |= CTXF.MP | CTXF.TS;
      p.e(S.fwait());
      break;
    case 'ts': {
      // a call gate to ring 1 whose TSS stack selector (SS1) is bad: #TS(SS1)
      const g = p.gdtSlot();
      p.desc(g, S.gateDesc(0xc, SEL.CODE32_R1 & ~3, landAt, 3, 0));
      p.patches.push(S.tssPatch(16, rng.pick([SEL.DATA32 | 1, SEL.DATA32_R2, SEL.CODE32_R1, SEL.DATA_RO | 1, 0x7f8 | 1])));
      p.e(S.farPtr(32, 'call', g | cpl, 0));
      break;
    }
  }
  p.end(cpl);
  // the gate for v (80%), and sometimes a bad gate for #GP/#NP too (double faults)
  const softInt = trig === 'intn' || trig === 'int3' || trig === 'into';
  const gatePatch = (vec: number, allowGood: boolean): void => {
    const type = rng.weighted([[0xe, 30], [0xf, 20], [6, 8], [7, 8], [0xc, 4], [0, 2], [8, 2], [0xd, 2], [0x9, 1]] as const);
    const present = rng.chance(allowGood ? 0.85 : 0.3);
    const dpl = softInt ? (rng.chance(0.7) ? rng.int(cpl, 3) : rng.int(0, 3)) : rng.int(0, 3);
    const wide = type >= 8;
    const t = rng.int(0, cpl);
    const benignHw = vec === v && (trig === 'ud' || trig === 'br' || trig === 'nm');
    // a bad gate for a benign hardware exception (#UD #BR #NM) would show QEMU's missing EXT bit
    const good = wide ? (flatCodeFor(t) & ~3) : t === 3 ? SEL.CODE16_R3 & ~3 : SEL.CODE16_CASE;
    const target = (allowGood && rng.chance(0.7)) || benignHw ? good : rng.pick([
      good, SEL.DATA32, 0, (LAYOUT.gdtLimit + 1) & 0xfff8, SEL.TSS,
      cpl < 3 ? flatCodeFor(rng.int(cpl + 1, 3)) & ~3 : SEL.DATA32_R3,
      p.desc(p.gdtSlot(), S.segDesc(0, 0xfffff, S.access(false, t, true, 0xb), 0xc)),
      ...(wide ? [LDT_SEL.CODE32 | 0, ...(cpl === 0 ? [SEL.CODE32_CONF] : [])] : []),
    ]);
    const base = segmentOf(target)?.base ?? 0;
    p.patches.push(...S.idtPatch(vec, S.gateDesc(benignHw ? (wide ? rng.pick([0xe, 0xf]) : rng.pick([6, 7])) : type, target,
      (landAt - base) & (wide ? 0xffffffff : 0xffff), dpl, 0, benignHw ? true : present)));
  };
  if (rng.chance(0.85)) gatePatch(v, true);
  if (!softInt && rng.chance(0.2)) {
    const sec = rng.pick([11, 13].filter((x) => x !== v));
    if (sec !== undefined) gatePatch(sec, false);
  }
  // the handler: INT 0x80 reports where it runs (the frame is in the stack windows)
  while (p.pc < landAt) p.e(S.int3());
  p.e(A.intn(32, 0x80));
  const rw = ringStackWindows();
  return {
    name: `sys-excdeliver-${trig}-${seed.toString(16).padStart(8, '0')}`,
    seed,
    mode,
    code: p.asm.code(),
    noEpilogue: true,
    listing: p.asm.lines().filter((l) => !l.endsWith(' int3')),
    regs: { eax: rng.u32(), ecx: rng.u32(), edx: rng.u32(), ebx: rng.u32(), esi: rng.u32(), edi: rng.u32(), ebp: rng.u32() },
    eflags: 2 | (rng.u32() & ARITH) | (rng.chance(0.5) ? IF : 0),
    eflagsKeep: IF,
    ctxFlags,
    ldtr: SEL.LDT,
    patches: p.patches,
    memory: rw.memory,
    readBack: rw.readBack,
    data: Uint8Array.of(0x10, 0, 0, 0, 0x20, 0, 0, 0),
    dataWindow: [0, 0x100],
  };
}

// ---- v86io: V86 mode and the I/O permission bitmap -----------------------------------------

/**
 * Ports the I/O cases use (DX forms): nothing answers there on either machine. Unclaimed
 * ports read 0 on QEMU 7.2 and all ones on bmbt-dbg (decision: ISA bus), so values read
 * are discarded (IN: the register is overwritten; INS: outside the compared windows).
 */
export const IO_PORT_BASE = 0x200;
/** Ports the imm8 forms use (0xE0..0xE7: nothing on either machine; 0xE9 is bmbt-dbg's debugcon). */
export const IO_PORT_IMM = 0xe0;

/** Patches that give the harness TSS an I/O bitmap reaching `limit` (bitmap bits for IO_PORT_BASE.. and IO_PORT_IMM..). */
export function ioBitmapPatches(limit: number, bits: number, bitsImm = bits): Array<[number, number]> {
  const tssDesc = S.segDesc(LAYOUT.tss, limit, S.access(true, 0, false, 9), 0);
  return [
    ...S.descPatch(SEL.TSS, tssDesc),
    [LAYOUT.tss + LAYOUT.tssIomap + (IO_PORT_BASE >> 3), bits >>> 0],
    [LAYOUT.tss + LAYOUT.tssIomap + (IO_PORT_IMM >> 3), bitsImm >>> 0],
  ];
}

/** V86 mode (or ring 3): CLI/STI/PUSHF/POPF/INT n/IRET at IOPL 0 and 3, IN/OUT/INS/OUTS through the I/O bitmap. */
export function genV86Io(seed: number): DiffCase {
  const rng = new Rng(seed);
  const v86 = rng.chance(0.7);
  const bits = v86 ? 16 : 32;
  const mode: CaseMode = v86 ? 'v86' : 'ring3';
  const asm = new A.Asm(bits, v86 ? 0 : LAYOUT.codeArea);
  const e = (...i: Insn[]) => { for (const x of i) asm.emit(x); };
  const iopl = rng.pick([0, 3, 3, ...(v86 ? [] : [1, 2])]);
  const patches: Array<[number, number]> = [];
  // the bitmap: usually present and covering the ports, sometimes cut short (limit inside it)
  const bitmap = rng.chance(0.8);
  if (bitmap) {
    const full = LAYOUT.tssIomap + (IO_PORT_BASE >> 3) + 4;
    const limit = rng.chance(0.8) ? full + rng.int(0, 4) : full - rng.int(1, 5);
    patches.push(...ioBitmapPatches(limit, rng.chance(0.3) ? 0 : rng.u32() & rng.u32(), rng.chance(0.3) ? 0 : rng.u32() & rng.u32()));
  }
  // INT n gates at 0x40.. (DPL 3 mostly) to a ring-0 handler that reports with INT 0x80
  const landAt = LAYOUT.codeArea + 0x800;
  const os = bits === 16 ? 2 : 4;
  const dataSeg = v86 ? (LAYOUT.rmData >>> 4) : 0;
  const dataBase = v86 ? LAYOUT.rmData : 0;
  const n = rng.int(2, 7);
  let vec = 0x40;
  for (let i = 0; i < n; i++) {
    const k = rng.weighted([['cli', 2], ['sti', 2], ['pushf', 2], ['popf', 3], ['intn', 2], ['iret', 2], ['in', 4], ['out', 3], ['ins', 2], ['outs', 2], ['alu', 3]] as const);
    const port = IO_PORT_BASE + rng.int(0, 31);
    const size = rng.pick([1, 2, 4] as const);
    switch (k) {
      case 'cli': e(S.cli()); break;
      case 'sti': e(S.sti()); break;
      case 'pushf': e(A.pushf(bits, rng.chance(0.3) ? (6 - os) as 2 | 4 : os), A.pop(bits, A.reg(rng.chance(0.3) ? (6 - os) as 2 | 4 : os, rng.pick([EAX, EBX, ESI])))); break;
      case 'popf': {
        const o = rng.chance(0.3) ? (6 - os) as 2 | 4 : os;
        const fl = (2 | (rng.u32() & (ARITH | DF)) | (rng.chance(0.5) ? IF : 0) | (rng.int(0, 3) << 12) | (rng.chance(0.2) ? AC : 0) | (rng.chance(0.1) ? NT : 0)) >>> 0;
        e(A.push(bits, A.imm(o, fl & (o === 2 ? 0xffff : 0xffffffff)), o, 1), A.popf(bits, o));
        break;
      }
      case 'intn': {
        const v = vec++;
        const dpl = rng.chance(0.8) ? 3 : rng.int(0, 2);
        patches.push(...S.idtPatch(v, S.gateDesc(rng.pick([0xe, 0xf]), SEL.CODE32, landAt, dpl)));
        e(A.intn(bits, v));
        break;
      }
      case 'iret': {
        // a made-up IRET frame to the next instruction (same privilege / same V86 task)
        // (a 16-bit IRET from 32-bit code at CODE_AREA would return below 64 KiB: V86 only)
        const o = v86 && rng.chance(0.25) ? 4 : os;
        const fl = (2 | (rng.u32() & (ARITH | DF)) | (rng.chance(0.5) ? IF : 0) | (rng.int(0, 3) << 12)) >>> 0;
        const cs = v86 ? LAYOUT.rmCode >>> 4 : SEL.CODE32_R3;
        e(A.push(bits, A.imm(o, fl), o, 1), A.push(bits, A.imm(o, cs), o, 1));
        const at = asm.pc;
        const len = (o !== os ? 1 : 0) + (o === 2 ? 3 : 5) + (o !== os ? 1 : 0) + 1;
        e(A.push(bits, A.imm(o, at + len), o, 1), S.iret(bits, o));
        break;
      }
      case 'in': case 'out': {
        if (rng.chance(0.5)) e(S.io(bits, k, size, IO_PORT_IMM + rng.int(0, 7)));
        else e(A.mov(bits, A.r16(EDX), A.imm(2, port)), S.io(bits, k, size));
        // the value read differs between the machines (see IO_PORT_BASE): overwrite it
        if (k === 'in') e(A.mov(bits, A.reg(size, EAX), A.imm(size, rng.u32() & (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff))));
        break;
      }
      case 'ins': case 'outs': {
        // (REP with a zero count: QEMU checks the I/O permission, bmbt-dbg does not: a known difference, edge case)
        const rep = rng.chance(0.4);
        e(A.mov(bits, A.r16(EDX), A.imm(2, port)), A.mov(bits, A.reg(os, ECX), A.imm(os, rng.int(1, 3))));
        // INS writes outside the compared windows (the values read differ)
        e(A.mov(bits, A.reg(os, k === 'ins' ? EDI : ESI), A.imm(os, (LAYOUT.dataArea - dataBase + (k === 'ins' ? 0x800 : 0x40) + rng.int(0, 0x40)) >>> 0)));
        if (v86 || rng.chance(0.5)) e(A.push(bits, A.imm(os, v86 ? dataSeg : SEL.DATA32_R3), os), A.pop(bits, A.sreg(k === 'ins' ? A.ES : A.DS), os));
        e(S.insOuts(bits, k, size, rep));
        break;
      }
      case 'alu': e(A.alu(bits, rng.pick(['add', 'sub', 'cmp'] as const), A.reg(os, rng.pick([EAX, EBX, ECX])), A.imm(os, rng.u32() & (os === 2 ? 0xffff : 0xffffffff)))); break;
    }
  }
  while (asm.pc - asm.origin < 0x7f0 && asm.pc < landAt - (v86 ? 0 : 0)) {
    if (v86 || asm.pc >= landAt) break;
    asm.emit(S.int3());
  }
  const code = asm.code();
  const memory: MemInit[] = [];
  // the ring-0 handler for INT n (in CODE_AREA; V86 code lives in RM_CODE)
  if (v86) memory.push({ addr: landAt, bytes: Uint8Array.of(0xcd, 0x80) });
  const rw = ringStackWindows();
  const c: DiffCase = {
    name: `sys-v86io-${v86 ? 'v86' : 'ring3'}-iopl${iopl}-${seed.toString(16).padStart(8, '0')}`,
    seed,
    mode,
    code: v86 ? code : Uint8Array.from([...code, ...new Uint8Array(0)]),
    listing: asm.lines().filter((l) => !l.endsWith(' int3')),
    regs: { eax: rng.u32(), ebx: rng.u32(), ecx: rng.u32(), edx: rng.u32(), esi: rng.u32(), edi: rng.u32(), ebp: rng.u32() },
    eflags: 2 | (rng.u32() & ARITH) | (iopl << 12) | (rng.chance(0.3) ? IF : 0),
    eflagsKeep: IF,
    ctxFlags: v86 ? CTXF.V86 | (rng.chance(0.4) ? CTXF.PAGING | CTXF.PSE : 0) : modeDefaults('ring3').flags,
    patches,
    memory: [...memory, ...rw.memory],
    readBack: rw.readBack,
    dataWindow: [0, 0x100],
  };
  if (!v86) {
    // ring 3: the handler at landAt inside the case code (pad to it, then INT 0x80)
    const pad = new Uint8Array(landAt - LAYOUT.codeArea - code.length - 7).fill(0xcc);
    const end = farJump(32, SEL.CODE32_R3, LAYOUT.caseDone, 4);
    c.code = Uint8Array.from([...code, ...end, ...pad, 0xcd, 0x80]);
    c.noEpilogue = true;
  }
  return c;
}

// ---- paging: random page-table entries ------------------------------------------------------

const PTE_P = 1, PTE_W = 2, PTE_U = 4, PTE_A = 0x20, PTE_D = 0x40, PTE_PS = 0x80, PTE_G = 0x100;

/** Random PTE attribute bits (P, R/W, U/S, A, D, G, PWT, PCD). */
function randomPteBits(rng: Rng, global: boolean): number {
  let b = 0;
  if (rng.chance(0.85)) b |= PTE_P;
  if (rng.chance(0.6)) b |= PTE_W;
  if (rng.chance(0.6)) b |= PTE_U;
  if (rng.chance(0.3)) b |= PTE_A;
  if (rng.chance(0.3)) b |= PTE_D;
  if (global && rng.chance(0.4)) b |= PTE_G;
  if (rng.chance(0.2)) b |= rng.pick([0x8, 0x10, 0x18]);
  return b;
}

/**
 * Random 4 KiB entries for the FAULT_AREA pages (frames: themselves or each other) and a random
 * big page (4 MiB PSE / 2 MiB PAE, or a PDE pointing at the low page table) at BIG_AREA, 32-bit
 * or PAE paging, ring 0 or 3, CR0.WP and CR4.PGE at random; loads, stores, read-modify-writes
 * and page-straddling accesses; in ring 0 also PTE rewrites followed by INVLPG or a CR4.PGE
 * toggle. Compared: registers, #PF error code and CR2, the frames' bytes and the entries'
 * accessed/dirty bits.
 */
export function genPaging(seed: number): DiffCase {
  const rng = new Rng(seed);
  const pae = rng.chance(0.4);
  const ring3 = rng.chance(0.45);
  const mode: CaseMode = pae ? (ring3 ? 'pae-ring3' : 'pae') : ring3 ? 'ring3' : 'paging32';
  const pge = rng.chance(0.4);
  const ctxFlags = CTXF.PAGING | CTXF.PSE | (pae ? CTXF.PAE : 0) | (rng.chance(0.7) ? CTXF.WP : 0) | (pge ? CTXF.PGE : 0);
  const p = new Prog(rng);
  const F = LAYOUT.faultArea;
  const NPAGES = 6;
  const BIG = 0x01400000; // 20 MiB: PDE 5 (32-bit), PDEs 10/11 (PAE)
  const pteAddr = (lin: number) => pae ? LAYOUT.paePt1 + ((lin - 0x200000) >>> 12) * 8 : LAYOUT.pageTable0 + (lin >>> 12) * 4;
  const frames: number[] = [];
  const ptes: number[] = [];
  for (let i = 0; i < NPAGES; i++) {
    const frame = rng.chance(0.7) ? F + i * 0x1000 : F + rng.int(0, NPAGES - 1) * 0x1000;
    frames.push(frame);
    const pte = (frame | randomPteBits(rng, pge)) >>> 0;
    ptes.push(pte);
    p.patches.push([pteAddr(F + i * 0x1000), pte]);
  }
  // the big page: its frame is physical 0 (the low 4 MiB again, test pages included) or the low page table
  const bigKind = rng.pick(['page', 'page', 'table'] as const);
  const bigBits = randomPteBits(rng, pge) | PTE_P * (rng.chance(0.9) ? 1 : 0);
  if (pae) {
    const e0 = bigKind === 'page' ? (0x00000000 | PTE_PS | bigBits) : (LAYOUT.paePt1 | (bigBits & 0x1f));
    // PAE: 2 MiB page at BIG + 2 MiB holds physical 2..4 MiB (the test pages), or PD -> PT1
    const e1 = bigKind === 'page' ? (0x00200000 | PTE_PS | bigBits) : (LAYOUT.paePt1 | (bigBits & 0x1f));
    p.patches.push([LAYOUT.paePd + (BIG >>> 21) * 8, e0 >>> 0], [LAYOUT.paePd + ((BIG >>> 21) + 1) * 8, e1 >>> 0]);
  } else {
    const e = bigKind === 'page' ? (0x00000000 | PTE_PS | bigBits) : (LAYOUT.pageTable0 | (bigBits & 0x1f));
    p.patches.push([LAYOUT.pageDir + (BIG >>> 22) * 4, e >>> 0]);
  }
  // prologue: known bytes in every test frame (through the low alias), both ends of each page
  const alias = (phys: number) => (LAYOUT.lowAlias + phys) >>> 0;
  for (let i = 0; i < NPAGES; i++) {
    for (const o of [0, 0xff8]) {
      p.mov(EDI, alias(F + i * 0x1000 + o)).e(A.mov(32, A.mem(4, { base: EDI }), imm32(rng.u32())), A.mov(32, A.mem(4, { base: EDI, disp: 4 }), imm32(rng.u32())));
    }
  }
  const lin = () => {
    const page = rng.int(0, NPAGES - 1);
    const off = rng.pick([rng.int(0, 0x7), rng.int(0xff8, 0xfff), rng.int(0xffc, 0xfff)]);
    const base = rng.chance(0.2) ? BIG + (pae ? 0x200000 + (F - 0x200000) : F) : F;
    return (base + page * 0x1000 + off) >>> 0;
  };
  const n = rng.int(2, 6);
  for (let i = 0; i < n; i++) {
    const size = rng.pick([1, 2, 4] as const);
    const reg = rng.pick([EAX, ECX, EDX, ESI]);
    const op = rng.weighted([['load', 4], ['store', 4], ['rmw', 2], ['movs', 1], ['remap', ring3 ? 0 : 2]] as const);
    const a = lin();
    switch (op) {
      case 'load': p.mov(EBX, a).e(A.mov(32, A.reg(size, reg), A.mem(size, { base: EBX }))); break;
      case 'store': p.mov(EBX, a).e(A.mov(32, A.mem(size, { base: EBX }), A.imm(size, rng.u32() & (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff)))); break;
      case 'rmw': p.mov(EBX, a).e(A.alu(32, rng.pick(['add', 'xor', 'sub'] as const), A.mem(size, { base: EBX }), A.reg(size, reg))); break;
      case 'movs': p.mov(ESI, a).mov(EDI, lin()).mov(ECX, rng.int(1, 3)).e(A.simple(32, 'cld', [0xfc]), A.str(32, 'movs', size, { rep: 'rep' })); break;
      case 'remap': {
        // rewrite a test page's entry, then make the change visible: INVLPG, or (global pages) a CR4.PGE toggle
        const i2 = rng.int(0, NPAGES - 1);
        const pte = ((F + rng.int(0, NPAGES - 1) * 0x1000) | randomPteBits(rng, pge)) >>> 0;
        p.mov(EBX, pteAddr(F + i2 * 0x1000)).e(A.mov(32, A.mem(4, { base: EBX }), imm32(pte)));
        if (pge && rng.chance(0.4)) {
          p.e(S.movCr('cr', 'read', 4, EAX), A.alu(32, 'xor', r32(EAX), imm32(0x80)), S.movCr('cr', 'write', 4, EAX), A.alu(32, 'xor', r32(EAX), imm32(0x80)), S.movCr('cr', 'write', 4, EAX));
        } else {
          p.mov(EBX, F + i2 * 0x1000 + rng.int(0, 0xfff)).e(S.grp7(32, 'invlpg', A.mem(1, { base: EBX })));
          if (rng.chance(0.3)) p.mov(EBX, BIG + (pae ? 0x200000 + (F - 0x200000) : F) + i2 * 0x1000).e(S.grp7(32, 'invlpg', A.mem(1, { base: EBX })));
        }
        break;
      }
    }
  }
  const readBack: Array<[number, number]> = [];
  for (let i = 0; i < NPAGES; i++) readBack.push([alias(F + i * 0x1000), 8], [alias(F + i * 0x1000 + 0xff8), 8]);
  readBack.push([pteAddr(F), NPAGES * (pae ? 8 : 4)]);
  readBack.push(pae ? [LAYOUT.paePd + (BIG >>> 21) * 8, 16] : [LAYOUT.pageDir + (BIG >>> 22) * 4, 4]);
  const rw = ringStackWindows();
  return {
    name: `sys-paging-${pae ? 'pae' : '32'}-${ring3 ? 'r3' : 'r0'}-${seed.toString(16).padStart(8, '0')}`,
    seed,
    mode,
    code: p.asm.code(),
    listing: p.asm.lines(),
    regs: { eax: rng.u32(), ecx: rng.u32(), edx: rng.u32(), esi: rng.u32(), ebp: rng.u32() },
    eflags: 2 | (rng.u32() & ARITH),
    ctxFlags,
    patches: p.patches,
    memory: rw.memory,
    readBack: [...rw.readBack, ...readBack],
    dataWindow: [0, 0x40],
  };
}

// ---- debug: debug registers, single-step, RF, the MOV SS shadow ------------------------------

/** DR7 bits for breakpoint i: enable (L and/or G), R/W (0 exec, 1 write, 3 read/write), LEN (0/1/3). */
export function dr7Bits(i: number, rw: number, len: number, enable: 1 | 2 | 3): number {
  return ((enable << (2 * i)) | (rw << (16 + 4 * i)) | (len << (18 + 4 * i))) >>> 0;
}

/**
 * Debug exceptions, three kinds of case (so that QEMU is a usable oracle, see README):
 *  - exec: DR0-DR3 instruction breakpoints (L/G), hit or not, an IRET with RF in its image
 *    before a breakpointed instruction, MOV DR in ring 0;
 *  - data: one write or read/write breakpoint of 1/2/4 bytes on accessed or nearby bytes,
 *    MOV SS before an access (QEMU 7.2 reports one B bit when several breakpoints
 *    match an access, and raises spurious #DBs after POP SS while a data breakpoint is
 *    enabled: those are edge cases, not generated);
 *  - step: TF single-step set at entry, by POPF or by IRET, MOV SS / POP SS shadows.
 * Compared: where #DB is taken, DR6 as the handler reads it, registers and memory.
 */
export function genDebug(seed: number): DiffCase {
  const rng = new Rng(seed);
  const ring3 = rng.chance(0.35);
  const mode: CaseMode = ring3 ? 'ring3' : 'flat32';
  const kind = rng.weighted([['exec', 3], ['data', 4], ['step', 3]] as const);
  const p = new Prog(rng);
  const D = LAYOUT.dataArea;
  const starts: number[] = []; // instruction starts that may carry an instruction breakpoint
  const dataAddrs: number[] = [];
  const cpl = ring3 ? 3 : 0;
  const ss = flatDataFor(cpl);
  const memory: MemInit[] = [];
  let tfSet = false;
  let usesRf = false;
  const n = rng.int(4, 10);
  for (let i = 0; i < n; i++) {
    const here = p.pc;
    const k = rng.weighted([
      ['alu', 3], ['load', 3], ['store', 3], ['rmw', 2], ['push', 1], ['movss', 1.5], ['popss', kind === 'data' ? 0 : 1],
      ['popf-tf', kind === 'step' && !tfSet ? 2 : 0], ['iret', kind === 'data' ? 0.3 : 1], ['movdr', ring3 ? 0 : 0.5], ['nop', 1],
    ] as const);
    const size = rng.pick([1, 2, 4] as const);
    // (QEMU 7.2 checks misaligned accesses against data breakpoints as wider aligned ones, and a
    // misaligned store hits every write breakpoint below it in the page: accesses are aligned)
    const a = D + 0x40 + rng.int(0, 0x3f);
    const aligned = (a & ~(size - 1)) >>> 0;
    let startOk = true;
    switch (k) {
      case 'alu': p.e(A.alu(32, rng.pick(['add', 'sub', 'adc'] as const), r32(rng.pick([EAX, ECX, EDX])), imm32(rng.u32()))); break;
      case 'load': dataAddrs.push(aligned); p.e(A.mov(32, A.reg(size, rng.pick([EAX, ECX, EDX])), A.mem(size, { disp: aligned }))); break;
      case 'store': dataAddrs.push(aligned); p.e(A.mov(32, A.mem(size, { disp: aligned }), A.imm(size, rng.u32() & (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff)))); break;
      case 'rmw': dataAddrs.push(aligned); p.e(A.alu(32, 'add', A.mem(size, { disp: aligned }), A.reg(size, EAX))); break;
      case 'push': p.e(A.push(32, imm32(rng.u32())), A.pop(32, r32(EBX))); break;
      case 'movss':
        // (an instruction breakpoint right after MOV SS "may not be triggered" (SDM): not one here)
        p.mov(ESI, ss).e(A.mov(32, A.sreg(A.SS), A.r16(ESI)));
        p.e(A.alu(32, 'add', r32(EAX), imm32(rng.u32())));
        startOk = false;
        break;
      case 'popss':
        p.e(A.push(32, imm32(ss)), A.pop(32, A.sreg(A.SS)));
        p.e(A.mov(32, A.mem(4, { disp: a & ~3 }), r32(EAX)));
        dataAddrs.push(a & ~3);
        startOk = false;
        break;
      case 'popf-tf':
        tfSet = true;
        p.e(A.push(32, imm32(2 | TF | (rng.u32() & ARITH))), A.popf(32, 4));
        break;
      case 'iret': {
        // an IRET to the next instruction, with RF (exec) or TF (step) in the image
        const fl = (2 | (rng.u32() & ARITH) | (kind === 'step' && rng.chance(0.6) ? TF : 0) | (rng.chance(0.5) ? RF : 0)) >>> 0;
        if (fl & TF) tfSet = true;
        if (fl & RF) usesRf = true;
        if (ring3) p.e(A.push(32, imm32(ss)), A.push(32, imm32(LAYOUT.caseEsp - 0x40)));
        p.e(A.push(32, imm32(fl)), A.push(32, imm32(flatCodeFor(cpl))));
        const at = p.pc;
        p.e(A.push(32, imm32(at + 5 + 1), 4, 1), S.iret(32));
        break;
      }
      // (reads of any DR, writes of DR0-DR3 only: what a DR6 write keeps is model-specific)
      case 'movdr': {
        const w = rng.chance(0.5);
        p.e(S.movCr('dr', w ? 'write' : 'read', w ? rng.int(0, 3) : rng.pick([0, 1, 2, 3, 6, 7]), EDI));
        break;
      }
      case 'nop': p.e(S.nop()); break;
    }
    if (startOk) starts.push(here);
  }
  const dr = { dr0: 0, dr1: 0, dr2: 0, dr3: 0, dr6: 0xffff0ff0, dr7: 0x400 };
  if (kind !== 'step') {
    const nbp = kind === 'data' ? 1 : rng.int(1, 4);
    for (let i = 0; i < nbp; i++) {
      let addr: number;
      let rw = 0;
      let len = 0;
      if (kind === 'exec') {
        addr = rng.chance(0.85) ? rng.pick(starts) : rng.pick(starts) + 1;
      } else {
        rw = rng.pick([1, 3]);
        len = rng.pick([0, 1, 3]);
        const sz = [1, 2, 0, 4][len]!;
        const base = dataAddrs.length && rng.chance(0.8) ? rng.pick(dataAddrs) + rng.int(-3, 3) : D + 0x40 + rng.int(0, 0x3f);
        addr = base & ~(sz - 1);
      }
      (dr as Record<string, number>)[`dr${i}`] = addr >>> 0;
      dr.dr7 |= dr7Bits(i, rw, len, rng.pick([1, 2, 3] as const));
    }
    if (rng.chance(0.3)) dr.dr7 |= rng.pick([0x100, 0x200, 0x300]); // LE/GE
    // (no DR7.GD: QEMU 7.2 does not implement general detect; edge case)
  }
  const tfStart = kind === 'step' && rng.chance(0.3);
  const data = new Uint8Array(0x100);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(0, 255);
  const rfAtEntry = kind === 'exec' && rng.chance(0.2);
  const c: DiffCase = {
    name: `sys-debug-${kind}-${ring3 ? 'r3' : 'r0'}-${seed.toString(16).padStart(8, '0')}`,
    seed,
    mode,
    code: p.asm.code(),
    listing: [...p.asm.lines(), `; dr0=${hex(dr.dr0)} dr1=${hex(dr.dr1)} dr2=${hex(dr.dr2)} dr3=${hex(dr.dr3)} dr7=${hex(dr.dr7)}${tfStart ? ' TF at entry' : ''}`],
    regs: { eax: rng.u32(), ecx: rng.u32(), edx: rng.u32(), ebx: rng.u32(), esi: rng.u32(), edi: rng.u32(), ebp: rng.u32() },
    eflags: 2 | (rng.u32() & ARITH) | (tfStart ? TF : 0) | (rfAtEntry ? RF : 0),
    eflagsKeep: TF | RF,
    ctxFlags: CTXF.PSE,
    data,
    dataWindow: [0, 0x100],
  };
  // (step cases load DR0-DR3 = 0 too: QEMU reports B bits of disabled breakpoints that match)
  c.dr = kind !== 'step' ? dr : { dr7: 0x400 };
  // what the case exercises beyond breakpoints (the test can hold back features still being written)
  if (kind === 'step') c.needs = 'single-step';
  else if (usesRf || rfAtEntry) c.needs = 'rf';
  if (memory.length) c.memory = memory;
  return c;
}

// ---- modeswitch: real mode <-> protected mode inside a case ----------------------------------

type MsMode = 'real' | 'pm16' | 'pm32';

/**
 * A case that switches between real mode and protected mode (16-bit code based at RM_CODE,
 * or flat 32-bit code) one or more times: CR0.PE set and cleared with MOV CR0, far jumps to
 * reload CS, LIDT of the matching interrupt table, data segments loaded in protected mode
 * with 64 KiB or 4 GiB limits before dropping back (unreal mode), the same stack all along.
 * Random instruction blocks (the issue-2 generator) run in every mode.
 */
export function genModeSwitch(seed: number): DiffCase {
  const rng = new Rng(seed);
  const startReal = rng.chance(0.6);
  const asm = new A.Asm(16, 0);
  const masks: Array<[number, number]> = [];
  // data: the IDTR images the case loads (jumped over at the start)
  const RMSEG = LAYOUT.rmCode >>> 4;
  const SP0 = 0x8000;
  const c: DiffCase = {
    name: `sys-modeswitch-${startReal ? 'real' : 'pm'}-${seed.toString(16).padStart(8, '0')}`,
    seed,
    mode: startReal ? 'real' : 'flat32',
    code: new Uint8Array(0),
    noEpilogue: true,
    mayEndReal: true,
    regs: {},
    eflags: 2 | (rng.u32() & (ARITH | DF)),
  };
  for (const n of ['eax', 'ecx', 'edx', 'ebx', 'ebp', 'esi', 'edi'] as const) c.regs![n] = rng.chance(0.5) ? rng.pick([0, 1, 0xffffffff, 0x7fff, 0x8000]) : rng.u32();
  let cur: MsMode = startReal ? 'real' : 'pm32';
  // state carried between blocks
  let undef = 0;
  let df: number | undefined = (c.eflags ?? 2) & DF ? 1 : 0;
  let sp = SP0;
  let unrealLimit = 0xffff;
  const bitsOf = (m: MsMode): 16 | 32 => (m === 'pm32' ? 32 : 16);
  const pcBiasOf = (m: MsMode) => (m === 'pm32' ? LAYOUT.rmCode : 0);
  const emit = (...insns: Insn[]) => {
    for (const i of insns) {
      masks.push([asm.pc - asm.origin, undef]);
      asm.emit(i);
    }
  };
  const here = () => asm.pc + pcBiasOf(cur);
  // the IDTR images: jmp over 12 bytes
  const imagesAt = 3;
  emit(cur === 'pm32' ? A.relBranch(32, 'jmp', LAYOUT.rmCode, LAYOUT.rmCode + 5 + 12 - 2) : A.relBranch(16, 'jmp', 0, 3 + 12));
  if (cur === 'pm32') asm.bytes.splice(asm.bytes.length - 5, 5, ...A.relBranch(32, 'jmp', LAYOUT.rmCode, LAYOUT.rmCode + 5 + 12).bytes);
  const imgOff = asm.pc - asm.origin;
  const img = [0xff, 0x07, ...[0, 1, 2, 3].map((i) => (LAYOUT.idt >>> (8 * i)) & 0xff), 0xff, 0x03, ...[0, 1, 2, 3].map((i) => (LAYOUT.rmIvt >>> (8 * i)) & 0xff)];
  asm.emit(A.raw(img, 'db pm idtr, rm idtr'));
  void imagesAt;
  // segment state per mode
  const realSegs = (lim: number) => [RM_DATA_SEG, RMSEG, LAYOUT.rmStack >>> 4, RM_DATA_SEG, RM_DATA_SEG, RM_DATA_SEG].map((v, i) => realSegment(v, i === A.SS || i === A.CS ? 0xffff : lim));
  const RM_DATA_SEG = LAYOUT.rmData >>> 4;
  const pmSegs = (m: MsMode) => m === 'pm16'
    ? [SEL.DATA16_RMDATA, SEL.CODE16_RMCASE, SEL.STACK16_RM, SEL.DATA16_RMDATA, SEL.DATA32, SEL.DATA16_RMDATA].map((s) => segmentOf(s)!)
    : [SEL.DATA32, SEL.CODE32, SEL.DATA32, SEL.DATA32, SEL.DATA16_RMDATA, SEL.DATA32].map((s) => segmentOf(s)!);
  let ended = false;
  const runBlock = (items: number, last = false) => {
    const env = {
      bits: bitsOf(cur), asm, pcBias: pcBiasOf(cur),
      segs: cur === 'real' ? realSegs(unrealLimit) : pmSegs(cur),
      ring: 0, kind: (cur === 'real' ? 'real' : 'pm') as 'real' | 'pm', unreal: cur === 'real' && unrealLimit !== 0xffff,
      esp: cur === 'pm32' ? LAYOUT.rmStack + sp : sp, undef, df,
      dataAddr: cur === 'real' && unrealLimit === 0xffff ? LAYOUT.rmData : cur === 'pm16' ? LAYOUT.rmData : LAYOUT.rmData,
    };
    const g = new Gen(rng, cur === 'real' ? 'real' : cur === 'pm16' ? 'code16' : 'flat32', c, env);
    g.block(items);
    if (last && !g.ended && rng.chance(0.3)) g.genException();
    masks.push(...g.masks);
    undef = g.undef;
    df = g.df;
    sp = (cur === 'pm32' ? g.esp - LAYOUT.rmStack : g.esp) & 0xffff;
    if (g.ended) ended = true;
  };
  const o32 = (i: Insn): Insn => i;
  const switches = rng.int(1, 3);
  runBlock(rng.int(1, 4));
  for (let k = 0; k < switches && !ended; k++) {
    const b = bitsOf(cur);
    if (cur === 'real') {
      // real -> protected (16- or 32-bit code)
      const to: MsMode = rng.pick(['pm16', 'pm32']);
      // (the OR defines the arithmetic flags but AF)
      emit(A.raw([0x2e, 0x66, 0x0f, 0x01, 0x1e, imgOff & 0xff, imgOff >> 8], 'o32 lidt [cs:pm_idtr]'));
      // (QEMU 7.2 leaves its lazy flags unsynced across MOV CR0 and far jumps inside a translation
      // block: the flags come out different run to run. A short jump ends the block first.)
      emit(S.movCr('cr', 'read', 0, EAX), A.alu(16, 'or', A.r8(EAX), A.imm(1, 1)));
      emit(A.relBranch(16, 'jmp8', asm.pc, asm.pc + 2), S.movCr('cr', 'write', 0, EAX));
      undef = AF;
      const len = (to === 'pm16' ? S.farPtr(16, 'jmp', 0, 0) : S.farPtr(16, 'jmp', 0, 0, 4)).bytes.length;
      const next = asm.pc + len;
      emit(to === 'pm16' ? S.farPtr(16, 'jmp', SEL.CODE16_RMCASE, next) : S.farPtr(16, 'jmp', SEL.CODE32, LAYOUT.rmCode + next, 4));
      cur = to;
      const nb = bitsOf(cur);
      const segs = pmSegs(cur);
      emit(A.mov(nb, A.r16(EAX), A.imm(2, cur === 'pm16' ? SEL.STACK16_RM : SEL.DATA32)), A.mov(nb, A.sreg(A.SS), A.r16(EAX)));
      if (cur === 'pm32') emit(A.mov(32, r32(ESP), imm32(LAYOUT.rmStack + sp)));
      for (const sr of [A.DS, A.ES, A.FS, A.GS]) emit(A.mov(nb, A.r16(EAX), A.imm(2, segs[sr]!.selector)), A.mov(nb, A.sreg(sr), A.r16(EAX)));
    } else {
      // protected -> real, through 16-bit protected-mode code; data limits 64 KiB or 4 GiB (unreal)
      void b;
      if (cur === 'pm32') {
        emit(A.relBranch(32, 'jmp8', asm.pc + LAYOUT.rmCode, asm.pc + LAYOUT.rmCode + 2));
        const len = S.farPtr(32, 'jmp', SEL.CODE16_RMCASE, 0, 2).bytes.length;
        emit(S.farPtr(32, 'jmp', SEL.CODE16_RMCASE, asm.pc + len, 2));
        cur = 'pm16';
      }
      unrealLimit = rng.chance(0.4) ? 0xffffffff : 0xffff;
      const lim = unrealLimit === 0xffff ? SEL.DATA16 : SEL.DATA32;
      emit(A.mov(16, A.r16(EAX), A.imm(2, SEL.STACK16_RM)), A.mov(16, A.sreg(A.SS), A.r16(EAX)));
      emit(A.mov(16, r32(ESP), imm32(sp)));
      for (const sr of [A.DS, A.ES, A.FS, A.GS]) emit(A.mov(16, A.r16(EAX), A.imm(2, lim)), A.mov(16, A.sreg(sr), A.r16(EAX)));
      emit(S.movCr('cr', 'read', 0, EAX), A.alu(16, 'and', A.r8(EAX), A.imm(1, 0xfe)));
      emit(A.relBranch(16, 'jmp8', asm.pc, asm.pc + 2), S.movCr('cr', 'write', 0, EAX));
      undef = AF;
      emit(S.farPtr(16, 'jmp', RMSEG, asm.pc + 5));
      cur = 'real';
      emit(A.mov(16, A.r16(EAX), A.imm(2, LAYOUT.rmStack >>> 4)), A.mov(16, A.sreg(A.SS), A.r16(EAX)));
      emit(A.raw([0x2e, 0x66, 0x0f, 0x01, 0x1e, (imgOff + 6) & 0xff, (imgOff + 6) >> 8], 'o32 lidt [cs:rm_idtr]'));
      for (const sr of [A.DS, A.ES, A.FS, A.GS]) emit(A.mov(16, A.r16(EAX), A.imm(2, RM_DATA_SEG)), A.mov(16, A.sreg(sr), A.r16(EAX)));
    }
    runBlock(rng.int(1, 4), k === switches - 1);
  }
  {
    // (also after an instruction that may or may not raise an exception)
    if (cur === 'real') emit(A.raw([...farJump(16, LAYOUT.rmBlobSeg, LAYOUT.rmDoneOff)], 'jmp far rm_done'));
    else emit(A.raw([...farJump(bitsOf(cur), SEL.CODE32, LAYOUT.caseDone, 4)], 'jmp far 0x08:case_done'));
  }
  masks.push([asm.pc - asm.origin, undef]);
  c.code = asm.code();
  c.listing = asm.lines();
  c.flagsIgnore = undef;
  c.flagsIgnoreAt = masks;
  // the stack is RM_STACK in every mode; the data windows: RM_DATA (64 KiB modes) and DATA_AREA (4 GiB ones)
  c.stackWindow = [LAYOUT.rmStack + SP0 - 0x400, 0x500];
  c.dataWindow = [0, DATA_WINDOW];
  c.dataAddr = LAYOUT.rmData;
  const data = new Uint8Array(DATA_WINDOW);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(0, 255);
  c.data = data;
  if (!startReal) {
    // a protected-mode start: flat ring 0 code at RM_CODE (EIP linear), the stack at RM_STACK
    c.regs!.esp = LAYOUT.rmStack + SP0;
    c.codeAddr = LAYOUT.rmCode;
    c.eip = LAYOUT.rmCode;
    c.segs = { cs: SEL.CODE32, ss: SEL.DATA32, ds: SEL.DATA32, es: SEL.DATA32, fs: SEL.DATA16_RMDATA, gs: SEL.DATA32 };
    c.ctxFlags = CTXF.PSE;
  }
  void o32;
  return c;
}

// ---- task: hardware task switches ------------------------------------------------------------

/** A 32-bit TSS image (104 bytes). */
export function tss32(f: {
  link?: number; esp0?: number; ss0?: number; cr3?: number; eip: number; eflags: number;
  regs: number[]; es: number; cs: number; ss: number; ds: number; fs: number; gs: number; ldt?: number; trap?: boolean;
}): Uint8Array {
  const b = new Uint8Array(104);
  const dv = new DataView(b.buffer);
  const d = (o: number, v: number) => dv.setUint32(o, v >>> 0, true);
  d(0, f.link ?? 0);
  d(4, f.esp0 ?? LAYOUT.kstackTop);
  d(8, f.ss0 ?? SEL.DATA32);
  d(12, LAYOUT.r1StackTop);
  d(16, SEL.DATA32_R1);
  d(20, LAYOUT.r2StackTop);
  d(24, SEL.DATA32_R2);
  d(28, f.cr3 ?? LAYOUT.pageDir);
  d(32, f.eip);
  d(36, f.eflags);
  f.regs.forEach((v, i) => d(40 + 4 * i, v));
  [f.es, f.cs, f.ss, f.ds, f.fs, f.gs, f.ldt ?? 0].forEach((v, i) => d(72 + 4 * i, v));
  dv.setUint16(100, f.trap ? 1 : 0, true);
  dv.setUint16(102, 104, true);
  return b;
}

/** A 16-bit TSS image (44 bytes). */
export function tss16(f: {
  link?: number; sp0?: number; ss0?: number; ip: number; flags: number; regs: number[];
  es: number; cs: number; ss: number; ds: number; ldt?: number;
}): Uint8Array {
  const b = new Uint8Array(44);
  const dv = new DataView(b.buffer);
  const w = (o: number, v: number) => dv.setUint16(o, v & 0xffff, true);
  w(0, f.link ?? 0);
  w(2, f.sp0 ?? 0xfff0);
  w(4, f.ss0 ?? SEL.STACK16);
  w(6, 0x8000); w(8, SEL.STACK16); w(10, 0x8000); w(12, SEL.STACK16);
  w(14, f.ip);
  w(16, f.flags);
  f.regs.forEach((v, i) => w(18 + 2 * i, v));
  [f.es, f.cs, f.ss, f.ds, f.ldt ?? 0].forEach((v, i) => w(34 + 2 * i, v));
  return b;
}

/**
 * Hardware task switches from the harness's task (ring 0 or 3) to 32- and 16-bit TSSs: JMP and
 * CALL to a TSS or a task gate, INT n and exceptions through IDT task gates, IRET with NT back
 * to the caller, nested switches; and the checks: busy targets, limits, not present, bad
 * selectors in the new TSS (#TS in the new task), the T bit (#DB with DR6.BT). Compared: the
 * registers, every TSS image (the state saved by the switch), the TSS descriptors (busy bits)
 * and what STR reads. bmbt-dbg does not switch tasks yet: these run with DIFF_TASKS=1.
 */
export function genTask(seed: number): DiffCase {
  const rng = new Rng(seed);
  const p = new Prog(rng);
  const ring3 = rng.chance(0.3);
  const cpl = ring3 ? 3 : 0;
  const memory: MemInit[] = [];
  const how = rng.weighted([['jmp', 3], ['call', 4], ['jmpgate', 2], ['callgate', 2], ['int', 3], ['exc', 2]] as const);
  const target = rng.weighted([['A', 3], ['B', 1], ['C16', 2]] as const);
  const tSel = target === 'A' ? SEL.TSS_A : target === 'B' ? SEL.TSS_B : SEL.TSS16_C;
  const tAddr = target === 'A' ? LAYOUT.tssA : target === 'B' ? LAYOUT.tssB : LAYOUT.tss16C;
  const is16 = target === 'C16';
  // (faults after the commit point, a bad segment or LDT in the new TSS, are edge cases: QEMU 7.2
  // reports them with the old EIP for 32-bit TSSs and mishandles a bad LDT)
  const fault = rng.chance(0.2) ? rng.pick(['busy', 'limit', 'np', 'dpl'] as const) : undefined as 'busy' | 'limit' | 'np' | 'dpl' | 'seg' | 'ldt' | undefined;
  // the harness task's TSS names the LDT too (a task switch back loads LDTR from the TSS; the
  // processor never saves LDTR there): the caller's LDT selectors stay loadable
  p.patches.push(S.tssPatch(0x60, SEL.LDT));
  // the caller's part
  body(p, cpl, 0, rng.int(0, 2));
  let viaSel = tSel | (ring3 ? 3 : 0);
  if (how === 'jmpgate' || how === 'callgate') {
    viaSel = p.gdtSlot() | cpl;
    p.desc(viaSel & ~3, S.gateDesc(5, tSel, 0, fault === 'dpl' ? 0 : 3));
  } else if (ring3 || fault === 'dpl') {
    // a TSS descriptor reachable from ring 3 (DPL 3) in a scratch slot
    viaSel = p.gdtSlot() | cpl;
    p.desc(viaSel & ~3, S.segDesc(tAddr, is16 ? 43 : 103, S.access(true, fault === 'dpl' ? 0 : 3, false, is16 ? 1 : 9), 0));
  }
  let vec = 0;
  if (how === 'int' || how === 'exc') {
    vec = how === 'int' ? 0x40 + rng.int(0, 15) : rng.pick([6, 0, 13]);
    p.patches.push(...S.idtPatch(vec, S.gateDesc(5, viaSel & ~3, 0, fault === 'dpl' ? 0 : 3)));
  }
  if (fault === 'busy') {
    const tsel = viaSel & 4 ? viaSel : how === 'jmpgate' || how === 'callgate' || how === 'int' || how === 'exc' ? tSel : viaSel;
    p.desc(tsel & ~3, S.segDesc(tAddr, is16 ? 43 : 103, S.access(true, 3, false, is16 ? 3 : 0xb), 0));
  } else if (fault === 'limit') {
    p.desc(tSel, S.segDesc(tAddr, is16 ? 40 : rng.pick([100, 0x5f, 43]), S.access(true, 3, false, is16 ? 1 : 9), 0));
  } else if (fault === 'np') {
    p.desc(tSel, S.segDesc(tAddr, is16 ? 43 : 103, S.access(false, 3, false, is16 ? 1 : 9), 0));
  }
  // QEMU 7.2 does not sync its lazy flags before a far JMP: the EFLAGS a task switch saves are
  // garbage when the last flag setter is in the same translation block. A jump ends the block.
  p.e(A.relBranch(32, 'jmp8', p.pc, p.pc + 2));
  switch (how) {
    case 'jmp': case 'jmpgate': p.e(S.farPtr(32, 'jmp', viaSel, rng.u32())); break;
    case 'call': case 'callgate': p.e(S.farPtr(32, 'call', viaSel, rng.u32())); break;
    case 'int': p.e(A.intn(32, vec)); break;
    case 'exc':
      if (vec === 6) p.e(S.ud2());
      else if (vec === 0) p.mov(ECX, 0).e(A.grp3(32, 'div', r32(ECX)));
      else p.e(ring3 ? S.hlt() : A.mov(32, A.sreg(A.DS), A.r16(ESP)));
      break;
  }
  // back in the first task (after IRET from a nested task), or the end if nothing returns
  body(p, cpl, 0, rng.int(0, 2));
  p.e(S.grp6(32, 'str', r32(EDX)));
  p.end(cpl);
  // the new task's code
  const taskAt = p.pc;
  // (a fault through a task gate would run again after the IRET back: that task ends the case)
  const nested = how === 'call' || how === 'callgate' || how === 'int';
  const tcpl = rng.chance(0.25) ? 3 : 0;
  if (is16) {
    // 16-bit code in SEL_CODE16_CASE: IP = offset in CODE_AREA
    const a16 = new A.Asm(16, taskAt - LAYOUT.codeArea);
    a16.emit(S.grp6(16, 'str', A.r16(EBX)));
    a16.emit(A.pushf(16, 2));
    a16.emit(A.pop(16, A.r16(ESI)));
    if (nested && rng.chance(0.8)) a16.emit(S.iret(16));
    else a16.emit(A.raw([...farJump(16, SEL.CODE32, LAYOUT.caseDone, 4)], 'jmp far 0x08:case_done'));
    p.e(A.raw([...a16.code()], a16.lines().join(' ; ')));
  } else {
    body(p, tcpl, 0, rng.int(1, 3));
    p.e(S.grp6(32, 'str', r32(EBX)), A.pushf(32, 4), A.pop(32, r32(ESI)));
    if (nested && rng.chance(0.8)) p.e(S.iret(32));
    else p.end(tcpl);
  }
  // the TSS images
  const regs = Array.from({ length: 8 }, () => rng.u32());
  const segOk = fault !== 'seg';
  const badSeg = rng.pick([SEL.DATA_NP, SEL.CODE32_XO, 0x7f8, SEL.TSS]);
  if (is16) {
    regs[4] = 0x7000;
    memory.push({ addr: tAddr, bytes: tss16({
      ip: taskAt - LAYOUT.codeArea, flags: 2 | (rng.u32() & ARITH), regs,
      es: SEL.DATA_WIN, cs: SEL.CODE16_CASE, ss: SEL.STACK16, ds: segOk ? SEL.DATA_WIN : badSeg,
      ldt: fault === 'ldt' ? SEL.DATA32 : SEL.LDT,
    }) });
  } else {
    regs[4] = target === 'A' ? 0x31a000 : 0x31b000;
    const r3 = tcpl === 3;
    memory.push({ addr: tAddr, bytes: tss32({
      eip: taskAt, eflags: 2 | (rng.u32() & ARITH) | (rng.chance(0.2) ? IF : 0), regs,
      es: r3 ? SEL.DATA32_R3 : SEL.DATA32, cs: r3 ? SEL.CODE32_R3 : SEL.CODE32, ss: r3 ? SEL.DATA32_R3 : SEL.DATA32,
      ds: segOk ? (r3 ? SEL.DATA32_R3 : SEL.DATA32) : badSeg, fs: r3 ? SEL.DATA_WIN_R3 : SEL.DATA_WIN, gs: r3 ? SEL.DATA32_R3 : SEL.DATA32,
      ldt: fault === 'ldt' ? SEL.DATA32 : SEL.LDT, // (no T bit: QEMU 7.2 ignores it, edge case)
    }) });
  }
  // every TSS image is written (a fixed one where the case does not use it), so nothing depends on
  // earlier cases; their SS0:ESP0 stay usable (the previous case may have ended in ring 3 of one)
  const idle = (is32: boolean) => is32
    ? tss32({ eip: 0, eflags: 2, regs: [0, 0, 0, 0, 0, 0, 0, 0], es: 0, cs: 0, ss: 0, ds: 0, fs: 0, gs: 0 })
    : tss16({ ip: 0, flags: 2, regs: [0, 0, 0, 0, 0, 0, 0, 0], es: 0, cs: 0, ss: 0, ds: 0 });
  for (const [a, is32] of [[LAYOUT.tssA, true], [LAYOUT.tssB, true], [LAYOUT.tss16C, false], [LAYOUT.tss16D, false]] as const) {
    if (!memory.some((m) => m.addr === a)) memory.push({ addr: a, bytes: idle(is32) });
  }
  const rw = ringStackWindows();
  return {
    name: `sys-task-${how}-${target}-${ring3 ? 'r3' : 'r0'}${fault ? `-${fault}` : ''}-${seed.toString(16).padStart(8, '0')}`,
    seed,
    mode: ring3 ? 'ring3' : 'flat32',
    code: p.asm.code(),
    noEpilogue: true,
    listing: p.asm.lines(),
    regs: { eax: rng.u32(), ecx: rng.u32(), edx: rng.u32(), ebx: rng.u32(), esi: rng.u32(), edi: rng.u32(), ebp: rng.u32() },
    eflags: 2 | (rng.u32() & ARITH),
    ctxFlags: ring3 ? modeDefaults('ring3').flags : CTXF.PSE,
    // (every task has the LDT: the bodies may load LDT selectors, and a task switch back to a
    // task whose selectors need an LDT it does not have faults after the commit point)
    ldtr: SEL.LDT,
    patches: p.patches,
    memory: [...rw.memory, ...memory, { addr: 0x319f00, bytes: new Uint8Array(0x200).fill(0xcc) }],
    readBack: [...rw.readBack, [LAYOUT.tss, 104], [LAYOUT.tssA, 104], [LAYOUT.tssB, 104], [LAYOUT.tss16C, 44],
      [LAYOUT.gdt + SEL.TSS, 8], [LAYOUT.gdt + SEL.TSS_A, 24], [LAYOUT.gdt + SEL.TSS16_C, 16], [LAYOUT.gdt + SEL.SCRATCH, 16], [0x319f00, 0x200]],
    dataWindow: [0, 0x100],
    needs: 'task-switch',
  };
}

// ---- the families, seeds, defaults -----------------------------------------------------------

/** Every system family by name (the case names start with `gen-<mode>-` or `sys-<family>-`). */
export const SYS_FAMILIES: Readonly<Record<string, (seed: number) => DiffCase>> = {
  'insn-real': (s) => generateCase(s, { mode: 'real' }),
  'insn-unreal': (s) => generateCase(s, { mode: 'unreal' }),
  'insn-v86': (s) => generateCase(s, { mode: 'v86' }),
  'insn-ring1': (s) => generateCase(s, { mode: 'ring1' }),
  'insn-ring2': (s) => generateCase(s, { mode: 'ring2' }),
  'insn-pae': (s) => generateCase(s, { mode: 'pae' }),
  'insn-pae-ring3': (s) => generateCase(s, { mode: 'pae-ring3' }),
  modeswitch: genModeSwitch,
  farxfer: genFarXfer,
  desc: genDesc,
  excdeliver: genExcDeliver,
  v86io: genV86Io,
  paging: genPaging,
  debug: genDebug,
  task: genTask,
};

/** Cases per family in the default run (2,240 without `task`, 200 task cases beside). */
export const SYS_DEFAULT_COUNTS: Readonly<Record<string, number>> = {
  'insn-real': 120, 'insn-unreal': 80, 'insn-v86': 120, 'insn-ring1': 60, 'insn-ring2': 60, 'insn-pae': 80, 'insn-pae-ring3': 60,
  modeswitch: 200, farxfer: 260, desc: 260, excdeliver: 260, v86io: 220, paging: 260, debug: 200, task: 200,
};

function familyHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The seed of case `index` of a family in a run with `baseSeed`. */
export function sysCaseSeed(baseSeed: number, family: string, index: number): number {
  return caseSeed((baseSeed ^ familyHash(family)) >>> 0, index);
}

/** One case from `family:seed` (what SYS_CASE_SEED holds). */
export function sysCaseFromSpec(spec: string): DiffCase {
  const m = /^([a-z0-9-]+):(0x[0-9a-f]+|\d+)$/i.exec(spec.trim());
  if (!m || !SYS_FAMILIES[m[1]!]) throw new Error(`SYS_CASE_SEED must be <family>:<seed> with a family of ${Object.keys(SYS_FAMILIES).join(', ')}`);
  return withReproduce(m[1]!, SYS_FAMILIES[m[1]!]!(Number(m[2]) >>> 0));
}

function withReproduce(family: string, c: DiffCase): DiffCase {
  c.reproduce = `SYS_CASE_SEED=${family}:0x${(c.seed ?? 0).toString(16).padStart(8, '0')}`;
  return c;
}

/**
 * The cases of the given families (`counts`: cases per family) for a base seed, or just the
 * SYS_CASE_SEED one when that is set (and its family is among them).
 */
export function generateSystemCases(baseSeed: number, counts: Readonly<Record<string, number>>): DiffCase[] {
  const env = process.env.SYS_CASE_SEED;
  if (env) {
    const c = sysCaseFromSpec(env);
    return Object.keys(counts).some((f) => env.startsWith(f + ':')) ? [c] : [];
  }
  const out: DiffCase[] = [];
  for (const [family, n] of Object.entries(counts)) {
    const gen = SYS_FAMILIES[family];
    if (!gen) throw new Error(`no system family ${family}`);
    for (let i = 0; i < n; i++) out.push(withReproduce(family, gen(sysCaseSeed(baseSeed, family, i))));
  }
  return out;
}

/** The family a generated system case comes from (by its reproduce spec). */
export function familyOf(c: DiffCase): string | undefined {
  return /^SYS_CASE_SEED=([a-z0-9-]+):/.exec(c.reproduce ?? '')?.[1];
}
