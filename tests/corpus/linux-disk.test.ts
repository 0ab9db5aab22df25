// Linux from a GRUB disk (issue 14): a hard-disk image made in the test with Debian's
// GRUB (grub-mkimage, boot.img, an ext2 file system from mke2fs -d) holds the corpus's
// 686 kernel and an initramfs of our own (busybox, the kernel's libata/ata_piix/sd_mod/
// ext4 modules from the corpus). SeaBIOS boots GRUB from the disk, GRUB loads Linux
// from it, and Linux's ata_piix drives the disk (multiword DMA 2 through the PIIX3 bus
// master, as under QEMU): it mounts the partition, reads a file, writes one and powers
// off; it also mounts the ISO in the CD-ROM drive (sr_mod over ATAPI, DMA) and reads a
// file from it. The second boot reads back what the first wrote; a third under
// -snapshot leaves the image file exactly as it was. QEMU runs the same images beside it.
//
// Long (each boot of bmbt-dbg takes minutes): runs when CI=true or BMBT_FULL=1.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskCorpus, diskInitramfs, GRUB_SERIAL_LINUX_CFG, INSMOD_DISK_MODULES } from './disk-initramfs.js';
import { fullCorpusRun } from './boot-run.js';
import { cdProbeIso, grubDiskImage, runOursDrives, runQemuDrives, scratchDir } from '../support/disk-images.js';

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
${INSMOD_DISK_MODULES}
sleep 1
grep -H . /sys/class/ata_device/dev1.0/xfer_mode
mount -t ext2 /dev/sda1 /mnt && echo mounted
echo "file: $(cat /mnt/hello.txt)"
echo "before: $(cat /mnt/note.txt 2>/dev/null)"
echo "written by linux $(cat /mnt/note.txt 2>/dev/null | wc -c)" > /mnt/note.txt
sync
umount /mnt && echo unmounted
mkdir /cdrom
mount -t iso9660 -o ro /dev/sr0 /cdrom && echo "cd: $(cat /cdrom/readme.txt)"
grep -H . /sys/class/ata_device/dev2.0/xfer_mode
echo linux-disk-done
poweroff -f
`;

/** The lines the init script prints (Linux's own log differs in timing between the two). */
function initLines(serial: string): string[] {
  return serial.split(/\r?\n/).map((l) => l.trim()).filter((l) => /^(\/sys\/class|mounted|file:|before:|unmounted|cd:|linux-disk-done|insmod)/.test(l));
}

const full = fullCorpusRun();
if (!full) console.warn('[corpus] Linux from a GRUB disk: skipped (each boot takes minutes); BMBT_FULL=1 runs it, CI=true always does');

describe.skipIf(!full)('Linux from a GRUB disk image, ata_piix reading and writing it', () => {
  it('boots, reads, writes; a second boot reads it back; -snapshot leaves the file as it was', async () => {
    const corpus = diskCorpus();
    const initrd = diskInitramfs(corpus, INIT, ['mnt']);
    const s = scratchDir('bmbt-linux-disk-');
    try {
      const img = grubDiskImage(s.dir, GRUB_SERIAL_LINUX_CFG, {
        'hello.txt': 'hello from the disk\n',
        vmlinuz: readFileSync(corpus.linux.vmlinuz),
        'initrd.gz': initrd,
      }, 96);
      const q = join(s.dir, 'q.img');
      const b = join(s.dir, 'b.img');
      copyFileSync(img, q);
      copyFileSync(img, b);
      const iso = cdProbeIso(s.dir);
      const args = (file: string, extra: string[]) => ['-cpu', 'pentium2', '-no-reboot', '-drive', `file=${file},format=raw,if=ide`, '-cdrom', iso, ...extra];
      const boot = async (extra: string[]) => {
        const [qr, br] = await Promise.all([runQemuDrives(s.dir, args(q, extra), 300_000), runOursDrives(s.dir, args(b, extra), 1_500_000)]);
        return { qemu: initLines(qr.serial), ours: initLines(br.serial) };
      };
      const first = await boot([]);
      expect(first.qemu).toEqual([
        '/sys/class/ata_device/dev1.0/xfer_mode:XFER_MW_DMA_2', 'mounted', 'file: hello from the disk',
        'before:', 'unmounted', 'cd: hello from the CD', '/sys/class/ata_device/dev2.0/xfer_mode:XFER_MW_DMA_2', 'linux-disk-done',
      ]);
      expect(first.ours).toEqual(first.qemu);
      const second = await boot([]);
      expect(second.ours.find((l) => l.startsWith('before:'))).toBe('before: written by linux 0');
      expect(second.ours).toEqual(second.qemu);
      const kept = readFileSync(b);
      const third = await boot(['-snapshot']);
      expect(third.ours.find((l) => l.startsWith('before:'))).toBe('before: written by linux 19');
      expect(third.ours).toEqual(third.qemu);
      expect(Buffer.compare(readFileSync(b), kept)).toBe(0);
    } finally {
      s.done();
    }
  }, 4_000_000);
});
