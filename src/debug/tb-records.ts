// Translation blocks as plain records (DebugTarget): what the inspector, the monitor and
// the dashboard show, without holding a live TB.
import type { TranslationBlock } from '../tb/translation-block.js';
import { CF_SINGLE } from '../tb/translation-block.js';
import { HF_CS32 } from '../cpu/cpu.js';
import type { InvalidationRecord, TbDetailRecord, TbSummary } from './target.js';

export function tbSummary(tb: TranslationBlock): TbSummary {
  return {
    id: tb.id, pc: tb.pc, phys: tb.phys, size: tb.size, ninsns: tb.ninsns, execCount: tb.execCount, translatedAt: tb.translatedAt,
    single: (tb.cflags & CF_SINGLE) !== 0, linksIn: tb.jmpIn.size, linksOut: (tb.jmpDest[0] ? 1 : 0) + (tb.jmpDest[1] ? 1 : 0),
    inRegion: tb.region !== null, valid: tb.valid,
  };
}

/** The CPUs of a TB's or region's `cpus` bits (bit 31, one CPU's, is not a CPU number). */
function cpuList(bits: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) if (bits & (1 << i)) out.push(i);
  return out;
}

export function tbDetailRecord(tb: TranslationBlock, history: readonly InvalidationRecord[]): TbDetailRecord {
  return {
    ...tbSummary(tb),
    csBase: tb.csBase, flags: tb.flags, cflags: tb.cflags, phys2: tb.phys2, codeBits: tb.flags & HF_CS32 ? 32 : 16,
    bytes: Array.from(tb.bytes), source: tb.source,
    links: { out: tb.jmpDest.map((d) => (d ? { id: d.id, pc: d.pc } : null)), in: [...tb.jmpIn].map((t) => ({ id: t.id, pc: t.pc })) },
    region: tb.region ? { index: tb.regionIndex, members: tb.region.members.length } : null,
    cpus: cpuList(tb.cpus), regionCpus: tb.region ? cpuList(tb.region.cpus) : [],
    invalidatedAt: tb.invalidatedAt, invalidationReason: tb.invalidationReason, fromStore: tb.fromStore,
    history: history.map((r) => ({ ...r })),
  };
}
