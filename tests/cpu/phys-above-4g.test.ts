// Physical addresses at and above 4 GiB (issue 9): PSE-36 4 MiB pages and PAE pages put
// their frames there; they are unassigned memory on QEMU 7.2's pc machine (reads 0,
// writes dropped, the frame at the same address modulo 4 GiB untouched), with the
// accessed and dirty bits set as for any page. Run with -cpu pentium2 (36 physical
// address bits) on both emulators; the PSE-36 rule without CPUID.PSE36 (qemu32) is a
// case of tests/diff/system-diff.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { CaseRunner, QemuDiffTarget } from '../support/diff-target.js';
import { BmbtDiffTarget } from '../support/bmbt-target.js';
import { HARNESS_ELF } from '../support/harness-layout.js';
import { skipWithoutQemu } from '../support/qemu.js';
import { physAbove4gCases } from '../diff/sys-edge-cases.js';
import { checkExpectation, diffCases, formatOutcome } from '../diff/compare.js';

describe('pages above 4 GiB under -cpu pentium2', () => {
  const ours = new CaseRunner(() => BmbtDiffTarget.start(HARNESS_ELF, 'pentium2'));
  const qemu = new CaseRunner(() => QemuDiffTarget.start({ cpu: 'pentium2' }));
  afterAll(async () => {
    await ours.close();
    await qemu.close();
  });

  it('bmbt-dbg reads 0, drops the write and sets A/D, as the cases expect', async () => {
    const bad: string[] = [];
    for (const c of physAbove4gCases()) bad.push(...checkExpectation(c, await ours.run(c)).map((m) => `${c.name}: ${m}`));
    expect(bad).toEqual([]);
  }, 120_000);

  it.skipIf(skipWithoutQemu())('QEMU 7.2 does the same', async () => {
    const diffs = await diffCases(qemu, ours, physAbove4gCases());
    expect(diffs.map((o) => formatOutcome(o, ['qemu', 'bmbt']))).toEqual([]);
  }, 120_000);
});
