// Proves the QEMU side of the differential tests works: the harness ELF matches its layout,
// QEMU boots it and runs cases through it, the hand-written edge cases give what the SDM
// says (except where QEMU is known to differ: those are reported, not asserted), generated
// cases end where they should and are reproducible run after run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseElf32, readElfBytes } from '../support/elf32.js';
import {
  HARNESS_DIR, HARNESS_ELF, HARNESS_LAYOUT_JSON, LAYOUT, SEGMENTS, SEL, decodeDescriptor, loadLayoutSymbols,
} from '../support/harness-layout.js';
import {
  CaseRunner, QemuDiffTarget, bootHarness, formatResult, runCase, type CaseResult, type DiffCase,
} from '../support/diff-target.js';
import { skipWithoutQemu } from '../support/qemu.js';
import { generateCases } from './generator.js';
import { edgeCases } from './edge-cases.js';
import { checkExpectation, compareResults, formatDifferences } from './compare.js';
import { RF } from './flags.js';

describe('diff-harness guest image', () => {
  const elf = parseElf32(readFileSync(HARNESS_ELF));

  it('is a Multiboot v1 ELF32 i386 kernel entered at harness_start', () => {
    expect(elf.eMachine).toBe(3);
    expect(elf.entry).toBe(LAYOUT.harnessStart);
    const text = elf.segments[0]!;
    const dv = new DataView(text.data.buffer, text.data.byteOffset, Math.min(8192, text.data.length));
    let found = -1;
    for (let o = 0; o + 12 <= dv.byteLength; o += 4) {
      if (dv.getUint32(o, true) === 0x1badb002 && ((dv.getUint32(o, true) + dv.getUint32(o + 4, true) + dv.getUint32(o + 8, true)) >>> 0) === 0) {
        found = o;
        break;
      }
    }
    expect(found).toBeGreaterThanOrEqual(0);
  });

  it('matches layout.json symbol for symbol', () => {
    const fromElf = new Map<string, number>();
    for (const s of elf.symbols) if (s.bind === 1 && s.shndx !== 0) fromElf.set(s.name, s.value);
    const layout = loadLayoutSymbols(HARNESS_LAYOUT_JSON);
    expect(Object.fromEntries(fromElf)).toEqual(layout);
  });

  it('has the GDT that SEGMENTS describes', () => {
    for (const s of SEGMENTS) {
      const d = decodeDescriptor(readElfBytes(elf, LAYOUT.gdt + (s.selector & 0xfff8), 8));
      const want = { ...s } as Partial<typeof s>;
      delete want.name;
      delete want.selector;
      // the TSS base is filled in at run time
      expect({ ...d, base: s.name === 'TSS' ? s.base : d.base }, s.name).toEqual(want);
    }
    // null, SEGMENTS, then the scratch slots (zero)
    expect(SEL.SCRATCH).toBe((SEGMENTS.length + 1) * 8);
    expect(LAYOUT.gdtLimit).toBe((SEGMENTS.length + 1 + LAYOUT.scratchCount) * 8 - 1);
    expect([...readElfBytes(elf, LAYOUT.gdt + SEL.SCRATCH, LAYOUT.scratchCount * 8)].every((b) => b === 0)).toBe(true);
  });

  const tools = ['nasm', 'ld', 'nm', 'make'].every((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0);
  it.skipIf(!tools)('is what its sources build (make reproduces the committed ELF and layout.json)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'diff-harness-'));
    try {
      execFileSync('make', ['-s', '-C', HARNESS_DIR, `OUT=${dir}/h.elf`, `OBJ=${dir}/h.o`, `LAYOUT=${dir}/layout.json`], { stdio: 'pipe' });
      expect(Buffer.compare(readFileSync(`${dir}/h.elf`), readFileSync(HARNESS_ELF))).toBe(0);
      expect(readFileSync(`${dir}/layout.json`, 'utf8')).toBe(readFileSync(HARNESS_LAYOUT_JSON, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(skipWithoutQemu())('QEMU through the diff harness', () => {
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
    if (report.length) console.log(`QEMU self-check report:\n${report.join('\n')}`);
  });

  it('booted the harness: IDT gates, TSS and page tables are where the layout says', async () => {
    const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getUint32(o, true);
    const idt = await target.readMemory(LAYOUT.idt, 256 * 8);
    const gate = (v: number) => ({
      offset: ((idt[v * 8 + 6]! | (idt[v * 8 + 7]! << 8)) << 16 | idt[v * 8]! | (idt[v * 8 + 1]! << 8)) >>> 0,
      sel: idt[v * 8 + 2]! | (idt[v * 8 + 3]! << 8),
      attr: idt[v * 8 + 5]!,
    });
    expect(gate(14)).toEqual({ offset: LAYOUT.excStubs + 14 * LAYOUT.excStubSize, sel: SEL.CODE32, attr: 0x8e });
    expect(gate(3).attr).toBe(0xee);
    expect(gate(0x80)).toEqual({ offset: LAYOUT.int80Stub, sel: SEL.CODE32, attr: 0xee });
    expect(gate(0x81).offset).toBe(LAYOUT.symbols.case_entry_r0);
    expect(gate(0x55).attr).toBe(0);
    const tss = await target.readMemory(LAYOUT.tss, 104);
    expect(u32(tss, 4)).toBe(LAYOUT.kstackTop);
    expect(u32(tss, 8)).toBe(SEL.DATA32);
    const pt = await target.readMemory(LAYOUT.pageTable0 + (LAYOUT.faultArea >> 12) * 4, 24);
    expect([0, 1, 2, 3, 4, 5].map((i) => u32(pt, i * 4) & 0xfff)).toEqual([0x007, 0, 0x005, 0x003, 0x001, 0x007]);
    const regs = await target.readRegisters();
    expect(regs.cs).toBe(SEL.CODE32);
  });

  it('gives the SDM results for the hand-written edge cases (reporting where QEMU differs)', async () => {
    const cases = edgeCases();
    const failures: string[] = [];
    for (const c of cases) {
      const r = await runner.run(c);
      expect(['done', 'exception'], `${c.name}: ${formatResult(r)}`).toContain(r.end);
      const bad = checkExpectation(c, r);
      if (c.qemuDiffers) {
        report.push(`  ${c.name}: ${bad.length ? `QEMU differs as noted (${c.qemuDiffers}): ${bad.join('; ')}` : `QEMU now matches the SDM (note: ${c.qemuDiffers})`}`);
      } else if (bad.length) {
        failures.push(`${c.name}: ${bad.join('; ')}\n${formatResult(r)}\n${(c.listing ?? []).join('\n')}`);
      }
    }
    expect(failures).toEqual([]);
    expect(runner.restarts).toBe(0);
  });

  it('pushes RF = 0 in fault frames (the SDM says 1): compare with ignoreFrameRf', async () => {
    const c: DiffCase = { name: 'rf-probe', mode: 'flat32', code: Uint8Array.of(0x0f, 0x0b) };
    const r = await runCase(target, c);
    expect(r.exception?.vector).toBe(6);
    report.push(`  RF in the EFLAGS image of a #UD frame: ${r.exception!.eflags & RF ? 1 : 0} (SDM: 1 for faults)`);
  });

  it('runs generated cases to a sane end, the same way twice', async () => {
    const cases = generateCases(0xd1ff, 60);
    const first: CaseResult[] = [];
    for (const c of cases) first.push(await runCase(target, c));
    const problems: string[] = [];
    for (let i = cases.length - 1; i >= 0; i--) {
      const c = cases[i]!;
      const r = first[i]!;
      const why: string[] = [];
      if (r.end === 'done') {
        if (r.regs.esp !== c.expectEsp) why.push(`esp 0x${r.regs.esp.toString(16)}, generator expected 0x${c.expectEsp!.toString(16)}`);
        if (r.regs.eip !== LAYOUT.caseDone) why.push('not at case_done');
      } else if (r.end === 'exception') {
        const x = r.exception!;
        const starts = new Set((c.flagsIgnoreAt ?? []).map(([o]) => o));
        if (!starts.has(x.offset)) why.push(`exception ${x.vector} at +${x.offset}, not an instruction boundary of the case`);
      } else {
        why.push(`ended ${r.end} ${r.detail ?? ''}`);
      }
      // run again (in reverse order): same result
      const again = await runCase(target, c);
      const d = compareResults(c, r, again, { ignoreFrameRf: false });
      if (d.length) why.push(`second run differs:\n${formatDifferences(d)}`);
      if (why.length) problems.push(`${c.name} (CASE_SEED=${c.seed}): ${why.join('; ')}\n${formatResult(r)}\n${(c.listing ?? []).join('\n')}`);
    }
    expect(problems).toEqual([]);
  });

  it('reports a hung case as a timeout and a triple fault as a shutdown, and recovers', async () => {
    const hang: DiffCase = { name: 'hang', mode: 'flat32', code: Uint8Array.of(0xeb, 0xfe), timeoutMs: 300 };
    // ESP on a read-only page above a not-present one: the #PF frame cannot be pushed
    const sp = LAYOUT.faultArea + 0x2000;
    const triple: DiffCase = { name: 'triple-fault', mode: 'paging32', code: Uint8Array.of(0xbc, sp & 0xff, (sp >> 8) & 0xff, (sp >> 16) & 0xff, sp >>> 24, 0x50) };
    const ok: DiffCase = { name: 'after', mode: 'ring3', code: Uint8Array.of(0xb8, 1, 0, 0, 0) };
    const before = runner.restarts;
    expect((await runner.run(hang)).end).toBe('timeout');
    expect((await runner.run(ok)).regs.eax).toBe(1);
    expect((await runner.run(triple)).end).toBe('shutdown');
    expect((await runner.run(ok)).regs.eax).toBe(1);
    expect(runner.restarts - before).toBe(2);
  });

  it('runs generated cases fast enough for a CI diff test', async () => {
    const cases = generateCases(0x5eed5, 600);
    const t0 = performance.now();
    let bad = 0;
    for (const c of cases) {
      const r = await runCase(target, c);
      if (r.end !== 'done' && r.end !== 'exception') bad++;
    }
    const ms = performance.now() - t0;
    const perSecond = (cases.length / ms) * 1000;
    report.push(`  throughput: ${cases.length} generated cases in ${ms.toFixed(0)} ms = ${perSecond.toFixed(0)} cases/s (${(ms / cases.length).toFixed(2)} ms/case)`);
    expect(bad).toBe(0);
    expect(perSecond).toBeGreaterThan(50);
  });
});
