// MMX/SSE/SSE2 against QEMU 7.2 (-cpu qemu32 on both): generated cases
// (tests/simd/simd-generator.ts) on the diff harness; the data window (the FXSAVE image of
// the final state: XMM0-7, MXCSR, MM0-7, the x87 tag word and TOP; and every store),
// the general registers and EFLAGS are compared exactly, except the FXSAVE fields QEMU
// 7.2 does not keep (FOP, FIP/FCS, FDP/FDS) and MXCSR.DE (QEMU never reports a denormal
// operand; decisions.md). Seeds are printed: SIMD_SEED=<base> reproduces a run,
// SIMD_CASE=<seed> runs one case, SIMD_COUNT=<n> sets how many (default 5000).
import { afterAll, describe, expect, it } from 'vitest';
import { CaseRunner, QemuDiffTarget, type CaseResult } from '../support/diff-target.js';
import { BmbtDiffTarget } from '../support/bmbt-target.js';
import { haveQemu } from '../support/qemu.js';
import { compareResults, formatOutcome, type DiffOutcome } from '../diff/compare.js';
import { generateSimdCase, generateSimdCases, type SimdCase } from './simd-generator.js';

const BASE_SEED = process.env.SIMD_SEED ? Number(process.env.SIMD_SEED) : (Date.now() % 1_000_000_007) >>> 0;
const COUNT = process.env.SIMD_COUNT ? Number(process.env.SIMD_COUNT) : 5000;

function normalise(c: SimdCase, r: CaseResult): CaseResult {
  const data = r.data.slice();
  data.fill(0, c.fxOut + 6, c.fxOut + 24);
  for (const at of [c.fxOut + 24, ...c.mxcsrStores]) data[at] = data[at]! & ~2;
  return { ...r, data };
}

describe.skipIf(!haveQemu())('MMX/SSE/SSE2 against QEMU', () => {
  const qemu = new CaseRunner(() => QemuDiffTarget.start({ cpu: 'qemu32' }));
  const ours = new CaseRunner(() => BmbtDiffTarget.start(undefined, 'qemu32'));
  afterAll(async () => {
    await qemu.close();
    await ours.close();
  });

  it(`${COUNT} generated SIMD sequences agree (SIMD_SEED=${BASE_SEED})`, async () => {
    console.log(`simd-diff: base seed ${BASE_SEED} (SIMD_SEED=${BASE_SEED} reproduces; SIMD_CASE=<seed> runs one case)`);
    const cases = process.env.SIMD_CASE ? [generateSimdCase(Number(process.env.SIMD_CASE))] : generateSimdCases(BASE_SEED, COUNT);
    const bad: DiffOutcome[] = [];
    const ends = new Map<string, number>();
    for (const c of cases) {
      const ra = normalise(c, await qemu.run(c));
      const rb = normalise(c, await ours.run(c));
      const end = ra.exception ? `#${ra.exception.vector}` : ra.end;
      ends.set(end, (ends.get(end) ?? 0) + 1);
      const differences = compareResults(c, ra, rb);
      if (differences.length) bad.push({ case: c, a: ra, b: rb, differences });
    }
    const insns = cases.reduce((n, c) => n + (c.listing?.length ?? 3) - 3, 0);
    console.log(`simd-diff: ${cases.length} cases, ${insns} SIMD instructions, ends ${[...ends].map(([k, n]) => `${k}: ${n}`).join(', ')}; ${bad.length} differ`);
    expect(bad.slice(0, 8).map((o) => formatOutcome(o, ['qemu', 'bmbt']))).toEqual([]);
  }, 1_800_000);
});
