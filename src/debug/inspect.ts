// Text views of the machine for debuggers (gdb `monitor`, the UI's command line): the
// registers with hidden segment state, the TB cache and one TB, IRQs, the TLB.
import type { PcMachine } from '../machine/pc-machine.js';
import type { TranslationBlock } from '../tb/translation-block.js';
import type { RegisterSnapshot, SegmentState } from './registers.js';
import { ccName } from '../cpu/lazy-flags.js';
import { describeSegmentFlags } from '../cpu/segment.js';
import { HF_CS32 } from '../cpu/cpu.js';
import { disassemble } from './disassembler.js';
import { EXCEPTION_NAMES } from '../cpu/cpu-exception.js';

export const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
export const hex4 = (v: number): string => (v & 0xffff).toString(16).padStart(4, '0');

export function eflagsString(f: number): string {
  const bits: [number, string][] = [
    [0x800, 'O'], [0x400, 'D'], [0x200, 'I'], [0x100, 'T'], [0x80, 'S'], [0x40, 'Z'], [0x10, 'A'], [0x4, 'P'], [0x1, 'C'],
  ];
  return bits.map(([m, c]) => (f & m ? c : '-')).join('');
}

function segLine(name: string, s: SegmentState): string {
  return `${name.padEnd(3)}=${hex4(s.sel)} ${hex8(s.base)} ${hex8(s.limit)} ${hex8(s.flags)} ${describeSegmentFlags(s.flags)}`;
}

/** QEMU-style `info registers`, with the hidden parts of the segment registers. */
export function formatRegisters(r: RegisterSnapshot, a20 = true): string {
  const g = r.gpr;
  const lines = [
    `EAX=${hex8(g[0]!)} EBX=${hex8(g[3]!)} ECX=${hex8(g[1]!)} EDX=${hex8(g[2]!)}`,
    `ESI=${hex8(g[6]!)} EDI=${hex8(g[7]!)} EBP=${hex8(g[5]!)} ESP=${hex8(g[4]!)}`,
    `EIP=${hex8(r.eip)} EFL=${hex8(r.eflags)} [${eflagsString(r.eflags)}] CPL=${r.cpl} IOPL=${(r.eflags >> 12) & 3} A20=${a20 ? 1 : 0} HLT=${r.halted ? 1 : 0}`,
    ...['ES', 'CS', 'SS', 'DS', 'FS', 'GS'].map((n, i) => segLine(n, r.seg[i]!)),
    segLine('LDT', r.ldtr),
    segLine('TR', r.tr),
    `GDT=     ${hex8(r.gdtr.base)} ${hex8(r.gdtr.limit)}`,
    `IDT=     ${hex8(r.idtr.base)} ${hex8(r.idtr.limit)}`,
    `CR0=${hex8(r.cr0)} CR2=${hex8(r.cr2)} CR3=${hex8(r.cr3)} CR4=${hex8(r.cr4)}`,
    `DR0=${hex8(r.dr[0]!)} DR1=${hex8(r.dr[1]!)} DR2=${hex8(r.dr[2]!)} DR3=${hex8(r.dr[3]!)}`,
    `DR6=${hex8(r.dr[6]!)} DR7=${hex8(r.dr[7]!)}`,
    `EFER=${hex8(r.efer)} icount=${r.icount}`,
  ];
  return lines.join('\n') + '\n';
}

export function formatTbStats(m: PcMachine): string {
  const tbs = m.exec.tbs;
  const s = tbs.stats;
  const all = tbs.all();
  const chained = all.reduce((n, t) => n + (t.jmpDest[0] ? 1 : 0) + (t.jmpDest[1] ? 1 : 0), 0);
  const execs = all.reduce((n, t) => n + t.execCount, 0);
  const inRegions = all.filter((t) => t.region !== null).length;
  const hitRate = s.lookups + s.jmpCacheHits > 0 ? ((s.jmpCacheHits + s.hashHits) / (s.jmpCacheHits + s.lookups)) * 100 : 0;
  return [
    `TB cache: ${tbs.size} TBs (limit ${tbs.maxTbs}), ${all.reduce((n, t) => n + t.size, 0)} guest bytes cached`,
    `translated: ${s.translations} TBs, ${s.insnsTranslated} instructions, ${s.bytesTranslated} guest bytes`,
    `chained links: ${chained} live (${s.chainsMade} made); regions: ${inRegions} TBs in regions (${s.regionsBuilt} built, ${s.regionsDissolved} dissolved)`,
    `flushes: ${s.flushes}, invalidations: ${s.invalidations}`,
    `lookups: ${s.jmpCacheHits} jump-cache hits, ${s.lookups} hash lookups (${s.hashHits} hits); hit rate ${hitRate.toFixed(1)}%`,
    `TB executions (entries): ${execs}`,
  ].join('\n') + '\n';
}

export function formatTb(m: PcMachine, tb: TranslationBlock, opts: { source?: boolean } = {}): string {
  const code32 = (tb.flags & HF_CS32) !== 0;
  const out: string[] = [];
  out.push(`TB #${tb.id} pc=${hex8(tb.pc)} phys=${hex8(tb.phys)}${tb.phys2 >= 0 ? ` phys2=${hex8(tb.phys2)}` : ''} cs_base=${hex8(tb.csBase)} flags=${hex8(tb.flags)} cflags=${tb.cflags}`);
  out.push(`${tb.ninsns} instructions, ${tb.size} bytes, executed ${tb.execCount} times, translated at icount ${tb.translatedAt}${tb.valid ? '' : `, INVALID since icount ${tb.invalidatedAt} (${tb.invalidationReason})`}`);
  out.push(`region: ${tb.region ? `member ${tb.regionIndex} of ${tb.region.members.length}` : 'none'}`);
  const links = tb.jmpDest.map((d, i) => `  out[${i}] -> ${d ? `#${d.id} ${hex8(d.pc)}` : '(unlinked)'}`);
  out.push('links out:', ...links);
  out.push(`links in: ${[...tb.jmpIn].map((t) => `#${t.id} ${hex8(t.pc)}`).join(', ') || '(none)'}`);
  out.push('guest code:');
  for (const l of disassemble(tb.bytes, tb.pc, code32 ? 32 : 16)) {
    out.push(`  ${hex8(l.addr)}  ${l.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(24)} ${l.text}`);
  }
  const hist = m.exec.tbs.invalidated.filter((r) => r.pc === tb.pc);
  if (hist.length) {
    out.push('invalidation history at this address:');
    for (const h of hist.slice(-10)) out.push(`  #${h.id} at icount ${h.icount}: ${h.reason} (executed ${h.execCount} times)`);
  }
  if (opts.source !== false) {
    out.push('generated JavaScript:');
    out.push(tb.source);
  }
  return out.join('\n') + '\n';
}

/** TBs covering a linear address, newest first, with recent invalidated ones. */
export function formatTbAt(m: PcMachine, addr: number): string {
  const live = m.exec.tbs.findByLinear(addr >>> 0);
  if (live.length === 0) {
    const hist = m.exec.tbs.invalidated.filter((r) => addr >= r.pc && addr < r.pc + 64);
    if (hist.length) {
      return `no live TB at ${hex8(addr)}; invalidated:\n` + hist.slice(-10).map((h) => `  #${h.id} pc=${hex8(h.pc)} at icount ${h.icount}: ${h.reason}`).join('\n') + '\n';
    }
    return `no TB covers ${hex8(addr)}\n`;
  }
  return live.map((tb) => formatTb(m, tb)).join('\n');
}

export function formatIrq(m: PcMachine): string {
  const info = m.pic.info();
  const out: string[] = [];
  out.push(`INTR=${info.intr ? 1 : 0}  CPU IF=${(m.cpu.eflags >> 9) & 1}  halted=${m.cpu.halted ? 1 : 0}`);
  const chip = (name: string, c: { irr: number; isr: number; imr: number; vectorBase: number }): string =>
    `${name}: IRR=${c.irr.toString(16).padStart(2, '0')} ISR=${c.isr.toString(16).padStart(2, '0')} IMR=${c.imr.toString(16).padStart(2, '0')} base=${c.vectorBase.toString(16).padStart(2, '0')}`;
  out.push(chip('master', info.master as never), chip('slave ', info.slave as never));
  out.push('line  level  masked  raised  delivered');
  info.lines.forEach((l, i) => {
    const li = l as unknown as { level: boolean; masked: boolean; raised: number; delivered: number };
    out.push(`IRQ${String(i).padEnd(3)} ${li.level ? 'high ' : 'low  '}  ${li.masked ? 'yes' : 'no '}     ${String(li.raised).padStart(6)}  ${String(li.delivered).padStart(9)}`);
  });
  out.push(`spurious: master ${info.spurious.master}, slave ${info.spurious.slave}`);
  const recent = m.events.recent(['irq-deliver', 'exception'], 8);
  if (recent.length) {
    out.push('recent deliveries:');
    for (const e of recent) {
      if (e.kind === 'irq-deliver') out.push(`  icount ${e.icount}: vector 0x${e.vector.toString(16)} at eip ${hex8(e.eip)}`);
      else if (e.kind === 'exception') out.push(`  icount ${e.icount}: exception ${EXCEPTION_NAMES[e.vector] ?? e.vector}${e.errorCode >= 0 ? ` (error ${e.errorCode.toString(16)})` : ''} at eip ${hex8(e.eip)}`);
    }
  }
  return out.join('\n') + '\n';
}

export function formatTlb(m: PcMachine): string {
  const cpu = m.cpu;
  const out: string[] = [];
  if (!(cpu.cr0 & 0x80000000)) {
    out.push('paging disabled: linear = physical' + (cpu.a20Enabled ? '' : ' (A20 masked)'));
  } else {
    const maps = cpu.mmu.mappings(100000);
    // Merge contiguous runs with the same attributes.
    let run: { lin: number; phys: number; size: number; w: boolean; u: boolean; g: boolean } | null = null;
    const flush = (): void => {
      if (run) out.push(`${hex8(run.lin)}-${hex8(run.lin + run.size)} -> ${hex8(run.phys)} ${run.u ? 'u' : '-'}${run.w ? 'w' : 'r'}${run.g ? 'g' : '-'}`);
    };
    for (const p of maps) {
      if (run && run.lin + run.size === p.linear && run.phys + run.size === p.physical && run.w === p.writable && run.u === p.user && run.g === p.global) {
        run.size += p.size;
      } else {
        flush();
        run = { lin: p.linear, phys: p.physical, size: p.size, w: p.writable, u: p.user, g: p.global };
      }
    }
    flush();
    out.unshift(`paging on: CR3=${hex8(cpu.cr3)} CR4.PSE=${(cpu.cr4 >> 4) & 1} CR4.PAE=${(cpu.cr4 >> 5) & 1}; ${maps.length} mapped pages`);
  }
  out.push(`software TLB: ${cpu.mmu.validEntries()} valid entries, ${cpu.mmu.fills} fills, ${cpu.mmu.flushes} flushes`);
  return out.join('\n') + '\n';
}

export function formatLazyFlags(m: PcMachine): string {
  const c = m.cpu;
  return `lazy flags: op=${ccName(c.ccOp)} dst=${hex8(c.ccDst)} src=${hex8(c.ccSrc)} aux=${hex8(c.ccAux)}\n`;
}

/** `xp /NFU ADDR` style dump of physical (or linear) memory. */
export function formatMemory(bytes: Uint8Array, addr: number, unit: 1 | 2 | 4 = 1): string {
  const out: string[] = [];
  const perLine = 16;
  for (let off = 0; off < bytes.length; off += perLine) {
    const chunk = bytes.subarray(off, Math.min(bytes.length, off + perLine));
    const vals: string[] = [];
    for (let i = 0; i + unit <= chunk.length; i += unit) {
      let v = 0;
      for (let b = unit - 1; b >= 0; b--) v = v * 256 + chunk[i + b]!;
      vals.push(v.toString(16).padStart(unit * 2, '0'));
    }
    out.push(`${hex8(addr + off)}: ${vals.join(' ')}`);
  }
  return out.join('\n') + '\n';
}
