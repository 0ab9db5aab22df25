// System-instruction encoders for the issue-5 differential cases (far transfers, descriptor
// tables, control/debug registers, I/O, task and mode switches), on top of x86-asm.ts, and
// descriptor / gate / patch builders for the harness's tables.
import * as A from './x86-asm.js';
import type { Bits, Insn, Mem, Reg, RM } from './x86-asm.js';
import { LAYOUT } from '../support/harness-layout.js';

const hex = (v: number) => '0x' + (v >>> 0).toString(16);
const le = (v: number, n: number) => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff);

function osPrefix(bits: Bits, osize: 2 | 4): number[] {
  return (osize === 4) !== (bits === 32) ? [0x66] : [];
}

/** CALL/JMP FAR ptr16:16 or ptr16:32 (9A / EA). */
export function farPtr(bits: Bits, kind: 'call' | 'jmp', sel: number, offset: number, osize: 2 | 4 = bits === 16 ? 2 : 4): Insn {
  const bytes = [...osPrefix(bits, osize), kind === 'call' ? 0x9a : 0xea, ...le(offset, osize), ...le(sel, 2)];
  return A.raw(bytes, `${osize !== (bits === 16 ? 2 : 4) ? (osize === 4 ? 'o32 ' : 'o16 ') : ''}${kind} far ${hex(sel)}:${hex(offset)}`);
}

/** CALL/JMP FAR m16:16 / m16:32 (FF /3, FF /5). */
export function farMem(bits: Bits, kind: 'call' | 'jmp', m: Mem, osize: 2 | 4 = bits === 16 ? 2 : 4): Insn {
  const mm = { ...m, size: osize + 2 };
  return A.build({ bits, mnem: kind, ops: [mm], opcode: [0xff], osize, reg: kind === 'call' ? 3 : 5, rm: mm, textOverride: `${kind} far ${osize === 4 ? 'd' : ''}${A.memText(mm)}` });
}

/** RETF [imm16] (CB / CA iw). */
export function retf(bits: Bits, popBytes = 0, osize: 2 | 4 = bits === 16 ? 2 : 4): Insn {
  const p = osPrefix(bits, osize);
  const t = `${p.length ? (osize === 4 ? 'o32 ' : 'o16 ') : ''}retf`;
  if (!popBytes) return A.raw([...p, 0xcb], t);
  return A.raw([...p, 0xca, ...le(popBytes, 2)], `${t} ${hex(popBytes)}`);
}

/** IRET / IRETD (CF). */
export function iret(bits: Bits, osize: 2 | 4 = bits === 16 ? 2 : 4): Insn {
  return A.raw([...osPrefix(bits, osize), 0xcf], osize === 4 ? 'iretd' : 'iret');
}

/** LAR / LSL r, r/m16 (0F 02 / 0F 03). */
export function larLsl(bits: Bits, which: 'lar' | 'lsl', r: Reg, src: RM): Insn {
  const s = src.k === 'mem' ? { ...src, size: 2 } : src;
  return A.build({ bits, mnem: which, ops: [r, s], opcode: [0x0f, which === 'lar' ? 0x02 : 0x03], osize: r.size, reg: r.n, rm: s });
}

/** Group 6 (0F 00): SLDT /0, STR /1, LLDT /2, LTR /3, VERR /4, VERW /5. */
export function grp6(bits: Bits, which: 'sldt' | 'str' | 'lldt' | 'ltr' | 'verr' | 'verw', rm: RM): Insn {
  const n = ['sldt', 'str', 'lldt', 'ltr', 'verr', 'verw'].indexOf(which);
  const r = rm.k === 'mem' ? { ...rm, size: 2 } : rm;
  return A.build({ bits, mnem: which, ops: [r], opcode: [0x0f, 0x00], osize: r.k === 'reg' ? r.size : undefined, reg: n, rm: r });
}

/** Group 7 (0F 01): SGDT /0, SIDT /1, LGDT /2, LIDT /3, SMSW /4, LMSW /6, INVLPG /7. */
export function grp7(bits: Bits, which: 'sgdt' | 'sidt' | 'lgdt' | 'lidt' | 'smsw' | 'lmsw' | 'invlpg', rm: RM, osize?: 2 | 4): Insn {
  const n = { sgdt: 0, sidt: 1, lgdt: 2, lidt: 3, smsw: 4, lmsw: 6, invlpg: 7 }[which];
  const size = which === 'smsw' || which === 'lmsw' ? 2 : which === 'invlpg' ? 1 : 6;
  const r = rm.k === 'mem' ? { ...rm, size } : rm;
  const spec: Parameters<typeof A.build>[0] = { bits, mnem: which, ops: [r], opcode: [0x0f, 0x01], reg: n, rm: r };
  if (osize !== undefined) spec.osize = osize;
  else if (r.k === 'reg') spec.osize = r.size;
  return A.build(spec);
}

/** ARPL r/m16, r16 (63 /r). */
export function arpl(bits: Bits, dst: RM, src: Reg): Insn {
  const d = dst.k === 'mem' ? { ...dst, size: 2 } : dst;
  return A.build({ bits, mnem: 'arpl', ops: [d, src], opcode: [0x63], reg: src.n, rm: d });
}

/** LDS/LES/LSS/LFS/LGS r, m16:16/32. */
export function lxs(bits: Bits, which: 'lds' | 'les' | 'lss' | 'lfs' | 'lgs', r: Reg, m: Mem): Insn {
  const opc = { les: [0xc4], lds: [0xc5], lss: [0x0f, 0xb2], lfs: [0x0f, 0xb4], lgs: [0x0f, 0xb5] }[which];
  const mm = { ...m, size: r.size + 2 };
  return A.build({ bits, mnem: which, ops: [r, mm], opcode: opc, osize: r.size, reg: r.n, rm: mm, textOverride: `${which} ${A.REG_NAMES[r.size][r.n]}, ${A.memText(mm)}` });
}

/** MOV r32, CRn / MOV CRn, r32 / MOV r32, DRn / MOV DRn, r32. */
export function movCr(kind: 'cr' | 'dr', dir: 'read' | 'write', n: number, reg: number): Insn {
  const opc = kind === 'cr' ? (dir === 'read' ? 0x20 : 0x22) : dir === 'read' ? 0x21 : 0x23;
  const name = `${kind}${n}`;
  const r = A.REG_NAMES[4][reg];
  return A.raw([0x0f, opc, 0xc0 | (n << 3) | reg], dir === 'read' ? `mov ${r}, ${name}` : `mov ${name}, ${r}`);
}

export const clts = (): Insn => A.raw([0x0f, 0x06], 'clts');
export const cli = (): Insn => A.raw([0xfa], 'cli');
export const sti = (): Insn => A.raw([0xfb], 'sti');
export const hlt = (): Insn => A.raw([0xf4], 'hlt');
export const cpuid = (): Insn => A.raw([0x0f, 0xa2], 'cpuid');
export const rdmsr = (): Insn => A.raw([0x0f, 0x32], 'rdmsr');
export const wrmsr = (): Insn => A.raw([0x0f, 0x30], 'wrmsr');
export const rdtsc = (): Insn => A.raw([0x0f, 0x31], 'rdtsc');
export const sysenter = (): Insn => A.raw([0x0f, 0x34], 'sysenter');
export const sysexit = (): Insn => A.raw([0x0f, 0x35], 'sysexit');
export const nop = (): Insn => A.raw([0x90], 'nop');
export const int3 = (): Insn => A.raw([0xcc], 'int3');
export const into = (): Insn => A.raw([0xce], 'into');
export const icebp = (): Insn => A.raw([0xf1], 'int1');
export const ud2 = (): Insn => A.raw([0x0f, 0x0b], 'ud2');
export const fwait = (): Insn => A.raw([0x9b], 'fwait');
export const fnop = (): Insn => A.raw([0xd9, 0xd0], 'fnop');

/** IN/OUT with an immediate port or DX; size 1/2/4. */
export function io(bits: Bits, dir: 'in' | 'out', size: 1 | 2 | 4, port?: number): Insn {
  const p = size === 1 ? [] : osPrefix(bits, size as 2 | 4);
  const w = size === 1 ? 0 : 1;
  const acc = A.REG_NAMES[size][0];
  if (port === undefined) return A.raw([...p, (dir === 'in' ? 0xec : 0xee) + w], dir === 'in' ? `in ${acc}, dx` : `out dx, ${acc}`);
  return A.raw([...p, (dir === 'in' ? 0xe4 : 0xe6) + w, port & 0xff], dir === 'in' ? `in ${acc}, ${hex(port)}` : `out ${hex(port)}, ${acc}`);
}

/** INS/OUTS (6C/6D/6E/6F), optionally REP. */
export function insOuts(bits: Bits, which: 'ins' | 'outs', size: 1 | 2 | 4, rep = false): Insn {
  const p = size === 1 ? [] : osPrefix(bits, size as 2 | 4);
  const w = size === 1 ? 0 : 1;
  const sfx = size === 1 ? 'b' : size === 2 ? 'w' : 'd';
  return A.raw([...(rep ? [0xf3] : []), ...p, (which === 'ins' ? 0x6c : 0x6e) + w], `${rep ? 'rep ' : ''}${which}${sfx}`);
}

/** MOV r/m16, Sreg and friends are in x86-asm (A.mov with A.sreg). PUSH/POP Sreg too. */

// ---- descriptors ----------------------------------------------------------------------

export type DescPair = [number, number];

/** A segment descriptor: base, limit (20 bits, or bytes with g), access byte, flags nibble (G D/B L AVL). */
export function segDesc(base: number, limit: number, access: number, flags: number): DescPair {
  const lo = ((limit & 0xffff) | ((base & 0xffff) << 16)) >>> 0;
  const hi = (((base >>> 16) & 0xff) | (access << 8) | (((limit >>> 16) & 0x0f) << 16) | ((flags & 0xf) << 20) | (base & 0xff000000)) >>> 0;
  return [lo, hi];
}

/** Access byte: present, DPL, S (code/data), type (4 bits). */
export function access(p: boolean, dpl: number, s: boolean, type: number): number {
  return (p ? 0x80 : 0) | ((dpl & 3) << 5) | (s ? 0x10 : 0) | (type & 0xf);
}

/**
 * A gate: type 4 (16-bit call gate), 5 (task gate), 6/7 (16-bit interrupt/trap gate),
 * 0xC (32-bit call gate), 0xE/0xF (32-bit interrupt/trap gate).
 */
export function gateDesc(type: number, sel: number, offset: number, dpl: number, params = 0, present = true): DescPair {
  const lo = ((offset & 0xffff) | ((sel & 0xffff) << 16)) >>> 0;
  const hi = ((offset & 0xffff0000) | (present ? 0x8000 : 0) | ((dpl & 3) << 13) | ((type & 0xf) << 8) | (params & 0x1f)) >>> 0;
  return [lo, hi];
}

/** Patches writing a descriptor into the GDT slot of `sel` (TI = 0) or the LDT (TI = 1). */
export function descPatch(sel: number, d: DescPair): Array<[number, number]> {
  const base = sel & 4 ? LAYOUT.ldtArea : LAYOUT.gdt;
  const at = base + (sel & 0xfff8);
  return [[at, d[0]], [at + 4, d[1]]];
}

/** Patches writing an IDT gate. */
export function idtPatch(vector: number, d: DescPair): Array<[number, number]> {
  const at = LAYOUT.idt + vector * 8;
  return [[at, d[0]], [at + 4, d[1]]];
}

/** The harness IDT's gate for a vector (as built at boot). */
export function harnessGate(vector: number): DescPair {
  const dpl = vector === 3 || vector === 4 || vector === 0x80 || vector === 0x81 ? 3 : 0;
  const off = vector === 0x80 ? LAYOUT.int80Stub : vector === 0x81 ? LAYOUT.caseEntryR0 : LAYOUT.excStubs + vector * LAYOUT.excStubSize;
  return gateDesc(0xe, 0x08, off, dpl);
}

/** A dword patch in the harness TSS. */
export function tssPatch(offset: number, value: number): [number, number] {
  return [LAYOUT.tss + offset, value >>> 0];
}

export { hex };
