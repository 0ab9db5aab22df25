// MMX/SSE/SSE2 against QEMU 7.2 (-cpu qemu32 on both): generated cases
// (tests/simd/simd-generator.ts) on the diff harness; the data window (the FXSAVE image of
// the final state: XMM0-7, MXCSR, MM0-7, the x87 tag word and TOP; and every store),
// the general registers and EFLAGS are compared exactly, except the FXSAVE fields QEMU
// 7.2 does not keep (FOP, FIP/FCS, FDP/FDS) and MXCSR.DE (QEMU never reports a denormal
// operand; decisions.md). Seeds are printed: SIMD_SEED=<base> reproduces a run,
// SIMD_CASE=<seed> runs one case, SIMD_COUNT=<n> sets how many (default 5000).
// A second family unmasks exceptions (QEMU 7.2 never raises #XM): bmbt-dbg must fault
// where QEMU's step-by-step flags say, with QEMU's state before the instruction
// (SIMD_UNMASK_CASE, SIMD_UNMASK_COUNT, default 1000; see the generator).
import { afterAll, describe, expect, it } from 'vitest';
import { CaseRunner, QemuDiffTarget, type CaseResult } from '../support/diff-target.js';
import { BmbtDiffTarget } from '../support/bmbt-target.js';
import { skipWithoutQemu } from '../support/qemu.js';
import { compareResults, formatOutcome, type DiffOutcome } from '../diff/compare.js';
import {
  FAULT_IMAGE, FAULT_MARK, generateSimdCase, generateSimdCases, generateUnmaskCase, generateUnmaskCases, type SimdCase, type UnmaskCase,
} from './simd-generator.js';

const BASE_SEED = process.env.SIMD_SEED ? Number(process.env.SIMD_SEED) : (Date.now() % 1_000_000_007) >>> 0;
const COUNT = process.env.SIMD_COUNT ? Number(process.env.SIMD_COUNT) : 5000;
const UNMASK_COUNT = process.env.SIMD_UNMASK_COUNT ? Number(process.env.SIMD_UNMASK_COUNT) : 1000;
const SNAPS = 0x600;

const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const put32 = (b: Uint8Array, at: number, v: number): void => new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, true);

/** FXSAVE images: FOP, FIP/FCS, FDP/FDS (QEMU stores none) and MXCSR.DE (QEMU has none) cleared. */
function normaliseImage(data: Uint8Array, at: number): void {
  data.fill(0, at + 6, at + 24);
  data[at + 24] = data[at + 24]! & ~2;
}

/**
 * What bmbt-dbg must leave, from QEMU's step-by-step snapshots (see the generator): the
 * snapshots up to the first instruction that raises an unmasked exception, then the
 * handler's image (the state before it, with its flags) and mark (vector, EIP).
 */
function expectedUnmask(c: UnmaskCase, qemu: Uint8Array): { data: Uint8Array; faultAt: number } {
  const data = qemu.slice();
  const mx = (k: number) => u32(qemu, SNAPS + 0x200 * k + 24);
  const masks = (mx(0) >> 7) & 0x3f;
  for (let j = 1; j <= c.count; j++) {
    const n = mx(j) & ~mx(j - 1) & 0x3f;
    if (!(n & ~masks)) continue;
    data.fill(0, SNAPS + 0x200 * j, SNAPS + 0x200 * (c.count + 1));
    data.set(qemu.subarray(SNAPS + 0x200 * (j - 1), SNAPS + 0x200 * j), FAULT_IMAGE);
    put32(data, FAULT_IMAGE + 24, mx(j - 1) | (n & ~masks & 7 ? n & 7 : n));
    put32(data, FAULT_MARK, c.osxmmexcpt ? 19 : 6);
    put32(data, FAULT_MARK + 4, c.eips[j - 1]!);
    return { data, faultAt: j };
  }
  return { data, faultAt: 0 };
}

function normalise(c: SimdCase, r: CaseResult): CaseResult {
  const data = r.data.slice();
  data.fill(0, c.fxOut + 6, c.fxOut + 24);
  for (const at of [c.fxOut + 24, ...c.mxcsrStores]) data[at] = data[at]! & ~2;
  return { ...r, data };
}

describe.skipIf(skipWithoutQemu())('MMX/SSE/SSE2 against QEMU', () => {
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

  it(`${UNMASK_COUNT} sequences with unmasked exceptions: #XM (or #UD) where QEMU's flags say, with QEMU's state before it (SIMD_SEED=${BASE_SEED})`, async () => {
    const cases = process.env.SIMD_UNMASK_CASE ? [generateUnmaskCase(Number(process.env.SIMD_UNMASK_CASE))] : generateUnmaskCases(BASE_SEED, UNMASK_COUNT);
    const bad: DiffOutcome[] = [];
    let faults = 0;
    for (const c of cases) {
      const ra = await qemu.run(c);
      const rb = await ours.run(c);
      const { data, faultAt } = expectedUnmask(c, ra.data);
      if (faultAt) faults++;
      // below the stack pointer: the exception frame (its EIP is in the mark, compared)
      const want = { ...ra, data, stack: faultAt ? rb.stack : ra.stack };
      const got = { ...rb, data: rb.data.slice() };
      for (const r of [want, got]) {
        for (let k = 0; k <= 6; k++) normaliseImage(r.data, SNAPS + 0x200 * k);
        normaliseImage(r.data, FAULT_IMAGE);
      }
      const differences = compareResults(c, want, got);
      if (differences.length) bad.push({ case: c, a: want, b: got, differences });
    }
    console.log(`simd-diff: ${cases.length} unmasked-exception cases, ${faults} fault (#XM or #UD); ${bad.length} differ`);
    expect(faults).toBeGreaterThan(cases.length / 10);
    expect(bad.slice(0, 8).map((o) => formatOutcome(o, ['expected from qemu', 'bmbt']))).toEqual([]);
  }, 1_800_000);
});
