// Linux booted directly: `bmbt-dbg --kernel vmlinuz --initrd ...` (no firmware: the
// 32-bit boot protocol) against `qemu-system-i386 -kernel ...` (which still runs SeaBIOS
// first; the lines only firmware explains are normalised, see linux-compare.ts N7).
import { defineLinuxCorpusTests } from './linux-suite.js';

defineLinuxCorpusTests('direct', 'Debian 686 Linux + busybox initramfs booted directly, against QEMU -kernel');
