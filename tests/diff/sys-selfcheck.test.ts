// The QEMU side of the issue-5 differential tests: QEMU gives the SDM's answer for every
// hand-written system case not marked `qemuDiffers` (which checks the expectations as much as
// QEMU), the marked ones are measured and reported per category, and every generated family
// runs to a sane end the same way twice. The report lists QEMU 7.2's gaps as it finds them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseRunner, QemuDiffTarget, bootHarness, formatResult, runCase, type CaseResult } from '../support/diff-target.js';
import { skipWithoutQemu } from '../support/qemu.js';
import { LAYOUT } from '../support/harness-layout.js';
import { sysEdgeCaseGroups } from './sys-edge-cases.js';
import { SYS_FAMILIES, sysCaseSeed } from './sys-generator.js';
import { checkExpectation, compareResults, formatDifferences } from './compare.js';

describe.skipIf(skipWithoutQemu())('QEMU through the diff harness: system modes', () => {
  let target: QemuDiffTarget;
  let runner: CaseRunner;
  const report: string[] = [];

  beforeAll(async () => {
    target = await QemuDiffTarget.start();
    await bootHarness(target);
    runner = new CaseRunner(() => QemuDiffTarget.start());
  });
  afterAll(async () => {
    await target?.close();
    await runner?.close();
    if (report.length) console.log(`QEMU system self-check report:\n${report.join('\n')}`);
  });

  it('gives the SDM results for the hand-written system cases (measuring where QEMU differs)', async () => {
    const failures: string[] = [];
    for (const [category, cases] of Object.entries(sysEdgeCaseGroups())) {
      let follows = 0;
      const gaps: string[] = [];
      for (const c of cases) {
        const r = await runner.run(c);
        const bad = checkExpectation(c, r);
        if (c.qemuDiffers) {
          if (bad.length) gaps.push(`    ${c.name}: ${bad.join('; ')} (${c.qemuDiffers})`);
          else {
            follows++;
            gaps.push(`    ${c.name}: QEMU now matches the SDM (note: ${c.qemuDiffers})`);
          }
        } else if (bad.length) {
          failures.push(`${c.name}: ${bad.join('; ')}\n${formatResult(r)}\n${(c.listing ?? []).join('\n')}`);
        } else follows++;
      }
      report.push(`  ${category}: ${cases.length} cases, QEMU follows the SDM in ${follows}${gaps.length ? `; differs:\n${gaps.join('\n')}` : ''}`);
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it('runs every generated system family to a sane end, the same way twice', async () => {
    const problems: string[] = [];
    for (const [family, gen] of Object.entries(SYS_FAMILIES)) {
      const cases = Array.from({ length: 12 }, (_, i) => gen(sysCaseSeed(0x5e5, family, i)));
      const first: CaseResult[] = [];
      for (const c of cases) first.push(await runCase(target, c));
      const ends = new Map<string, number>();
      for (let i = cases.length - 1; i >= 0; i--) {
        const c = cases[i]!;
        const r = first[i]!;
        ends.set(r.end, (ends.get(r.end) ?? 0) + 1);
        if (r.end !== 'done' && r.end !== 'exception') problems.push(`${c.name}: ended ${r.end} ${r.detail ?? ''}`);
        const again = await runCase(target, c);
        const d = compareResults(c, r, again, { ignoreFrameRf: false });
        if (d.length) problems.push(`${c.name}: second run differs:\n${formatDifferences(d)}`);
      }
      report.push(`  ${family}: ${[...ends].map(([e, n]) => `${e} ${n}`).join(', ')}`);
    }
    expect(problems).toEqual([]);
  }, 300_000);

  it('returns from real mode through rm_done and the real-mode IVT with the registers saved', async () => {
    const r = await runCase(target, { name: 'rm-probe', mode: 'real', code: Uint8Array.of(0x66, 0xb8, 0x78, 0x56, 0x34, 0x12, 0xcc) });
    expect(r.end).toBe('exception');
    expect(r.exception).toMatchObject({ vector: 3, via: 'rm-ivt', cs: LAYOUT.rmCode >>> 4, eip: 7 });
    expect(r.regs.eax).toBe(0x12345678);
    const d = await runCase(target, { name: 'rm-done', mode: 'unreal', code: Uint8Array.of(0x66, 0xbb, 0x44, 0x33, 0x22, 0x11) });
    expect(d.end).toBe('done');
    expect(d.regs.ebx).toBe(0x11223344);
  });
});
