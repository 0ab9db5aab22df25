// QEMU's -d log (qemu_log_mask items) in QEMU 7.2's line layouts, so a log of a guest run
// here reads, and diffs, like the same guest's log under QEMU. Measured on
// qemu-system-i386 7.2 with tests/guests/qemu-log (see tests/qemu-log.test.ts); what we
// cannot reproduce (host pointers, QEMU's lazy-flags internals) is listed in
// docs/decisions.md.
//
// Nothing here costs anything while an item is off: each item installs its hook on the
// machine only when asked for, and the hooks sit on slow paths (exception delivery, TB
// translation, TB lookup, reset, unassigned memory), never in translated code.
import type { PcMachine } from '../machine/pc-machine.js';
import type { Cpu, InterruptTrace } from '../cpu/cpu.js';
import { HF_CS32 } from '../cpu/cpu.js';
import { SEG_LDTR, SEG_TR } from '../cpu/segment.js';
import type { TranslationBlock } from '../tb/translation-block.js';
import type { MachineEvent } from '../events/machine-events.js';
import { snapshotRegisters } from './registers.js';
import { disassembleAtt } from './disassembler.js';
import { UserError } from '../user-error.js';

export type LogItem = 'int' | 'cpu_reset' | 'guest_errors' | 'unimp' | 'in_asm' | 'exec' | 'cpu' | 'fpu' | 'nochain';

/** Our items, with QEMU's -d help text. */
const ITEMS: readonly [LogItem, string][] = [
  ['in_asm', 'show target assembly code for each compiled TB'],
  ['int', 'show interrupts/exceptions in short format'],
  ['exec', 'show trace before each executed TB (lots of logs)'],
  ['cpu', 'show CPU registers before entering a TB (lots of logs)'],
  ['fpu', "include FPU registers in the 'cpu' logging"],
  ['cpu_reset', 'show CPU state before CPU resets'],
  ['unimp', 'log unimplemented functionality'],
  ['guest_errors', 'log when the guest OS does something invalid (eg accessing a\nnon-existent register)'],
  ['nochain', 'do not chain compiled TBs so that "exec" and "cpu" show\ncomplete traces'],
];

/** QEMU items bmbt-dbg does not produce (host code and TCG ops do not exist here). */
const QEMU_ONLY = ['out_asm', 'op', 'op_opt', 'op_ind', 'mmu', 'pcall', 'page', 'strace', 'tid', 'plugin'];

export function logHelp(): string {
  return `Log items (comma separated):\n${ITEMS.map(([n, d]) => `${n.padEnd(15)} ${d}`).join('\n')}\n`;
}

/** `-d A,B,C`: the items, or a UserError naming the first one we do not have. */
export function parseLogItems(text: string): LogItem[] {
  const out: LogItem[] = [];
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    const it = ITEMS.find(([n]) => n === name);
    if (it) {
      if (!out.includes(it[0])) out.push(it[0]);
      continue;
    }
    if (QEMU_ONLY.includes(name) || name.startsWith('trace:')) throw new UserError(`-d ${name}: this QEMU log item is not supported by bmbt-dbg`);
    throw new UserError(`-d ${name}: unknown log item (-d help lists them)`);
  }
  return out;
}

const h2 = (v: number): string => (v & 0xff).toString(16).padStart(2, '0');
const h4 = (v: number): string => (v >>> 0).toString(16).padStart(4, '0');
const h8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

const SEG_NAMES = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'];
const SYS_TYPES = [
  'Reserved', 'TSS16-avl', 'LDT', 'TSS16-busy', 'CallGate16', 'TaskGate', 'IntGate16', 'TrapGate16',
  'Reserved', 'TSS32-avl', 'Reserved', 'TSS32-busy', 'CallGate32', 'Reserved', 'IntGate32', 'TrapGate32',
];
const DESC_P = 1 << 15;
const DESC_S = 1 << 12;
const DESC_CODE = 1 << 11;
const DESC_B = 1 << 22;
const DESC_G = 1 << 23;
const ARITH = 0x8d5; // O S Z A P C

/** One segment line of QEMU's register dump (cpu_x86_dump_seg_cache's layout). */
function segmentLine(cpu: Cpu, name: string, i: number): string {
  const flags = cpu.segFlags[i]! >>> 0;
  const limit = cpu.segLimit[i]! >>> 0;
  // QEMU keeps the descriptor's whole high dword, limit bits 19:16 included; we keep the
  // attributes and the expanded limit, from which those bits come back.
  const limitHigh = ((flags & DESC_G ? limit >>> 12 : limit) >>> 16) & 0xf;
  let s = `${name.padEnd(3)}=${h4(cpu.segSel[i]! & 0xffff)} ${h8(cpu.segBase[i]!)} ${h8(limit)} ${h8((flags & 0x00f0ff00) | (limitHigh << 16))}`;
  if (cpu.cr0 & 1 && flags & DESC_P) {
    s += ` DPL=${(flags >> 13) & 3} `;
    if (flags & DESC_S) {
      if (flags & DESC_CODE) s += `${flags & DESC_B ? 'CS32' : 'CS16'} [${flags & 0x400 ? 'C' : '-'}${flags & 0x200 ? 'R' : '-'}`;
      else s += `${flags & DESC_B ? 'DS  ' : 'DS16'} [${flags & 0x400 ? 'E' : '-'}${flags & 0x200 ? 'W' : '-'}`;
      s += `${flags & 0x100 ? 'A' : '-'}]`;
    } else s += SYS_TYPES[(flags >> 8) & 15];
  }
  return s;
}

/**
 * QEMU's register dump (x86_cpu_dump_state, 32-bit layout). `ccop`: the CCS/CCD/CCO line,
 * with the flags already computed (CCO=EFLAGS, CCS = the arithmetic flags, as QEMU shows
 * them after an exception); `fpu`: the x87, MXCSR and XMM lines; `eip` overrides EIP (a
 * software interrupt is logged at its own address while EIP is already past it).
 */
export function formatCpuState(cpu: Cpu, opts: { ccop?: boolean; fpu?: boolean; eip?: number } = {}): string {
  const r = cpu.regs;
  const efl = cpu.getEflags() >>> 0;
  const bit = (m: number, c: string): string => (efl & m ? c : '-');
  const lines = [
    `EAX=${h8(r[0]!)} EBX=${h8(r[3]!)} ECX=${h8(r[1]!)} EDX=${h8(r[2]!)}`,
    `ESI=${h8(r[6]!)} EDI=${h8(r[7]!)} EBP=${h8(r[5]!)} ESP=${h8(r[4]!)}`,
    `EIP=${h8(opts.eip ?? cpu.eip)} EFL=${h8(efl)} [${bit(0x400, 'D')}${bit(0x800, 'O')}${bit(0x80, 'S')}${bit(0x40, 'Z')}${bit(0x10, 'A')}${bit(4, 'P')}${bit(1, 'C')}]` +
      ` CPL=${cpu.cpl} II=${cpu.inhibitIrq ? 1 : 0} A20=${cpu.a20Enabled ? 1 : 0} SMM=0 HLT=${cpu.halted ? 1 : 0}`,
    ...SEG_NAMES.map((n, i) => segmentLine(cpu, n, i)),
    segmentLine(cpu, 'LDT', SEG_LDTR),
    segmentLine(cpu, 'TR', SEG_TR),
    `GDT=     ${h8(cpu.gdtBase)} ${h8(cpu.gdtLimit)}`,
    `IDT=     ${h8(cpu.idtBase)} ${h8(cpu.idtLimit)}`,
    `CR0=${h8(cpu.cr0)} CR2=${h8(cpu.cr2)} CR3=${h8(cpu.cr3)} CR4=${h8(cpu.cr4)}`,
    `DR0=${h8(cpu.dr[0]!)} DR1=${h8(cpu.dr[1]!)} DR2=${h8(cpu.dr[2]!)} DR3=${h8(cpu.dr[3]!)} `,
    `DR6=${h8(cpu.dr[6]!)} DR7=${h8(cpu.dr[7]!)}`,
  ];
  if (opts.ccop) lines.push(`CCS=${h8(efl & ARITH)} CCD=00000000 CCO=EFLAGS`);
  lines.push(`EFER=${h8(cpu.efer).padStart(16, '0')}`);
  if (opts.fpu) {
    const f = cpu.fpu;
    const snap = snapshotRegisters(cpu);
    lines.push(`FCW=${h4(f.fcw)} FSW=${h4(f.statusWord)} [ST=${f.top}] FTW=${h2(~f.empty)} MXCSR=${h8(snap.mxcsr)}`);
    for (let i = 0; i < 8; i += 2) {
      const reg = (k: number): string => `FPR${k}=${f.regs[k]!.sig.toString(16).padStart(16, '0')} ${h4(f.regs[k]!.se & 0xffff)}`;
      lines.push(`${reg(i)} ${reg(i + 1)}`);
    }
    const xmm = (k: number): string => {
      const b = snap.xmm[k]!;
      const q = (lo: number): string => Array.from({ length: 8 }, (_, j) => h2(b[lo + 7 - j]!)).join('');
      return `XMM${String(k).padStart(2, '0')}=${q(8)} ${q(0)}`;
    };
    for (let i = 0; i < 8; i += 2) lines.push(`${xmm(i)} ${xmm(i + 1)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** QEMU's -d in_asm block for one TB: a separator, "IN: ", the instructions, a blank line. */
export function formatInAsm(tb: TranslationBlock): string {
  const lines = ['----------------', 'IN: '];
  for (const l of disassembleAtt(tb.bytes, tb.pc, tb.flags & HF_CS32 ? 32 : 16)) {
    // capstone's layout: up to 8 bytes, padded, then "%-8s %s"; longer ones continue below.
    const first = l.bytes.slice(0, 8).map((b) => ` ${h2(b)}`).join('');
    lines.push(`0x${h8(l.addr)}: ${first}${' '.repeat(3 * Math.max(0, 8 - l.bytes.length))}  ${l.mnemonic.padEnd(8)} ${l.operands}`);
    for (let i = 8; i < l.bytes.length; i += 8) {
      lines.push(`0x${h8(l.addr + i)}: ${l.bytes.slice(i, i + 8).map((b) => ` ${h2(b)}`).join('')}`);
    }
  }
  return `${lines.join('\n')}\n\n`;
}

/** Instructions QEMU's decoder sends to its "unknown opcode" path (logged as ILLOPC). */
const ILLEGAL_MNEMONICS = new Set(['ud0', 'ud1', 'ud2']);

/**
 * The -d log of one machine. Lines go to `write` as QEMU would print them; the caller
 * buffers and flushes.
 */
export class QemuLog implements InterruptTrace {
  private readonly items: Set<LogItem>;
  /** QEMU's static counter of logged protected-mode deliveries. */
  private deliveries = 0;
  private readonly unimplementedSeen = new Set<number>();
  private readonly undo: (() => void)[] = [];

  constructor(private readonly machine: PcMachine, items: readonly LogItem[], private readonly write: (text: string) => void) {
    this.items = new Set(items);
    const m = machine;
    const on = (it: LogItem): boolean => this.items.has(it);
    if (on('int') || on('cpu_reset')) {
      m.cpu.intTrace = this;
      this.undo.push(() => (m.cpu.intTrace = null));
    }
    if (on('cpu_reset')) {
      m.onBeforeReset = () => this.write(`CPU Reset (CPU 0)\n${formatCpuState(m.cpu, { ccop: true, fpu: true })}`);
      this.undo.push(() => (m.onBeforeReset = null));
    }
    if (on('in_asm') || on('unimp')) {
      m.exec.onTbGenerated = (tb) => this.tbGenerated(tb);
      this.undo.push(() => (m.exec.onTbGenerated = null));
    }
    if (on('exec') || on('cpu')) {
      m.exec.onTbEnter = (tb) => this.tbEnter(tb);
      this.undo.push(() => (m.exec.onTbEnter = null));
    }
    if (on('nochain')) {
      m.exec.noChain = true;
      this.undo.push(() => (m.exec.noChain = false));
    }
    if (on('exec') || on('unimp') || on('int')) this.undo.push(m.events.subscribe((e) => this.event(e)));
    if (on('guest_errors')) {
      // QEMU's memory core rejects accesses where nothing is mapped (unassigned_mem_accepts).
      m.phys.onUnassigned = (pa, size, write) =>
        this.write(`Invalid ${write ? 'write' : 'read'} at addr 0x${(pa >>> 0).toString(16).toUpperCase()}, size ${size}, region '(null)', reason: rejected\n`);
      this.undo.push(() => (m.phys.onUnassigned = null));
    }
  }

  /** Remove every hook. */
  detach(): void {
    for (const u of this.undo.splice(0)) u();
  }

  // ---- InterruptTrace (int, cpu_reset) --------------------------------------------------

  exceptionRaised(old: number, vector: number): void {
    if (this.items.has('int')) this.write(`check_exception old: 0x${(old >>> 0).toString(16)} new 0x${vector.toString(16)}\n`);
  }

  tripleFault(): void {
    if (this.items.has('cpu_reset')) this.write('Triple fault\n');
  }

  hardwareInterrupt(vector: number): void {
    if (this.items.has('int')) this.write(`Servicing hardware INT=0x${h2(vector)}\n`);
  }

  deliver(vector: number, errorCode: number, software: boolean, eip: number): void {
    const cpu = this.machine.cpu;
    // QEMU logs deliveries in protected mode only (do_interrupt_all).
    if (!this.items.has('int') || !(cpu.cr0 & 1)) return;
    const cs = cpu.segSel[1]! & 0xffff;
    const tail = vector === 0x0e ? ` CR2=${h8(cpu.cr2)}` : ` env->regs[R_EAX]=${h8(cpu.regs[0]!)}`;
    this.write(
      `${String(this.deliveries++).padStart(6)}: v=${h2(vector)} e=${h4(errorCode)} i=${software ? 1 : 0} cpl=${cpu.cpl} ` +
      `IP=${h4(cs)}:${h8(eip)} pc=${h8(cpu.segBase[1]! + eip)} SP=${h4(cpu.segSel[2]! & 0xffff)}:${h8(cpu.regs[4]!)}${tail}\n` +
      formatCpuState(cpu, { ccop: true, eip }),
    );
  }

  // ---- translation and execution ----------------------------------------------------------

  private tbGenerated(tb: TranslationBlock): void {
    if (this.items.has('in_asm')) this.write(formatInAsm(tb));
    if (this.items.has('unimp')) {
      let off = 0;
      for (const i of tb.decoded) {
        if (i.invalid || ILLEGAL_MNEMONICS.has(i.mnem)) {
          const bytes = Array.from(tb.bytes.subarray(off, off + i.len), (b) => ` ${h2(b)}`).join('');
          this.write(`ILLOPC: ${h8(tb.csBase + i.eip)}:${bytes}\n`);
        }
        off += i.len;
      }
    }
  }

  private tbEnter(tb: TranslationBlock): void {
    if (this.items.has('exec')) {
      this.write(`Trace 0: 0x${tb.id.toString(16)} [${h8(tb.csBase)}/${h8(tb.pc)}/${h8(tb.flags)}/${h8(tb.cflags)}] \n`);
    }
    if (this.items.has('cpu')) this.write(formatCpuState(this.machine.cpu, { ccop: true, fpu: this.items.has('fpu') }));
  }

  private event(e: MachineEvent): void {
    if (e.kind === 'tb-chain' && this.items.has('exec')) {
      this.write(`Linking TBs 0x${e.fromId.toString(16)} index ${e.slot} -> 0x${e.toId.toString(16)}\n`);
    } else if (e.kind === 'exception-storm' && this.items.has('int')) {
      // Not a QEMU line (QEMU never charges deliveries to its clock): says why the count
      // moves from here on while no instruction retires (decisions.md 56).
      this.write(`bmbt-dbg: exception storm: vector 0x${h2(e.vector)} at EIP ${h8(e.eip)}, ${e.deliveries} deliveries with no instruction retired; each further one is charged to the instruction count\n`);
    } else if (e.kind === 'unimplemented' && this.items.has('unimp') && !this.unimplementedSeen.has(e.eip)) {
      // Instructions QEMU has and we do not: once per address (they are reported per execution).
      this.unimplementedSeen.add(e.eip);
      this.write(`bmbt-dbg: unimplemented instruction at ${h8(e.eip)}:${e.bytes.map((b) => ` ${h2(b)}`).join('')} (${e.what})\n`);
    }
  }
}
