// Linux from a CD (issue 14): an ISO made in the test by Debian's grub-mkrescue
// (grub-pc-bin, xorriso) holds GRUB, the corpus's 686 kernel and an initramfs of our own
// (busybox, the kernel's libata/ata_piix/sr_mod/isofs modules from the corpus). SeaBIOS
// boots it by El Torito from -cdrom, GRUB loads Linux from the CD through SeaBIOS's
// ATAPI driver, and Linux's ata_piix and sr_mod drive the CD-ROM (PACKET commands, DMA
// through the PIIX3 bus master as under QEMU): it mounts /dev/sr0 and prints a file from
// it. QEMU boots the same ISO beside it; the lines the init script prints must be QEMU's.
//
// Long (a boot of bmbt-dbg takes minutes): runs when CI=true or BMBT_FULL=1.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskCorpus, diskInitramfs, GRUB_SERIAL_LINUX_CFG, INSMOD_DISK_MODULES } from './disk-initramfs.js';
import { fullCorpusRun } from './boot-run.js';
import { runOursDrives, runQemuDrives, scratchDir } from '../support/disk-images.js';

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
${INSMOD_DISK_MODULES}
sleep 1
grep -H . /sys/class/ata_device/dev2.0/xfer_mode
mkdir /cdrom
mount -t iso9660 -o ro /dev/sr0 /cdrom && echo mounted
echo "cd: $(cat /cdrom/hello.txt)"
echo "files: $(ls /cdrom | tr '\\n' ' ')"
umount /cdrom && echo unmounted
echo linux-cdrom-done
poweroff -f
`;

/** The lines the init script prints (Linux's own log differs in timing between the two). */
function initLines(serial: string): string[] {
  return serial.split(/\r?\n/).map((l) => l.trim()).filter((l) => /^(\/sys\/class|mounted|cd:|files:|unmounted|linux-cdrom-done|insmod)/.test(l));
}

const full = fullCorpusRun();
if (!full) console.warn('[corpus] Linux from a GRUB ISO: skipped (a boot takes minutes); BMBT_FULL=1 runs it, CI=true always does');

describe.skipIf(!full)('Linux from a grub-mkrescue ISO in -cdrom, reading the CD through ATAPI', () => {
  it('boots from the CD, mounts /dev/sr0 and prints a file from it, as under QEMU', async () => {
    const corpus = diskCorpus();
    if (!existsSync('/usr/lib/grub/i386-pc/cdboot.img')) throw new Error('grub-pc-bin is missing (apt-get install grub-pc-bin xorriso)');
    const initrd = diskInitramfs(corpus, INIT);
    const s = scratchDir('bmbt-linux-cd-');
    try {
      const root = join(s.dir, 'iso-root');
      mkdirSync(join(root, 'boot', 'grub'), { recursive: true });
      writeFileSync(join(root, 'boot', 'grub', 'grub.cfg'), GRUB_SERIAL_LINUX_CFG);
      writeFileSync(join(root, 'vmlinuz'), readFileSync(corpus.linux.vmlinuz));
      writeFileSync(join(root, 'initrd.gz'), initrd);
      writeFileSync(join(root, 'hello.txt'), 'hello from the ISO\n');
      const iso = join(s.dir, 'linux.iso');
      const r = spawnSync('grub-mkrescue', ['-o', iso, root], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const args = ['-cpu', 'pentium2', '-no-reboot', '-cdrom', iso, '-boot', 'd'];
      const [qr, br] = await Promise.all([runQemuDrives(s.dir, args, 300_000), runOursDrives(s.dir, args, 1_500_000)]);
      const qemu = initLines(qr.serial);
      expect(qemu, qr.serial.slice(-3000)).toEqual([
        '/sys/class/ata_device/dev2.0/xfer_mode:XFER_MW_DMA_2', 'mounted', 'cd: hello from the ISO',
        'files: boot boot.catalog hello.txt initrd.gz vmlinuz', 'unmounted', 'linux-cdrom-done',
      ]);
      expect(initLines(br.serial), br.serial.slice(-3000)).toEqual(qemu);
      expect(qr.code).toBe(0);
      expect(br.code).toBe(0);
    } finally {
      s.done();
    }
  }, 2_000_000);
});
