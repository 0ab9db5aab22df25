// -kernel with a BIOS, as QEMU does it: the kernel (and initrd, command line) go into
// fw_cfg items, and an option ROM from fw_cfg "genroms/" (QEMU's multiboot_dma.bin or
// linuxboot_dma.bin, from Debian's qemu-system-data) copies them into place and starts
// the kernel when the BIOS boots it (bootorder puts the ROM first).
import { UserError } from '../user-error.js';
import type { FwCfg } from '../devices/fw-cfg.js';
import { findMultibootHeader } from './multiboot.js';
import { isElf, parseElf32 } from './elf.js';
import { isBzImage, isLinuxImage, linuxNeedsSetupCode, linuxProtocol } from './linux.js';

/** Where QEMU's multiboot option ROM expects the e820 map and the multiboot info. */
const MB_E820_MAP = 0x9000;
const MB_INFO = MB_E820_MAP + 0x500;

export interface BiosKernelOptions {
  readonly kernelName: string;
  readonly kernel: Uint8Array;
  readonly cmdline: string;
  readonly initrds: readonly { name: string; data: Uint8Array }[];
  readonly ramSize: number;
  /** Option ROM images by file name (e.g. multiboot_dma.bin), from qemu-system-data. */
  readonly optionRom: (name: string) => Uint8Array;
}

const pageAlign = (v: number): number => Math.ceil(v / 4096) * 4096;

/**
 * A Linux image that only firmware can boot (its real-mode setup code must run; see
 * linuxNeedsSetupCode), recognised in QEMU's order: "HdrS" first, then multiboot.
 */
export function kernelNeedsFirmware(k: Uint8Array): boolean {
  if (isBzImage(k)) return linuxNeedsSetupCode(k);
  return !findMultibootHeader(k) && isLinuxImage(k);
}

/** Put a kernel into fw_cfg for the BIOS to boot through an option ROM. */
export function prepareBiosKernelBoot(fw: FwCfg, o: BiosKernelOptions): 'linux' | 'multiboot' {
  // QEMU's order: a "HdrS" header means Linux; else a multiboot header; else a Linux
  // zImage from before boot protocol 2.00 (a boot sector with the 55 AA signature).
  if (isBzImage(o.kernel) || (!findMultibootHeader(o.kernel) && isLinuxImage(o.kernel))) {
    prepareLinux(fw, o);
    return 'linux';
  }
  prepareMultiboot(fw, o);
  return 'multiboot';
}

/**
 * The multiboot hand-over contract of QEMU's option ROM: KERNEL_ADDR/ENTRY/SIZE/DATA hold
 * one image of the kernel's memory followed by module entries, command lines, the boot
 * loader's name and the modules; INITRD_ADDR/SIZE/DATA hold the multiboot information
 * structure, whose memory map the ROM fills from the BIOS's e820.
 */
function prepareMultiboot(fw: FwCfg, o: BiosKernelOptions): void {
  const h = findMultibootHeader(o.kernel);
  if (!h) throw new UserError(`${o.kernelName}: not a multiboot kernel or a Linux bzImage`);
  let loadAddr: number;
  let image: Uint8Array;
  let entry: number;
  if (h.flags & 0x10000) {
    const textOffset = h.offset - (h.headerAddr - h.loadAddr);
    if (textOffset < 0) throw new UserError(`${o.kernelName}: multiboot load address is after the header`);
    const loadSize = h.loadEndAddr ? h.loadEndAddr - h.loadAddr : o.kernel.length - textOffset;
    const total = h.bssEndAddr ? h.bssEndAddr - h.loadAddr : loadSize;
    image = new Uint8Array(total);
    image.set(o.kernel.subarray(textOffset, textOffset + loadSize));
    loadAddr = h.loadAddr;
    entry = h.entryAddr;
  } else {
    if (!isElf(o.kernel)) throw new UserError(`${o.kernelName}: multiboot image is not ELF and has no load addresses`);
    const elf = parseElf32(o.kernel, o.kernelName);
    if (elf.segments.length === 0) throw new UserError(`${o.kernelName}: no loadable segments`);
    const low = Math.min(...elf.segments.map((s) => s.paddr));
    const high = Math.max(...elf.segments.map((s) => s.paddr + s.memsz));
    image = new Uint8Array(high - low);
    for (const s of elf.segments) image.set(s.data, s.paddr - low);
    loadAddr = low;
    entry = elf.entry;
  }
  // Layout in the buffer: kernel, module entries, command lines, loader name, modules.
  const enc = new TextEncoder();
  const kernelPart = pageAlign(image.length);
  const modInfo = kernelPart;
  const cmdlines = [...o.initrds.map((m) => m.name), `${o.kernelName} ${o.cmdline}`];
  let cmdOff = modInfo + 16 * o.initrds.length;
  const cmdAddrs = cmdlines.map((c) => {
    const at = cmdOff;
    cmdOff += enc.encode(c).length + 1;
    return loadAddr + at;
  });
  const loaderOff = cmdOff;
  const loaderName = 'qemu';
  let size = pageAlign(loaderOff + loaderName.length + 1);
  const modOffsets: number[] = [];
  for (const m of o.initrds) {
    modOffsets.push(size);
    size = pageAlign(size + m.data.length);
  }
  if (loadAddr + size > o.ramSize) throw new UserError(`${o.kernelName}: the kernel and modules do not fit in RAM (-m)`);
  const buf = new Uint8Array(size);
  buf.set(image);
  const dv = new DataView(buf.buffer);
  o.initrds.forEach((m, i) => {
    buf.set(m.data, modOffsets[i]!);
    dv.setUint32(modInfo + 16 * i, loadAddr + modOffsets[i]!, true);
    dv.setUint32(modInfo + 16 * i + 4, loadAddr + modOffsets[i]! + m.data.length, true);
    dv.setUint32(modInfo + 16 * i + 8, cmdAddrs[i]!, true);
  });
  cmdlines.forEach((c, i) => buf.set(enc.encode(c), cmdAddrs[i]! - loadAddr));
  buf.set(enc.encode(loaderName), loaderOff);

  const mbi = new Uint8Array(88);
  const m = new DataView(mbi.buffer);
  m.setUint32(0, 0x1 | 0x2 | 0x4 | 0x8 | 0x40 | 0x200, true); // mem, boot dev, cmdline, mods, mmap, loader
  m.setUint32(12, 0x8000ffff, true);
  m.setUint32(16, cmdAddrs[cmdAddrs.length - 1]!, true);
  m.setUint32(20, o.initrds.length, true);
  m.setUint32(24, loadAddr + modInfo, true);
  m.setUint32(48, MB_E820_MAP, true);
  m.setUint32(64, loadAddr + loaderOff, true);

  fw.setKernelItems({ kernelAddr: loadAddr, kernelEntry: entry, kernel: buf, initrdAddr: MB_INFO, initrd: mbi });
  addOptionRom(fw, o, 'multiboot_dma.bin');
}

/**
 * Linux through linuxboot_dma.bin, with the layout QEMU's loader picks from the boot
 * protocol: a bzImage of protocol 2.02+ has its real-mode setup at 0x10000, the command
 * line at 0x20000 and the protected-mode kernel at 1 MiB; a protocol 2.00/2.01 bzImage
 * keeps setup and command line below 640 KiB (0x90000, 0x9A000 - its size); a zImage
 * (loadflags bit 0 clear, or no "HdrS" header at all: protocol 0) also loads its
 * protected-mode part low, at 0x10000. The header fields the protocol version allows are
 * filled as QEMU fills them (loader type, heap, command line old and new style, initrd).
 */
function prepareLinux(fw: FwCfg, o: BiosKernelOptions): void {
  const k = o.kernel;
  const dv = new DataView(k.buffer, k.byteOffset, k.byteLength);
  const protocol = linuxProtocol(k);
  const high = protocol >= 0x0200 && (k[0x211]! & 1) !== 0;
  const cmdlineSize = (new TextEncoder().encode(o.cmdline).length + 16) & ~15;
  let realAddr: number;
  let cmdlineAddr: number;
  let protAddr: number;
  if (!high) {
    realAddr = 0x90000;
    cmdlineAddr = 0x9a000 - cmdlineSize;
    protAddr = 0x10000;
  } else if (protocol < 0x0202) {
    realAddr = 0x90000;
    cmdlineAddr = 0x9a000 - cmdlineSize;
    protAddr = 0x100000;
  } else {
    realAddr = 0x10000;
    cmdlineAddr = 0x20000;
    protAddr = 0x100000;
  }
  const setupSize = ((k[0x1f1]! || 4) + 1) * 512;
  if (setupSize > k.length) throw new UserError(`${o.kernelName}: invalid Linux kernel header (setup larger than the file)`);
  const setup = k.slice(0, setupSize);
  const kernel = k.slice(setupSize);
  if (protAddr + kernel.length > (high ? o.ramSize : realAddr)) throw new UserError(`${o.kernelName}: the kernel does not fit in memory (-m)`);
  const sdv = new DataView(setup.buffer);
  if (protocol >= 0x0202) sdv.setUint32(0x228, cmdlineAddr, true);
  else {
    // The old command-line protocol: magic 0xA33F and the offset from the setup segment.
    sdv.setUint16(0x20, 0xa33f, true);
    sdv.setUint16(0x22, cmdlineAddr - realAddr, true);
  }
  if (protocol >= 0x0200) setup[0x210] = 0xb0; // type_of_loader: QEMU
  if (protocol >= 0x0201) {
    setup[0x211] = setup[0x211]! | 0x80; // CAN_USE_HEAP
    sdv.setUint16(0x224, cmdlineAddr - realAddr - 0x200, true); // heap_end_ptr
  }
  let initrd: Uint8Array | undefined;
  let initrdAddr: number | undefined;
  if (o.initrds.length > 1) throw new UserError('a Linux kernel takes one --initrd');
  if (o.initrds.length === 1) {
    if (protocol < 0x0200) throw new UserError(`${o.kernelName}: this Linux kernel is too old to load an initrd`);
    initrd = o.initrds[0]!.data;
    const max = protocol >= 0x0203 ? dv.getUint32(0x22c, true) : 0x37ffffff;
    // QEMU keeps the initrd below the ACPI data at the top of RAM.
    const top = Math.min(max, o.ramSize - 0x20000 - 1);
    initrdAddr = Math.floor((top - initrd.length) / 4096) * 4096;
    if (initrdAddr < protAddr + kernel.length) throw new UserError('initrd: does not fit in RAM above the kernel (-m)');
    sdv.setUint32(0x218, initrdAddr, true);
    sdv.setUint32(0x21c, initrd.length, true);
  }
  fw.setKernelItems({
    kernelAddr: protAddr, kernel, cmdlineAddr, cmdline: o.cmdline, setupAddr: realAddr, setup,
    ...(initrd ? { initrdAddr, initrd } : {}),
  });
  addOptionRom(fw, o, 'linuxboot_dma.bin');
}

function addOptionRom(fw: FwCfg, o: BiosKernelOptions, name: string): void {
  fw.addFile(`genroms/${name}`, o.optionRom(name));
  // The ROM boots first (QEMU gives it bootindex 0).
  fw.setBootOrder([`/rom@genroms/${name}`]);
}
