// What a differential comparison runs against: QEMU (through its gdb stub) here, and the
// lead's emulator (through its debugger API) elsewhere. The interface is the few debugger
// operations runCase needs, all async.
//
// A target must:
//   - read and write guest memory by *linear* address (paging applies, segments do not,
//     as in QEMU's stub), any length (split as needed);
//   - read the registers below (eip/eflags/selectors as 32-bit numbers; cr0..cr4 optional,
//     cr2 is used for #PF reports);
//   - write EIP (the only register runCase writes);
//   - set/remove execution breakpoints at linear addresses: a breakpoint stops *before*
//     the instruction at that address executes, whatever the CPU mode (ring 3, 16-bit CS);
//     resuming from a breakpoint address executes that instruction (no re-trigger);
//   - continue until a breakpoint, reporting it; with timeoutMs, stop the guest itself
//     and report 'timeout' (the guest state stays inspectable); report a triple fault or
//     shutdown as 'shutdown' if it can tell.
//   - treat guest INT3 (0xCC) as a guest instruction (#BP through the IDT), never as a
//     debugger breakpoint.
import { RspClient, type StopReply } from './rsp-client.js';
import { startQemu, type QemuInstance, type QemuOptions } from './qemu.js';
import {
  CTX, CTXF, ERROR_CODE_VECTORS, HARNESS_ELF, LAYOUT, SEL, realSegment, segmentOf, type SegmentInfo,
} from './harness-layout.js';

export const REG_NAMES = [
  'eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags',
  'cs', 'ss', 'ds', 'es', 'fs', 'gs',
] as const;
export type RegName = (typeof REG_NAMES)[number];
export const GPR_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export type GprName = (typeof GPR_NAMES)[number];
export const SEG_NAMES = ['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const;
export type SegName = (typeof SEG_NAMES)[number];

export type Regs = Record<RegName, number> & { cr0?: number; cr2?: number; cr3?: number; cr4?: number };

export interface StopInfo {
  /** 'breakpoint': stopped at one of our breakpoints (or any debug stop); 'timeout': the
   *  target stopped itself after timeoutMs; 'shutdown': triple fault / power-off; 'other' */
  reason: 'breakpoint' | 'timeout' | 'shutdown' | 'other';
  detail?: string;
}

export interface DiffTarget {
  readonly name: string;
  writeMemory(addr: number, bytes: Uint8Array): Promise<void>;
  readMemory(addr: number, len: number): Promise<Uint8Array>;
  readRegisters(): Promise<Regs>;
  writeRegister(name: RegName, value: number): Promise<void>;
  setBreakpoint(addr: number): Promise<void>;
  removeBreakpoint(addr: number): Promise<void>;
  continue(opts?: { timeoutMs?: number }): Promise<StopInfo>;
  close(): Promise<void>;
}

// ---- QEMU ---------------------------------------------------------------------------

export class QemuDiffTarget implements DiffTarget {
  readonly name = 'qemu';
  private constructor(readonly qemu: QemuInstance) {}

  /** Starts QEMU paused at the reset vector with the harness ELF (or another kernel). */
  static async start(opts: Partial<QemuOptions> = {}): Promise<QemuDiffTarget> {
    const q = await startQemu({ kernel: HARNESS_ELF, ...opts });
    return new QemuDiffTarget(q);
  }

  get client(): RspClient {
    return this.qemu.client;
  }

  writeMemory(addr: number, bytes: Uint8Array): Promise<void> {
    return this.client.writeMemory(addr, bytes);
  }
  readMemory(addr: number, len: number): Promise<Uint8Array> {
    return this.client.readMemory(addr, len);
  }
  async readRegisters(): Promise<Regs> {
    const r = await this.client.readRegisters();
    const out = {} as Regs;
    for (const n of REG_NAMES) out[n] = r[n] >>> 0;
    if (r.cr0 !== undefined) out.cr0 = r.cr0;
    if (r.cr2 !== undefined) out.cr2 = r.cr2;
    if (r.cr3 !== undefined) out.cr3 = r.cr3;
    if (r.cr4 !== undefined) out.cr4 = r.cr4;
    return out;
  }
  writeRegister(name: RegName, value: number): Promise<void> {
    return this.client.writeRegister(name, value >>> 0);
  }
  setBreakpoint(addr: number): Promise<void> {
    return this.client.insertBreakpoint(addr);
  }
  removeBreakpoint(addr: number): Promise<void> {
    return this.client.removeBreakpoint(addr);
  }
  async continue(opts: { timeoutMs?: number } = {}): Promise<StopInfo> {
    let stop: StopReply;
    try {
      stop = await this.client.cont(undefined, opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
    } catch (e) {
      if (!this.client.isRunning) throw e;
      const s = await this.client.interruptAndWait(5000);
      return { reason: 'timeout', detail: `interrupted after ${opts.timeoutMs} ms (${s.raw})` };
    }
    if (stop.kind !== 'stop') return { reason: 'shutdown', detail: stop.raw };
    if (stop.signal === 5) return { reason: 'breakpoint', detail: stop.raw };
    // -no-shutdown: a triple fault (reset -> shutdown) pauses the VM: SIGQUIT (3)
    if (stop.signal === 3) return { reason: 'shutdown', detail: stop.raw };
    return { reason: 'other', detail: stop.raw };
  }
  async close(): Promise<void> {
    await this.qemu.close();
  }
}

// ---- the harness protocol -------------------------------------------------------------

/** Runs the harness from reset (or from its entry) to harness_ready and sets the two stop breakpoints. */
export async function bootHarness(target: DiffTarget, timeoutMs = 20_000): Promise<void> {
  await target.setBreakpoint(LAYOUT.harnessReady);
  const stop = await target.continue({ timeoutMs });
  const regs = await target.readRegisters();
  if (stop.reason !== 'breakpoint' || regs.eip !== LAYOUT.harnessReady) {
    throw new Error(`${target.name}: the harness did not reach harness_ready (${stop.reason} ${stop.detail ?? ''}, eip=0x${regs.eip.toString(16)})`);
  }
  await target.removeBreakpoint(LAYOUT.harnessReady);
  await target.setBreakpoint(LAYOUT.caseDone);
  await target.setBreakpoint(LAYOUT.excDone);
}

/** The issue-2 modes (the instruction generator's). */
export type BasicMode = 'flat32' | 'paging32' | 'ring3' | 'code16';
/**
 * System modes (issue 5): real mode (CR0.PE = 0, case code at RM_CODE = 2000:0000), unreal
 * mode (real mode whose data segments keep 4 GiB limits), V86 mode (IRET with VM from ring
 * 0), rings 1 and 2, PAE paging in rings 0 and 3.
 */
export type SystemMode = 'real' | 'unreal' | 'v86' | 'ring1' | 'ring2' | 'pae' | 'pae-ring3';
export type CaseMode = BasicMode | SystemMode;
export const CASE_MODES: readonly BasicMode[] = ['flat32', 'paging32', 'ring3', 'code16'];
export const SYSTEM_MODES: readonly SystemMode[] = ['real', 'unreal', 'v86', 'ring1', 'ring2', 'pae', 'pae-ring3'];

export interface CaseSegments {
  cs: number;
  ss: number;
  ds: number;
  es: number;
  fs: number;
  gs: number;
}

/** How a mode's segment registers are interpreted: descriptors (pm), base = value * 16 (real, v86). */
export type SegKind = 'pm' | 'real' | 'v86';

export interface ModeDefaults {
  segs: CaseSegments;
  esp: number;
  /** initial EIP (offset in CS) = offset of the case code's first byte */
  eip: number;
  flags: number;
  /** linear address the case code is written to */
  codeAddr: number;
  /** linear address of the data window's offset 0 */
  dataAddr: number;
  kind: SegKind;
  bits: 16 | 32;
}

const RM_SEG = (linear: number) => linear >>> 4;

/** Selectors, initial ESP and EIP and CR flags per mode. */
export function modeDefaults(mode: CaseMode): ModeDefaults {
  const pm = (segs: CaseSegments, flags: number, bits: 16 | 32 = 32): ModeDefaults => ({
    segs, flags, bits, kind: 'pm',
    esp: bits === 16 ? LAYOUT.caseEsp - LAYOUT.stackArea : LAYOUT.caseEsp,
    eip: bits === 16 ? 0 : LAYOUT.codeArea,
    codeAddr: LAYOUT.codeArea, dataAddr: LAYOUT.dataArea,
  });
  const PG = CTXF.PAGING | CTXF.WP | CTXF.PSE;
  const r3 = { cs: SEL.CODE32_R3, ss: SEL.DATA32_R3, ds: SEL.DATA32_R3, es: SEL.DATA32_R3, fs: SEL.DATA_WIN_R3, gs: SEL.DATA32_R3 };
  const r0 = { cs: SEL.CODE32, ss: SEL.DATA32, ds: SEL.DATA32, es: SEL.DATA32, fs: SEL.DATA_WIN, gs: SEL.DATA32 };
  const low = (flags: number, kind: SegKind, segs: Partial<CaseSegments> = {}): ModeDefaults => ({
    segs: { cs: RM_SEG(LAYOUT.rmCode), ss: RM_SEG(LAYOUT.rmStack), ds: RM_SEG(LAYOUT.rmData), es: RM_SEG(LAYOUT.rmData), fs: RM_SEG(LAYOUT.rmData), gs: RM_SEG(LAYOUT.rmData), ...segs },
    esp: 0x8000, eip: 0, flags, codeAddr: LAYOUT.rmCode, dataAddr: LAYOUT.rmData, kind, bits: 16,
  });
  switch (mode) {
    case 'flat32':
      return pm(r0, CTXF.PSE);
    case 'paging32':
      return pm(r0, PG);
    case 'ring3':
      return pm(r3, PG);
    case 'code16':
      return pm({ cs: SEL.CODE16_CASE, ss: SEL.STACK16, ds: SEL.DATA_WIN, es: SEL.DATA_WIN, fs: SEL.DATA32, gs: SEL.DATA_WIN }, CTXF.PSE, 16);
    case 'ring1':
      return pm({ cs: SEL.CODE32_R1, ss: SEL.DATA32_R1, ds: SEL.DATA32_R1, es: SEL.DATA32_R2, fs: SEL.DATA_WIN_R3 & ~3 | 1, gs: SEL.DATA32_R1 }, PG);
    case 'ring2':
      return pm({ cs: SEL.CODE32_R2, ss: SEL.DATA32_R2, ds: SEL.DATA32_R2, es: SEL.DATA32_R3 & ~3 | 2, fs: SEL.DATA_WIN_R3 & ~3 | 2, gs: SEL.DATA32_R2 }, PG);
    case 'pae':
      return pm(r0, CTXF.PAGING | CTXF.WP | CTXF.PAE);
    case 'pae-ring3':
      return pm(r3, CTXF.PAGING | CTXF.WP | CTXF.PAE);
    case 'real':
      return low(CTXF.REAL, 'real');
    case 'unreal':
      // DS and GS based at 0 and FS at 0x10000, all with 4 GiB limits: 32-bit offsets reach DATA_AREA
      return { ...low(CTXF.REAL | CTXF.UNREAL, 'real', { ds: 0, gs: 0, fs: 0x1000 }), dataAddr: LAYOUT.dataArea };
    case 'v86':
      return low(CTXF.V86, 'v86');
  }
}

/** The segment-register kind a case starts with. */
export function segKindOf(c: Pick<DiffCase, 'mode' | 'ctxFlags'>): SegKind {
  const f = c.ctxFlags ?? modeDefaults(c.mode).flags;
  if (f & CTXF.REAL) return 'real';
  if (f & CTXF.V86) return 'v86';
  return 'pm';
}

/** Segment info of a selector (pm) or a real/V86 segment value. */
export function segInfo(kind: SegKind, sel: number, unrealLimit = false): SegmentInfo | undefined {
  if (kind === 'pm') return segmentOf(sel);
  return realSegment(sel, unrealLimit ? 0xffffffff : 0xffff);
}

export interface MemInit {
  addr: number;
  bytes: Uint8Array;
}

export interface DiffCase {
  name: string;
  seed?: number;
  mode: CaseMode;
  /** the case code; runCase appends the jump to case_done (unless noEpilogue) */
  code: Uint8Array;
  /** the code ends by itself (e.g. a mode-switch case that jumps to rm_done or case_done) */
  noEpilogue?: boolean;
  /** linear address of the code (default from the mode) */
  codeAddr?: number;
  /** initial EIP (default from the mode) */
  eip?: number;
  /** linear address of the data window's offset 0 (default from the mode) */
  dataAddr?: number;
  /** where the case may end: 'real' (through rm_done / the real-mode IVT: RM_SAVE is read); default from the mode */
  mayEndReal?: boolean;
  /** initial general registers (default 0; esp from the mode) */
  regs?: Partial<Record<GprName, number>>;
  /** initial EFLAGS (default 2); IF, TF, NT, VM, RF, VIF, VIP are the harness's business unless listed in eflagsKeep */
  eflags?: number;
  /** EFLAGS bits of `eflags` let through as they are (TF, RF, IF, NT, VIF, VIP; never VM: CTXF_V86 sets it) */
  eflagsKeep?: number;
  /** selector overrides */
  segs?: Partial<CaseSegments>;
  /** CTXF_* (default from the mode) */
  ctxFlags?: number;
  /** LDTR loaded before the case (default 0) */
  ldtr?: number;
  /** debug registers loaded before the case (DR7 last, right before the IRET) */
  dr?: { dr0?: number; dr1?: number; dr2?: number; dr3?: number; dr6?: number; dr7?: number };
  /** dword writes the harness makes after restoring its pristine tables (GDT/IDT/TSS/LDT/IVT/page tables) */
  patches?: Array<[number, number]>;
  /** initial bytes at the start of the data window (the rest of the window is zeroed) */
  data?: Uint8Array;
  /** data-area window compared after the run: [offset in the mode's data area, length] (default [0, 4096]) */
  dataWindow?: [number, number];
  /** stack window compared after the run (linear; default initial ESP - 0x400 .. + 0x100) */
  stackWindow?: [number, number];
  /** more memory to write before the run (never the tables case_entry restores: use patches) */
  memory?: MemInit[];
  /** extra ranges to read back and compare */
  readBack?: Array<[number, number]>;
  /** EFLAGS bits the SDM leaves undefined at the end (normal completion) */
  flagsIgnore?: number;
  /** EFLAGS bits undefined before the instruction at each code offset (for faults there) */
  flagsIgnoreAt?: Array<[number, number]>;
  /** ESP the generator expects at case_done (generated cases) */
  expectEsp?: number;
  /** registers whose final value is undefined */
  regsIgnore?: RegName[];
  /** registers whose final value is partly undefined: only the bits of the mask are compared */
  regsMask?: Partial<Record<RegName, number>>;
  /** human-readable listing: one line per instruction */
  listing?: string[];
  /** for hand-written cases: what must happen (checked by the QEMU self-check) */
  expect?: CaseExpectation;
  /** QEMU is known to differ from the SDM on this case: do not use QEMU as its oracle */
  qemuDiffers?: string;
  /** needs a CPU feature that was missing from bmbt-dbg when the case was written (e.g. 'task-switch') */
  needs?: string;
  /** how to run this case alone (e.g. 'SYS_CASE_SEED=farxfer:0x1234abcd'); default CASE_SEED=<seed> */
  reproduce?: string;
  timeoutMs?: number;
}

export interface CaseExpectation {
  /** 'done' (reached case_done) or an exception vector */
  end: 'done' | {
    vector: number; errorCode?: number; /** faulting EIP as an offset in the case code */ offset?: number; cr2?: number;
    /** [mask, value] of DR6 as the #DB handler read it */ dr6?: [number, number];
    via?: 'idt' | 'rm-ivt' | 'v86-ivt';
  };
  regs?: Partial<Record<RegName, number>>;
  /** bits of EFLAGS that must equal `flags` (mask, value) */
  flags?: [number, number];
  /** bytes expected at linear addresses */
  memory?: Array<[number, number[]]>;
}

export interface CaseException {
  vector: number;
  errorCode?: number;
  /** DR6 as the #DB handler read it (vector 1 through the IDT) */
  dr6?: number;
  /** how the exception was taken: the IDT (protected mode), the real-mode IVT, or the V86 IVT (CR4.VME redirection) */
  via?: 'idt' | 'rm-ivt' | 'v86-ivt';
  /** EIP from the exception frame (fault: the faulting instruction; trap: the next one) */
  eip: number;
  /** eip as an offset in the case code (eip - code start) */
  offset: number;
  cs: number;
  eflags: number;
  /** CR2 for #PF */
  cr2?: number;
}

export interface CaseResult {
  name: string;
  end: 'done' | 'exception' | 'timeout' | 'shutdown' | 'lost';
  /** final state: at case_done, or the state at the exception (from the frame) */
  regs: Regs;
  exception?: CaseException;
  data: Uint8Array;
  stack: Uint8Array;
  dataAddr: number;
  stackAddr: number;
  readBack: Uint8Array[];
  /** linear address and size of the EFLAGS image an exception pushed (to mask undefined flags there) */
  frameFlags?: [number, number];
  detail?: string;
  /** ms this case took */
  ms: number;
}

const PAD = 0xcc; // stack fill: INT3 bytes, recognisable

/** Offset of the case code's first byte within CS (what EIP starts at). */
export function caseStart(c: Pick<DiffCase, 'mode' | 'segs' | 'eip'>): number {
  return c.eip ?? modeDefaults(c.mode).eip;
}

/** Linear address of the case code. */
export function codeAddr(c: Pick<DiffCase, 'mode' | 'codeAddr'>): number {
  return c.codeAddr ?? modeDefaults(c.mode).codeAddr;
}

/** Linear address of the data window's offset 0. */
export function dataAddr(c: Pick<DiffCase, 'mode' | 'dataAddr'>): number {
  return c.dataAddr ?? modeDefaults(c.mode).dataAddr;
}

function le32(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, true);
}

/** A far jump: EA ptr16:16 (16-bit code) or EA ptr16:32 (32-bit code; o16/o32 prefix when the code size differs). */
export function farJump(bits: 16 | 32, sel: number, offset: number, osize: 2 | 4 = bits === 16 ? 2 : 4): Uint8Array {
  const pre = (osize === 4) !== (bits === 32) ? [0x66] : [];
  const b = new Uint8Array(pre.length + 1 + osize + 2);
  b.set(pre);
  b[pre.length] = 0xea;
  const dv = new DataView(b.buffer);
  if (osize === 4) dv.setUint32(pre.length + 1, offset >>> 0, true);
  else dv.setUint16(pre.length + 1, offset & 0xffff, true);
  dv.setUint16(pre.length + 1 + osize, sel, true);
  return b;
}

/** The flat code selector of a privilege level (for the jump to case_done). */
export function flatCodeFor(cpl: number): number {
  return [SEL.CODE32, SEL.CODE32_R1, SEL.CODE32_R2, SEL.CODE32_R3][cpl & 3]!;
}

/** The jump from the end of the case code to case_done (rm_done, V86_DONE), for the case's CS. */
export function epilogue(c: Pick<DiffCase, 'mode' | 'segs' | 'ctxFlags' | 'noEpilogue' | 'codeAddr'>, codeLength: number): Uint8Array {
  if (c.noEpilogue) return new Uint8Array(0);
  const d = modeDefaults(c.mode);
  const kind = segKindOf(c);
  if (kind === 'real') return farJump(16, LAYOUT.rmBlobSeg, LAYOUT.rmDoneOff);
  if (kind === 'v86') return farJump(16, LAYOUT.v86HltSeg, LAYOUT.v86Done - LAYOUT.v86Hlt);
  const cs = c.segs?.cs ?? d.segs.cs;
  const desc = segmentOf(cs);
  if (desc && desc.big && desc.base === 0 && !desc.conforming) {
    const rel = (LAYOUT.caseDone - (codeAddr(c) + codeLength + 5)) | 0;
    const b = new Uint8Array(5);
    b[0] = 0xe9;
    new DataView(b.buffer).setInt32(1, rel, true);
    return b;
  }
  // far jump to the flat code segment of the same privilege
  return farJump(desc && desc.big ? 32 : 16, flatCodeFor(cs & 3), LAYOUT.caseDone, 4);
}

/** EFLAGS bits buildContext never lets through: IF, TF, NT, VM, RF, VIF, VIP. */
export const HARNESS_EFLAGS = 0x200 | 0x100 | 0x4000 | 0x20000 | 0x10000 | 0x180000;

export function buildContext(c: DiffCase): Uint8Array {
  const d = modeDefaults(c.mode);
  const ctx = new Uint8Array(LAYOUT.ctxSize);
  const dv = new DataView(ctx.buffer);
  const put = (off: number, v: number) => dv.setUint32(off, v >>> 0, true);
  const r = c.regs ?? {};
  put(CTX.FLAGS, (c.ctxFlags ?? d.flags) | (c.dr ? CTXF.DEBUG : 0));
  put(CTX.EAX, r.eax ?? 0);
  put(CTX.ECX, r.ecx ?? 0);
  put(CTX.EDX, r.edx ?? 0);
  put(CTX.EBX, r.ebx ?? 0);
  put(CTX.ESP, r.esp ?? d.esp);
  put(CTX.EBP, r.ebp ?? 0);
  put(CTX.ESI, r.esi ?? 0);
  put(CTX.EDI, r.edi ?? 0);
  put(CTX.EIP, c.eip ?? d.eip);
  const keep = (c.eflagsKeep ?? 0) & ~0x20000;
  put(CTX.EFLAGS, ((c.eflags ?? 2) & ~(HARNESS_EFLAGS & ~keep)) | 2);
  const s = { ...d.segs, ...(c.segs ?? {}) };
  put(CTX.CS, s.cs);
  put(CTX.SS, s.ss);
  put(CTX.DS, s.ds);
  put(CTX.ES, s.es);
  put(CTX.FS, s.fs);
  put(CTX.GS, s.gs);
  put(CTX.LDTR, c.ldtr ?? 0);
  put(CTX.DR0, c.dr?.dr0 ?? 0);
  put(CTX.DR1, c.dr?.dr1 ?? 0);
  put(CTX.DR2, c.dr?.dr2 ?? 0);
  put(CTX.DR3, c.dr?.dr3 ?? 0);
  put(CTX.DR6, c.dr?.dr6 ?? 0xffff0ff0);
  put(CTX.DR7, c.dr?.dr7 ?? 0x400);
  const patches = c.patches ?? [];
  if (patches.length > LAYOUT.maxPatches) throw new Error(`${c.name}: ${patches.length} patches, at most ${LAYOUT.maxPatches}`);
  put(CTX.NPATCH, patches.length);
  patches.forEach(([a, v], i) => {
    put(CTX.PATCHES + i * 8, a);
    put(CTX.PATCHES + i * 8 + 4, v);
  });
  return ctx;
}

export function initialEsp(c: DiffCase): number {
  return (c.regs?.esp ?? modeDefaults(c.mode).esp) >>> 0;
}

/** Linear address of SS:ESP (16-bit SP when SS is not big; real/V86: SS * 16 + SP). */
export function stackLinear(ss: number, esp: number, kind: SegKind = 'pm'): number {
  if (kind !== 'pm') return (((ss & 0xffff) << 4) + (esp & 0xffff)) >>> 0;
  const d = segmentOf(ss);
  if (!d) return esp >>> 0;
  return (d.base + (d.big ? esp : esp & 0xffff)) >>> 0;
}

export function defaultStackWindow(c: DiffCase): [number, number] {
  const ss = c.segs?.ss ?? modeDefaults(c.mode).segs.ss;
  const top = stackLinear(ss, initialEsp(c), segKindOf(c));
  return [(top - 0x400) >>> 0, 0x500];
}

function u32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}
function u16(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8);
}

/** Linear ranges case_entry overwrites from its pristine copies (memory inits there would be lost). */
export function restoredRanges(): Array<[number, number]> {
  return [
    [LAYOUT.gdt, LAYOUT.gdtLimit + 1], [LAYOUT.idt, 0x800], [LAYOUT.tss, LAYOUT.tssSize],
    [LAYOUT.v86Ivt, 0x2100], [LAYOUT.v86Hlt, 0x200], [LAYOUT.pageDir, 0x2000], [LAYOUT.paePd, LAYOUT.paePdpt + 32 - LAYOUT.paePd],
  ];
}

const EFLAGS_VM = 0x20000;

/**
 * Runs one case: context block, code, data and stack windows, EIP = case_entry, continue
 * to case_done or exc_done; returns the final state. The target must be booted
 * (bootHarness) and stopped.
 */
export async function runCase(target: DiffTarget, c: DiffCase): Promise<CaseResult> {
  const t0 = performance.now();
  const d = modeDefaults(c.mode);
  const kind = segKindOf(c);
  const cAddr = codeAddr(c);
  if (c.code.length + 16 > LAYOUT.codeSize) throw new Error(`${c.name}: code too long`);
  const tail = epilogue(c, c.code.length);
  // (INT3 padding after the code: a case that runs past its end stops the same way everywhere)
  const code = new Uint8Array(c.code.length + tail.length + 16).fill(0xcc);
  code.set(c.code);
  code.set(tail, c.code.length);

  const [dOff, dLen] = c.dataWindow ?? [0, 0x1000];
  const dataAt = ((c.dataAddr ?? d.dataAddr) + dOff) >>> 0;
  const data = new Uint8Array(dLen);
  if (c.data) data.set(c.data.subarray(0, dLen));
  const [stackAddr, stackLen] = c.stackWindow ?? defaultStackWindow(c);
  const stackInit = new Uint8Array(stackLen).fill(PAD);
  for (const m of c.memory ?? []) {
    for (const [a, n] of restoredRanges()) {
      if (m.addr < a + n && m.addr + m.bytes.length > a) throw new Error(`${c.name}: memory init at 0x${m.addr.toString(16)} hits a table case_entry restores: use patches`);
    }
  }
  const mayEndReal = c.mayEndReal ?? kind === 'real';

  await target.writeMemory(LAYOUT.caseCtx, buildContext(c));
  await target.writeMemory(cAddr, code);
  await target.writeMemory(dataAt, data);
  await target.writeMemory(stackAddr, stackInit);
  for (const m of c.memory ?? []) await target.writeMemory(m.addr, m.bytes);
  if (mayEndReal) await target.writeMemory(LAYOUT.rmSave, Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  await target.writeRegister('eip', LAYOUT.caseEntry);

  const stop = await target.continue({ timeoutMs: c.timeoutMs ?? 5000 });
  const regs = await target.readRegisters();
  let end: CaseResult['end'];
  let exception: CaseException | undefined;
  let detail = stop.detail;
  let frameFlags: [number, number] | undefined;
  let final: Regs = { ...regs };
  const atDone = regs.eip === LAYOUT.caseDone;
  const atExc = regs.eip === LAYOUT.excDone;
  let save: Uint8Array | undefined;
  if ((atDone || atExc) && mayEndReal) {
    save = await target.readMemory(LAYOUT.rmSave, LAYOUT.symbols.CTX_REGS_SIZE!);
    if (u32(save, 0) > 1) save = undefined;
  }
  if (stop.reason === 'timeout' || stop.reason === 'shutdown') {
    end = stop.reason;
  } else if (save) {
    // ended in real mode: the registers are in RM_SAVE
    const g = (off: number) => u32(save!, off);
    final = {
      ...final,
      eax: g(CTX.EAX), ecx: g(CTX.ECX), edx: g(CTX.EDX), ebx: g(CTX.EBX), esp: g(CTX.ESP), ebp: g(CTX.EBP), esi: g(CTX.ESI), edi: g(CTX.EDI),
      eflags: g(CTX.EFLAGS), eip: 0, cs: 0, ss: g(CTX.SS) & 0xffff, ds: g(CTX.DS) & 0xffff, es: g(CTX.ES) & 0xffff, fs: g(CTX.FS) & 0xffff, gs: g(CTX.GS) & 0xffff,
    };
    if (u32(save, 0) === 0) {
      end = 'done';
    } else {
      end = 'exception';
      const sp = final.esp & 0xffff;
      const frameAt = stackLinear(final.ss, sp, 'real');
      const f = await target.readMemory(frameAt, 8);
      const vector = u16(f, 0) & 0xff;
      const ip = u16(f, 2);
      const cs = u16(f, 4);
      const fl = u16(f, 6);
      // the pre-exception EFLAGS: the pushed FLAGS and the upper half as saved (AC is cleared by the interrupt)
      const eflags = ((final.eflags & 0xffff0000) | fl) >>> 0;
      exception = { vector, eip: ip, offset: ((cs << 4) + ip - cAddr) | 0, cs, eflags, via: 'rm-ivt' };
      final.eip = ip;
      final.cs = cs;
      final.eflags = eflags;
      final.esp = ((final.esp & 0xffff0000) | ((sp + 8) & 0xffff)) >>> 0;
      frameFlags = [frameAt + 6, 2];
    }
  } else if (atDone) {
    end = 'done';
  } else if (atExc) {
    end = 'exception';
    const frameAddr = stackLinear(regs.ss, regs.esp);
    let f: Uint8Array;
    try {
      f = await target.readMemory(frameAddr, 48);
    } catch (e) {
      // (a case that ran wild into exc_done with an unusable stack)
      f = new Uint8Array(48);
      end = 'lost';
      detail = `exc_done with an unreadable frame at 0x${frameAddr.toString(16)}: ${(e as Error).message}`;
    }
    const vector = u32(f, 0);
    const hasErr = ERROR_CODE_VECTORS.has(vector) && vector !== 0x80;
    let o = hasErr ? 8 : 4;
    let dr6: number | undefined;
    if (vector === 1) {
      dr6 = u32(f, 4);
      o = 8;
    }
    const eip = u32(f, o);
    const cs = u32(f, o + 4) & 0xffff;
    const eflags = u32(f, o + 8);
    exception = { vector, eip, offset: 0, cs, eflags, via: 'idt' };
    if (end === 'lost') exception = undefined;
    else {
    if (hasErr) exception.errorCode = u32(f, 4);
    if (dr6 !== undefined) exception.dr6 = dr6;
    if (vector === 14 && regs.cr2 !== undefined) exception.cr2 = regs.cr2;
    final.eip = eip;
    final.cs = cs;
    final.eflags = eflags;
    if (eflags & EFLAGS_VM) {
      // from V86 mode: EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS
      final.esp = u32(f, o + 12);
      final.ss = u32(f, o + 16) & 0xffff;
      final.es = u32(f, o + 20) & 0xffff;
      final.ds = u32(f, o + 24) & 0xffff;
      final.fs = u32(f, o + 28) & 0xffff;
      final.gs = u32(f, o + 32) & 0xffff;
      const lin = ((cs << 4) + (eip & 0xffff)) >>> 0;
      exception.offset = (lin - cAddr) | 0;
      if (vector === 13 && lin === LAYOUT.v86Done) {
        // the V86 case's end (HLT at V86_DONE)
        end = 'done';
        exception = undefined;
      } else if (vector === 13 && lin >= LAYOUT.v86Hlt && lin < LAYOUT.v86Hlt + 0x100) {
        // INT n redirected through the V86 IVT (CR4.VME): the V86 stack holds IP, CS, FLAGS
        const n = lin - LAYOUT.v86Hlt;
        const sAt = stackLinear(final.ss, final.esp, 'v86');
        const st = await target.readMemory(sAt, 6);
        const ip = u16(st, 0);
        const ics = u16(st, 2);
        const fl = u16(st, 4);
        exception = { vector: n, eip: ip, offset: ((ics << 4) + ip - cAddr) | 0, cs: ics, eflags: ((eflags & 0xffff0000) | fl) >>> 0, via: 'v86-ivt' };
        final.eip = ip;
        final.cs = ics;
        final.esp = ((final.esp & 0xffff0000) | ((final.esp + 6) & 0xffff)) >>> 0;
        frameFlags = [sAt + 4, 2];
      }
    } else {
      const csd = segmentOf(cs);
      exception.offset = ((csd ? csd.base : 0) + eip - cAddr) | 0;
      if ((cs & 3) !== (regs.cs & 3)) {
        // privilege change: the outer SS:ESP are in the frame
        final.esp = u32(f, o + 12);
        final.ss = u32(f, o + 16) & 0xffff;
      } else {
        const n = o + 12;
        const ssd = segmentOf(regs.ss);
        final.esp = ssd && !ssd.big ? ((regs.esp & 0xffff0000) | ((regs.esp + n) & 0xffff)) >>> 0 : (regs.esp + n) >>> 0;
        frameFlags = [frameAddr + o + 8, 4];
      }
    }
    }
  } else {
    end = 'lost';
    detail = `stopped at 0x${regs.eip.toString(16)} (${stop.reason} ${stop.detail ?? ''})`;
  }
  // never leave TF/NT (or garbage) in EFLAGS for the next case's entry code
  if (regs.eflags & (0x100 | 0x4000 | 0x8 | 0x20 | 0x8000 | 0x20000)) await target.writeRegister('eflags', 2);
  const dataOut = await target.readMemory(dataAt, dLen);
  const stackOut = await target.readMemory(stackAddr, stackLen);
  const readBack: Uint8Array[] = [];
  for (const [a, n] of c.readBack ?? []) {
    // (a range the case left unmapped reads as nothing, on every target)
    try {
      readBack.push(await target.readMemory(a, n));
    } catch {
      readBack.push(new Uint8Array(0));
    }
  }
  const result: CaseResult = {
    name: c.name, end, regs: final, data: dataOut, stack: stackOut, dataAddr: dataAt, stackAddr, readBack,
    ms: performance.now() - t0,
  };
  if (exception) result.exception = exception;
  if (frameFlags) result.frameFlags = frameFlags;
  if (detail !== undefined && end !== 'done' && end !== 'exception') result.detail = detail;
  return result;
}

/** Writes the results of a case in a readable form (for failure messages). */
export function formatResult(r: CaseResult): string {
  const h = (v: number | undefined) => (v === undefined ? '-' : '0x' + (v >>> 0).toString(16));
  const lines = [`${r.name}: ${r.end}${r.detail ? ` (${r.detail})` : ''}`];
  lines.push(REG_NAMES.map((n) => `${n}=${h(r.regs[n])}`).join(' '));
  if (r.exception) {
    const e = r.exception;
    lines.push(`exception vector=${e.vector} error=${h(e.errorCode)} eip=${h(e.eip)} (+${e.offset}) cs=${h(e.cs)} eflags=${h(e.eflags)} cr2=${h(e.cr2)}${e.dr6 !== undefined ? ` dr6=${h(e.dr6)}` : ''}${e.via && e.via !== 'idt' ? ` via ${e.via}` : ''}`);
  }
  return lines.join('\n');
}

/**
 * Runs cases on a target made by `factory` (booting it on first use) and replaces the target
 * after a case that leaves it in an unknown state (timeout, shutdown, lost, a protocol error).
 */
export class CaseRunner {
  private target: DiffTarget | undefined;
  /** how many times the target was replaced */
  restarts = 0;
  constructor(private readonly factory: () => Promise<DiffTarget>) {}

  async run(c: DiffCase): Promise<CaseResult> {
    if (!this.target) {
      const t = await this.factory();
      try {
        await bootHarness(t);
      } catch (e) {
        await t.close().catch(() => undefined);
        throw e;
      }
      this.target = t;
    }
    let r: CaseResult;
    try {
      r = await runCase(this.target, c);
    } catch (e) {
      await this.reset();
      throw e;
    }
    if (r.end === 'timeout' || r.end === 'shutdown' || r.end === 'lost') await this.reset();
    return r;
  }

  async reset(): Promise<void> {
    const t = this.target;
    this.target = undefined;
    if (t) {
      this.restarts++;
      await t.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const t = this.target;
    this.target = undefined;
    await t?.close().catch(() => undefined);
  }
}
