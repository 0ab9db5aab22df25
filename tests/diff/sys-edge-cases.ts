// Hand-written issue-5 cases: one (or a few) per protection rule, mode switch, V86/VME rule,
// paging rule, debug-register rule and task-switch rule, each with what the Intel SDM says must
// happen (`expect`: the exception and its error code, where it is taken, registers, memory).
// They are compared with QEMU where QEMU follows the SDM; `qemuDiffers` marks the ones where
// QEMU 7.2 does not (README: "Where QEMU 7.2 differs from the SDM"), which are checked against
// `expect` only.
import * as A from './x86-asm.js';
import type { Insn } from './x86-asm.js';
import * as S from './sys-asm.js';
import { AC, AF, ARITH, CF, DF, IF, IOPL, NT, OF, PF, RF, SF, TF, VIF, VIP, ZF } from './flags.js';
import { Prog, dr7Bits, flatDataFor, ioBitmapPatches, IO_PORT_BASE, ringStackWindows, tss16, tss32 } from './sys-generator.js';
import { Rng } from './generator.js';
import { CTXF, LAYOUT, LDT_SEL, SEL } from '../support/harness-layout.js';
import {
  farJump, flatCodeFor, modeDefaults, type CaseExpectation, type CaseMode, type DiffCase, type MemInit,
} from '../support/diff-target.js';

const { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI } = A;
const r32 = A.r32;
const imm32 = (v: number) => A.imm(4, v >>> 0);
const D = LAYOUT.dataArea;
const C = LAYOUT.codeArea;

/** QEMU 7.2 gaps (the README lists them with the cases that show them). */
export const QEMU_GAPS = {
  noLimits: 'QEMU 7.2 (TCG) does not check data-segment limits (also in real mode)',
  confGate: 'QEMU 7.2 runs a conforming code segment reached through a call gate with DPL < CPL at CPL = DPL (SDM: CPL unchanged)',
  jmpGateNp: 'QEMU 7.2 raises #GP instead of #NP for a JMP through a call gate to a not-present code segment',
  stackNp: 'QEMU 7.2 raises #TS instead of #SS(SS) when the inner stack segment from the TSS is not present',
  farLimit: 'QEMU 7.2 raises #GP(selector) instead of #GP(0) when a far CALL/JMP target offset is beyond the CS limit',
  ltrNull: 'QEMU 7.2 accepts LTR with a null selector (SDM: #GP(0))',
  ext: 'QEMU 7.2 never sets the EXT bit in error codes of faults raised while delivering an exception',
  csAccessed: 'QEMU 7.2 does not set the accessed bit of a code-segment descriptor loaded by a far JMP/CALL',
  vme: 'QEMU 7.2 (TCG) has no VME/PVI: CR4.VME and CR4.PVI can be set but change nothing (no interrupt redirection, no VIF/VIP handling)',
  multiDataBp: 'QEMU 7.2 sets one DR6 B bit when several data breakpoints match one access',
  misalignedStoreBp: 'QEMU 7.2 checks misaligned accesses against data breakpoints wrongly: a misaligned store triggers every enabled write breakpoint below it in its page, a misaligned load one just below it',
  popSsDataBp: 'QEMU 7.2 does not hold a data-breakpoint #DB hit by POP SS until after the next instruction, and raises a spurious #DB (B0) after POP SS and the next access while a data breakpoint is enabled',
  tBit: 'QEMU 7.2 ignores the T (debug trap) bit of a TSS',
  rsvdP: 'QEMU 7.2 reports reserved-bit page faults without the P bit',
  taskCommitEip: 'QEMU 7.2 reports a #TS raised after the task-switch commit point (32-bit TSS) with the old task\'s EIP',
  cr0: 'QEMU 7.2 accepts MOV CR0 with PG = 1 and PE = 0, and with NW = 1 and CD = 0 (SDM: #GP(0))',
  pdpte: 'QEMU 7.2 does not check PDPTE reserved bits at MOV CR3 (SDM 4.4.1: #GP(0))',
  cr4: 'QEMU 7.2 hangs on MOV CR4 with a reserved bit set (the instruction restarts forever; SDM: #GP(0))',
  gd: 'QEMU 7.2 has no DR7.GD general detect (MOV DR does not fault)',
} as const;

function mk(name: string, mode: CaseMode, code: Uint8Array, listing: string[], p: Partial<DiffCase> & { expect: CaseExpectation }): DiffCase {
  return { name: `sys-edge-${name}`, mode, code, listing, dataWindow: [0, 0x100], ...p };
}

/** A flat 32-bit case built with Prog; `at` marks the instruction the expectation refers to. */
function flat(name: string, mode: CaseMode, build: (p: Prog, mark: () => void) => void, end: CaseExpectation['end'] | ((at: number) => CaseExpectation['end']), p: Partial<DiffCase> & { regs2?: CaseExpectation['regs']; flags?: [number, number]; memory2?: Array<[number, number[]]> } = {}): DiffCase {
  const prog = new Prog(new Rng(name.length));
  let at = 0;
  build(prog, () => (at = prog.off));
  const e: CaseExpectation = { end: typeof end === 'function' ? end(at) : end };
  if (p.regs2) e.regs = p.regs2;
  if (p.flags) e.flags = p.flags;
  if (p.memory2) e.memory = p.memory2;
  const { regs2, flags, memory2, ...rest } = p;
  void regs2; void flags; void memory2;
  const c = mk(name, mode, prog.asm.code(), prog.asm.lines(), { expect: e, ...rest });
  if (prog.patches.length) c.patches = [...prog.patches, ...(rest.patches ?? [])];
  if (prog.memory.length) c.memory = [...prog.memory, ...(rest.memory ?? [])];
  return c;
}

/** A 16-bit case (real mode, unreal, V86: code at RM_CODE, IP from 0). */
function low(name: string, mode: CaseMode, build: (e: (...i: Insn[]) => number, pc: () => number) => void, end: CaseExpectation['end'] | ((at: number) => CaseExpectation['end']), p: Partial<DiffCase> & { regs2?: CaseExpectation['regs']; flags?: [number, number]; memory2?: Array<[number, number[]]> } = {}): DiffCase {
  const asm = new A.Asm(16, 0);
  let last = 0;
  build((...i) => { for (const x of i) last = asm.emit(x); return last; }, () => asm.pc);
  const e: CaseExpectation = { end: typeof end === 'function' ? end(last) : end };
  if (p.regs2) e.regs = p.regs2;
  if (p.flags) e.flags = p.flags;
  if (p.memory2) e.memory = p.memory2;
  const { regs2, flags, memory2, ...rest } = p;
  void regs2; void flags; void memory2;
  return mk(name, mode, asm.code(), asm.lines(), { expect: e, ...rest });
}

const ex = (vector: number, errorCode?: number) => (offset: number): CaseExpectation['end'] => (errorCode === undefined ? { vector, offset } : { vector, errorCode, offset });

// ---- real mode, unreal mode, mode switches ------------------------------------------------------

function realModeCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const RD = LAYOUT.rmData;
  // a word at offset 0xFFFF wraps past the 64 KiB limit: #GP (real mode, no error code)
  out.push(low('real-word-at-ffff', 'real', (e) => e(A.mov(16, A.r16(EAX), A.mem(2, { a16: true, disp: 0xffff }))), ex(13), { qemuDiffers: QEMU_GAPS.noLimits }));
  // a 32-bit offset above 0xFFFF in real mode: #GP; in unreal mode (4 GiB limits kept): fine
  out.push(low('real-a32-beyond-64k', 'real', (e) => e(A.mov(16, r32(EBX), imm32(0x10000)), A.mov(16, r32(EAX), A.mem(4, { base: EBX }))), ex(13), { qemuDiffers: QEMU_GAPS.noLimits }));
  out.push(low('unreal-a32-beyond-64k', 'unreal', (e) => e(A.mov(16, r32(EBX), imm32(D)), A.mov(16, r32(EAX), A.mem(4, { base: EBX }))), 'done',
    { data: Uint8Array.of(0x11, 0x22, 0x33, 0x44), regs2: { eax: 0x44332211 } }));
  // unreal mode: loading DS in real mode keeps the 4 GiB limit (only the base changes)
  out.push(low('unreal-reload-ds-keeps-limit', 'unreal', (e) => e(A.mov(16, A.r16(EAX), A.imm(2, 0x1000)), A.mov(16, A.sreg(A.DS), A.r16(EAX)), A.mov(16, r32(EBX), imm32(D - 0x10000)), A.mov(16, r32(EAX), A.mem(4, { base: EBX }))), 'done',
    { data: Uint8Array.of(0x55, 0x66, 0x77, 0x88), regs2: { eax: 0x88776655 } }));
  // SP wraps at 0 in a 16-bit stack
  out.push(low('real-push-sp-wrap', 'real', (e) => e(A.mov(16, A.r16(ESP), A.imm(2, 0)), A.push(16, A.imm(2, 0x1234), 2, 1)), 'done', { regs: { esp: 0 }, regs2: { esp: 0xfffe }, stackWindow: [LAYOUT.rmStack + 0xfff0, 0x10], memory2: [[LAYOUT.rmStack + 0xfffe, [0x34, 0x12]]] }));
  // INT n in real mode: the IVT, a 3-word frame, IF/TF/AC cleared
  out.push(low('real-int-frame', 'real', (e) => e(A.push(16, A.imm(4, 0x40000 | IF | CF | 2), 4), A.popf(16, 4), A.intn(16, 0x42)), (at) => ({ vector: 0x42, offset: at + 2, via: 'rm-ivt' }),
    { eflagsKeep: IF, flags: [AC | CF, CF] }));
  // IRET in real mode pops IP, CS, FLAGS
  out.push(low('real-iret', 'real', (e, pc) => {
    e(A.push(16, A.imm(2, 0x0203 | 0x80), 2, 1), A.push(16, A.imm(2, LAYOUT.rmCode >>> 4), 2, 1));
    const at = pc();
    e(A.push(16, A.imm(2, at + 3 + 1), 2, 1), S.iret(16));
  }, 'done', { eflagsKeep: IF, flags: [0xfff, 0x0283] }));
  // writes through a CS override work in real mode (no segment type checks)
  out.push(low('real-cs-write', 'real', (e) => e(A.mov(16, A.mem(2, { a16: true, disp: 0x100, seg: A.CS }), A.imm(2, 0xbeef)), A.mov(16, A.r16(EAX), A.mem(2, { a16: true, disp: 0x100, seg: A.CS }))), 'done', { regs2: { eax: 0xbeef } }));
  // LMSW sets PE but cannot clear it; SMSW reads the low CR0 bits
  out.push(flat('lmsw-cannot-clear-pe', 'flat32', (p) => p.mov(EAX, 0).e(S.grp7(32, 'lmsw', A.r16(EAX)), S.grp7(32, 'smsw', r32(EBX)), A.alu(32, 'and', r32(EBX), imm32(1))), 'done', { regs2: { ebx: 1 } }));
  // real -> protected -> real inside a case: PE on, far jump, PE off, far jump; the 64 KiB limit from PM
  out.push(low('switch-pe-on-off', 'real', (e, pc) => {
    e(S.movCr('cr', 'read', 0, EAX), A.alu(16, 'or', A.r8(EAX), A.imm(1, 1)), S.movCr('cr', 'write', 0, EAX));
    e(S.farPtr(16, 'jmp', SEL.CODE16_RMCASE, pc() + 5));
    e(A.mov(16, A.r16(EBX), A.sreg(A.CS)));
    e(S.movCr('cr', 'read', 0, EAX), A.alu(16, 'and', A.r8(EAX), A.imm(1, 0xfe)), S.movCr('cr', 'write', 0, EAX));
    e(S.farPtr(16, 'jmp', LAYOUT.rmCode >>> 4, pc() + 5));
    e(A.mov(16, A.r16(ECX), A.sreg(A.CS)));
  }, 'done', { regs2: { ebx: SEL.CODE16_RMCASE, ecx: LAYOUT.rmCode >>> 4 }, flags: [0, 0] }));
  // MOV CR0 with PG and not PE: #GP(0)
  out.push(low('real-pg-without-pe', 'real', (e) => e(S.movCr('cr', 'read', 0, EAX), A.alu(16, 'or', r32(EAX), imm32(0x80000000)), S.movCr('cr', 'write', 0, EAX)), (at) => ({ vector: 13, offset: at, via: 'rm-ivt' }), { qemuDiffers: QEMU_GAPS.cr0 }));
  return out;
}

// ---- segmentation and protection -------------------------------------------------------------

function protectionCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const gp = (e: number) => ex(13, e);
  const load = (name: string, mode: CaseMode, sreg: number, sel: number, end: CaseExpectation['end'] | ((at: number) => CaseExpectation['end']), extra: Partial<DiffCase> = {}) =>
    out.push(flat(name, mode, (p, m) => { p.mov(EAX, sel); m(); p.e(A.mov(32, A.sreg(sreg), A.r16(EAX))); }, end, { ldtr: SEL.LDT, ...extra }));
  // SS loads: RPL != CPL, DPL != CPL, not writable, not present (#SS), null
  load('ss-rpl-ne-cpl', 'flat32', A.SS, SEL.DATA32 | 1, gp(SEL.DATA32));
  load('ss-dpl-ne-cpl-ring3', 'ring3', A.SS, SEL.DATA32_R2 | 3, gp(SEL.DATA32_R2 & ~3));
  load('ss-code', 'flat32', A.SS, SEL.CODE32, gp(SEL.CODE32));
  load('ss-not-present', 'flat32', A.SS, LDT_SEL.DATA_NP, ex(12, LDT_SEL.DATA_NP));
  load('ss-null-ring3', 'ring3', A.SS, 3, gp(0));
  // data loads: TI with an LDT / beyond the LDT limit / with LDTR = 0; DPL vs CPL/RPL; system descriptors
  load('ds-ldt', 'ring3', A.DS, LDT_SEL.DATA32_R3, 'done');
  load('ds-ldt-beyond-limit', 'flat32', A.DS, (40 << 3) | 4, gp((40 << 3) | 4));
  out.push(flat('ds-ldt-no-ldtr', 'flat32', (p, m) => { p.mov(EAX, LDT_SEL.DATA32); m(); p.e(A.mov(32, A.sreg(A.DS), A.r16(EAX))); }, gp(LDT_SEL.DATA32)));
  load('ds-rpl3-dpl0', 'flat32', A.DS, SEL.DATA32 | 3, gp(SEL.DATA32));
  load('ds-ring1-dpl0', 'ring1', A.DS, SEL.DATA32 | 1, gp(SEL.DATA32));
  load('ds-conforming-code-ring3', 'ring3', A.DS, SEL.CODE32_CONF | 3, 'done');
  load('ds-ldt-descriptor', 'flat32', A.DS, SEL.LDT, gp(SEL.LDT));
  load('ds-not-present-ring3-dpl0', 'ring3', A.DS, LDT_SEL.DATA_NP | 3, gp(LDT_SEL.DATA_NP));
  // accessed bit set on a data-segment load (descriptor written back)
  {
    const c = flat('ds-load-sets-accessed', 'flat32', (p) => {
      const s = p.gdtSlot();
      p.desc(s, S.segDesc(0, 0xfffff, S.access(true, 0, true, 2), 0xc));
      p.mov(EAX, s).e(A.mov(32, A.sreg(A.ES), A.r16(EAX)));
    }, 'done', { readBack: [[LAYOUT.gdt + SEL.SCRATCH, 8]], memory2: [[LAYOUT.gdt + SEL.SCRATCH + 5, [0x93]]] });
    out.push(c);
  }
  // far JMP sets the code descriptor's accessed bit
  out.push(flat('far-jmp-sets-accessed', 'flat32', (p) => {
    const s = p.gdtSlot();
    p.desc(s, S.segDesc(0, 0xfffff, S.access(true, 0, true, 0xa), 0xc));
    p.e(S.farPtr(32, 'jmp', s, p.pc + 7));
  }, 'done', { readBack: [[LAYOUT.gdt + SEL.SCRATCH, 8]], memory2: [[LAYOUT.gdt + SEL.SCRATCH + 5, [0x9b]]], qemuDiffers: QEMU_GAPS.csAccessed }));
  // far transfers: to non-conforming code of another DPL, RPL > CPL, to data, not present, beyond the limit
  const far = (name: string, mode: CaseMode, kind: 'call' | 'jmp', sel: number, off: number, end: (at: number) => CaseExpectation['end'], extra: Partial<DiffCase> = {}) =>
    out.push(flat(name, mode, (p, m) => { m(); p.e(S.farPtr(32, kind, sel, off)); }, end, extra));
  far('call-nonconforming-dpl0-from-ring3', 'ring3', 'call', SEL.CODE32 | 3, C, gp(SEL.CODE32));
  far('jmp-code-rpl-gt-cpl', 'flat32', 'jmp', SEL.CODE32 | 3, C, gp(SEL.CODE32));
  far('jmp-to-data', 'flat32', 'jmp', SEL.DATA32, C, gp(SEL.DATA32));
  far('call-conforming-dpl2-from-ring1', 'ring1', 'call', SEL.CODE32_CONF_R2 | 1, C, gp(SEL.CODE32_CONF_R2 & ~3));
  far('jmp-null', 'flat32', 'jmp', 0, C, gp(0));
  {
    const c = flat('call-beyond-cs-limit', 'flat32', (p, m) => {
      const s = p.gdtSlot();
      p.desc(s, S.segDesc(C, 0xfff, S.access(true, 0, true, 0xb), 0x4));
      m();
      p.e(S.farPtr(32, 'call', s, 0x1000));
    }, gp(0), { qemuDiffers: QEMU_GAPS.farLimit });
    out.push(c);
  }
  {
    const c = flat('jmp-code-not-present', 'flat32', (p, m) => {
      const s = p.gdtSlot();
      p.desc(s, S.segDesc(0, 0xfffff, S.access(false, 0, true, 0xb), 0xc));
      m();
      p.e(S.farPtr(32, 'jmp', s, C));
    }, (at) => ({ vector: 11, errorCode: SEL.SCRATCH, offset: at }));
    out.push(c);
  }
  // a direct far call to a conforming segment keeps CPL (CS.RPL = 3)
  out.push(flat('call-conforming-keeps-cpl', 'ring3', (p) => {
    p.e(S.farPtr(32, 'call', SEL.CODE32_CONF | 3, p.pc + 7 + 2));
    p.e(A.relBranch(32, 'jmp8', p.pc, p.pc + 2 + 2 + 1));
    p.e(A.mov(32, r32(EBX), A.sreg(A.CS)), S.retf(32));
  }, 'done', { regs2: { ebx: SEL.CODE32_CONF | 3 } }));
  // call gates
  const gateCase = (name: string, mode: CaseMode, gate: (p: Prog) => number, target: (p: Prog, calleeAt: number) => void, end: CaseExpectation['end'] | ((at: number) => CaseExpectation['end']), extra: Partial<DiffCase> & { regs2?: CaseExpectation['regs']; memory2?: Array<[number, number[]]> } = {}) => {
    const rw = ringStackWindows();
    out.push(flat(name, mode, (p, m) => {
      const g = gate(p);
      p.e(A.push(32, imm32(0x11111111)), A.push(32, imm32(0x22222222)));
      m();
      p.e(S.farPtr(32, 'call', g, 0));
      const over = p.fwdJmp();
      target(p, p.pc);
      over();
    }, end, { memory: rw.memory, readBack: rw.readBack, ...extra }));
  };
  const gateTo = (p: Prog, gsel: number, code: number, dpl: number, params: number, type = 0xc) => {
    const at = p.patches.length;
    p.patches.push([0, 0], [0, 0]);
    return (calleeAt: number) => {
      const d = S.gateDesc(type, code, calleeAt, dpl, params);
      p.patches[at] = [LAYOUT.gdt + (gsel & 0xfff8), d[0]];
      p.patches[at + 1] = [LAYOUT.gdt + (gsel & 0xfff8) + 4, d[1]];
    };
  };
  {
    // ring 3 -> ring 0 through a 32-bit call gate copying 2 parameters; the callee reads its frame
    let fix: (a: number) => void = () => undefined;
    const g = SEL.SCRATCH | 3;
    gateCase('callgate-r3-r0-params', 'ring3', (p) => { fix = gateTo(p, g, SEL.CODE32, 3, 2); return g; }, (p, at) => {
      fix(at);
      p.e(A.mov(32, r32(EAX), A.mem(4, { base: ESP, disp: 8 })), A.mov(32, r32(EBX), A.mem(4, { base: ESP, disp: 12 })), A.mov(32, r32(ECX), A.mem(4, { base: ESP, disp: 4 })),
        A.mov(32, r32(EDX), A.mem(4, { base: ESP, disp: 20 })), A.mov(32, r32(ESI), A.sreg(A.CS)), S.retf(32, 8));
    }, 'done', { regs2: { eax: 0x22222222, ebx: 0x11111111, ecx: SEL.CODE32_R3, edx: SEL.DATA32_R3, esi: SEL.CODE32, esp: LAYOUT.caseEsp }, memory2: [[LAYOUT.kstackTop - 4, [SEL.DATA32_R3, 0, 0, 0]]] });
  }
  {
    // a 16-bit call gate: 16-bit frame, word parameters (the callee reads them and ends the case)
    let fix: (a: number) => void = () => undefined;
    const g = SEL.SCRATCH | 3;
    gateCase('callgate16-r3-r0-frame', 'ring3', (p) => { fix = gateTo(p, g, SEL.CODE16_CASE, 3, 2, 4); return g; }, (p, at) => {
      fix((at - C) & 0xffff);
      const a16 = new A.Asm(16, at - C);
      a16.emit(A.mov(16, r32(EAX), A.mem(4, { a16: false, base: ESP })));
      a16.emit(A.mov(16, r32(EBX), A.mem(4, { a16: false, base: ESP, disp: 4 })));
      a16.emit(A.mov(16, r32(ECX), A.mem(4, { a16: false, base: ESP, disp: 8 })));
      a16.emit(A.raw([...farJump(16, SEL.CODE32, LAYOUT.caseDone, 4)], 'jmp far 0x08:case_done'));
      p.e(A.raw([...a16.code()], a16.lines().join(' ; ')));
    }, 'done', { regs2: { ebx: 0x22222222, ecx: (0x7ff8 | (SEL.DATA32_R3 << 16)) >>> 0 } });
  }
  {
    // call gate to a conforming segment (DPL 0) from ring 3: CPL stays 3 (no stack switch)
    let fix: (a: number) => void = () => undefined;
    const g = SEL.SCRATCH | 3;
    gateCase('callgate-to-conforming-keeps-cpl', 'ring3', (p) => { fix = gateTo(p, g, SEL.CODE32_CONF, 3, 2); return g; }, (p, at) => {
      fix(at);
      p.e(A.mov(32, r32(EBX), A.sreg(A.CS)), A.mov(32, r32(ECX), A.sreg(A.SS)), S.retf(32, 8));
    }, 'done', { regs2: { ebx: SEL.CODE32_CONF | 3, ecx: SEL.DATA32_R3, esp: LAYOUT.caseEsp }, qemuDiffers: QEMU_GAPS.confGate });
  }
  {
    // gate DPL < CPL, gate RPL > DPL, target DPL > CPL, not-present gate, inner SS bad/not present
    const g = SEL.SCRATCH | 3;
    gateCase('callgate-dpl-lt-cpl', 'ring3', (p) => { gateTo(p, g, SEL.CODE32, 0, 0)(C); return g; }, () => undefined, gp(SEL.SCRATCH));
    gateCase('callgate-rpl-gt-dpl', 'ring1', (p) => { gateTo(p, SEL.SCRATCH | 3, SEL.CODE32, 2, 0)(C); return SEL.SCRATCH | 3; }, () => undefined, gp(SEL.SCRATCH));
    gateCase('callgate-target-dpl-gt-cpl', 'ring1', (p) => { gateTo(p, SEL.SCRATCH | 1, SEL.CODE32_R3 & ~3, 3, 0)(C); return SEL.SCRATCH | 1; }, () => undefined, gp(SEL.CODE32_R3 & ~3));
    gateCase('callgate-target-data', 'ring3', (p) => { gateTo(p, g, SEL.DATA32, 3, 0)(C); return g; }, () => undefined, gp(SEL.DATA32));
    gateCase('callgate-not-present', 'ring3', (p) => { p.desc(SEL.SCRATCH, S.gateDesc(0xc, SEL.CODE32, C, 3, 0, false)); return g; }, () => undefined, (at) => ({ vector: 11, errorCode: SEL.SCRATCH, offset: at }));
    gateCase('callgate-inner-ss-bad', 'ring3', (p) => { gateTo(p, g, SEL.CODE32_R1 & ~3, 3, 0)(C); p.patches.push(S.tssPatch(16, SEL.DATA32_R2)); return g; }, () => undefined, (at) => ({ vector: 10, errorCode: SEL.DATA32_R2 & ~3, offset: at }));
    gateCase('callgate-inner-ss-not-present', 'ring3', (p) => {
      p.gdtSlot(); // (the gate's slot)
      gateTo(p, g, SEL.CODE32_R1 & ~3, 3, 0)(C);
      const ss = p.gdtSlot();
      p.desc(ss, S.segDesc(0, 0xfffff, S.access(false, 1, true, 3), 0xc));
      p.patches.push(S.tssPatch(16, ss | 1));
      return g;
    }, () => undefined, (at) => ({ vector: 12, errorCode: SEL.SCRATCH + 8, offset: at }), { qemuDiffers: QEMU_GAPS.stackNp });
    // JMP through a call gate to a not-present code segment: #NP(code selector)
    out.push(flat('jmpgate-code-not-present', 'flat32', (p, m) => {
      const code = p.gdtSlot();
      p.desc(code, S.segDesc(0, 0xfffff, S.access(false, 0, true, 0xb), 0xc));
      const gs = p.gdtSlot();
      p.desc(gs, S.gateDesc(0xc, code, C, 0, 0));
      m();
      p.e(S.farPtr(32, 'jmp', gs, 0));
    }, (at) => ({ vector: 11, errorCode: SEL.SCRATCH, offset: at }), { qemuDiffers: QEMU_GAPS.jmpGateNp }));
  }
  // RETF to an outer ring nulls data segment registers whose DPL < the new CPL
  out.push(flat('retf-outer-nulls-ds', 'flat32', (p) => {
    p.mov(EAX, SEL.DATA32).e(A.mov(32, A.sreg(A.DS), A.r16(EAX)));
    p.mov(EAX, SEL.DATA32_R3).e(A.mov(32, A.sreg(A.ES), A.r16(EAX)));
    p.e(A.push(32, imm32(SEL.DATA32_R3)), A.push(32, imm32(LAYOUT.caseEsp - 0x100)), A.push(32, imm32(SEL.CODE32_R3)));
    p.e(A.push(32, imm32(p.pc + 5 + 1), 4, 1), S.retf(32));
    p.e(A.mov(32, r32(EBX), A.sreg(A.DS)), A.mov(32, r32(ECX), A.sreg(A.ES)));
    p.end(3);
  }, 'done', { noEpilogue: true, regs2: { ebx: 0, ecx: SEL.DATA32_R3, esp: LAYOUT.caseEsp - 0x100 } }));
  // RETF/IRET to an outer ring: SS RPL != CS RPL, SS not writable, CS RPL < CPL
  const retOuter = (name: string, cs: number, ss: number, iret: boolean, end: (at: number) => CaseExpectation['end'], mode: CaseMode = 'flat32') =>
    out.push(flat(name, mode, (p, m) => {
      p.e(A.push(32, imm32(ss)), A.push(32, imm32(LAYOUT.caseEsp - 0x100)));
      if (iret) p.e(A.push(32, imm32(2)));
      p.e(A.push(32, imm32(cs)));
      p.e(A.push(32, imm32(p.pc + 5 + 1), 4, 1));
      m();
      p.e(iret ? S.iret(32) : S.retf(32));
      p.end(cs & 3);
    }, end, { noEpilogue: true }));
  retOuter('retf-outer-ss-rpl', SEL.CODE32_R3, SEL.DATA32_R2, false, gp(SEL.DATA32_R2 & ~3));
  retOuter('iret-outer-ss-readonly', SEL.CODE32_R3, SEL.DATA_RO | 3, true, gp(SEL.DATA_RO));
  retOuter('retf-to-inner-ring', SEL.CODE32, SEL.DATA32, false, gp(SEL.CODE32), 'ring3');
  // INT n: gate DPL < CPL -> #GP(n*8+2); not present -> #NP(n*8+2); interrupt vs trap gate IF
  // (the gate's offset 0: the handler at C + 0x80 reports with INT 0x80, its own EFLAGS in the frame)
  const intCase = (name: string, mode: CaseMode, gate: S.DescPair, end: CaseExpectation['end'] | ((at: number) => CaseExpectation['end']), extra: Partial<DiffCase> & { flags?: [number, number]; memory2?: Array<[number, number[]]> } = {}) =>
    out.push(flat(name, mode, (p, m) => {
      p.patches.push(...S.idtPatch(0x50, gate));
      m();
      p.e(A.intn(32, 0x50));
      p.end(mode === 'ring3' ? 3 : 0);
      while (p.pc < C + 0x80) p.e(S.int3());
      p.e(A.intn(32, 0x80));
    }, end, { noEpilogue: true, ...extra }));
  const H = C + 0x80;
  intCase('int-gate-dpl-lt-cpl', 'ring3', S.gateDesc(0xe, SEL.CODE32, H, 0), gp(0x50 * 8 + 2));
  intCase('int-gate-not-present', 'flat32', S.gateDesc(0xe, SEL.CODE32, H, 0, 0, false), (at) => ({ vector: 11, errorCode: 0x50 * 8 + 2, offset: at }));
  intCase('int-gate-call-gate-type', 'flat32', S.gateDesc(0xc, SEL.CODE32, H, 0), gp(0x50 * 8 + 2));
  intCase('int-gate-bad-target', 'flat32', S.gateDesc(0xe, SEL.DATA32, H, 0), gp(SEL.DATA32));
  intCase('int-interrupt-gate-clears-if', 'flat32', S.gateDesc(0xe, SEL.CODE32, H, 0), { vector: 0x80, offset: 0x82 }, { eflags: 2 | IF | TF * 0, eflagsKeep: IF, flags: [IF, 0] });
  intCase('int-trap-gate-keeps-if', 'flat32', S.gateDesc(0xf, SEL.CODE32, H, 0), { vector: 0x80, offset: 0x82 }, { eflags: 2 | IF, eflagsKeep: IF, flags: [IF, IF] });
  // an interrupt to a conforming handler (DPL 0) from ring 3 stays at CPL 3 on the same stack
  {
    const rw = ringStackWindows();
    // (the handler's own INT 0x80 then goes to ring 0: its frame shows CS = CONF | 3 and the ring 3 ESP)
    intCase('int-to-conforming-same-stack', 'ring3', S.gateDesc(0xe, SEL.CODE32_CONF, H, 3), { vector: 0x80, offset: 0x82 },
      { memory: rw.memory, readBack: rw.readBack, memory2: [[LAYOUT.kstackTop - 16, [SEL.CODE32_CONF | 3, 0, 0, 0]], [LAYOUT.kstackTop - 8, [0xf4, 0x7f, 0x31, 0]]] });
    intCase('int-ring1-to-conforming-same-stack', 'ring1', S.gateDesc(0xe, SEL.CODE32_CONF, H, 3), { vector: 0x80, offset: 0x82 },
      { memory: rw.memory, readBack: rw.readBack, memory2: [[LAYOUT.kstackTop - 16, [SEL.CODE32_CONF | 1, 0, 0, 0]], [LAYOUT.kstackTop - 8, [0xf4, 0x7f, 0x31, 0]]] });
  }
  {
  }
  // interrupt from ring 3: the stack switch pushes SS, ESP from the TSS stack (ESP0)
  out.push(flat('int-from-ring3-stack-switch', 'ring3', (p, m) => { m(); p.e(A.intn(32, 0x80)); }, (at) => ({ vector: 0x80, offset: at + 2 }),
    { readBack: [[LAYOUT.kstackTop - 20, 20]], memory2: [[LAYOUT.kstackTop - 20, [0x02, 0, 0x20, 0, SEL.CODE32_R3, 0, 0, 0, 2, 0, 0, 0, 0, 0x80, 0x31, 0, SEL.DATA32_R3, 0, 0, 0]]] }));
  // interrupt from ring 1 and ring 2: SS0:ESP0 too
  for (const [ring, mode] of [[1, 'ring1'], [2, 'ring2']] as const) {
    out.push(flat(`ud-from-ring${ring}-stack-switch`, mode, (p, m) => { m(); p.e(S.ud2()); }, (at) => ({ vector: 6, offset: at }),
      { readBack: [[LAYOUT.kstackTop - 8, 8]], memory2: [[LAYOUT.kstackTop - 8, [0, 0x80, 0x31, 0, flatDataFor(ring), 0, 0, 0]]] }));
  }
  // system instructions in ring 3 (and ring 1 for IOPL-free ones): #GP(0)
  const priv = (name: string, mode: CaseMode, insns: Insn[], end: CaseExpectation['end'] | ((at: number) => CaseExpectation['end']) = gp(0), extra: Partial<DiffCase> = {}) =>
    out.push(flat(name, mode, (p, m) => { p.mov(EAX, 0x10); p.e(...insns.slice(0, -1)); m(); p.e(insns[insns.length - 1]!); }, end, extra));
  priv('ring3-lgdt', 'ring3', [S.grp7(32, 'lgdt', A.mem(0, { disp: D }))]);
  priv('ring3-lidt', 'ring3', [S.grp7(32, 'lidt', A.mem(0, { disp: D }))]);
  priv('ring3-lldt', 'ring3', [S.grp6(32, 'lldt', A.r16(EAX))]);
  priv('ring3-ltr', 'ring3', [S.grp6(32, 'ltr', A.r16(EAX))]);
  priv('ring3-clts', 'ring3', [S.clts()]);
  priv('ring3-lmsw', 'ring3', [S.grp7(32, 'lmsw', A.r16(EAX))]);
  priv('ring1-mov-cr3', 'ring1', [S.movCr('cr', 'read', 3, EAX)]);
  priv('ring3-mov-dr7', 'ring3', [S.movCr('dr', 'write', 7, EAX)]);
  priv('ring3-rdmsr', 'ring3', [S.rdmsr()]);
  priv('ring3-invlpg', 'ring3', [S.grp7(32, 'invlpg', A.mem(1, { disp: D }))]);
  priv('ring3-rdtsc-tsd', 'ring3', [S.rdtsc()], gp(0), { ctxFlags: modeDefaults('ring3').flags | CTXF.TSD });
  out.push(flat('ring3-sgdt-sidt-allowed', 'ring3', (p) => p.e(S.grp7(32, 'sgdt', A.mem(0, { disp: D })), S.grp7(32, 'sidt', A.mem(0, { disp: D + 8 }))), 'done',
    { memory2: [[D, [LAYOUT.gdtLimit & 0xff, LAYOUT.gdtLimit >> 8, ...[0, 1, 2, 3].map((i) => (LAYOUT.gdt >>> (8 * i)) & 0xff)]], [D + 8, [0xff, 0x07, ...[0, 1, 2, 3].map((i) => (LAYOUT.idt >>> (8 * i)) & 0xff)]]] }));
  priv('ring3-cli-iopl0', 'ring3', [S.cli()]);
  out.push(flat('ring3-cli-iopl3', 'ring3', (p) => p.e(S.cli()), 'done', { eflags: 2 | IOPL | IF, eflagsKeep: IF, flags: [IF, 0] }));
  // control registers: reserved CR4 bits, CR0.NW without CD, CR1
  priv('mov-cr4-reserved', 'flat32', [S.movCr('cr', 'read', 4, EAX), A.alu(32, 'or', r32(EAX), imm32(0x2000)), S.movCr('cr', 'write', 4, EAX)], gp(0), { qemuDiffers: QEMU_GAPS.cr4, timeoutMs: 1000 });
  out.push(flat('mov-cr0-nw-without-cd', 'flat32', (p, m) => { p.e(S.movCr('cr', 'read', 0, EAX), A.alu(32, 'or', r32(EAX), imm32(0x20000000)), A.alu(32, 'and', r32(EAX), imm32(~0x40000000))); m(); p.e(S.movCr('cr', 'write', 0, EAX)); }, gp(0), { qemuDiffers: QEMU_GAPS.cr0 }));
  out.push(flat('mov-cr1', 'flat32', (p, m) => { m(); p.e(S.movCr('cr', 'read', 1, EAX)); }, ex(6)));
  // LTR/LLDT checks
  out.push(flat('ltr-busy', 'flat32', (p, m) => { p.mov(EAX, SEL.TSS); m(); p.e(S.grp6(32, 'ltr', A.r16(EAX))); }, gp(SEL.TSS)));
  out.push(flat('ltr-null', 'flat32', (p, m) => { p.mov(EAX, 0); m(); p.e(S.grp6(32, 'ltr', A.r16(EAX))); }, gp(0), { qemuDiffers: QEMU_GAPS.ltrNull }));
  out.push(flat('ltr-marks-busy', 'flat32', (p) => { p.mov(EAX, SEL.TSS_A); p.e(S.grp6(32, 'ltr', A.r16(EAX)), S.grp6(32, 'str', r32(EBX))); }, 'done',
    { regs2: { ebx: SEL.TSS_A }, readBack: [[LAYOUT.gdt + SEL.TSS_A, 8]], memory2: [[LAYOUT.gdt + SEL.TSS_A + 5, [0x8b]]] }));
  out.push(flat('ltr-ldt-selector', 'flat32', (p, m) => { p.mov(EAX, SEL.TSS_A | 4); m(); p.e(S.grp6(32, 'ltr', A.r16(EAX))); }, gp(SEL.TSS_A | 4)));
  out.push(flat('lldt-not-ldt', 'flat32', (p, m) => { p.mov(EAX, SEL.TSS_A); m(); p.e(S.grp6(32, 'lldt', A.r16(EAX))); }, gp(SEL.TSS_A)));
  out.push(flat('lldt-null-ok', 'flat32', (p) => { p.mov(EAX, 0); p.e(S.grp6(32, 'lldt', A.r16(EAX)), S.grp6(32, 'sldt', r32(EBX))); }, 'done', { ldtr: SEL.LDT, regs: { ebx: 0x1234 }, regs2: { ebx: 0 } }));
  // LAR/LSL/VERR/VERW/ARPL
  const probe = (name: string, mode: CaseMode, insns: (p: Prog) => void, regs2: CaseExpectation['regs'], flagsv: [number, number]) =>
    out.push(flat(name, mode, insns, 'done', { ldtr: SEL.LDT, regs2, flags: flagsv }));
  probe('lar-code-r3', 'ring3', (p) => p.mov(EAX, SEL.CODE32_R3).e(S.larLsl(32, 'lar', A.r16(EBX), A.r16(EAX))), { ebx: 0xfb00 }, [ZF, ZF]);
  probe('lar-dpl0-from-ring3', 'ring3', (p) => p.mov(EAX, SEL.DATA32 | 3).mov(EBX, 0x5555).e(S.larLsl(32, 'lar', r32(EBX), A.r16(EAX))), { ebx: 0x5555 }, [ZF, 0]);
  probe('lar-conforming-from-ring3', 'ring3', (p) => p.mov(EAX, SEL.CODE32_CONF | 3).e(S.larLsl(32, 'lar', A.r16(EBX), A.r16(EAX))), { ebx: 0x9f00 }, [ZF, ZF]);
  probe('lar-int-gate-invalid', 'flat32', (p) => { p.desc(SEL.SCRATCH, S.gateDesc(0xe, SEL.CODE32, 0, 0)); p.mov(EAX, SEL.SCRATCH).e(S.larLsl(32, 'lar', r32(EBX), A.r16(EAX))); }, {}, [ZF, 0]);
  probe('lar-call-gate-valid', 'flat32', (p) => { p.desc(SEL.SCRATCH, S.gateDesc(0xc, SEL.CODE32, 0, 0)); p.mov(EAX, SEL.SCRATCH).e(S.larLsl(32, 'lar', A.r16(EBX), A.r16(EAX))); }, { ebx: 0x8c00 }, [ZF, ZF]);
  probe('lsl-gate-invalid', 'flat32', (p) => { p.desc(SEL.SCRATCH, S.gateDesc(0xc, SEL.CODE32, 0, 0)); p.mov(EAX, SEL.SCRATCH).e(S.larLsl(32, 'lsl', r32(EBX), A.r16(EAX))); }, {}, [ZF, 0]);
  probe('lsl-granular', 'flat32', (p) => p.mov(EAX, SEL.EXPDOWN32).e(S.larLsl(32, 'lsl', r32(EBX), A.r16(EAX))), { ebx: 0xffffefff }, [ZF, ZF]);
  probe('lsl-tss', 'flat32', (p) => p.mov(EAX, SEL.TSS).e(S.larLsl(32, 'lsl', r32(EBX), A.r16(EAX))), { ebx: 103 }, [ZF, ZF]);
  probe('verr-exec-only', 'flat32', (p) => p.mov(EAX, SEL.CODE32_XO).e(S.grp6(32, 'verr', A.r16(EAX))), {}, [ZF, 0]);
  probe('verw-readonly', 'flat32', (p) => p.mov(EAX, SEL.DATA_RO).e(S.grp6(32, 'verw', A.r16(EAX))), {}, [ZF, 0]);
  probe('verr-conforming-ring3', 'ring3', (p) => p.mov(EAX, SEL.CODE32_CONF).e(S.grp6(32, 'verr', A.r16(EAX))), {}, [ZF, ZF]);
  probe('verw-ldt-data-r3', 'ring3', (p) => p.mov(EAX, LDT_SEL.DATA32_R3).e(S.grp6(32, 'verw', A.r16(EAX))), {}, [ZF, ZF]);
  probe('arpl-adjusts', 'flat32', (p) => p.mov(EAX, 0x10).mov(EBX, 0x63).e(S.arpl(32, A.r16(EAX), A.r16(EBX))), { eax: 0x13 }, [ZF, ZF]);
  probe('arpl-keeps', 'flat32', (p) => p.mov(EAX, 0x13).mov(EBX, 0x61).e(S.arpl(32, A.r16(EAX), A.r16(EBX))), { eax: 0x13 }, [ZF, 0]);
  return out;
}

// ---- every exception with its error code ------------------------------------------------------

function exceptionCases(): DiffCase[] {
  const out: DiffCase[] = [];
  // #NM: WAIT with CR0.MP and TS; an x87 instruction with CR0.EM; CLTS clears TS
  out.push(flat('nm-wait-mp-ts', 'flat32', (p, m) => { m(); p.e(S.fwait()); }, ex(7), { ctxFlags: CTXF.PSE | CTXF.MP | CTXF.TS }));
  out.push(flat('nm-fnop-em', 'flat32', (p, m) => { m(); p.e(S.fnop()); }, ex(7), { ctxFlags: CTXF.PSE | CTXF.EM }));
  out.push(flat('clts-then-wait', 'flat32', (p) => p.e(S.clts(), S.fwait()), 'done', { ctxFlags: CTXF.PSE | CTXF.MP | CTXF.TS }));
  // the EXT bit: #UD delivered through a not-present gate -> #NP(6*8+2+1)
  out.push(flat('ext-ud-gate-not-present', 'flat32', (p, m) => { p.patches.push(...S.idtPatch(6, S.gateDesc(0xe, SEL.CODE32, LAYOUT.excStubs + 6 * 8, 0, 0, false))); m(); p.e(S.ud2()); }, (at) => ({ vector: 11, errorCode: 6 * 8 + 3, offset: at }), { qemuDiffers: QEMU_GAPS.ext }));
  out.push(flat('ext-br-gate-bad-target', 'flat32', (p, m) => {
    p.patches.push(...S.idtPatch(5, S.gateDesc(0xe, SEL.DATA32, 0, 0)));
    p.mov(EBX, D).mov(EAX, 0x99);
    m();
    p.e(A.bound(32, r32(EAX), A.mem(8, { base: EBX })));
  }, (at) => ({ vector: 13, errorCode: SEL.DATA32 | 1, offset: at }), { data: Uint8Array.of(0, 0, 0, 0, 0x10, 0, 0, 0), qemuDiffers: QEMU_GAPS.ext }));
  // INT n through a not-present gate: EXT = 0 (a software interrupt)
  out.push(flat('int-n-gate-not-present-ext0', 'flat32', (p, m) => { m(); p.e(A.intn(32, 0x60)); }, (at) => ({ vector: 13, errorCode: 0x60 * 8 + 2, offset: at })));
  // #DF: a #GP whose gate is not present (#NP during #GP delivery: contributory + contributory)
  out.push(flat('df-np-on-gp-handler', 'ring3', (p, m) => { p.patches.push(...S.idtPatch(13, S.gateDesc(0xe, SEL.CODE32, 0, 0, 0, false))); m(); p.e(S.hlt()); }, { vector: 8, errorCode: 0 }));
  // #DF: #DE whose gate targets a data segment (#GP during #DE delivery)
  out.push(flat('df-gp-on-de-handler', 'flat32', (p, m) => { p.patches.push(...S.idtPatch(0, S.gateDesc(0xe, SEL.DATA32, 0, 0))); p.mov(ECX, 0); m(); p.e(A.grp3(32, 'div', r32(ECX))); }, { vector: 8, errorCode: 0 }));
  // #DF: a #PF whose gate is not present
  out.push(flat('df-np-on-pf-handler', 'paging32', (p, m) => { p.patches.push(...S.idtPatch(14, S.gateDesc(0xe, SEL.CODE32, 0, 0, 0, false))); p.mov(EBX, LAYOUT.faultArea + 0x1000); m(); p.e(A.mov(32, r32(EAX), A.mem(4, { base: EBX }))); }, { vector: 8, errorCode: 0 }));
  // a benign exception (#UD) whose gate is not present: #NP, not #DF
  out.push(flat('no-df-benign-first', 'flat32', (p, m) => { p.patches.push(...S.idtPatch(6, S.gateDesc(0xe, SEL.CODE32, 0, 0, 0, false))); m(); p.e(S.ud2()); }, (at) => ({ vector: 11, offset: at }), { qemuDiffers: QEMU_GAPS.ext }));
  // #TS from a call gate whose inner stack selector is null: #TS(0)... (EXT = 0)
  out.push(flat('ts-inner-ss-null', 'ring3', (p, m) => {
    p.desc(SEL.SCRATCH, S.gateDesc(0xc, SEL.CODE32_R1 & ~3, C, 3, 0));
    p.patches.push(S.tssPatch(16, 0));
    m();
    p.e(S.farPtr(32, 'call', SEL.SCRATCH | 3, 0));
  }, (at) => ({ vector: 10, errorCode: 0, offset: at })));
  // #SS: a push beyond an expand-down stack's limit (QEMU: no limit checks) and an SS load of a not-present segment
  out.push(flat('ss-expdown-push', 'ring3', (p, m) => {
    const s = p.gdtSlot();
    p.desc(s, S.segDesc(LAYOUT.stackArea, 0x7fff, S.access(true, 3, true, 6), 0));
    p.mov(EAX, s | 3).e(A.mov(32, A.sreg(A.SS), A.r16(EAX)));
    p.mov(ESP, 0x8001);
    m();
    p.e(A.push(32, r32(EAX)));
  }, (at) => ({ vector: 12, errorCode: 0, offset: at }), { qemuDiffers: QEMU_GAPS.noLimits, stackWindow: [LAYOUT.stackArea + 0x7f00, 0x200] }));
  // #PF from ring 1 and ring 2 (supervisor accesses: U/S = 0 in the error code)
  out.push(flat('pf-ring1-supervisor', 'ring1', (p, m) => { p.mov(EBX, LAYOUT.faultArea + 0x1000); m(); p.e(A.mov(32, A.mem(4, { base: EBX }), r32(EAX))); }, (at) => ({ vector: 14, errorCode: 2, offset: at, cr2: LAYOUT.faultArea + 0x1000 })));
  out.push(flat('pf-ring2-reads-supervisor-page', 'ring2', (p) => { p.mov(EBX, LAYOUT.faultArea + 0x3000); p.e(A.mov(32, r32(EAX), A.mem(4, { base: EBX }))); }, 'done'));
  // #AC in ring 3 only: a misaligned access in ring 1 with AM and AC does not fault
  out.push(flat('no-ac-in-ring1', 'ring1', (p) => { p.e(A.push(32, imm32(2 | AC)), A.popf(32, 4)); p.mov(EBX, D + 1).e(A.mov(32, r32(EAX), A.mem(4, { base: EBX }))); }, 'done', { ctxFlags: modeDefaults('ring1').flags | CTXF.AM }));
  // #OF from INTO in V86 mode (IOPL 0): goes to the protected-mode handler (not IOPL-sensitive)
  out.push(low('v86-into-iopl0', 'v86', (e) => e(S.into()), (at) => ({ vector: 4, offset: at + 1 }), { eflags: 2 | OF }));
  out.push(low('v86-int3-iopl0', 'v86', (e) => e(S.int3()), (at) => ({ vector: 3, offset: at + 1 })));
  return out;
}

// ---- V86 mode and VME ---------------------------------------------------------------------------

function v86Cases(): DiffCase[] {
  const out: DiffCase[] = [];
  const iopl0 = (name: string, insns: Insn[]) => out.push(low(`v86-${name}-iopl0`, 'v86', (e) => e(...insns), ex(13, 0)));
  iopl0('cli', [S.cli()]);
  iopl0('sti', [S.sti()]);
  iopl0('pushf', [A.pushf(16, 2)]);
  iopl0('popf', [A.push(16, A.imm(2, 2), 2, 1), A.popf(16, 2)]);
  iopl0('int-n', [A.intn(16, 0x80)]);
  iopl0('iret', [S.iret(16)]);
  out.push(low('v86-int80-iopl3-to-pm', 'v86', (e) => e(A.intn(16, 0x80)), (at) => ({ vector: 0x80, offset: at + 2, via: 'idt' }), { eflags: 2 | IOPL }));
  out.push(low('v86-int-dpl0-gate-iopl3', 'v86', (e) => e(A.intn(16, 0x0d)), ex(13, 0x0d * 8 + 2), { eflags: 2 | IOPL }));
  out.push(low('v86-popf-keeps-iopl', 'v86', (e) => e(A.push(16, A.imm(2, 2 | CF), 2, 1), A.popf(16, 2), A.pushf(16, 2), A.pop(16, A.r16(EAX))), 'done', { eflags: 2 | IOPL, regs2: { eax: 0x3003 } }));
  out.push(low('v86-pushfd-clears-vm-rf', 'v86', (e) => e(A.pushf(16, 4), A.pop(16, r32(EAX))), 'done', { eflags: 2 | IOPL | CF, regs2: { eax: 0x3003 } }));
  out.push(low('v86-hlt', 'v86', (e) => e(S.hlt()), ex(13, 0), { eflags: 2 | IOPL }));
  out.push(low('v86-mov-cr0', 'v86', (e) => e(S.movCr('cr', 'read', 0, EAX)), ex(13, 0), { eflags: 2 | IOPL }));
  out.push(low('v86-lidt', 'v86', (e) => e(S.grp7(16, 'lidt', A.mem(0, { a16: true, disp: 0 }))), ex(13, 0), { eflags: 2 | IOPL }));
  // I/O in V86: the bitmap decides, whatever IOPL
  const io = (name: string, bits: number, limitDelta: number, insns: Insn[], end: CaseExpectation['end'] | ((at: number) => CaseExpectation['end']), iopl = 3) =>
    out.push(low(`v86-io-${name}`, 'v86', (e) => e(A.mov(16, A.r16(EDX), A.imm(2, IO_PORT_BASE + 4)), ...insns), end,
      { eflags: 2 | (iopl << 12), patches: ioBitmapPatches(LAYOUT.tssIomap + (IO_PORT_BASE >> 3) + 4 + limitDelta, bits) }));
  io('allowed', 0, 0, [S.io(16, 'out', 1)], 'done');
  io('denied', 1 << 4, 0, [S.io(16, 'out', 1)], ex(13, 0));
  io('word-straddles-denied', 1 << 5, 0, [S.io(16, 'out', 2)], ex(13, 0));
  io('allowed-iopl0', 0, 0, [S.io(16, 'out', 1)], 'done', 0);
  io('beyond-limit', 0, -5, [S.io(16, 'out', 1)], ex(13, 0));
  out.push(low('v86-io-no-bitmap', 'v86', (e) => e(A.mov(16, A.r16(EDX), A.imm(2, IO_PORT_BASE)), S.io(16, 'out', 1)), ex(13, 0), { eflags: 2 | IOPL }));
  // ring 3 with IOPL < CPL: the bitmap; IOPL 3: no check
  out.push(flat('ring3-io-bitmap-allows', 'ring3', (p) => p.mov(EDX, IO_PORT_BASE + 1).e(S.io(32, 'out', 1)), 'done', { patches: ioBitmapPatches(LAYOUT.tssIomap + (IO_PORT_BASE >> 3) + 4, 0xfffffffd) }));
  out.push(flat('ring3-io-bitmap-denies', 'ring3', (p, m) => { p.mov(EDX, IO_PORT_BASE + 2); m(); p.e(S.io(32, 'out', 4)); }, ex(13, 0), { patches: ioBitmapPatches(LAYOUT.tssIomap + (IO_PORT_BASE >> 3) + 4, 0x20) }));
  out.push(flat('ring3-io-iopl3-no-bitmap', 'ring3', (p) => p.mov(EDX, IO_PORT_BASE).e(S.io(32, 'out', 1)), 'done', { eflags: 2 | IOPL }));
  // IRET from ring 0 to V86 mode (the harness does it) and back through an exception: the V86 frame
  out.push(low('v86-exception-frame', 'v86', (e) => e(A.mov(16, A.r16(EAX), A.imm(2, 0x1234)), A.mov(16, A.sreg(A.ES), A.r16(EAX)), S.hlt()), ex(13, 0),
    { eflags: 2 | IOPL, regs2: { es: 0x1234 }, readBack: [[LAYOUT.kstackTop - 40, 40]] }));
  // VME (CR4.VME): INT n redirected through the V86 IVT when its bit in the redirection bitmap is 0
  const vme = (name: string, build: (e: (...i: Insn[]) => number) => void, end: CaseExpectation['end'] | ((at: number) => CaseExpectation['end']), p: Partial<DiffCase> & { regs2?: CaseExpectation['regs']; flags?: [number, number] } = {}) =>
    out.push(low(`vme-${name}`, 'v86', build, end, { ctxFlags: CTXF.V86 | CTXF.VME, qemuDiffers: QEMU_GAPS.vme, ...p }));
  const redir = (bits: number) => ioBitmapPatches(LAYOUT.tssIomap + (IO_PORT_BASE >> 3) + 4, 0).concat([[LAYOUT.tss + LAYOUT.tssIomap - 32 + (0x40 >> 3), bits]]);
  vme('int-redirected', (e) => e(A.intn(16, 0x42)), (at) => ({ vector: 0x42, offset: at + 2, via: 'v86-ivt' }), { eflags: 2, patches: redir(0) });
  vme('int-not-redirected', (e) => e(A.intn(16, 0x42)), ex(13, 0), { eflags: 2, patches: redir(1 << 2) });
  vme('int-redirected-iopl3', (e) => e(A.intn(16, 0x42)), (at) => ({ vector: 0x42, offset: at + 2, via: 'v86-ivt' }), { eflags: 2 | IOPL, patches: redir(0) });
  vme('cli-clears-vif', (e) => e(S.cli()), 'done', { eflags: 2 | VIF, eflagsKeep: VIF, flags: [VIF | IF, 0] });
  vme('pushfd-iopl0-gp', (e) => e(A.pushf(16, 4)), ex(13, 0), { eflags: 2 });
  vme('sti-sets-vif', (e) => e(S.sti()), 'done', { eflags: 2, flags: [VIF | IF, VIF] });
  vme('sti-vip-gp', (e) => e(S.sti()), ex(13, 0), { eflags: 2 | VIP, eflagsKeep: VIP });
  vme('pushf-vif-as-if', (e) => e(A.pushf(16, 2), A.pop(16, A.r16(EAX))), 'done', { eflags: 2 | VIF, eflagsKeep: VIF, regs2: { eax: 0x3202 } });
  vme('popf-if-to-vif', (e) => e(A.push(16, A.imm(2, 2 | IF), 2, 1), A.popf(16, 2)), 'done', { eflags: 2, flags: [VIF | IF, VIF] });
  vme('popf-tf-gp', (e) => e(A.push(16, A.imm(2, 2 | TF), 2, 1), A.popf(16, 2)), ex(13, 0), { eflags: 2 });
  // CR4.PVI in protected mode ring 3: CLI/STI change VIF
  out.push(flat('pvi-cli-ring3', 'ring3', (p) => p.e(S.cli()), 'done', { ctxFlags: modeDefaults('ring3').flags | CTXF.PVI, eflags: 2 | VIF, eflagsKeep: VIF, qemuDiffers: QEMU_GAPS.vme, flags: [VIF | IF, 0] }));
  return out;
}

// ---- PAE paging and global pages ----------------------------------------------------------------

function pagingCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const F = LAYOUT.faultArea;
  const pf = (name: string, mode: CaseMode, addr: number, write: boolean, err: number, extra: Partial<DiffCase> = {}) =>
    out.push(flat(name, mode, (p, m) => { p.mov(EBX, addr); m(); p.e(write ? A.mov(32, A.mem(4, { base: EBX }), r32(EAX)) : A.mov(32, r32(EAX), A.mem(4, { base: EBX }))); }, (at) => ({ vector: 14, errorCode: err, offset: at, cr2: addr }), extra));
  pf('pae-read-np', 'pae', F + 0x1000, false, 0);
  pf('pae-user-write-ro', 'pae-ring3', F + 0x2000, true, 7);
  pf('pae-user-read-sup', 'pae-ring3', F + 0x3000, false, 5);
  pf('pae-2m-rsvd', 'pae', LAYOUT.rsvdArea + 4, false, 9, { qemuDiffers: QEMU_GAPS.rsvdP });
  pf('pae-pde-np', 'pae', LAYOUT.pdeNpArea + 0x200000 + 8, true, 2);
  void 0;
  // a PAE PTE with a reserved bit (bit 62, no NX): RSVD
  pf('pae-pte-rsvd-high', 'pae', F + 0x5000, false, 9, { patches: [[LAYOUT.paePt1 + ((F + 0x5000 - 0x200000) >>> 12) * 8 + 4, 0x40000000]], qemuDiffers: QEMU_GAPS.rsvdP });
  // 2 MiB pages in PAE (user, writable): A and D bits set in the PDE
  out.push(flat('pae-2m-page-ad-bits', 'pae', (p) => p.mov(EBX, 0x00c00010).e(A.mov(32, A.mem(4, { base: EBX }), r32(EAX))), 'done',
    { readBack: [[LAYOUT.paePd + 6 * 8, 4]], memory2: [[LAYOUT.paePd + 6 * 8, [0xe7, 0, 0xc0, 0]]] }));
  // a PDPTE with a reserved bit: MOV CR3 with PAE paging on -> #GP(0)
  out.push(flat('pae-pdpte-rsvd-gp', 'pae', (p, m) => {
    p.mov(EBX, LAYOUT.paePdpt + 8).e(A.mov(32, A.mem(4, { base: EBX }), imm32(LAYOUT.paePd | 0x7)));
    p.mov(EAX, LAYOUT.paePdpt);
    m();
    p.e(S.movCr('cr', 'write', 3, EAX));
  }, ex(13, 0), { qemuDiffers: QEMU_GAPS.pdpte }));
  // PSE-36 (QEMU 7.2 on every model): a 4 MiB PDE's bits 20:13 are physical address bits
  // 39:32. A page at 4 GiB is unassigned memory: the write is dropped, the read gives 0, and
  // the DATA_AREA frame at the same address modulo 4 GiB is untouched; A and D are set.
  const HI = 0x08000000; // PDE 32, not present in the harness's map
  // (the case's linear address is HI + D's offset in the 4 MiB page: its frame is D + 4 GiB)
  const above4g = (name: string, mode: CaseMode, pde: [number, number][], readBack: [number, number], ad: number[]) =>
    out.push(flat(name, mode, (p) => {
      p.mov(EBX, HI + (D & 0x3fffff)).e(A.mov(32, A.mem(4, { base: EBX }), imm32(0x11223344)));
      p.e(A.mov(32, r32(EAX), A.mem(4, { base: EBX })));
      p.mov(ECX, D).e(A.mov(32, r32(EDX), A.mem(4, { base: ECX })));
    }, 'done', {
      patches: pde, data: Uint8Array.of(0x55, 0x66, 0x77, 0x88), readBack: [readBack],
      regs2: { eax: 0, edx: 0x88776655 }, memory2: [[readBack[0], ad]],
    }));
  above4g('pse36-4m-page-above-4g', 'paging32', [[LAYOUT.pageDir + (HI >>> 22) * 4, 0x00002087]], [LAYOUT.pageDir + (HI >>> 22) * 4, 4], [0xe7, 0x20, 0, 0]);
  // the same 4 MiB page with bit 21 set: reserved, #PF with RSVD (QEMU: P clear, as rsvdP)
  pf('pse36-4m-bit21-rsvd', 'paging32', HI + 0x10, false, 9, { patches: [[LAYOUT.pageDir + (HI >>> 22) * 4, 0x00202087]], qemuDiffers: QEMU_GAPS.rsvdP });
  // (PAE pages above 4 GiB depend on the model's address width: tests/cpu/phys-above-4g.test.ts)
  // global pages: a rewritten PTE is visible after INVLPG and after a CR4.PGE toggle
  const glob = (name: string, flush: (p: Prog) => void) => out.push(flat(name, 'paging32', (p) => {
    const pte = LAYOUT.pageTable0 + (F >>> 12) * 4;
    p.mov(EBX, LAYOUT.lowAlias + F).e(A.mov(32, A.mem(4, { base: EBX }), imm32(0x01010101)));
    p.mov(EBX, LAYOUT.lowAlias + F + 0x5000).e(A.mov(32, A.mem(4, { base: EBX }), imm32(0x05050505)));
    p.mov(EBX, F).e(A.mov(32, r32(EAX), A.mem(4, { base: EBX }))); // now cached (global)
    p.mov(ECX, pte).e(A.mov(32, A.mem(4, { base: ECX }), imm32((F + 0x5000) | 0x107)));
    flush(p);
    p.mov(EBX, F).e(A.mov(32, r32(EDX), A.mem(4, { base: EBX })));
  }, 'done', {
    ctxFlags: CTXF.PAGING | CTXF.PSE | CTXF.WP | CTXF.PGE, patches: [[LAYOUT.pageTable0 + (F >>> 12) * 4, F | 0x107]],
    regs2: { edx: 0x05050505 },
  }));
  glob('global-invlpg', (p) => p.e(S.grp7(32, 'invlpg', A.mem(1, { base: EBX }))));
  glob('global-pge-toggle', (p) => p.e(S.movCr('cr', 'read', 4, EAX), A.alu(32, 'xor', r32(EAX), imm32(0x80)), S.movCr('cr', 'write', 4, EAX), A.alu(32, 'xor', r32(EAX), imm32(0x80)), S.movCr('cr', 'write', 4, EAX)));
  return out;
}

// ---- debug registers -------------------------------------------------------------------------------

function debugCases(): DiffCase[] {
  const out: DiffCase[] = [];
  // m() marks the offset the #DB reports: before a faulting instruction, after a trapping one
  const dbg = (name: string, mode: CaseMode, build: (p: Prog, m: () => void) => void, dr6bits: number | undefined, dr: DiffCase['dr'], extra: Partial<DiffCase> & { regs2?: CaseExpectation['regs']; flags?: [number, number]; memory2?: Array<[number, number[]]> } = {}) => {
    const end = (at: number): CaseExpectation['end'] => (dr6bits === undefined ? 'done' : { vector: 1, offset: at, dr6: [0xe00f, dr6bits] });
    const c = flat(name, mode, build, dr6bits === undefined ? 'done' : end, extra);
    c.dr = dr ?? { dr7: 0x400 };
    out.push(c);
  };
  const B = (n: number) => 1 << n;
  const BS = 0x4000, BD = 0x2000, BT = 0x8000;
  // instruction breakpoints: a fault before the instruction
  dbg('dr0-exec', 'flat32', (p, m) => { p.e(S.nop()); m(); p.e(A.alu(32, 'add', r32(EAX), imm32(1))); }, B(0), { dr0: C + 1, dr7: dr7Bits(0, 0, 0, 1) | 0x400 }, { regs2: { eax: 0 } });
  dbg('dr3-exec-global-ring3', 'ring3', (p, m) => { p.e(S.nop(), S.nop()); m(); p.e(S.nop()); }, B(3), { dr3: C + 2, dr7: dr7Bits(3, 0, 0, 2) | 0x400 });
  dbg('dr0-dr2-exec-same-address', 'flat32', (p, m) => { p.e(S.nop()); m(); p.e(S.nop()); }, B(0) | B(2), { dr0: C + 1, dr2: C + 1, dr7: dr7Bits(0, 0, 0, 1) | dr7Bits(2, 0, 0, 2) | 0x400 });
  dbg('exec-not-enabled', 'flat32', (p) => p.e(S.nop(), S.nop()), undefined, { dr0: C + 1, dr7: 0x400 });
  dbg('exec-mid-instruction', 'flat32', (p) => p.e(A.alu(32, 'add', r32(EAX), imm32(1)), S.nop()), undefined, { dr0: C + 1, dr7: dr7Bits(0, 0, 0, 1) | 0x400 });
  // RF in an IRET image: the breakpoint at the IRET target is skipped once, RF cleared after it
  // (push 0x10002: 5 bytes, push 8: 2, push imm32 (forced): 5, iretd: 1 -> the target is C + 13)
  dbg('rf-suppresses-exec', 'flat32', (p) => {
    p.e(A.push(32, imm32(2 | RF)), A.push(32, imm32(SEL.CODE32)), A.push(32, imm32(C + 13), 4, 1), S.iret(32));
    p.e(A.alu(32, 'add', r32(EAX), imm32(1)), A.pushf(32, 4), A.pop(32, r32(EBX)));
  }, undefined, { dr0: C + 13, dr7: dr7Bits(0, 0, 0, 1) | 0x400 }, { regs2: { eax: 1 }, flags: [RF, 0] });
  dbg('rf-then-next-breakpoint', 'flat32', (p, m) => {
    p.e(A.push(32, imm32(2 | RF)), A.push(32, imm32(SEL.CODE32)), A.push(32, imm32(C + 13), 4, 1), S.iret(32));
    p.e(S.nop());
    m();
    p.e(S.nop());
  }, B(1), { dr0: C + 13, dr1: C + 14, dr7: dr7Bits(0, 0, 0, 1) | dr7Bits(1, 0, 0, 1) | 0x400 });
  // data breakpoints: writes of 1/2/4 bytes, a trap after the access
  for (const [len, sz] of [[0, 1], [1, 2], [3, 4]] as const) {
    dbg(`data-write-len${sz}`, 'flat32', (p, m) => { p.e(A.mov(32, A.mem(1, { disp: D + 0x40 + sz - 1 }), A.imm(1, 0x5a))); m(); p.e(S.nop()); }, B(1),
      { dr1: D + 0x40, dr7: dr7Bits(1, 1, len, 1) | 0x400 }, { memory2: [[D + 0x40 + sz - 1, [0x5a]]] });
    dbg(`data-write-len${sz}-miss`, 'flat32', (p) => p.e(A.mov(32, A.mem(1, { disp: D + 0x40 + sz }), A.imm(1, 0x5a))), undefined, { dr1: D + 0x40, dr7: dr7Bits(1, 1, len, 1) | 0x400 });
  }
  dbg('data-write-misaligned-dword', 'flat32', (p, m) => { p.e(A.mov(32, A.mem(4, { disp: D + 0x3e }), r32(EAX))); m(); p.e(S.nop()); }, B(0), { dr0: D + 0x40, dr7: dr7Bits(0, 1, 3, 1) | 0x400 });
  dbg('data-misaligned-store-below-bp', 'flat32', (p) => p.e(A.mov(32, A.mem(2, { disp: D + 0x79 }), A.imm(2, 0x8447))), undefined, { dr0: D + 0x70, dr7: dr7Bits(0, 3, 0, 1) | 0x400 }, { qemuDiffers: QEMU_GAPS.misalignedStoreBp });
  dbg('data-misaligned-load-above-bp', 'flat32', (p) => p.e(A.mov(32, r32(EDX), A.mem(4, { disp: D + 0x5b }))), undefined, { dr0: D + 0x5a, dr7: dr7Bits(0, 3, 0, 1) | 0x400 }, { qemuDiffers: QEMU_GAPS.misalignedStoreBp });
  dbg('data-write-ignores-read', 'flat32', (p) => p.e(A.mov(32, r32(EAX), A.mem(4, { disp: D + 0x40 }))), undefined, { dr2: D + 0x40, dr7: dr7Bits(2, 1, 3, 1) | 0x400 });
  dbg('data-rw-read-ring3', 'ring3', (p, m) => { p.e(A.mov(32, r32(ECX), A.mem(4, { disp: D + 0x42 }))); m(); p.e(S.nop()); }, B(2), { dr2: D + 0x44, dr7: dr7Bits(2, 3, 3, 2) | 0x400 });
  dbg('data-rw-push', 'ring3', (p, m) => { p.e(A.push(32, r32(EAX))); m(); p.e(S.nop()); }, B(3), { dr3: LAYOUT.caseEsp - 4, dr7: dr7Bits(3, 3, 3, 1) | 0x400 });
  dbg('data-rw-two-match', 'flat32', (p, m) => { p.e(A.mov(32, A.mem(4, { disp: D + 0x40 }), r32(EAX))); m(); p.e(S.nop()); }, B(0) | B(3),
    { dr0: D + 0x40, dr3: D + 0x42, dr7: dr7Bits(0, 3, 0, 1) | dr7Bits(3, 1, 1, 1) | 0x400 }, { qemuDiffers: QEMU_GAPS.multiDataBp });
  // DR7.GD: a MOV DR faults (#DB, BD), GD cleared for the handler
  dbg('gd-mov-dr', 'flat32', (p, m) => { p.e(S.nop()); m(); p.e(S.movCr('dr', 'read', 0, EAX)); }, BD, { dr7: 0x2400 }, { qemuDiffers: QEMU_GAPS.gd });
  // single-step: TF loaded by the IRET into the case traps after the first instruction
  dbg('tf-after-iret', 'flat32', (p, m) => { p.e(S.nop()); m(); p.e(S.nop()); }, BS, undefined, { eflags: 2 | TF, eflagsKeep: TF });
  // POPF setting TF: the trap comes after the instruction that follows POPF
  dbg('tf-set-by-popf', 'flat32', (p, m) => { p.e(A.push(32, imm32(2 | TF)), A.popf(32, 4), S.nop()); m(); p.e(S.nop()); }, BS, undefined);
  // POPF clearing TF (TF set before it): the trap still comes after the POPF
  dbg('tf-cleared-by-popf', 'flat32', (p, m) => { p.e(A.popf(32, 4)); m(); p.e(S.nop()); }, BS, undefined,
    { eflags: 2 | TF, eflagsKeep: TF, memory: [{ addr: LAYOUT.caseEsp, bytes: Uint8Array.of(2, 0, 0, 0) }] });
  // MOV SS / POP SS: the single-step trap waits for the instruction after it
  dbg('tf-mov-ss-shadow', 'flat32', (p, m) => { p.mov(EAX, SEL.DATA32).e(A.push(32, imm32(2 | TF)), A.popf(32, 4), A.mov(32, A.sreg(A.SS), A.r16(EAX)), S.nop()); m(); p.e(S.nop()); }, BS, undefined);
  dbg('tf-pop-ss-shadow', 'flat32', (p, m) => { p.e(A.push(32, imm32(SEL.DATA32)), A.push(32, imm32(2 | TF)), A.popf(32, 4), A.pop(32, A.sreg(A.SS)), S.nop()); m(); p.e(S.nop()); }, BS, undefined);
  // a data breakpoint hit by POP SS: #DB after the instruction that follows
  dbg('data-bp-pop-ss', 'ring3', (p, m) => { p.e(A.pop(32, A.sreg(A.SS)), S.nop()); m(); p.e(S.nop()); }, B(0),
    { dr0: LAYOUT.caseEsp, dr7: dr7Bits(0, 3, 3, 1) | 0x400 }, { memory: [{ addr: LAYOUT.caseEsp, bytes: Uint8Array.of(SEL.DATA32_R3, 0, 0, 0) }], qemuDiffers: QEMU_GAPS.popSsDataBp });
  // TSS T bit: #DB with BT after the switch, before the new task's first instruction
  {
    const taskAt = C + 0x100;
    const c = flat('tss-t-bit', 'flat32', (p) => { p.e(A.relBranch(32, 'jmp8', p.pc, p.pc + 2), S.farPtr(32, 'jmp', SEL.TSS_A, 0)); while (p.pc < taskAt) p.e(S.int3()); p.e(S.nop()); p.end(0); },
      { vector: 1, offset: 0x100, dr6: [0xe00f, BT] },
      { memory: [{ addr: LAYOUT.tssA, bytes: tss32({ eip: taskAt, eflags: 2, regs: [0, 0, 0, 0, 0x31a000, 0, 0, 0], es: SEL.DATA32, cs: SEL.CODE32, ss: SEL.DATA32, ds: SEL.DATA32, fs: SEL.DATA32, gs: SEL.DATA32, trap: true }) }], qemuDiffers: QEMU_GAPS.tBit, needs: 'task-switch', noEpilogue: true });
    c.listing = c.listing?.filter((l) => !l.endsWith(' int3'));
    out.push(c);
  }
  return out;
}

// ---- hardware task switches ----------------------------------------------------------------------

function taskCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const taskAt = C + 0x100;
  const regsA = [0xa0, 0xa1, 0xa2, 0xa3, 0x31a000, 0xa5, 0xa6, 0xa7];
  const tssA = (eflags = 2, extra: Partial<Parameters<typeof tss32>[0]> = {}) => tss32({ eip: taskAt, eflags, regs: regsA, es: SEL.DATA32, cs: SEL.CODE32, ss: SEL.DATA32, ds: SEL.DATA32, fs: SEL.DATA32, gs: SEL.DATA32, ...extra });
  const task = (name: string, caller: (p: Prog, m: () => void) => void, callee: (p: Prog) => void, end: CaseExpectation['end'] | ((at: number) => CaseExpectation['end']), extra: Partial<DiffCase> & { regs2?: CaseExpectation['regs']; memory2?: Array<[number, number[]]> } = {}) => {
    const c = flat(name, 'flat32', (p, m) => {
      p.e(A.relBranch(32, 'jmp8', p.pc, p.pc + 2));
      caller(p, m);
      p.e(S.grp6(32, 'str', r32(EDX)));
      p.end(0);
      while (p.pc < taskAt) p.e(S.int3());
      callee(p);
    }, end, { noEpilogue: true, needs: 'task-switch', memory: [{ addr: LAYOUT.tssA, bytes: tssA() }], readBack: [[LAYOUT.tss, 104], [LAYOUT.tssA, 104], [LAYOUT.gdt + SEL.TSS, 8], [LAYOUT.gdt + SEL.TSS_A, 8]], ...extra });
    c.listing = c.listing?.filter((l) => !l.endsWith(' int3'));
    out.push(c);
  };
  const busy = (sel: number, b: boolean): [number, number[]] => [LAYOUT.gdt + sel + 5, [b ? 0x8b : 0x89]];
  // JMP to a TSS: old not busy, new busy, no back link, NT clear
  task('jmp-tss', (p) => p.e(S.farPtr(32, 'jmp', SEL.TSS_A, 0)), (p) => { p.e(S.grp6(32, 'str', r32(EBX)), A.pushf(32, 4), A.pop(32, r32(ESI))); p.end(0); }, 'done',
    { regs2: { eax: 0xa0, ebx: SEL.TSS_A, esi: 2, esp: 0x31a000 }, memory2: [busy(SEL.TSS, false), busy(SEL.TSS_A, true), [LAYOUT.tssA, [0, 0]]] });
  // CALL: back link = old TR, NT set, both busy; IRET with NT returns and clears the new task's busy bit
  task('call-tss-iret-back', (p) => p.e(S.farPtr(32, 'call', SEL.TSS_A, 0)), (p) => p.e(S.grp6(32, 'str', r32(EBX)), A.pushf(32, 4), A.pop(32, r32(ESI)), S.iret(32)), 'done',
    { regs2: { edx: SEL.TSS }, memory2: [busy(SEL.TSS, true), busy(SEL.TSS_A, false), [LAYOUT.tssA, [SEL.TSS, 0]], [LAYOUT.tssA + 0x38, [0x00, 0xa0, 0x31, 0]]] });
  task('call-tss-nt-and-link', (p) => p.e(S.farPtr(32, 'call', SEL.TSS_A, 0)), (p) => { p.e(A.pushf(32, 4), A.pop(32, r32(ESI))); p.end(0); }, 'done',
    { regs2: { esi: 2 | NT }, memory2: [busy(SEL.TSS, true), busy(SEL.TSS_A, true), [LAYOUT.tssA, [SEL.TSS, 0]]] });
  // issue 9: reserved EFLAGS bits in the new TSS's image are not loaded (bits 3, 5, 15, 22-31 read 0)
  task('jmp-tss-reserved-eflags', (p) => p.e(S.farPtr(32, 'jmp', SEL.TSS_A, 0)), (p) => { p.e(A.pushf(32, 4), A.pop(32, r32(ESI))); p.end(0); }, 'done',
    { memory: [{ addr: LAYOUT.tssA, bytes: tssA((0xffc08028 | ARITH) >>> 0) }], regs2: { esi: ARITH | 2 } });
  // a task gate in the GDT (DPL 3) from ring 0; DPL < CPL from ring 3 -> #GP(gate)
  task('jmp-task-gate', (p) => { p.desc(SEL.SCRATCH, S.gateDesc(5, SEL.TSS_A, 0, 3)); p.e(S.farPtr(32, 'jmp', SEL.SCRATCH, 0)); }, (p) => { p.e(S.grp6(32, 'str', r32(EBX))); p.end(0); }, 'done', { regs2: { ebx: SEL.TSS_A } });
  // JMP/CALL to a busy TSS: #GP(selector); a TSS limit below 103: #TS(selector); not present: #NP
  task('jmp-busy-tss', (p, m) => { m(); p.e(S.farPtr(32, 'jmp', SEL.TSS, 0)); }, (p) => p.end(0), ex(13, SEL.TSS));
  task('call-tss-limit-small', (p, m) => { p.desc(SEL.TSS_A, S.segDesc(LAYOUT.tssA, 0x60, S.access(true, 0, false, 9), 0)); m(); p.e(S.farPtr(32, 'call', SEL.TSS_A, 0)); }, (p) => p.end(0), ex(10, SEL.TSS_A));
  task('jmp-tss-not-present', (p, m) => { p.desc(SEL.TSS_A, S.segDesc(LAYOUT.tssA, 103, S.access(false, 0, false, 9), 0)); m(); p.e(S.farPtr(32, 'jmp', SEL.TSS_A, 0)); }, (p) => p.end(0), ex(11, SEL.TSS_A));
  // INT n through an IDT task gate; an exception with an error code: pushed on the new task's stack
  task('int-task-gate', (p) => { p.patches.push(...S.idtPatch(0x50, S.gateDesc(5, SEL.TSS_A, 0, 0))); p.e(A.intn(32, 0x50)); }, (p) => { p.e(A.pushf(32, 4), A.pop(32, r32(ESI)), S.iret(32)); }, 'done',
    { regs2: { edx: SEL.TSS }, memory2: [busy(SEL.TSS_A, false)] });
  task('exception-task-gate-error-code', (p) => { p.patches.push(...S.idtPatch(13, S.gateDesc(5, SEL.TSS_A, 0, 0))); p.mov(EAX, SEL.CODE32_XO).e(A.mov(32, A.sreg(A.DS), A.r16(EAX))); },
    (p) => { p.e(A.pop(32, r32(EBX))); p.end(0); }, 'done', { regs2: { ebx: SEL.CODE32_XO, esp: 0x31a000 } });
  // a bad data selector in the new TSS: #TS(selector) after the commit point, in the new task (its first instruction)
  task('new-tss-bad-ds', (p) => p.e(S.farPtr(32, 'jmp', SEL.TSS_A, 0)), (p) => p.end(0), { vector: 10, errorCode: SEL.DATA_NP & ~3, offset: 0x100 },
    { memory: [{ addr: LAYOUT.tssA, bytes: tssA(2, { ds: SEL.CODE32_XO }) }], qemuDiffers: QEMU_GAPS.taskCommitEip });
  out[out.length - 1]!.expect!.end = { vector: 10, errorCode: SEL.CODE32_XO, offset: 0x100 };
  // a 16-bit TSS: 16-bit state; the upper halves of the registers are left alone
  {
    const c = flat('call-tss16', 'flat32', (p) => {
      p.e(A.relBranch(32, 'jmp8', p.pc, p.pc + 2), S.farPtr(32, 'call', SEL.TSS16_C, 0), S.grp6(32, 'str', r32(EDX)));
      p.end(0);
      while (p.pc < taskAt) p.e(S.int3());
      const a16 = new A.Asm(16, 0x100);
      a16.emit(S.grp6(16, 'str', A.r16(EBX)));
      a16.emit(S.iret(16));
      p.e(A.raw([...a16.code()], a16.lines().join(' ; ')));
    }, 'done', {
      noEpilogue: true, needs: 'task-switch',
      memory: [{ addr: LAYOUT.tss16C, bytes: tss16({ ip: 0x100, flags: 2, regs: [1, 2, 3, 4, 0x7000, 6, 7, 8], es: SEL.DATA_WIN, cs: SEL.CODE16_CASE, ss: SEL.STACK16, ds: SEL.DATA_WIN }) }],
      readBack: [[LAYOUT.tss16C, 44]], regs2: { edx: SEL.TSS }, memory2: [[LAYOUT.tss16C, [SEL.TSS, 0]], [LAYOUT.tss16C + 24, [SEL.TSS16_C & 0xff, SEL.TSS16_C >> 8]]],
    });
    out.push(c);
  }
  return out;
}

// ---- reserved EFLAGS bits (issue 9) --------------------------------------------------------------

/**
 * Bits 3, 5, 15 and 22-31 of EFLAGS always read 0 and bit 1 always reads 1 (SDM vol. 1,
 * 3.4.3), whatever IRET, POPF or a task switch loads: QEMU 7.2 masks them the same way.
 */
function reservedFlagCases(): DiffCase[] {
  const out: DiffCase[] = [];
  const RSVD = 0xffc08028; // bits 3, 5, 15, 22-31
  const IMG = (RSVD | ARITH) >>> 0; // bit 1 clear in the image: it reads 1 anyway
  const WANT = ARITH | 2;
  const img16 = IMG & 0xffff;
  // real mode: IRET, POPF, POPFD
  out.push(low('rsvd-flags-real-iret', 'real', (e, pc) => {
    e(A.push(16, A.imm(2, img16), 2, 1), A.push(16, A.imm(2, LAYOUT.rmCode >>> 4), 2, 1));
    const at = pc();
    e(A.push(16, A.imm(2, at + 3 + 1), 2, 1), S.iret(16), A.pushf(16, 2), A.pop(16, A.r16(EAX)));
  }, 'done', { regs2: { eax: WANT } }));
  out.push(low('rsvd-flags-real-popf', 'real', (e) => e(A.push(16, A.imm(2, img16), 2, 1), A.popf(16, 2), A.pushf(16, 2), A.pop(16, A.r16(EAX))), 'done', { regs2: { eax: WANT } }));
  out.push(low('rsvd-flags-real-popfd', 'real', (e) => e(A.push(16, A.imm(4, IMG), 4), A.popf(16, 4), A.pushf(16, 4), A.pop(16, r32(EAX))), 'done', { regs2: { eax: WANT } }));
  // protected mode, ring 0: POPFD, IRETD to the same privilege, POPF with a 16-bit operand
  out.push(flat('rsvd-flags-popfd', 'flat32', (p) => p.e(A.push(32, imm32(IMG)), A.popf(32, 4), A.pushf(32, 4), A.pop(32, r32(EAX))), 'done', { regs2: { eax: WANT } }));
  out.push(flat('rsvd-flags-popf16', 'flat32', (p) => p.e(A.push(32, A.imm(2, img16), 2), A.popf(32, 2), A.pushf(32, 4), A.pop(32, r32(EAX))), 'done', { regs2: { eax: WANT } }));
  out.push(flat('rsvd-flags-iretd', 'flat32', (p) => {
    p.e(A.push(32, imm32(IMG)), A.push(32, imm32(SEL.CODE32)));
    const target = p.pc + 5 + 1;
    p.e(A.push(32, imm32(target), 4, 1), S.iret(32), A.pushf(32, 4), A.pop(32, r32(EAX)));
  }, 'done', { regs2: { eax: WANT } }));
  // ring 3 (IOPL 0): POPFD still drops the reserved bits
  out.push(flat('rsvd-flags-popfd-ring3', 'ring3', (p) => p.e(A.push(32, imm32(IMG)), A.popf(32, 4), A.pushf(32, 4), A.pop(32, r32(EAX))), 'done', { regs2: { eax: WANT } }));
  return out;
}

// ---- choices the SDM leaves open, made as QEMU 7.2 makes them (issue 9) ---------------------

function qemuChoiceCases(): DiffCase[] {
  // BSWAP with a 16-bit operand: undefined; QEMU swaps all 32 bits (decisions.md 3)
  return [flat('bswap-16bit-operand-swaps-32', 'flat32', (p) => p.mov(EAX, 0x11223344).e(A.raw([0x66, 0x0f, 0xc8], 'bswap ax')), 'done', { regs2: { eax: 0x44332211 } })];
}

/** The hand-written system cases by category. */
export function sysEdgeCaseGroups(): Record<string, DiffCase[]> {
  return {
    'real mode, unreal mode, mode switches': realModeCases(),
    'segmentation and protection': protectionCases(),
    'exceptions and error codes': exceptionCases(),
    'V86 mode, I/O bitmap, VME': v86Cases(),
    'PAE paging, global pages': pagingCases(),
    'debug registers, single-step': debugCases(),
    'hardware task switches': taskCases(),
    'reserved EFLAGS bits': reservedFlagCases(),
    'undefined behaviour as QEMU': qemuChoiceCases(),
  };
}

/** Every hand-written system case. */
/**
 * Pages above 4 GiB under a CPU model with 36 physical address bits (pentium2: PSE-36 and
 * PAE), run on both emulators with that model by tests/cpu/phys-above-4g.test.ts: the
 * harness's usual qemu32 has 32 bits, so there a PAE entry's bit 32 is reserved instead.
 */
export function physAbove4gCases(): DiffCase[] {
  const HI = 0x08000000; // PDE 32 (PAE: 64), not present in the harness's map
  const at = (mode: CaseMode, mask: number, name: string, pde: Array<[number, number]>, readBack: number, ad: number[]) =>
    flat(name, mode, (p) => {
      p.mov(EBX, HI + (D & mask)).e(A.mov(32, A.mem(4, { base: EBX }), imm32(0x11223344)));
      p.e(A.mov(32, r32(EAX), A.mem(4, { base: EBX })));
      p.mov(ECX, D).e(A.mov(32, r32(EDX), A.mem(4, { base: ECX })));
    }, 'done', {
      patches: pde, data: Uint8Array.of(0x55, 0x66, 0x77, 0x88), readBack: [[readBack, 4]],
      regs2: { eax: 0, edx: 0x88776655 }, memory2: [[readBack, ad]],
    });
  const pde = LAYOUT.pageDir + (HI >>> 22) * 4;
  const paePde = LAYOUT.paePd + (HI >>> 21) * 8;
  return [
    at('paging32', 0x3fffff, 'pse36-4m-page-at-4g-pentium2', [[pde, 0x00002087]], pde, [0xe7, 0x20, 0, 0]),
    at('paging32', 0x3fffff, 'pse36-4m-page-at-1t-pentium2', [[pde, 0x001fe087]], pde, [0xe7, 0xe0, 0x1f, 0]),
    at('pae', 0x1fffff, 'pae-2m-page-at-4g-pentium2', [[paePde, (D & ~0x1fffff) | 0x87], [paePde + 4, 1]], paePde, [0xe7, 0, (D >>> 16) & 0xe0, 0]),
    at('pae', 0x1fffff, 'pae-2m-page-at-60g-pentium2', [[paePde, (D & ~0x1fffff) | 0x87], [paePde + 4, 0xf]], paePde, [0xe7, 0, (D >>> 16) & 0xe0, 0]),
  ];
}

export function sysEdgeCases(): DiffCase[] {
  return Object.values(sysEdgeCaseGroups()).flat();
}

void AF; void ARITH; void DF; void PF; void SF; void EBP; void EDI; void ESP; void flatCodeFor;
export type { MemInit };
