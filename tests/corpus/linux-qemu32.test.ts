// Linux on -cpu qemu32 (issue 15: MMX, SSE and SSE2): the Debian 686 kernel booted
// directly on bmbt-dbg and with -kernel on QEMU, both -cpu qemu32. /proc/cpuinfo lists
// mmx, sse, sse2 and pni (SSE3) on both, and the CPU lines of the boot log and
// /proc/cpuinfo are QEMU's.
//
// Long (a Linux boot): runs when CI=true or BMBT_FULL=1.
import { beforeAll, describe, expect, it } from 'vitest';
import { corpusOrReason, BOOT_OK, CORPUS_DONE } from './fetch.js';
import { bmbtLinuxArgs, fullCorpusRun, qemuLinuxArgs, QEMU_BIN, runBoot, withConsoleFile, type BootResult } from './boot-run.js';
import { categoryOf, diffLogs, formatDiffs, normaliseLinuxLog, type LineDiff } from './linux-compare.js';

const MARKERS = ['Linux version', BOOT_OK, CORPUS_DONE, 'reboot: '] as const;

function flags(out: string): string[] {
  return /^flags\s*:\s*(.*)$/m.exec(out.replace(/\r/g, ''))?.[1]!.trim().split(/\s+/) ?? [];
}

describe.skipIf(!fullCorpusRun())('Linux with -cpu qemu32 against QEMU', () => {
  let qemu: BootResult;
  let ours: BootResult;
  let diffs: LineDiff[];

  beforeAll(async () => {
    const corpus = corpusOrReason();
    if (typeof corpus === 'string') throw new Error(`the corpus is missing: ${corpus} (npm run corpus)`);
    [qemu, ours] = await Promise.all([
      withConsoleFile((consoleFile) =>
        runBoot(QEMU_BIN, qemuLinuxArgs(corpus, 'direct', { consoleFile, icount: true, cpu: 'qemu32' }), { markers: MARKERS, timeoutMs: 180_000, consoleFile })),
      runBoot(process.execPath, bmbtLinuxArgs(corpus, 'direct', 'qemu32'), { markers: MARKERS, timeoutMs: 900_000 }),
    ]);
    diffs = diffLogs(normaliseLinuxLog(qemu.out, 'direct'), normaliseLinuxLog(ours.out, 'direct'));
  }, 960_000);

  it('both boot to the end', () => {
    expect(Object.keys(qemu.markerMs)).toEqual([...MARKERS]);
    expect(Object.keys(ours.markerMs), ours.out.slice(-2000)).toEqual([...MARKERS]);
  });

  it('/proc/cpuinfo shows mmx sse sse2 pni on both, the same flags', () => {
    const q = flags(qemu.out);
    const b = flags(ours.out);
    for (const f of ['mmx', 'fxsr', 'sse', 'sse2', 'pni']) {
      expect(q).toContain(f);
      expect(b).toContain(f);
    }
    expect(b).toEqual(q);
  });

  it('the CPU lines of the boot log and /proc/cpuinfo are QEMU\'s', () => {
    const cpu = diffs.filter((d) => categoryOf(d.line) === 'CPU lines' || categoryOf(d.line) === '/proc/cpuinfo');
    expect(formatDiffs(cpu)).toBe('');
  });
});
