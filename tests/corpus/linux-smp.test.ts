// Linux with several CPUs (issue 13): the Debian 686 kernel on bmbt-dbg -smp 2 and -smp 4,
// booted directly and through SeaBIOS, against QEMU with as many CPUs. The
// kernel brings the APs up (INIT/SIPI through the local APIC, the MADT from our ACPI
// tables) and /proc/cpuinfo lists every CPU, as QEMU's does, line for line apart from the
// clock-derived "cpu MHz" and "bogomips".
//
// QEMU runs without -icount here: QEMU 7.2 with -icount shift=0 and -smp 2 hangs at
// "smp: Bringing up secondary CPUs" (measured), so its timing lines are the host's.
//
// Long (a Linux boot): runs when CI=true or BMBT_FULL=1.
import { beforeAll, describe, expect, it } from 'vitest';
import { corpusOrReason, BOOT_OK, CORPUS_DONE } from './fetch.js';
import { bmbtLinuxArgs, CPU_MODEL, fullCorpusRun, qemuLinuxArgs, QEMU_BIN, runBoot, withConsoleFile, type BootResult } from './boot-run.js';

const MARKERS = ['Linux version', BOOT_OK, CORPUS_DONE, 'reboot: '] as const;

/** The corpus init's /proc/cpuinfo section, clock-derived values masked. */
function cpuinfo(out: string): string[] {
  const lines = out.replace(/\r/g, '').split('\n');
  const start = lines.indexOf('=== cpuinfo');
  const end = lines.findIndex((l, i) => i > start && l.startsWith('==='));
  return lines.slice(start + 1, end).map((l) => l.replace(/^(cpu MHz|bogomips)(\s*):.*$/, '$1$2: (clock)'));
}

const CASES: { n: number; path: 'direct' | 'bios' }[] = [{ n: 2, path: 'direct' }, { n: 2, path: 'bios' }, { n: 4, path: 'direct' }, { n: 4, path: 'bios' }];

for (const { n, path } of CASES) {
  describe.skipIf(!fullCorpusRun())(`Linux with -smp ${n} (${path === 'bios' ? 'through SeaBIOS' : 'booted directly'}) against QEMU`, () => {
    let qemu: BootResult;
    let ours: BootResult;

    beforeAll(async () => {
      const corpus = corpusOrReason();
      if (typeof corpus === 'string') throw new Error(`the corpus is missing: ${corpus} (npm run corpus)`);
      [qemu, ours] = await Promise.all([
        withConsoleFile((consoleFile) =>
          runBoot(QEMU_BIN, qemuLinuxArgs(corpus, path, { consoleFile, icount: false, smp: n }), { markers: MARKERS, timeoutMs: 180_000, consoleFile })),
        runBoot(process.execPath, bmbtLinuxArgs(corpus, path, CPU_MODEL, n), { markers: MARKERS, timeoutMs: 1_200_000 }),
      ]);
    }, 1_260_000);

    it('both boot to the end', () => {
      expect(Object.keys(qemu.markerMs), qemu.out.slice(-2000)).toEqual([...MARKERS]);
      expect(Object.keys(ours.markerMs), `${ours.err}\n${ours.out.slice(-2000)}`).toEqual([...MARKERS]);
      expect(ours.err).not.toMatch(/internal error|unimplemented/i);
    });

    it(`the kernel activates the ${n} CPUs on both`, () => {
      for (const r of [qemu, ours]) {
        expect(r.out).toMatch(new RegExp(`smp: Brought up 1 node, ${n} CPUs`));
        expect(r.out).toMatch(new RegExp(`smpboot: Total of ${n} processors activated`));
      }
    });

    it(`/proc/cpuinfo lists the ${n} CPUs, as QEMU's`, () => {
      const q = cpuinfo(qemu.out);
      const b = cpuinfo(ours.out);
      expect(q.filter((l) => /^processor\s*:/.test(l))).toEqual(Array.from({ length: n }, (_, i) => `processor\t: ${i}`));
      expect(b).toEqual(q);
    });
  });
}
