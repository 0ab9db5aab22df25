// Disk images for the drive tests, made at test time from sources in tests/guests/disk
// (nasm), and the runs of QEMU and bmbt-dbg on them with the same command line.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from './nasm.js';
import { QEMU_BINARY } from './qemu.js';
import { REPO, runCli } from './cli.js';

export const BIOS = '/usr/share/seabios/bios.bin';
export const haveBios = existsSync(BIOS) && existsSync('/usr/share/seabios/vgabios-stdvga.bin');

export function scratchDir(prefix: string): { dir: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The ata-probe hard disk (16 MiB): the program at LBA 0, LBA 100-131 a pattern
 * ((lba * 7 + offset) & 0xff) the probe reads and sums.
 */
export function ataProbeImage(): Uint8Array {
  const prog = assemble(readFileSync(join(REPO, 'tests/guests/disk/ata-probe.asm'), 'utf8'));
  const img = new Uint8Array(16 << 20);
  img.set(prog, 0);
  for (let s = 100; s < 132; s++) for (let i = 0; i < 512; i++) img[s * 512 + i] = (s * 7 + i) & 0xff;
  return img;
}

/**
 * The fd-probe floppy (1.44 MB): every byte of LBA n is (n * 3 + offset) & 0xff, the
 * program over the first sectors.
 */
export function fdProbeImage(): Uint8Array {
  const prog = assemble(readFileSync(join(REPO, 'tests/guests/disk/fd-probe.asm'), 'utf8'));
  const img = new Uint8Array(1474560);
  for (let n = 0; n < 2880; n++) for (let i = 0; i < 512; i++) img[n * 512 + i] = (n * 3 + i) & 0xff;
  img.set(prog, 0);
  return img;
}

export interface DriveRun {
  code: number | null;
  serial: string;
  stderr: string;
}

/** The board's devices on both sides: -nodefaults -vga std -nographic, COM1 to a file, isa-debug-exit at 0xF4. */
function boardArgs(serialPath: string, extra: string[]): string[] {
  return [
    '-nodefaults', '-vga', 'std', '-nographic', '-m', '128', '-monitor', 'none', '-serial', `file:${serialPath}`,
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', ...extra,
  ];
}

/** QEMU 7.2 with `extra` (the drives), until the guest exits or `timeoutMs`. */
export function runQemuDrives(dir: string, extra: string[], timeoutMs = 60_000): Promise<DriveRun> {
  const serialPath = join(dir, 'qemu.serial');
  writeFileSync(serialPath, '');
  return new Promise((resolve, reject) => {
    let stderr = '';
    const q = spawn(QEMU_BINARY, ['-bios', BIOS, ...boardArgs(serialPath, extra)], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    q.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const t = setTimeout(() => q.kill('SIGKILL'), timeoutMs);
    q.on('error', reject);
    q.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, serial: readFileSync(serialPath, 'latin1'), stderr });
    });
  });
}

/** bmbt-dbg with the same command line (paths in `extra` absolute: it runs in the repository). */
export async function runOursDrives(dir: string, extra: string[], timeoutMs = 120_000): Promise<DriveRun> {
  const serialPath = join(dir, 'ours.serial');
  writeFileSync(serialPath, '');
  const r = await runCli(boardArgs(serialPath, extra), { timeoutMs });
  return { code: r.code, serial: readFileSync(serialPath, 'latin1'), stderr: r.stderr };
}

/**
 * One image for each emulator (q.img for QEMU, b.img for bmbt-dbg, in `dir`), each run
 * in turn with `args(its image's path)`; the images are read back after the runs.
 */
export async function runBothOnImage(dir: string, img: Uint8Array, args: (image: string) => string[]): Promise<{ q: DriveRun; b: DriveRun; qImage: Buffer; bImage: Buffer }> {
  const [qPath, bPath] = [join(dir, 'q.img'), join(dir, 'b.img')];
  writeFileSync(qPath, img);
  writeFileSync(bPath, img);
  const q = await runQemuDrives(dir, args(qPath));
  const b = await runOursDrives(dir, args(bPath));
  return { q, b, qImage: readFileSync(qPath), bImage: readFileSync(bPath) };
}

let xorrisoOk: boolean | undefined;
/** xorriso (Debian package xorriso) makes the ISO images; grub-mkrescue needs it too. */
export function haveXorriso(): boolean {
  xorrisoOk ??= spawnSync('xorriso', ['-version'], { stdio: 'ignore' }).status === 0;
  return xorrisoOk;
}

/** Skip where xorriso is missing, except in CI (there it must fail). */
export function skipWithoutXorriso(): boolean {
  if (haveXorriso() || process.env['CI']) return false;
  console.warn('[xorriso] xorriso not found: CD-ROM tests are skipped (apt-get install xorriso)');
  return true;
}

/** An El Torito "no emulation" ISO whose boot image is cd-probe (4 x 512 bytes at 0x7C00), with a text file. */
export function cdProbeIso(dir: string): string {
  const root = join(dir, 'iso-root');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'boot.bin'), assemble(readFileSync(join(REPO, 'tests/guests/disk/cd-probe.asm'), 'utf8')));
  writeFileSync(join(root, 'readme.txt'), 'hello from the CD\n');
  const iso = join(dir, 'cd-probe.iso');
  const r = spawnSync('xorriso', ['-as', 'mkisofs', '-quiet', '-b', 'boot.bin', '-no-emul-boot', '-boot-load-size', '4', '-o', iso, root], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`xorriso failed: ${r.stderr}`);
  return iso;
}

const GRUB_DIR = '/usr/lib/grub/i386-pc';

/** Debian's GRUB for BIOS (grub-pc-bin: boot.img, the modules, grub-mkimage) and e2fsprogs' mke2fs. */
export function haveGrubTools(): boolean {
  return existsSync(join(GRUB_DIR, 'boot.img')) && existsSync(join(GRUB_DIR, 'normal.mod'))
    && spawnSync('grub-mkimage', ['--version'], { stdio: 'ignore' }).status === 0
    && spawnSync('mke2fs', ['-V'], { stdio: 'ignore' }).status === 0;
}

/**
 * A hard-disk image as grub-install would leave it, made without root: an MBR with
 * GRUB's boot.img and one Linux partition from LBA 2048 to the end, GRUB's core.img
 * (grub-mkimage: biosdisk, part_msdos, ext2, normal) in the gap after the MBR, and an
 * ext2 file system (mke2fs -d) holding /boot/grub (grub.cfg and GRUB's modules) and
 * `files`.
 */
export function grubDiskImage(dir: string, cfg: string, files: Record<string, Uint8Array | string>, sizeMiB = 64): string {
  const root = join(dir, 'fs-root');
  mkdirSync(join(root, 'boot', 'grub', 'i386-pc'), { recursive: true });
  writeFileSync(join(root, 'boot', 'grub', 'grub.cfg'), cfg);
  for (const f of readdirSync(GRUB_DIR)) {
    if (f.endsWith('.mod') || f.endsWith('.lst')) writeFileSync(join(root, 'boot', 'grub', 'i386-pc', f), readFileSync(join(GRUB_DIR, f)));
  }
  for (const [name, data] of Object.entries(files)) writeFileSync(join(root, name), data);
  const part = join(dir, 'part.img');
  const partSectors = sizeMiB * 2048 - 2048;
  const mk = spawnSync('mke2fs', ['-q', '-F', '-t', 'ext2', '-d', root, part, `${partSectors / 2}k`], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`mke2fs failed: ${mk.stderr}`);
  const core = join(dir, 'core.img');
  const gm = spawnSync('grub-mkimage', ['-O', 'i386-pc', '-o', core, '-p', '(hd0,msdos1)/boot/grub', 'biosdisk', 'part_msdos', 'ext2', 'normal'], { encoding: 'utf8' });
  if (gm.status !== 0) throw new Error(`grub-mkimage failed: ${gm.stderr}`);
  const coreBytes = readFileSync(core);
  if (coreBytes.length > 2047 * 512) throw new Error('core.img does not fit before the partition');
  const disk = new Uint8Array(sizeMiB << 20);
  disk.set(readFileSync(join(GRUB_DIR, 'boot.img')).subarray(0, 440), 0);
  // The partition entry: active, Linux, LBA 2048 on; CHS fields saturated (LBA only).
  disk.set([0x80, 0xfe, 0xff, 0xff, 0x83, 0xfe, 0xff, 0xff], 0x1be);
  new DataView(disk.buffer).setUint32(0x1be + 8, 2048, true);
  new DataView(disk.buffer).setUint32(0x1be + 12, partSectors, true);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  // core.img from LBA 1: its first sector (diskboot) already lists the rest (from LBA 2).
  disk.set(coreBytes, 512);
  disk.set(readFileSync(part), 2048 * 512);
  const out = join(dir, 'grub-disk.img');
  writeFileSync(out, disk);
  return out;
}
