// The Linux corpus case, shared by linux-bios.test.ts and linux-direct.test.ts: the
// Debian 686 kernel and the corpus initramfs boot once on bmbt-dbg and once on QEMU (at
// the same time), and several things are compared from the two logs: the markers, the
// exit status, and every line of the normalised serial log, reported by area
// (linux-compare.ts has the normalisation rules and the table of known gaps).
//
// Long (about two minutes on bmbt-dbg today): runs when CI=true or BMBT_FULL=1.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpusOrReason } from './fetch.js';
import { BOOT_OK, CORPUS_DONE } from './fetch.js';
import { bmbtLinuxArgs, fullCorpusRun, qemuLinuxArgs, QEMU_BIN, runBoot, withConsoleFile, type BootResult, type LinuxPath } from './boot-run.js';
import { CATEGORIES, categoryOf, classify, diffLogs, formatDiffs, KNOWN_GAPS, normaliseLinuxLog, type Classified } from './linux-compare.js';

/** In boot order; "reboot: " is followed by "Power down" or "System halted". */
export const LINUX_MARKERS = ['Linux version', 'Run /init as init process', BOOT_OK, CORPUS_DONE, 'reboot: '] as const;

/** A directory for the raw console logs of both sides (optional). */
const LOGS_ENV = 'BMBT_CORPUS_LOGS';

const QEMU_TIMEOUT_MS = 180_000;
/** bmbt-dbg boots in ~100-130 s alone today (issue 10); two boots share 2 cores in CI. */
const BMBT_TIMEOUT_MS = 900_000;

export function defineLinuxCorpusTests(path: LinuxPath, title: string): void {
  const full = fullCorpusRun();
  if (!full) {
    console.warn(`[corpus] ${title}: skipped (a Linux boot takes minutes); BMBT_FULL=1 runs it, CI=true always does`);
  }
  describe.skipIf(!full)(title, () => {
    let qemu: BootResult;
    let ours: BootResult;
    let result: Classified;

    beforeAll(async () => {
      const corpus = corpusOrReason();
      if (typeof corpus === 'string') throw new Error(`the corpus is missing: ${corpus} (npm run corpus; .ci/run installs what it needs)`);
      [qemu, ours] = await Promise.all([
        withConsoleFile((consoleFile) =>
          runBoot(QEMU_BIN, qemuLinuxArgs(corpus, path, { consoleFile, icount: true }), { markers: LINUX_MARKERS, timeoutMs: QEMU_TIMEOUT_MS, consoleFile })),
        runBoot(process.execPath, bmbtLinuxArgs(corpus, path), { markers: LINUX_MARKERS, timeoutMs: BMBT_TIMEOUT_MS }),
      ]);
      const logs = process.env[LOGS_ENV];
      if (logs) {
        // The raw consoles, to read a failure or to rework the known gaps without booting again.
        mkdirSync(logs, { recursive: true });
        writeFileSync(join(logs, `qemu-${path}.log`), qemu.out, 'latin1');
        writeFileSync(join(logs, `bmbt-${path}.log`), ours.out, 'latin1');
        writeFileSync(join(logs, `bmbt-${path}.err`), ours.err);
      }
      result = classify(diffLogs(normaliseLinuxLog(qemu.out, path), normaliseLinuxLog(ours.out, path)), path);
    }, BMBT_TIMEOUT_MS + 60_000);

    it('QEMU reaches every marker (the harness and the corpus work)', () => {
      expect(Object.keys(qemu.markerMs), qemu.out.slice(-2000)).toEqual([...LINUX_MARKERS]);
    });

    it('bmbt-dbg reaches every marker QEMU reaches, in the same order', () => {
      const order = (r: BootResult) => LINUX_MARKERS.filter((m) => m in r.markerMs).sort((a, b) => r.markerMs[a]! - r.markerMs[b]!);
      expect(order(ours), `${ours.err}\n${ours.out.slice(-2000)}`).toEqual(order(qemu));
    });

    it('ends with the same exit status as QEMU (0: the guest powered off or halted), without an emulator error', () => {
      expect(ours.timedOut).toBe(false);
      expect(ours.err).not.toMatch(/internal error|unimplemented/i);
      expect(ours.code).toBe(qemu.code);
    });

    for (const name of [...CATEGORIES.map((c) => c.name), 'rest of the log']) {
      it(`${name}: the same lines as QEMU (known gaps aside)`, () => {
        expect(formatDiffs(result.unexplained.filter((d) => categoryOf(d.line) === name))).toBe('');
      });
    }

    it('every known gap for this path still occurs (delete the entry when its fix lands)', () => {
      const stale = KNOWN_GAPS.filter((g) => g.paths.includes(path) && result.explained.get(g.id)!.length === 0).map((g) => g.id);
      expect(stale).toEqual([]);
    });
  });
}
