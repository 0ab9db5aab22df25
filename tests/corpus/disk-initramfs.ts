// What the Linux-from-a-drive corpus tests (linux-disk, linux-cdrom) build alike: the
// corpus with the kernel's disk modules, an initramfs of busybox, those modules and an
// init script, and a GRUB configuration that boots it on the serial console.
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { corpusOrReason, DISK_MODULES, type Corpus } from './fetch.js';
import { writeCpio, type CpioEntry } from './cpio.js';

/** GRUB on COM1 at 115200, loading /vmlinuz and /initrd.gz of its root. */
export const GRUB_SERIAL_LINUX_CFG = [
  'serial --unit=0 --speed=115200', 'terminal_input serial', 'terminal_output serial',
  'linux /vmlinuz console=ttyS0 nokaslr panic=-1', 'initrd /initrd.gz', 'boot', '',
].join('\n');

/** The corpus with its disk modules, or an error saying what `npm run corpus` must fetch. */
export function diskCorpus(): Corpus {
  const corpus = corpusOrReason();
  if (typeof corpus === 'string') throw new Error(`the corpus is missing: ${corpus} (npm run corpus)`);
  if ('missing' in corpus.diskModules) throw new Error(`the disk modules are missing: ${corpus.diskModules.missing} (npm run corpus)`);
  return corpus;
}

/** init.sh's lines that load the modules (from /mods), as the scripts start them. */
export const INSMOD_DISK_MODULES = `for m in ${DISK_MODULES.map((m) => m.split('/').pop()!.replace(/\.ko$/, '')).join(' ')}; do insmod /mods/$m.ko || echo "insmod $m failed"; done`;

/** A gzipped initramfs: busybox, the disk modules in /mods, `init`, and empty `dirs` (mount points). */
export function diskInitramfs(corpus: Corpus, init: string, dirs: string[] = []): Uint8Array {
  if ('missing' in corpus.diskModules) throw new Error(`the disk modules are missing: ${corpus.diskModules.missing}`);
  const modDir = corpus.diskModules.dir;
  const bbDir = readdirSync(corpus.dir).find((d) => d.startsWith('busybox-static-i386_'));
  if (!bbDir) throw new Error('busybox is missing from the corpus (npm run corpus)');
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', ...dirs, 'mods'].map((path): CpioEntry => ({ kind: 'dir', path })),
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: readFileSync(join(corpus.dir, bbDir, 'bin', 'busybox')), mode: 0o755 },
    ...DISK_MODULES.map((m): CpioEntry => ({ kind: 'file', path: `mods/${m.split('/').pop()}`, data: readFileSync(join(modDir, m)), mode: 0o644 })),
    { kind: 'file', path: 'init', data: new TextEncoder().encode(init), mode: 0o755 },
  ];
  return gzipSync(writeCpio(entries), { level: 6 });
}
