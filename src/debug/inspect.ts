// Text views of the machine for debuggers (gdb `monitor`, the UI's command line): the
// registers with hidden segment state, the TB cache and one TB, IRQs, the TLB.
import type { RegisterSnapshot, SegmentState } from './registers.js';
import type { DebugTarget, TbCacheStats, TbDetailRecord, TlbRecord } from './target.js';
import { describeSegmentFlags } from '../cpu/segment.js';
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

export function formatTbStats(s: TbCacheStats): string {
  const hitRate = s.lookups + s.jmpCacheHits > 0 ? ((s.jmpCacheHits + s.hashHits) / (s.jmpCacheHits + s.lookups)) * 100 : 0;
  return [
    `TB cache: ${s.live} TBs (limit ${s.limit}), ${s.bytesCached} guest bytes cached; ${(s.liveBytes / 1048576).toFixed(1)} MiB held (limit ${(s.byteLimit / 1048576).toFixed(0)} MiB)`,
    `translated: ${s.translations} TBs, ${s.insnsTranslated} instructions, ${s.bytesTranslated} guest bytes`,
    `chained links: ${s.linksLive} live (${s.chainsMade} made); regions: ${s.inRegions} TBs in regions (${s.regionsBuilt} built, ${s.regionsDissolved} dissolved)`,
    `flushes: ${s.flushes}, invalidations: ${s.invalidations}`,
    `lookups: ${s.jmpCacheHits} jump-cache hits, ${s.lookups} hash lookups (${s.hashHits} hits); hit rate ${hitRate.toFixed(1)}%`,
    `TB executions (entries): ${s.executions}`,
    s.store === null
      ? 'persistent translation cache: off'
      : `persistent translation cache: ${s.storeHits} TBs taken from it, ${s.store.added} added; ${s.store.loaded} entries read from ${s.store.file}` +
        `${s.store.rejected !== null ? ` (the file there was refused: ${s.store.rejected})` : ''}`,
  ].join('\n') + '\n';
}

export function formatTb(tb: TbDetailRecord, opts: { source?: boolean } = {}): string {
  const out: string[] = [];
  out.push(`TB #${tb.id} pc=${hex8(tb.pc)} phys=${hex8(tb.phys)}${tb.phys2 >= 0 ? ` phys2=${hex8(tb.phys2)}` : ''} cs_base=${hex8(tb.csBase)} flags=${hex8(tb.flags)} cflags=${tb.cflags}`);
  out.push(`${tb.ninsns} instructions, ${tb.size} bytes, executed ${tb.execCount} times, translated at icount ${tb.translatedAt}${tb.fromStore ? ' (from the persistent translation cache)' : ''}${tb.valid ? '' : `, INVALID since icount ${tb.invalidatedAt} (${tb.invalidationReason})`}`);
  out.push(`region: ${tb.region ? `member ${tb.region.index} of ${tb.region.members}` : 'none'}`);
  const links = tb.links.out.map((d, i) => `  out[${i}] -> ${d ? `#${d.id} ${hex8(d.pc)}` : '(unlinked)'}`);
  out.push('links out:', ...links);
  out.push(`links in: ${tb.links.in.map((t) => `#${t.id} ${hex8(t.pc)}`).join(', ') || '(none)'}`);
  out.push('guest code:');
  for (const l of disassemble(Uint8Array.from(tb.bytes), tb.pc, tb.codeBits)) {
    out.push(`  ${hex8(l.addr)}  ${l.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(24)} ${l.text}`);
  }
  if (tb.history.length) {
    out.push('invalidation history at this address:');
    for (const h of tb.history.slice(-10)) out.push(`  #${h.id} at icount ${h.icount}: ${h.reason} (executed ${h.execCount} times)`);
  }
  if (opts.source !== false) {
    out.push('generated JavaScript:');
    out.push(tb.source);
  }
  return out.join('\n') + '\n';
}

/** TBs covering a linear address, newest first, with recent invalidated ones. */
export function formatTbAt(t: DebugTarget, addr: number): string {
  const live = t.tbs(addr >>> 0);
  if (live.length === 0) {
    const hist = t.invalidations().filter((r) => addr >= r.pc && addr < r.pc + 64);
    if (hist.length) {
      return `no live TB at ${hex8(addr)}; invalidated:\n` + hist.slice(-10).map((h) => `  #${h.id} pc=${hex8(h.pc)} at icount ${h.icount}: ${h.reason}`).join('\n') + '\n';
    }
    return `no TB covers ${hex8(addr)}\n`;
  }
  return live.map((s) => formatTb(t.tbDetail(s.id)!)).join('\n');
}

export function formatIrq(t: DebugTarget): string {
  const { pic: info, cpuIf, halted } = t.irq();
  const out: string[] = [];
  out.push(`INTR=${info.intr ? 1 : 0}  CPU IF=${cpuIf ? 1 : 0}  halted=${halted ? 1 : 0}`);
  const chip = (name: string, c: { irr: number; isr: number; imr: number; vectorBase: number }): string =>
    `${name}: IRR=${c.irr.toString(16).padStart(2, '0')} ISR=${c.isr.toString(16).padStart(2, '0')} IMR=${c.imr.toString(16).padStart(2, '0')} base=${c.vectorBase.toString(16).padStart(2, '0')}`;
  out.push(chip('master', info.master as never), chip('slave ', info.slave as never));
  out.push('line  level  masked  raised  delivered');
  info.lines.forEach((l, i) => {
    const li = l as unknown as { level: boolean; masked: boolean; raised: number; delivered: number };
    out.push(`IRQ${String(i).padEnd(3)} ${li.level ? 'high ' : 'low  '}  ${li.masked ? 'yes' : 'no '}     ${String(li.raised).padStart(6)}  ${String(li.delivered).padStart(9)}`);
  });
  out.push(`spurious: master ${info.spurious.master}, slave ${info.spurious.slave}`);
  const recent = t.events(['irq-deliver', 'exception'], 8);
  if (recent.length) {
    out.push('recent deliveries:');
    for (const e of recent) {
      if (e.kind === 'irq-deliver') out.push(`  icount ${e.icount}: vector 0x${e.vector.toString(16)} at eip ${hex8(e.eip)}`);
      else if (e.kind === 'exception') out.push(`  icount ${e.icount}: exception ${EXCEPTION_NAMES[e.vector] ?? e.vector}${e.errorCode >= 0 ? ` (error ${e.errorCode.toString(16)})` : ''} at eip ${hex8(e.eip)}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Page mappings merged into ranges, and the software TLB's counters (QEMU's `info mem`). */
export function formatTlb(tlb: TlbRecord): string {
  const out: string[] = [];
  if (!tlb.paging) {
    out.push('paging disabled: linear = physical' + (tlb.a20 ? '' : ' (A20 masked)'));
  } else {
    // Merge contiguous runs with the same attributes.
    let run: { lin: number; phys: number; size: number; w: boolean; u: boolean; g: boolean } | null = null;
    const flush = (): void => {
      if (run) out.push(`${hex8(run.lin)}-${hex8(run.lin + run.size)} -> ${hex8(run.phys)} ${run.u ? 'u' : '-'}${run.w ? 'w' : 'r'}${run.g ? 'g' : '-'}`);
    };
    for (const p of tlb.mappings) {
      if (run && run.lin + run.size === p.linear && run.phys + run.size === p.physical && run.w === p.writable && run.u === p.user && run.g === p.global) {
        run.size += p.size;
      } else {
        flush();
        run = { lin: p.linear, phys: p.physical, size: p.size, w: p.writable, u: p.user, g: p.global };
      }
    }
    flush();
    out.unshift(`paging on: CR3=${hex8(tlb.cr3)} CR4.PSE=${tlb.pse ? 1 : 0} CR4.PAE=${tlb.pae ? 1 : 0}; ${tlb.mappings.length} mapped pages`);
  }
  out.push(`software TLB: ${tlb.validEntries} valid entries, ${tlb.fills} fills, ${tlb.flushes} flushes`);
  return out.join('\n') + '\n';
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
