// Direct Linux boot (the x86 32-bit boot protocol, Documentation/x86/boot.rst) without a
// BIOS: the protected-mode kernel of a bzImage at 1 MiB, a zero page (boot_params) with
// the setup header, an e820 map, the command line and the initrd, and the register state
// the protocol defines (flat segments at __BOOT_CS 0x10 / __BOOT_DS 0x18, ESI = zero page).
import { UserError } from '../user-error.js';
import type { PhysicalMemory } from '../memory/physical-memory.js';
import type { Cpu } from '../cpu/cpu.js';
import { DESC_A, DESC_B, DESC_CODE, DESC_G, DESC_P, DESC_R, DESC_S, DESC_W } from '../cpu/segment.js';
import { CR0_ET, CR0_PE } from '../cpu/mmu.js';
import { directBootMemoryMap, TOP_RESERVED } from './memory-map.js';

/** Where a direct boot puts the zero page (boot_params). */
export const BOOT_PARAMS = 0x10000;
const CMDLINE = 0x20000;
const GDT = 0x8000;
const HDR_START = 0x1f1;

export function isBzImage(data: Uint8Array): boolean {
  return data.length > 0x260 && data[0x1fe] === 0x55 && data[0x1ff] === 0xaa &&
    data[0x202] === 0x48 && data[0x203] === 0x64 && data[0x204] === 0x72 && data[0x205] === 0x53;
}

/**
 * Any Linux kernel image QEMU's -kernel accepts: a "HdrS" setup header (protocol 2.00+)
 * or an older zImage, which is only a boot sector with setup sectors behind it.
 */
export function isLinuxImage(data: Uint8Array): boolean {
  return isBzImage(data) || (data.length > 0x400 && data[0x1fe] === 0x55 && data[0x1ff] === 0xaa);
}

/** The boot protocol version; 0 for an image without a "HdrS" header (before 2.00). */
export function linuxProtocol(data: Uint8Array): number {
  return isBzImage(data) ? data[0x206]! | (data[0x207]! << 8) : 0;
}

/** The oldest protocol the direct 32-bit path takes: 2.10 gives init_size, the memory the kernel needs. */
export const DIRECT_MIN_PROTOCOL = 0x020a;

/**
 * Whether the kernel can be entered at its 32-bit entry without running its real-mode
 * setup code: a bzImage (LOADED_HIGH) of protocol 2.10 or later. Anything older, or a
 * zImage, is booted the way QEMU boots it: through firmware (SeaBIOS + linuxboot_dma.bin)
 * that runs the setup code, which needs BIOS services (iPXE's ipxe.lkrn, protocol 2.07,
 * and GRUB's lnxboot.img + core.img, protocol 2.03, are such images: their "setup code"
 * is the program itself).
 */
export function linuxNeedsSetupCode(data: Uint8Array): boolean {
  return !isBzImage(data) || linuxProtocol(data) < DIRECT_MIN_PROTOCOL || !(data[0x211]! & 1);
}

export interface LinuxBootOptions {
  readonly name: string;
  readonly cmdline: string;
  readonly initrd: Uint8Array | null;
  readonly ramSize: number;
}

export interface LoadedLinux {
  readonly version: number;
  readonly entry: number;
  readonly initrdAddr: number;
}

export function loadLinux(phys: PhysicalMemory, cpu: Cpu, image: Uint8Array, opts: LinuxBootOptions): LoadedLinux {
  if (!isBzImage(image)) throw new UserError(`${opts.name}: not a Linux bzImage (no HdrS setup header)`);
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const version = dv.getUint16(0x206, true);
  if (linuxNeedsSetupCode(image)) throw new Error(`${opts.name}: boot protocol ${version >> 8}.${(version & 0xff).toString().padStart(2, '0')} needs its setup code run (boot it through firmware)`);
  const loadflags = image[0x211]!;
  const setupSects = image[HDR_START]! || 4;
  const kernelOffset = (setupSects + 1) * 512;
  if (kernelOffset >= image.length) throw new UserError(`${opts.name}: truncated kernel image`);
  const kernel = image.subarray(kernelOffset);
  const code32 = 0x100000;
  const initSize = dv.getUint32(0x260, true);
  if (code32 + Math.max(kernel.length, initSize) > opts.ramSize) {
    throw new UserError(`${opts.name}: the kernel needs ${((code32 + initSize) >> 20) + 1} MiB of RAM (-m)`);
  }
  phys.load(code32, kernel);

  // The zero page: the setup header as the image has it, plus what the loader fills in.
  const bp = new Uint8Array(4096);
  const hdrEnd = 0x202 + (image[0x201]!);
  bp.set(image.subarray(HDR_START, Math.min(hdrEnd, 0x280)), HDR_START);
  const b = new DataView(bp.buffer);
  // screen_info as the kernel's own setup code fills it under SeaBIOS's 80x25 colour text
  // mode on a VGA (INT 10h): without it Linux picks the dummy console, not vgacon.
  b.setUint8(0x06, 0x03); // orig_video_mode
  b.setUint8(0x07, 80); // orig_video_cols
  b.setUint16(0x0a, 0x0003, true); // orig_video_ega_bx: colour, 256 KiB (INT 10h AH=12h BL=10h)
  b.setUint8(0x0e, 25); // orig_video_lines
  b.setUint8(0x0f, 1); // orig_video_isVGA
  b.setUint16(0x10, 16, true); // orig_video_points: the 8x16 font
  b.setUint8(0x210, 0xff); // type_of_loader: undefined loader
  b.setUint8(0x211, (loadflags | 0x80) & ~0x20); // CAN_USE_HEAP, not QUIET
  b.setUint16(0x224, 0xde00, true); // heap_end_ptr
  const cmdMax = version >= 0x0206 ? dv.getUint32(0x238, true) : 255;
  const cmd = new TextEncoder().encode(opts.cmdline);
  if (cmd.length > cmdMax) throw new UserError(`--append: the command line is longer than the kernel accepts (${cmdMax} bytes)`);
  phys.load(CMDLINE, Uint8Array.from([...cmd, 0]));
  b.setUint32(0x228, CMDLINE, true);
  let initrdAddr = 0;
  if (opts.initrd) {
    const max = version >= 0x0203 ? dv.getUint32(0x22c, true) : 0x37ffffff;
    const top = Math.min(max + 1, opts.ramSize - TOP_RESERVED);
    initrdAddr = Math.floor((top - opts.initrd.length) / 4096) * 4096;
    if (initrdAddr < code32 + initSize) throw new UserError(`initrd: ${opts.initrd.length} bytes do not fit in RAM above the kernel (-m)`);
    phys.load(initrdAddr, opts.initrd);
    b.setUint32(0x218, initrdAddr, true);
    b.setUint32(0x21c, opts.initrd.length, true);
  }
  // The e820 map SeaBIOS gives Linux under QEMU for the same RAM size.
  const e820 = directBootMemoryMap(opts.ramSize);
  e820.forEach(({ base, length, type }, i) => {
    const o = 0x2d0 + i * 20;
    b.setUint32(o, base, true);
    b.setUint32(o + 8, length, true);
    b.setUint32(o + 16, type, true);
  });
  b.setUint8(0x1e8, e820.length);
  phys.load(BOOT_PARAMS, bp);

  // GDT with __BOOT_CS (0x10) and __BOOT_DS (0x18), flat.
  const gdt = new Uint8Array(32);
  const g = new DataView(gdt.buffer);
  g.setUint32(16, 0x0000ffff, true);
  g.setUint32(20, 0x00cf9b00, true);
  g.setUint32(24, 0x0000ffff, true);
  g.setUint32(28, 0x00cf9300, true);
  phys.load(GDT, gdt);
  cpu.gdtBase = GDT;
  cpu.gdtLimit = 31;
  cpu.idtBase = 0;
  cpu.idtLimit = 0;
  cpu.cr0 = CR0_PE | CR0_ET;
  cpu.setA20(true);
  cpu.setCpl(0);
  cpu.setSegmentRaw(1, 0x10, 0, 0xffffffff, DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A | DESC_B | DESC_G);
  for (const s of [0, 2, 3, 4, 5]) cpu.setSegmentRaw(s, 0x18, 0, 0xffffffff, DESC_P | DESC_S | DESC_W | DESC_A | DESC_B | DESC_G);
  cpu.setEflags(2, 0xffffffff);
  cpu.regs.fill(0);
  cpu.regs[6] = BOOT_PARAMS; // ESI
  cpu.regs[4] = BOOT_PARAMS; // a stack below the zero page, as boot loaders leave one
  cpu.eip = code32;
  cpu.mmu.flush();
  cpu.updateHflags();
  return { version, entry: code32, initrdAddr };
}
