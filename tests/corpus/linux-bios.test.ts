// Linux through SeaBIOS: `bmbt-dbg --bios bios.bin --kernel vmlinuz --initrd ...` (fw_cfg
// and linuxboot_dma.bin, the kernel's real-mode setup run by the BIOS) against
// `qemu-system-i386 -bios bios.bin -kernel ...`. See linux-suite.ts.
import { defineLinuxCorpusTests } from './linux-suite.js';

defineLinuxCorpusTests('bios', 'Debian 686 Linux + busybox initramfs via SeaBIOS, against QEMU');
