// Differential tests: the same test guest runs on qemu-system-i386 (through its gdb stub)
// and on bmbt-dbg; after every case the general registers, EIP, EFLAGS (minus the flags
// the SDM leaves undefined), the exception taken and the memory the code touched must
// agree. Seeds are printed so a failure reproduces (CASE_SEED=n runs one case).
import { afterAll, describe, expect, it } from 'vitest';
import { CaseRunner, QemuDiffTarget } from '../support/diff-target.js';
import { BmbtDiffTarget } from '../support/bmbt-target.js';
import { skipWithoutQemu } from '../support/qemu.js';
import { generateCases, generateCase } from './generator.js';
import { edgeCases } from './edge-cases.js';
import { checkExpectation, diffCases, formatOutcome } from './compare.js';

const BASE_SEED = process.env.DIFF_SEED ? Number(process.env.DIFF_SEED) : (Date.now() % 1_000_000_007) >>> 0;
const COUNT = process.env.DIFF_COUNT ? Number(process.env.DIFF_COUNT) : 2500;

describe.skipIf(skipWithoutQemu())('CPU semantics against QEMU', () => {
  const qemu = new CaseRunner(() => QemuDiffTarget.start());
  const ours = new CaseRunner(() => BmbtDiffTarget.start());
  afterAll(async () => {
    await qemu.close();
    await ours.close();
  });

  it(`${COUNT} generated instruction sequences agree (DIFF_SEED=${BASE_SEED})`, async () => {
    console.log(`cpu-diff: base seed ${BASE_SEED} (DIFF_SEED=${BASE_SEED} reproduces; CASE_SEED=n runs one case)`);
    const cases = process.env.CASE_SEED ? [generateCase(Number(process.env.CASE_SEED))] : generateCases(BASE_SEED, COUNT);
    const bad = await diffCases(qemu, ours, cases);
    expect(bad.map((o) => formatOutcome(o, ['qemu', 'bmbt']))).toEqual([]);
  }, 600_000);

  it('hand-written edge cases agree with QEMU where QEMU follows the SDM', async () => {
    const cases = edgeCases().filter((c) => !c.qemuDiffers);
    const bad = await diffCases(qemu, ours, cases);
    expect(bad.map((o) => formatOutcome(o, ['qemu', 'bmbt']))).toEqual([]);
  }, 300_000);

  it('edge cases QEMU gets wrong match the SDM on bmbt-dbg', async () => {
    const problems: string[] = [];
    for (const c of edgeCases().filter((x) => x.qemuDiffers)) {
      const r = await ours.run(c);
      for (const p of checkExpectation(c, r)) problems.push(`${c.name}: ${p}`);
    }
    expect(problems).toEqual([]);
  }, 300_000);
});
