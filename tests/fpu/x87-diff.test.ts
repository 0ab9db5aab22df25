// x87 against QEMU: generated cases (tests/fpu/x87-generator.ts) run on qemu-system-i386
// (softfloat: exact extended precision) and on bmbt-dbg through the diff harness; loads,
// stores, status/control/tag words compared exactly, transcendental results within
// 2^-50 relative (tests/fpu/x87-compare.ts says what is masked and why). Seeds are printed:
// X87_SEED=<base> reproduces a run, X87_CASE=<seed> runs one case.
import { afterAll, describe, expect, it } from 'vitest';
import { CaseRunner, QemuDiffTarget } from '../support/diff-target.js';
import { BmbtDiffTarget } from '../support/bmbt-target.js';
import { skipWithoutQemu } from '../support/qemu.js';
import { formatOutcome, type DiffOutcome } from '../diff/compare.js';
import { generateX87Case, generateX87Cases, type X87Case } from './x87-generator.js';
import { compareX87 } from './x87-compare.js';

const BASE_SEED = process.env.X87_SEED ? Number(process.env.X87_SEED) : (Date.now() % 1_000_000_007) >>> 0;
const COUNT = process.env.X87_COUNT ? Number(process.env.X87_COUNT) : 2000;

describe.skipIf(skipWithoutQemu())('x87 against QEMU', () => {
  const qemu = new CaseRunner(() => QemuDiffTarget.start());
  const ours = new CaseRunner(() => BmbtDiffTarget.start());
  afterAll(async () => {
    await qemu.close();
    await ours.close();
  });

  it(`${COUNT} generated x87 cases agree (X87_SEED=${BASE_SEED})`, async () => {
    console.log(`x87-diff: base seed ${BASE_SEED} (X87_SEED=${BASE_SEED} reproduces; X87_CASE=<seed> runs one case)`);
    const cases: X87Case[] = process.env.X87_CASE ? [generateX87Case(Number(process.env.X87_CASE))] : generateX87Cases(BASE_SEED, COUNT);
    const bad: DiffOutcome[] = [];
    for (const c of cases) {
      const ra = await qemu.run(c);
      const rb = await ours.run(c);
      const differences = compareX87(c, ra, rb);
      if (differences.length) bad.push({ case: c, a: ra, b: rb, differences });
    }
    const kinds = new Map<string, number>();
    for (const c of cases) kinds.set(c.name.split('-')[1]!, (kinds.get(c.name.split('-')[1]!) ?? 0) + 1);
    console.log(`x87-diff: ${cases.length} cases (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}), ${bad.length} differ`);
    expect(bad.slice(0, 10).map((o) => formatOutcome(o, ['qemu', 'bmbt']))).toEqual([]);
  }, 300_000);
});
