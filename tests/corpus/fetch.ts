// The real-software corpus (issue 9): software nobody in this project wrote, taken from
// Debian packages, that the corpus tests and `npm run bench:linux` run on bmbt-dbg and on
// QEMU.
//
// - SeaBIOS (`seabios`) and QEMU's option ROMs (`qemu-system-data`: linuxboot_dma.bin)
//   and iPXE (`ipxe`: ipxe.lkrn) are used where the installed packages put them, the same
//   files QEMU itself loads;
// - the Debian 686 kernel (`linux-image-686:i386`, resolved to the image package it
//   depends on) and busybox (`busybox-static:i386`) are fetched with `apt-get download`
//   and unpacked with `dpkg-deb` into a cache outside the tree (BMBT_CORPUS_DIR, default
//   ~/.cache/bmbt-dbg/corpus), one directory per package version;
// - the initramfs is built here (cpio newc + gzip) from busybox and the /init below.
//
// Idempotent: a second run finds everything in the cache and runs no apt command that
// downloads. Needs the i386 architecture and an `apt-get update` (`.ci/run` does both).
//
//   node dist/tests/corpus/fetch.js      # or: npm run corpus
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { writeCpio, type CpioEntry } from './cpio.js';

export class CorpusError extends Error {}

export interface Corpus {
  dir: string;
  seabios: { bios: string; vgabios: string; version: string };
  /** QEMU's option ROMs (linuxboot_dma.bin), as BMBT_FIRMWARE_DIR / bmbt-dbg find them */
  optionRoms: { dir: string; version: string };
  linux: { vmlinuz: string; systemMap: string; config: string; package: string; version: string };
  initramfs: { path: string; busyboxVersion: string };
  ipxe: { lkrn: string; version: string };
  /**
   * The kernel's modules for disks and CD-ROMs (DISK_MODULES, from the same package), or
   * why they are missing: the drive tests load them from an initramfs of their own.
   */
  diskModules: { dir: string } | { missing: string };
}

/**
 * Modules (relative to lib/modules/VERSION) the drive tests' initramfs loads, in load
 * order: libata and ata_piix, the SCSI disk and CD-ROM drivers, ext4 (for ext2) and
 * isofs, with what each depends on (from their depends= in the 686 kernel).
 */
export const DISK_MODULES = [
  'kernel/drivers/scsi/scsi_common.ko', 'kernel/drivers/scsi/scsi_mod.ko', 'kernel/drivers/ata/libata.ko', 'kernel/drivers/ata/ata_piix.ko',
  'kernel/crypto/crct10dif_common.ko', 'kernel/lib/crc-t10dif.ko', 'kernel/lib/crc64.ko', 'kernel/lib/crc64-rocksoft.ko', 'kernel/block/t10-pi.ko',
  'kernel/drivers/scsi/sd_mod.ko', 'kernel/drivers/cdrom/cdrom.ko', 'kernel/drivers/scsi/sr_mod.ko',
  'kernel/lib/crc16.ko', 'kernel/fs/mbcache.ko', 'kernel/fs/jbd2/jbd2.ko', 'kernel/crypto/crc32c_generic.ko', 'kernel/fs/ext4/ext4.ko', 'kernel/fs/isofs/isofs.ko',
];

/** Markers the /init script prints (tests and the bench wait for them). */
export const BOOT_OK = 'BOOT-OK';
export const CORPUS_DONE = 'CORPUS-DONE';

/**
 * /init of the initramfs: a marker, what the kernel found (CPU, interrupts, I/O and
 * memory resources, PCI and PnP devices, clock source), each under a `=== name` header, and an
 * immediate power-off (`poweroff -f`: the reboot system call, no init to wait for).
 */
export const INIT_SCRIPT = `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo ${BOOT_OK}
echo "=== cpuinfo"
cat /proc/cpuinfo
echo "=== interrupts"
cat /proc/interrupts
echo "=== ioports"
cat /proc/ioports
echo "=== iomem"
cat /proc/iomem
echo "=== pci"
for d in /sys/bus/pci/devices/*; do
  [ -e "$d/vendor" ] && echo "\${d##*/} $(cat $d/vendor) $(cat $d/device) $(cat $d/class) irq $(cat $d/irq)"
done
echo "=== pnp"
for d in /sys/bus/pnp/devices/*; do
  [ -e "$d/id" ] && echo "\${d##*/} $(cat $d/id)"
done
echo "=== clocksource"
cat /sys/devices/system/clocksource/clocksource0/current_clocksource
cat /sys/devices/system/clocksource/clocksource0/available_clocksource
echo ${CORPUS_DONE}
poweroff -f
`;

/** Busybox applets /init uses, as symlinks in /bin. */
const APPLETS = ['sh', 'mount', 'cat', 'echo', 'poweroff', 'ls'];

/** Bumped when the initramfs layout changes without the script changing. */
const INITRAMFS_LAYOUT = 1;

export function corpusDir(): string {
  return process.env['BMBT_CORPUS_DIR'] ?? join(homedir(), '.cache', 'bmbt-dbg', 'corpus');
}

function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new CorpusError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new CorpusError(`${cmd} ${args.join(' ')} failed (status ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  return r.stdout;
}

/** The installed version of a Debian package, or null. */
function installedVersion(pkg: string): string | null {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', pkg], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const m = /^install ok installed (\S+)$/.exec(r.stdout.trim());
  return m ? m[1]! : null;
}

/** `apt-cache show` of the candidate version: its fields, or null when apt does not know it. */
function candidate(pkg: string): Record<string, string> | null {
  const r = spawnSync('apt-cache', ['show', '--no-all-versions', pkg], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) return null;
  const fields: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Za-z-]+): (.*)$/.exec(line);
    if (m) fields[m[1]!] = m[2]!;
  }
  return fields['Version'] ? fields : null;
}

/** File-name form of a package version (the epoch's ':' is not welcome in paths). */
function safe(version: string): string {
  return version.replace(/[^A-Za-z0-9.+~-]/g, '_');
}

function requireFile(path: string, pkg: string): string {
  if (!existsSync(path)) throw new CorpusError(`${path} not found: apt-get install ${pkg}`);
  return path;
}

function requireInstalled(pkg: string): string {
  const v = installedVersion(pkg);
  if (!v) throw new CorpusError(`package ${pkg} is not installed: apt-get install ${pkg}`);
  return v;
}

/**
 * Fetches `pkg=version` with apt-get download and unpacks the members matching `globs`
 * into `dest` (created atomically: a half-finished download never looks complete).
 */
function unpackDeb(pkg: string, version: string, globs: string[], dest: string): void {
  const work = mkdtempSync(join(corpusDir(), '.fetch-'));
  try {
    // apt's download sandbox user must be able to write here.
    chmodSync(work, 0o755);
    run('apt-get', ['download', '-q', `${pkg}=${version}`], work);
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new CorpusError(`apt-get download ${pkg}=${version} left no .deb`);
    const out = join(work, 'out');
    mkdirSync(out);
    run('sh', ['-c', 'deb="$1"; out="$2"; shift 2; dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$out" --wildcards "$@"', 'sh', join(work, deb), out, ...globs]);
    rmSync(dest, { recursive: true, force: true });
    renameSync(out, dest);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A package fetched into the cache: the candidate version when apt knows it (fetched if
 * not cached yet), else the newest version already cached (offline runs).
 */
function cachedPackage(pkg: string, prefix: string, globs: string[]): { dir: string; version: string } {
  const root = corpusDir();
  const cand = candidate(pkg);
  if (cand) {
    const dir = join(root, `${prefix}_${safe(cand['Version']!)}`);
    if (!existsSync(join(dir, '.complete'))) {
      unpackDeb(pkg, cand['Version']!, globs, dir);
      writeFileSync(join(dir, '.complete'), `${pkg} ${cand['Version']}\n`);
    }
    return { dir, version: cand['Version']! };
  }
  const have = existsSync(root) ? readdirSync(root).filter((d) => d.startsWith(`${prefix}_`) && existsSync(join(root, d, '.complete'))).sort() : [];
  const last = have[have.length - 1];
  if (last) return { dir: join(root, last), version: readFileSync(join(root, last, '.complete'), 'utf8').trim().split(' ')[1]! };
  throw new CorpusError(`apt does not know ${pkg}: dpkg --add-architecture i386 && apt-get update`);
}

/** The kernel image package linux-image-686:i386 stands for (e.g. linux-image-6.1.0-57-686:i386). */
function kernelPackage(): string | null {
  const meta = candidate('linux-image-686:i386');
  if (!meta) return null;
  const m = /\b(linux-image-[0-9][^\s,(]*-686)\b/.exec(meta['Depends'] ?? '');
  return m ? `${m[1]}:i386` : null;
}

function fetchLinux(): Corpus['linux'] {
  const root = corpusDir();
  const pkg = kernelPackage();
  let dir: string;
  let version: string;
  let name: string;
  if (pkg) {
    name = pkg.replace(/:i386$/, '');
    ({ dir, version } = cachedPackage(pkg, name, ['./boot/*']));
  } else {
    // Offline: the newest kernel already in the cache.
    const have = existsSync(root) ? readdirSync(root).filter((d) => /^linux-image-.*-686_/.test(d) && existsSync(join(root, d, '.complete'))).sort() : [];
    const last = have[have.length - 1];
    if (!last) throw new CorpusError('apt does not know linux-image-686:i386: dpkg --add-architecture i386 && apt-get update');
    dir = join(root, last);
    [name, version] = readFileSync(join(dir, '.complete'), 'utf8').trim().split(' ') as [string, string];
    name = name.replace(/:i386$/, '');
  }
  const boot = join(dir, 'boot');
  const find = (p: string): string => {
    const f = readdirSync(boot).find((x) => x.startsWith(p));
    if (!f) throw new CorpusError(`${boot}: no ${p}* in ${name}`);
    return join(boot, f);
  };
  return { vmlinuz: find('vmlinuz-'), systemMap: find('System.map-'), config: find('config-'), package: name, version };
}

/** The disk modules of the corpus kernel, unpacked from the same package into a directory of their own. */
function fetchDiskModules(linux: Corpus['linux']): Corpus['diskModules'] {
  try {
    const { dir } = cachedPackage(`${linux.package}:i386`, `${linux.package}-disk-modules`, DISK_MODULES.map((m) => `./lib/modules/*/${m}`));
    const mods = join(dir, 'lib', 'modules');
    const ver = readdirSync(mods)[0];
    if (!ver) throw new CorpusError(`${mods}: empty`);
    for (const m of DISK_MODULES) if (!existsSync(join(mods, ver, m))) throw new CorpusError(`${linux.package}: no ${m}`);
    return { dir: join(mods, ver) };
  } catch (e) {
    if (e instanceof CorpusError) return { missing: e.message };
    throw e;
  }
}

/** The initramfs: /init, busybox and its applet links, /dev/console for init's output. */
export function buildInitramfs(busybox: Uint8Array): Uint8Array {
  const entries: CpioEntry[] = [
    { kind: 'dir', path: 'bin' },
    { kind: 'dir', path: 'dev' },
    { kind: 'dir', path: 'proc' },
    { kind: 'dir', path: 'sys' },
    // Without it the kernel says "unable to open an initial console" and /init prints nothing.
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'chardev', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
    { kind: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    ...APPLETS.map((a): CpioEntry => ({ kind: 'symlink', path: `bin/${a}`, target: 'busybox' })),
    { kind: 'file', path: 'init', data: new TextEncoder().encode(INIT_SCRIPT), mode: 0o755 },
  ];
  // Level 9 and no header timestamp (node's gzip writes mtime 0): the same bytes every time.
  return gzipSync(writeCpio(entries), { level: 9 });
}

function fetchInitramfs(): Corpus['initramfs'] {
  const bb = cachedPackage('busybox-static:i386', 'busybox-static-i386', ['./bin/busybox']);
  const busybox = readFileSync(join(bb.dir, 'bin', 'busybox'));
  const key = createHash('sha256').update(`${INITRAMFS_LAYOUT}\n${bb.version}\n${INIT_SCRIPT}`).digest('hex').slice(0, 12);
  const path = join(corpusDir(), `initramfs-${key}.cpio.gz`);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, buildInitramfs(busybox));
    renameSync(tmp, path);
  }
  return { path, busyboxVersion: bb.version };
}

/** Builds (or finds) the whole corpus. Throws CorpusError with what to install. */
export function ensureCorpus(): Corpus {
  const dir = corpusDir();
  mkdirSync(dir, { recursive: true });
  const seabios = {
    bios: requireFile('/usr/share/seabios/bios.bin', 'seabios'),
    vgabios: requireFile('/usr/share/seabios/vgabios-stdvga.bin', 'seabios'),
    version: requireInstalled('seabios'),
  };
  const optionRoms = { dir: '/usr/share/qemu', version: requireInstalled('qemu-system-data') };
  requireFile(join(optionRoms.dir, 'linuxboot_dma.bin'), 'qemu-system-data');
  const ipxe = { lkrn: requireFile('/usr/lib/ipxe/ipxe.lkrn', 'ipxe'), version: requireInstalled('ipxe') };
  const linux = fetchLinux();
  const initramfs = fetchInitramfs();
  const diskModules = fetchDiskModules(linux);
  const corpus: Corpus = { dir, seabios, optionRoms, linux, initramfs, ipxe, diskModules };
  writeFileSync(join(dir, 'corpus.json'), JSON.stringify(corpus, null, 2) + '\n');
  return corpus;
}

/** For tests: the corpus, or why it is missing (the test then skips, or fails in CI). */
export function corpusOrReason(): Corpus | string {
  try {
    return ensureCorpus();
  } catch (e) {
    if (e instanceof CorpusError) return e.message;
    throw e;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const c = ensureCorpus();
    console.log(`corpus in ${c.dir}:`);
    console.log(`  SeaBIOS ${c.seabios.version}: ${c.seabios.bios}`);
    console.log(`  option ROMs (qemu-system-data ${c.optionRoms.version}): ${c.optionRoms.dir}`);
    console.log(`  ${c.linux.package} ${c.linux.version}: ${c.linux.vmlinuz}`);
    console.log(`  initramfs (busybox-static ${c.initramfs.busyboxVersion}): ${c.initramfs.path}`);
    console.log(`  iPXE ${c.ipxe.version}: ${c.ipxe.lkrn}`);
  } catch (e) {
    if (!(e instanceof CorpusError)) throw e;
    console.error(`corpus: ${e.message}`);
    process.exitCode = 2;
  }
}
