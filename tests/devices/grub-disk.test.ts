// A hard-disk image made with Debian's GRUB (grub-pc-bin: boot.img, grub-mkimage's
// core.img, the modules; an ext2 file system from mke2fs -d) boots through SeaBIOS to
// GRUB on QEMU and on bmbt-dbg. GRUB reads the partition through INT 13h (SeaBIOS's ATA
// driver on our IDE disk), lists and prints a file, and counts its boots in its
// environment block (save_env writes the disk): a second boot reads back what the first
// wrote, a boot under -snapshot changes nothing in the file, and both emulators leave the
// image byte for byte the same. The four boots take about two minutes: they run with
// BMBT_FULL=1 or in CI; one boot always runs.
import { describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipWithoutQemu } from '../support/qemu.js';
import { fullCorpusRun } from '../corpus/boot-run.js';
import { grubDiskImage, haveBios, haveGrubTools, runOursDrives, runQemuDrives, scratchDir } from '../support/disk-images.js';

const CFG = [
  'serial --unit=0 --speed=115200', 'terminal_input serial', 'terminal_output serial',
  'echo bmbt-grub-hd',
  'load_env',
  'echo "boots before: ${count}"',
  'if [ "${count}" = "" ]; then set count=one; elif [ "${count}" = "one" ]; then set count=two; else set count=many; fi',
  'save_env count',
  'ls',
  'ls (hd0,msdos1)/',
  'cat (hd0,msdos1)/hello.txt',
  'echo grub-done',
  'halt', '',
].join('\n');

/** GRUB's environment block: 1 KiB, a header and '#' padding (grub-editenv's format). */
function emptyEnv(): string {
  const head = '# GRUB Environment Block\n';
  return head + '#'.repeat(1024 - head.length);
}

/** GRUB's own lines, without SeaBIOS's serial console (which mirrors the screen at host-timed moments on QEMU). */
function grubLines(serial: string): string[] {
  const text = serial.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '\n');
  const start = text.indexOf('bmbt-grub-hd');
  const end = text.indexOf('grub-done');
  return text.slice(start, end + 'grub-done'.length).split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0 && !/^[.!]*$/.test(l) && !l.startsWith('Welcome to GRUB'));
}

describe.skipIf(skipWithoutQemu() || !haveBios || (!haveGrubTools() && !process.env['CI']))('a GRUB disk image on -hda', () => {
  it('boots to GRUB, which lists the disk and prints a file from it, as under QEMU', async () => {
    const s = scratchDir('bmbt-grub-');
    try {
      const img = grubDiskImage(s.dir, CFG, { 'hello.txt': 'hello from the disk\n', 'boot/grub/grubenv': emptyEnv() });
      const qr = await runQemuDrives(s.dir, ['-drive', `file=${img},format=raw,if=ide`, '-snapshot']);
      const br = await runOursDrives(s.dir, ['-drive', `file=${img},format=raw,if=ide`, '-snapshot'], 300_000);
      expect(grubLines(qr.serial)).toEqual(['bmbt-grub-hd', 'boots before:', '(hd0) (hd0,msdos1)', 'lost+found/ boot/ hello.txt', 'hello from the disk', 'grub-done']);
      expect(grubLines(br.serial)).toEqual(grubLines(qr.serial));
      expect([qr.code, br.code]).toEqual([0, 0]);
    } finally {
      s.done();
    }
  }, 400_000);

  it.skipIf(!fullCorpusRun())('boots to GRUB, which reads the disk and writes its environment; a second boot reads it; -snapshot changes nothing', async () => {
    const s = scratchDir('bmbt-grub-');
    try {
      const img = grubDiskImage(s.dir, CFG, { 'hello.txt': 'hello from the disk\n', 'boot/grub/grubenv': emptyEnv() });
      const q = join(s.dir, 'q.img');
      const b = join(s.dir, 'b.img');
      copyFileSync(img, q);
      copyFileSync(img, b);
      const boots: { qemu: string[]; ours: string[]; codes: (number | null)[] }[] = [];
      for (const extra of [[], [], ['-snapshot'], []]) {
        const qr = await runQemuDrives(s.dir, ['-drive', `file=${q},format=raw,if=ide`, ...extra]);
        const br = await runOursDrives(s.dir, ['-drive', `file=${b},format=raw,if=ide`, ...extra], 300_000);
        boots.push({ qemu: grubLines(qr.serial), ours: grubLines(br.serial), codes: [qr.code, br.code] });
      }
      const before = boots.map((x) => x.qemu.find((l) => l.startsWith('boots before:')));
      expect(before).toEqual(['boots before:', 'boots before: one', 'boots before: two', 'boots before: two']);
      expect(boots[0]!.qemu).toEqual(['bmbt-grub-hd', 'boots before:', '(hd0) (hd0,msdos1)', 'lost+found/ boot/ hello.txt', 'hello from the disk', 'grub-done']);
      for (const x of boots) {
        expect(x.ours).toEqual(x.qemu);
        expect(x.codes).toEqual([0, 0]);
      }
      expect(Buffer.compare(readFileSync(b), readFileSync(q))).toBe(0);
    } finally {
      s.done();
    }
  }, 900_000);
});
