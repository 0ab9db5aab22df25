// Multiboot (version 0.6.96) loader: header checks, ELF or a.out-kludge loading, modules,
// command line, memory map, and the machine state the specification defines.
import type { E820Entry } from '../devices/fw-cfg.js';
import { UserError } from '../user-error.js';
import { isElf, parseElf32, type ElfSymbol } from './elf.js';
import type { PhysicalMemory } from '../memory/physical-memory.js';
import type { Cpu } from '../cpu/cpu.js';
import { DESC_A, DESC_B, DESC_CODE, DESC_G, DESC_P, DESC_R, DESC_S, DESC_W } from '../cpu/segment.js';
import { CR0_ET, CR0_PE } from '../cpu/mmu.js';

export const MULTIBOOT_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

const MBI_MEM = 1 << 0;
const MBI_CMDLINE = 1 << 2;
const MBI_MODS = 1 << 3;
const MBI_MMAP = 1 << 6;
const MBI_LOADER_NAME = 1 << 9;

/** Where the loader puts its own structures (below the kernel, above the IVT/BDA area). */
const BOOT_GDT = 0x7000;
const INFO_ADDR = 0x9000;

export interface MultibootModule {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface MultibootOptions {
  readonly kernelName: string;
  readonly cmdline: string;
  readonly modules: readonly MultibootModule[];
  readonly ramSize: number;
  /** The memory map to report (from installFirmwareTables); the default has no reserved top. */
  readonly e820?: readonly E820Entry[];
}

export interface LoadedKernel {
  readonly entry: number;
  readonly infoAddr: number;
  readonly symbols: ElfSymbol[];
  readonly kernelEnd: number;
  readonly modules: { name: string; start: number; end: number }[];
}

interface Header {
  offset: number;
  flags: number;
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

export function findMultibootHeader(data: Uint8Array): Header | null {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const end = Math.min(data.length - 12, 8192 - 12);
  for (let off = 0; off <= end; off += 4) {
    if (dv.getUint32(off, true) !== MULTIBOOT_MAGIC) continue;
    const flags = dv.getUint32(off + 4, true);
    const checksum = dv.getUint32(off + 8, true);
    if (((MULTIBOOT_MAGIC + flags + checksum) >>> 0) !== 0) continue;
    const h: Header = { offset: off, flags, headerAddr: 0, loadAddr: 0, loadEndAddr: 0, bssEndAddr: 0, entryAddr: 0 };
    if (flags & 0x10000) {
      if (off + 32 > data.length) return null;
      h.headerAddr = dv.getUint32(off + 12, true);
      h.loadAddr = dv.getUint32(off + 16, true);
      h.loadEndAddr = dv.getUint32(off + 20, true);
      h.bssEndAddr = dv.getUint32(off + 24, true);
      h.entryAddr = dv.getUint32(off + 28, true);
    }
    return h;
  }
  return null;
}

export function loadMultiboot(phys: PhysicalMemory, cpu: Cpu, kernel: Uint8Array, opts: MultibootOptions): LoadedKernel {
  const h = findMultibootHeader(kernel);
  if (!h) throw new UserError(`${opts.kernelName}: no multiboot header in the first 8 KiB`);
  const unknownRequired = h.flags & 0xfff8;
  if (unknownRequired) throw new UserError(`${opts.kernelName}: multiboot header requires unsupported features (flags 0x${h.flags.toString(16)})`);
  const ram = opts.ramSize;
  const checkRange = (start: number, len: number, what: string): void => {
    if (start < 0x1000 || start + len > ram) {
      throw new UserError(`${opts.kernelName}: ${what} at 0x${start.toString(16)}-0x${(start + len).toString(16)} does not fit in RAM (${ram >> 20} MiB)`);
    }
  };
  let entry: number;
  let kernelEnd = 0;
  let symbols: ElfSymbol[] = [];
  if (h.flags & 0x10000) {
    // a.out kludge: the header says where the file goes.
    const fileStart = h.offset - (h.headerAddr - h.loadAddr);
    if (fileStart < 0) throw new UserError(`${opts.kernelName}: multiboot load address is after the header`);
    const loadEnd = h.loadEndAddr === 0 ? h.loadAddr + (kernel.length - fileStart) : h.loadEndAddr;
    const len = loadEnd - h.loadAddr;
    if (fileStart + len > kernel.length) throw new UserError(`${opts.kernelName}: multiboot load range exceeds the file`);
    checkRange(h.loadAddr, len, 'image');
    phys.load(h.loadAddr, kernel.subarray(fileStart, fileStart + len));
    kernelEnd = loadEnd;
    if (h.bssEndAddr > loadEnd) {
      checkRange(loadEnd, h.bssEndAddr - loadEnd, 'bss');
      phys.load(loadEnd, new Uint8Array(h.bssEndAddr - loadEnd));
      kernelEnd = h.bssEndAddr;
    }
    entry = h.entryAddr;
    if (isElf(kernel)) symbols = safeSymbols(kernel, opts.kernelName);
  } else {
    if (!isElf(kernel)) throw new UserError(`${opts.kernelName}: multiboot image is not ELF and has no load addresses`);
    const elf = parseElf32(kernel, opts.kernelName);
    if (elf.segments.length === 0) throw new UserError(`${opts.kernelName}: no loadable segments`);
    for (const seg of elf.segments) {
      checkRange(seg.paddr, seg.memsz, 'segment');
      phys.load(seg.paddr, seg.data);
      if (seg.memsz > seg.data.length) phys.load(seg.paddr + seg.data.length, new Uint8Array(seg.memsz - seg.data.length));
      kernelEnd = Math.max(kernelEnd, seg.paddr + seg.memsz);
    }
    entry = elf.entry;
    // A virtual entry point is mapped to its segment's physical address.
    const seg = elf.segments.find((s) => entry >= s.vaddr && entry < s.vaddr + s.memsz);
    if (seg && seg.vaddr !== seg.paddr) entry = (entry - seg.vaddr + seg.paddr) >>> 0;
    symbols = elf.symbols;
  }

  // Modules, page aligned after the kernel.
  const mods: { name: string; start: number; end: number }[] = [];
  let next = align(kernelEnd, 0x1000);
  for (const m of opts.modules) {
    checkRange(next, m.data.length, `module ${m.name}`);
    phys.load(next, m.data);
    mods.push({ name: m.name, start: next, end: next + m.data.length });
    next = align(next + m.data.length, 0x1000);
  }

  // The information structure and its strings, below 640 KiB.
  const enc = new TextEncoder();
  let strAt = INFO_ADDR + 0x400;
  const putString = (s: string): number => {
    const bytes = enc.encode(s + '\0');
    const at = strAt;
    phys.load(at, bytes);
    strAt += align(bytes.length, 4);
    return at;
  };
  const cmdline = putString(opts.cmdline);
  const loaderName = putString('bmbt-dbg');
  const modsAddr = strAt;
  strAt += mods.length * 16;
  const modEntries = new Uint8Array(mods.length * 16);
  const mdv = new DataView(modEntries.buffer);
  mods.forEach((m, i) => {
    mdv.setUint32(i * 16, m.start, true);
    mdv.setUint32(i * 16 + 4, m.end, true);
    mdv.setUint32(i * 16 + 8, putString(m.name), true);
  });
  phys.load(modsAddr, modEntries);
  const mmap: [number, number, number][] = opts.e820?.map((e) => [e.address, e.length, e.type]) ?? [
    [0, 0x9fc00, 1],
    [0x9fc00, 0x400, 2],
    [0xf0000, 0x10000, 2],
    [0x100000, ram - 0x100000, 1],
    [0xfffc0000, 0x40000, 2],
  ];
  const mmapAddr = strAt;
  const mm = new Uint8Array(mmap.length * 24);
  const mmdv = new DataView(mm.buffer);
  mmap.forEach(([base, len, type], i) => {
    mmdv.setUint32(i * 24, 20, true);
    mmdv.setUint32(i * 24 + 4, base, true);
    mmdv.setUint32(i * 24 + 8, 0, true);
    mmdv.setUint32(i * 24 + 12, len, true);
    mmdv.setUint32(i * 24 + 16, 0, true);
    mmdv.setUint32(i * 24 + 20, type, true);
  });
  phys.load(mmapAddr, mm);
  const info = new Uint8Array(88);
  const idv = new DataView(info.buffer);
  idv.setUint32(0, MBI_MEM | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME, true);
  idv.setUint32(4, 639, true);
  idv.setUint32(8, (ram - 0x100000) >> 10, true);
  idv.setUint32(12, 0xffffffff, true);
  idv.setUint32(16, cmdline, true);
  idv.setUint32(20, mods.length, true);
  idv.setUint32(24, modsAddr, true);
  idv.setUint32(44, mm.length, true);
  idv.setUint32(48, mmapAddr, true);
  idv.setUint32(64, loaderName, true);
  phys.load(INFO_ADDR, info);

  enterFlatProtectedMode(phys, cpu, entry);
  cpu.regs[0] = MULTIBOOT_BOOTLOADER_MAGIC | 0;
  cpu.regs[3] = INFO_ADDR;
  return { entry, infoAddr: INFO_ADDR, symbols, kernelEnd, modules: mods };
}

function safeSymbols(kernel: Uint8Array, name: string): ElfSymbol[] {
  try {
    return parseElf32(kernel, name).symbols;
  } catch {
    return [];
  }
}

function align(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

/**
 * The state the Multiboot spec defines at entry: 32-bit protected mode, paging off,
 * flat 4 GiB code and data segments (selectors 0x08 / 0x10 of a GDT we provide), IF=0.
 */
export function enterFlatProtectedMode(phys: PhysicalMemory, cpu: Cpu, entry: number): void {
  const gdt = new Uint8Array(24);
  const g = new DataView(gdt.buffer);
  g.setUint32(8, 0x0000ffff, true);
  g.setUint32(12, 0x00cf9b00, true);
  g.setUint32(16, 0x0000ffff, true);
  g.setUint32(20, 0x00cf9300, true);
  phys.load(BOOT_GDT, gdt);
  cpu.gdtBase = BOOT_GDT;
  cpu.gdtLimit = 23;
  cpu.idtBase = 0;
  cpu.idtLimit = 0x3ff;
  cpu.cr0 = CR0_PE | CR0_ET;
  cpu.setA20(true);
  const code = DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A | DESC_B | DESC_G;
  const data = DESC_P | DESC_S | DESC_W | DESC_A | DESC_B | DESC_G;
  cpu.setCpl(0);
  cpu.setSegmentRaw(1, 0x08, 0, 0xffffffff, code);
  for (const s of [0, 2, 3, 4, 5]) cpu.setSegmentRaw(s, 0x10, 0, 0xffffffff, data);
  cpu.setEflags(2, 0xffffffff);
  cpu.eip = entry >>> 0;
  cpu.regs[4] = 0x7c00;
  cpu.mmu.flush();
  cpu.updateHflags();
}
