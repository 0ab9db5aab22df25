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
  CTX, CTXF, ERROR_CODE_VECTORS, HARNESS_ELF, LAYOUT, SEL, segmentOf,
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

export type CaseMode = 'flat32' | 'paging32' | 'ring3' | 'code16';
export const CASE_MODES: readonly CaseMode[] = ['flat32', 'paging32', 'ring3', 'code16'];

export interface CaseSegments {
  cs: number;
  ss: number;
  ds: number;
  es: number;
  fs: number;
  gs: number;
}

/** Selectors, initial ESP and EIP and CR flags per mode. */
export function modeDefaults(mode: CaseMode): { segs: CaseSegments; esp: number; eip: number; flags: number } {
  switch (mode) {
    case 'flat32':
      return { segs: { cs: SEL.CODE32, ss: SEL.DATA32, ds: SEL.DATA32, es: SEL.DATA32, fs: SEL.DATA_WIN, gs: SEL.DATA32 }, esp: LAYOUT.caseEsp, eip: LAYOUT.codeArea, flags: CTXF.PSE };
    case 'paging32':
      return { segs: { cs: SEL.CODE32, ss: SEL.DATA32, ds: SEL.DATA32, es: SEL.DATA32, fs: SEL.DATA_WIN, gs: SEL.DATA32 }, esp: LAYOUT.caseEsp, eip: LAYOUT.codeArea, flags: CTXF.PAGING | CTXF.WP | CTXF.PSE };
    case 'ring3':
      return { segs: { cs: SEL.CODE32_R3, ss: SEL.DATA32_R3, ds: SEL.DATA32_R3, es: SEL.DATA32_R3, fs: SEL.DATA_WIN_R3, gs: SEL.DATA32_R3 }, esp: LAYOUT.caseEsp, eip: LAYOUT.codeArea, flags: CTXF.PAGING | CTXF.WP | CTXF.PSE };
    case 'code16':
      return { segs: { cs: SEL.CODE16_CASE, ss: SEL.STACK16, ds: SEL.DATA_WIN, es: SEL.DATA_WIN, fs: SEL.DATA32, gs: SEL.DATA_WIN }, esp: LAYOUT.caseEsp - LAYOUT.stackArea, eip: 0, flags: CTXF.PSE };
  }
}

export interface MemInit {
  addr: number;
  bytes: Uint8Array;
}

export interface DiffCase {
  name: string;
  seed?: number;
  mode: CaseMode;
  /** the case code; runCase appends the jump to case_done */
  code: Uint8Array;
  /** initial general registers (default 0; esp from the mode) */
  regs?: Partial<Record<GprName, number>>;
  /** initial EFLAGS (default 2); IF, TF, NT, VM are the harness's business */
  eflags?: number;
  /** selector overrides */
  segs?: Partial<CaseSegments>;
  /** CTXF_* (default from the mode) */
  ctxFlags?: number;
  /** initial bytes at the start of the data window (the rest of the window is zeroed) */
  data?: Uint8Array;
  /** data-area window compared after the run: [offset in DATA_AREA, length] (default [0, 4096]) */
  dataWindow?: [number, number];
  /** stack window compared after the run (linear; default initial ESP - 0x400 .. + 0x100) */
  stackWindow?: [number, number];
  /** more memory to write before the run (e.g. the fault area) */
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
  /** human-readable listing: one line per instruction */
  listing?: string[];
  /** for hand-written cases: what must happen (checked by the QEMU self-check) */
  expect?: CaseExpectation;
  /** QEMU is known to differ from the SDM on this case: do not use QEMU as its oracle */
  qemuDiffers?: string;
  timeoutMs?: number;
}

export interface CaseExpectation {
  /** 'done' (reached case_done) or an exception vector */
  end: 'done' | { vector: number; errorCode?: number; /** faulting EIP as an offset in the case code */ offset?: number; cr2?: number };
  regs?: Partial<Record<RegName, number>>;
  /** bits of EFLAGS that must equal `flags` (mask, value) */
  flags?: [number, number];
  /** bytes expected at linear addresses */
  memory?: Array<[number, number[]]>;
}

export interface CaseException {
  vector: number;
  errorCode?: number;
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
  detail?: string;
  /** ms this case took */
  ms: number;
}

const PAD = 0xcc; // stack fill: INT3 bytes, recognisable

/** Offset of the case code's first byte within CS (what EIP starts at). */
export function caseStart(c: Pick<DiffCase, 'mode' | 'segs'>): number {
  return modeDefaults(c.mode).eip;
}

/** The jump from the end of the case code to case_done, for the case's CS. */
export function epilogue(c: Pick<DiffCase, 'mode' | 'segs'>, codeLength: number): Uint8Array {
  const d = modeDefaults(c.mode);
  const cs = c.segs?.cs ?? d.segs.cs;
  const desc = segmentOf(cs);
  const start = d.eip;
  if (desc && desc.big && desc.base === 0) {
    const rel = (LAYOUT.caseDone - (LAYOUT.codeArea + codeLength + 5)) | 0;
    const b = new Uint8Array(5);
    b[0] = 0xe9;
    new DataView(b.buffer).setInt32(1, rel, true);
    return b;
  }
  // far jump to the flat code segment of the same privilege
  const target = (cs & 3) === 3 ? SEL.CODE32_R3 : SEL.CODE32;
  const b = new Uint8Array(desc && desc.big ? 7 : 8);
  const dv = new DataView(b.buffer);
  let i = 0;
  if (!desc || !desc.big) b[i++] = 0x66;
  b[i++] = 0xea;
  dv.setUint32(i, LAYOUT.caseDone, true);
  dv.setUint16(i + 4, target, true);
  void start;
  return b;
}

export function buildContext(c: DiffCase): Uint8Array {
  const d = modeDefaults(c.mode);
  const ctx = new Uint8Array(LAYOUT.ctxSize);
  const dv = new DataView(ctx.buffer);
  const put = (off: number, v: number) => dv.setUint32(off, v >>> 0, true);
  const r = c.regs ?? {};
  put(CTX.FLAGS, c.ctxFlags ?? d.flags);
  put(CTX.EAX, r.eax ?? 0);
  put(CTX.ECX, r.ecx ?? 0);
  put(CTX.EDX, r.edx ?? 0);
  put(CTX.EBX, r.ebx ?? 0);
  put(CTX.ESP, r.esp ?? d.esp);
  put(CTX.EBP, r.ebp ?? 0);
  put(CTX.ESI, r.esi ?? 0);
  put(CTX.EDI, r.edi ?? 0);
  put(CTX.EIP, d.eip);
  // IF, TF, NT, VM, RF, VIF, VIP off; bit 1 on
  put(CTX.EFLAGS, ((c.eflags ?? 2) & ~(0x200 | 0x100 | 0x4000 | 0x20000 | 0x10000 | 0x180000)) | 2);
  const s = { ...d.segs, ...(c.segs ?? {}) };
  put(CTX.CS, s.cs);
  put(CTX.SS, s.ss);
  put(CTX.DS, s.ds);
  put(CTX.ES, s.es);
  put(CTX.FS, s.fs);
  put(CTX.GS, s.gs);
  return ctx;
}

export function initialEsp(c: DiffCase): number {
  return (c.regs?.esp ?? modeDefaults(c.mode).esp) >>> 0;
}

/** Linear address of SS:ESP (16-bit SP when SS is not big). */
export function stackLinear(ss: number, esp: number): number {
  const d = segmentOf(ss);
  if (!d) return esp >>> 0;
  return (d.base + (d.big ? esp : esp & 0xffff)) >>> 0;
}

export function defaultStackWindow(c: DiffCase): [number, number] {
  const ss = c.segs?.ss ?? modeDefaults(c.mode).segs.ss;
  const top = stackLinear(ss, initialEsp(c));
  return [(top - 0x400) >>> 0, 0x500];
}

function u32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

/**
 * Runs one case: context block, code, data and stack windows, EIP = case_entry, continue
 * to case_done or exc_done; returns the final state. The target must be booted
 * (bootHarness) and stopped.
 */
export async function runCase(target: DiffTarget, c: DiffCase): Promise<CaseResult> {
  const t0 = performance.now();
  if (c.code.length + 16 > LAYOUT.codeSize) throw new Error(`${c.name}: code too long`);
  const tail = epilogue(c, c.code.length);
  const code = new Uint8Array(c.code.length + tail.length);
  code.set(c.code);
  code.set(tail, c.code.length);

  const [dOff, dLen] = c.dataWindow ?? [0, 0x1000];
  const dataAddr = (LAYOUT.dataArea + dOff) >>> 0;
  const data = new Uint8Array(dLen);
  if (c.data) data.set(c.data.subarray(0, dLen));
  const [stackAddr, stackLen] = c.stackWindow ?? defaultStackWindow(c);
  const stackInit = new Uint8Array(stackLen).fill(PAD);

  await target.writeMemory(LAYOUT.caseCtx, buildContext(c));
  await target.writeMemory(LAYOUT.codeArea, code);
  await target.writeMemory(dataAddr, data);
  await target.writeMemory(stackAddr, stackInit);
  for (const m of c.memory ?? []) await target.writeMemory(m.addr, m.bytes);
  await target.writeRegister('eip', LAYOUT.caseEntry);

  const stop = await target.continue({ timeoutMs: c.timeoutMs ?? 5000 });
  const regs = await target.readRegisters();
  const start = caseStart(c);
  let end: CaseResult['end'];
  let exception: CaseException | undefined;
  let detail = stop.detail;
  const final: Regs = { ...regs };
  if (stop.reason === 'timeout' || stop.reason === 'shutdown') {
    end = stop.reason;
  } else if (regs.eip === LAYOUT.caseDone) {
    end = 'done';
  } else if (regs.eip === LAYOUT.excDone) {
    end = 'exception';
    const frameAddr = stackLinear(regs.ss, regs.esp);
    const f = await target.readMemory(frameAddr, 28);
    const vector = u32(f, 0);
    const hasErr = ERROR_CODE_VECTORS.has(vector) && vector !== 0x80;
    const o = hasErr ? 8 : 4;
    const eip = u32(f, o);
    const cs = u32(f, o + 4) & 0xffff;
    const eflags = u32(f, o + 8);
    exception = { vector, eip, offset: (eip - start) | 0, cs, eflags };
    if (hasErr) exception.errorCode = u32(f, 4);
    if (vector === 14 && regs.cr2 !== undefined) exception.cr2 = regs.cr2;
    final.eip = eip;
    final.cs = cs;
    final.eflags = eflags;
    if ((cs & 3) !== (regs.cs & 3)) {
      // privilege change: the outer SS:ESP are in the frame
      final.esp = u32(f, o + 12);
      final.ss = u32(f, o + 16) & 0xffff;
    } else {
      const n = o + 12;
      const ssd = segmentOf(regs.ss);
      final.esp = ssd && !ssd.big ? ((regs.esp & 0xffff0000) | ((regs.esp + n) & 0xffff)) >>> 0 : (regs.esp + n) >>> 0;
    }
  } else {
    end = 'lost';
    detail = `stopped at 0x${regs.eip.toString(16)} (${stop.reason} ${stop.detail ?? ''})`;
  }
  // never leave TF/NT (or garbage) in EFLAGS for the next case's entry code
  if (regs.eflags & (0x100 | 0x4000 | 0x8 | 0x20 | 0x8000)) await target.writeRegister('eflags', 2);
  const dataOut = await target.readMemory(dataAddr, dLen);
  const stackOut = await target.readMemory(stackAddr, stackLen);
  const readBack: Uint8Array[] = [];
  for (const [a, n] of c.readBack ?? []) readBack.push(await target.readMemory(a, n));
  const result: CaseResult = {
    name: c.name, end, regs: final, data: dataOut, stack: stackOut, dataAddr, stackAddr, readBack,
    ms: performance.now() - t0,
  };
  if (exception) result.exception = exception;
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
    lines.push(`exception vector=${e.vector} error=${h(e.errorCode)} eip=${h(e.eip)} (+${e.offset}) cs=${h(e.cs)} eflags=${h(e.eflags)} cr2=${h(e.cr2)}`);
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
