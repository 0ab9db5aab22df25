// Regions: the hot TBs of one page compiled into a single function that jumps between
// them itself (direct links and predicted indirect targets), so hot loops and call/return
// chains run without returning to the CPU loop between blocks. The TBs stay what they
// are (cached, inspected, invalidated one by one); invalidating any member dissolves the
// region and its members run on their own functions again.
import { compileGenerated } from './compile.js';
import { compiledBody } from './compiled-body.js';
import { RUNTIME_NAMES, type Runtime } from '../runtime.js';
import { generateBody } from './translator.js';
import type { Instr } from '../instr.js';
import type { Region, TranslationBlock } from '../../tb/translation-block.js';

/**
 * A region's size. V8 does not optimize functions past a bytecode size, and optimizes
 * big ones less well well before it: half of what this was (32 members, 28 KiB of source)
 * ran the Linux kernel's decompressor 20-25% faster and the whole direct boot 3-5% faster
 * (paired boots: 52.0 vs 54.6 s and 57.9 vs 60.3 s of CPU), the hot-loop benchmarks the
 * same; twice as much (64, 56 KiB) made the decompressor five times slower.
 */
export const REGION_MAX_MEMBERS = 16;
export const REGION_MAX_SOURCE = 14 * 1024;

export function buildRegion(members: TranslationBlock[], decoded: readonly (readonly Instr[])[], runtime: Runtime): Region {
  const byEip = new Map<number, number>();
  members.forEach((m, i) => byEip.set(m.eip, i));
  const ctx = { byEip, ninsns: members.map((m) => m.ninsns) };
  const cases: string[] = [];
  const eips: number[][] = [];
  members.forEach((m, i) => {
    const gen = generateBody(decoded[i]!, m.tail, m.flags, m.eip, m.csLimit, false, ctx);
    eips.push(gen.eips);
    cases.push(`case ${i}: { // tb ${m.id} at ${m.pc.toString(16)}\n${gen.body}\n}`);
  });
  const code = compiledBody(cases.join('\n'));
  const source = [
    // Compiled eagerly, as TBs are (translator.ts).
    `return (function region_${members[0]!.pc.toString(16)}(s) {`,
    'let ix$ = 0;',
    code.prologue,
    'try {',
    'for (;;) {',
    'switch (s) {',
    code.body,
    '}',
    '}',
    `} catch (e) { ${code.onFault} c.eip = EE[s][ix$]; c.icount += ix$; c.icountOff = 0; RG.last = s; throw e; }`,
    '});',
  ].join('\n');
  const region: { fn: (s: number) => number; members: TranslationBlock[]; last: number; source: string; cpus: number } = {
    fn: () => 0, members, last: 0, source, cpus: 0,
  };
  const factory = compileGenerated([...RUNTIME_NAMES, 'EE', 'M', 'RG'], source);
  region.fn = factory(...RUNTIME_NAMES.map((n) => runtime[n]), eips, members, region) as (s: number) => number;
  return region;
}

export function dissolveRegion(r: Region): void {
  for (const m of r.members) {
    if (m.region === r) {
      m.region = null;
      m.regionIndex = -1;
    }
  }
}
