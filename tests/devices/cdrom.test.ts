// The ATAPI CD-ROM (-cdrom, the secondary master) and El Torito boot through SeaBIOS,
// measured against QEMU 7.2 with the same images: tests/guests/disk/cd-probe.asm is an
// El Torito "no emulation" boot image that reads the CD through INT 13h and then sends
// IDENTIFY (PACKET) DEVICE and PACKET commands to the drive itself (TEST UNIT READY,
// REQUEST SENSE, INQUIRY, READ CAPACITY, READ(10/12), MODE SENSE, GET CONFIGURATION,
// READ TOC, GET EVENT STATUS NOTIFICATION, errors): the serial output must be QEMU's.
// SeaBIOS's debug log with the CD must be QEMU's, and a GRUB rescue ISO made by
// Debian's grub-mkrescue (grub-pc-bin, xorriso) boots and reads the CD on both.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { MemoryBackend, TrackedImage } from '../../src/block/block-image.js';
import { QEMU_BINARY, skipWithoutQemu } from '../support/qemu.js';
import { skipWithoutNasm } from '../support/nasm.js';
import { expectSeabiosLogsEqual } from '../support/seabios-log.js';
import { BIOS, cdProbeIso, haveBios, runOursDrives, runQemuDrives, scratchDir, skipWithoutXorriso } from '../support/disk-images.js';

const KVMVAPIC = '/usr/share/qemu/kvmvapic.bin';
const VGABIOS = '/usr/share/seabios/vgabios-stdvga.bin';
const fromGuest = (serial: string, first: string) => serial.slice(serial.indexOf(first));
const haveGrub = existsSync('/usr/lib/grub/i386-pc/cdboot.img') && spawnSync('grub-mkrescue', ['--version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(skipWithoutQemu() || skipWithoutNasm() || skipWithoutXorriso() || !haveBios)('CD-ROM: cd-probe on QEMU and bmbt-dbg', () => {
  it('-cdrom, -boot d: the same INT 13h reads and ATAPI answers', async () => {
    const s = scratchDir('bmbt-cd-');
    try {
      const iso = cdProbeIso(s.dir);
      const q = await runQemuDrives(s.dir, ['-cdrom', iso, '-boot', 'd']);
      const b = await runOursDrives(s.dir, ['-cdrom', iso, '-boot', 'd']);
      expect(q.code).toBe(1);
      expect(q.serial).toContain('>12 58 01 58 02 0024 0580 0021');
      expect(b.code).toBe(1);
      expect(fromGuest(b.serial, 'cd-probe dl=')).toBe(fromGuest(q.serial, 'cd-probe dl='));
    } finally {
      s.done();
    }
  }, 180_000);

  it('-drive media=cdrom,index=3 (secondary slave) is found and booted the same way', async () => {
    const s = scratchDir('bmbt-cd-');
    try {
      const iso = cdProbeIso(s.dir);
      const args = ['-drive', `file=${iso},format=raw,if=ide,index=3,media=cdrom`, '-boot', 'order=d'];
      const q = await runQemuDrives(s.dir, args);
      const b = await runOursDrives(s.dir, args);
      // The probe talks to the secondary master, which is absent here: it sees what QEMU shows.
      expect(fromGuest(b.serial, 'cd-probe dl=')).toBe(fromGuest(q.serial, 'cd-probe dl='));
    } finally {
      s.done();
    }
  }, 180_000);
});

function seabiosLogQemu(dir: string, drive: string[]): Promise<string> {
  const logPath = join(dir, 'debug.log');
  return new Promise((resolve, reject) => {
    const q = spawn(QEMU_BINARY, [
      '-nodefaults', '-vga', 'std', '-bios', BIOS, '-nographic', '-m', '128', '-monitor', 'none', '-serial', 'null',
      '-chardev', `file,id=dbg,path=${logPath}`, '-device', 'isa-debugcon,iobase=0x402,chardev=dbg',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', ...drive,
    ], { stdio: 'ignore' });
    const t = setTimeout(() => q.kill('SIGKILL'), 60_000);
    q.on('error', reject);
    q.on('close', () => {
      clearTimeout(t);
      resolve(existsSync(logPath) ? readFileSync(logPath, 'latin1') : '');
    });
  });
}

describe.skipIf(skipWithoutQemu() || skipWithoutNasm() || skipWithoutXorriso() || !haveBios || !existsSync(KVMVAPIC))('SeaBIOS with a CD-ROM', () => {
  it('writes exactly QEMU\'s debug log up to the boot image', async () => {
    const s = scratchDir('bmbt-cd-');
    try {
      const iso = cdProbeIso(s.dir);
      const qemu = await seabiosLogQemu(s.dir, ['-cdrom', iso, '-boot', 'd']);
      let log = '';
      const machine = new PcMachine({
        memoryMiB: 128, bios: readFileSync(BIOS), vgaBios: readFileSync(VGABIOS), kvmvapicRom: readFileSync(KVMVAPIC),
        debugcon: (b) => (log += String.fromCharCode(b)), bootOrder: 'd',
        drives: [{ bus: 'ide', unit: 2, media: 'cdrom', image: new TrackedImage(new MemoryBackend(new Uint8Array(readFileSync(iso)), true)) }],
      });
      for (let i = 0; i < 2000 && !log.includes('Booting from 0000:7c00'); i++) machine.run(5_000_000);
      expect(qemu).toContain('DVD/CD [ata1-0: QEMU DVD-ROM ATAPI-4 DVD/CD]');
      const cd = expectSeabiosLogsEqual(log, qemu, (l) => l.startsWith('DVD/CD [') || l.includes('drive@1/disk@0'));
      expect(cd).toHaveLength(2);
    } finally {
      s.done();
    }
  }, 180_000);
});

describe.skipIf(skipWithoutQemu() || skipWithoutXorriso() || !haveBios || (!haveGrub && !process.env['CI']))('a GRUB rescue ISO (grub-mkrescue) from -cdrom', () => {
  it('boots to GRUB, which lists and reads the CD, then powers off, as under QEMU', async () => {
    const s = scratchDir('bmbt-cd-');
    try {
      const root = join(s.dir, 'grub-root');
      mkdirSync(join(root, 'boot', 'grub'), { recursive: true });
      writeFileSync(join(root, 'boot', 'grub', 'grub.cfg'), [
        'serial --unit=0 --speed=115200', 'terminal_input serial', 'terminal_output serial',
        'echo bmbt-grub-cd', 'ls', 'ls (cd)/', 'cat (cd)/hello.txt', 'echo grub-done', 'halt', '',
      ].join('\n'));
      writeFileSync(join(root, 'hello.txt'), 'hello from the ISO\n');
      const iso = join(s.dir, 'grub.iso');
      const r = spawnSync('grub-mkrescue', ['-o', iso, root], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const q = await runQemuDrives(s.dir, ['-cdrom', iso, '-boot', 'd']);
      const b = await runOursDrives(s.dir, ['-cdrom', iso, '-boot', 'd'], 300_000);
      // GRUB's own lines (SeaBIOS's serial console mirrors the screen in between, at
      // host-timed moments on QEMU: those bytes are not compared).
      const want = ['bmbt-grub-cd', '(cd) (cd,msdos1)', 'boot/ boot.catalog hello.txt', 'hello from the ISO', 'grub-done'];
      const lines = (out: string) => out.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '\n').split(/\r?\n/).map((l) => l.trim()).filter((l) => want.includes(l));
      expect(lines(q.serial)).toEqual(want);
      expect(lines(b.serial)).toEqual(want);
      expect(q.code).toBe(0);
      expect(b.code).toBe(0);
    } finally {
      s.done();
    }
  }, 400_000);
});
