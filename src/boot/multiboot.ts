// Multiboot (version 0.6.96) loader: header checks, ELF or a.out-kludge loading, modules,
// command line, memory map, and the machine state the specification defines.
import { UserError } from '../user-error.js';
import { isElf, parseElf32, type ElfSymbol } from './elf.js';
import type { PhysicalMemory } from '../memory/physical-memory.js';
import type { Cpu } from '../cpu/cpu.js';
import { DESC_A, DESC_B, DESC_CODE, DESC_G, DESC_P, DESC_R, DESC_S, DESC_W } from '../cpu/segment.js';
import { CR0_ET, CR0_PE } from '../cpu/mmu.js';
import { directBootMemoryMap, upperMemoryKib, type MemoryMapEntry } from './memory-map.js';

export const MULTIBOOT_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

const MBI_MEM = 1 << 0;
const MBI_BOOTDEV = 1 << 1;
const MBI_CMDLINE = 1 << 2;
const MBI_MODS = 1 << 3;
const MBI_MMAP = 1 << 6;
const MBI_LOADER_NAME = 1 << 9;

/**
 * Where the loader puts the memory map and the information structure: QEMU's option ROM
 * uses 0x9000 and 0x9500. Our boot GDT follows them (QEMU's lives in the ROM). The block
 * moves above the kernel when the kernel occupies it.
 */
const LOW_STRUCTS = 0x9000;
const INFO_ADDR = 0x9500;
const BOOT_GDT = 0x9560;
export const DEFAULT_BOOT_GDT = BOOT_GDT;
const LOW_STRUCTS_SIZE = 0x580;

export interface MultibootModule {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface MultibootOptions {
  readonly kernelName: string;
  readonly cmdline: string;
  readonly modules: readonly MultibootModule[];
  readonly ramSize: number;
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
  // The kernel's pieces (file bytes, then zeroed bss), loaded once everything is placed.
  const pieces: { at: number; data: Uint8Array; zero: number }[] = [];
  if (h.flags & 0x10000) {
    // a.out kludge: the header says where the file goes.
    const fileStart = h.offset - (h.headerAddr - h.loadAddr);
    if (fileStart < 0) throw new UserError(`${opts.kernelName}: multiboot load address is after the header`);
    const loadEnd = h.loadEndAddr === 0 ? h.loadAddr + (kernel.length - fileStart) : h.loadEndAddr;
    const len = loadEnd - h.loadAddr;
    if (fileStart + len > kernel.length) throw new UserError(`${opts.kernelName}: multiboot load range exceeds the file`);
    checkRange(h.loadAddr, len, 'image');
    const bss = Math.max(0, h.bssEndAddr - loadEnd);
    if (bss > 0) checkRange(loadEnd, bss, 'bss');
    pieces.push({ at: h.loadAddr, data: kernel.subarray(fileStart, fileStart + len), zero: bss });
    kernelEnd = loadEnd + bss;
    entry = h.entryAddr;
    if (isElf(kernel)) symbols = safeSymbols(kernel, opts.kernelName);
  } else {
    if (!isElf(kernel)) throw new UserError(`${opts.kernelName}: multiboot image is not ELF and has no load addresses`);
    const elf = parseElf32(kernel, opts.kernelName);
    if (elf.segments.length === 0) throw new UserError(`${opts.kernelName}: no loadable segments`);
    for (const seg of elf.segments) {
      checkRange(seg.paddr, seg.memsz, 'segment');
      pieces.push({ at: seg.paddr, data: seg.data, zero: Math.max(0, seg.memsz - seg.data.length) });
      kernelEnd = Math.max(kernelEnd, seg.paddr + seg.memsz);
    }
    entry = elf.entry;
    // A virtual entry point is mapped to its segment's physical address.
    const seg = elf.segments.find((s) => entry >= s.vaddr && entry < s.vaddr + s.memsz);
    if (seg && seg.vaddr !== seg.paddr) entry = (entry - seg.vaddr + seg.paddr) >>> 0;
    symbols = elf.symbols;
  }
  const kernelRanges = pieces.map((p): [number, number] => [p.at, p.at + p.data.length + p.zero]);
  const loadKernel = (): void => {
    for (const p of pieces) {
      phys.load(p.at, p.data);
      if (p.zero > 0) phys.load(p.at + p.data.length, new Uint8Array(p.zero));
    }
  };

  // What the kernel occupies; nothing of ours may overlap it (spec 3.3).
  const occupied: [number, number][] = [...kernelRanges];
  const enc = new TextEncoder();
  // After the kernel, as QEMU lays it out: module entries, command lines and the loader
  // name in one page-aligned block, then the modules, each page aligned.
  const cmdlineBytes = enc.encode(opts.cmdline + '\0');
  const loaderBytes = enc.encode('bmbt-dbg\0');
  const modNames = opts.modules.map((m) => enc.encode(m.name + '\0'));
  const lowFree = !overlapsAny(occupied, LOW_STRUCTS, LOW_STRUCTS_SIZE);
  let blockAt = align(kernelEnd, 0x1000);
  // A kernel below 0x9000: its modules start above the low block, not over it.
  if (lowFree && blockAt < LOW_STRUCTS + LOW_STRUCTS_SIZE) blockAt = align(LOW_STRUCTS + LOW_STRUCTS_SIZE, 0x1000);
  const strings = new BlockWriter(blockAt);
  const modsAddr = strings.reserve(opts.modules.length * 16);
  const cmdline = strings.put(cmdlineBytes);
  const loaderName = strings.put(loaderBytes);
  const modNameAddrs = modNames.map((b) => strings.put(b));
  // The memory map, the information structure and the boot GDT go where QEMU's option
  // ROM puts the first two (0x9000 and 0x9500) unless the kernel is there; then they join
  // the block after the kernel.
  const mmap = directBootMemoryMap(ram);
  const mm = encodeMultibootMmap(mmap);
  let lowAt = LOW_STRUCTS;
  if (!lowFree) lowAt = strings.reserve(LOW_STRUCTS_SIZE, 16);
  const mmapAddr = lowAt;
  const infoAddr = lowAt + (INFO_ADDR - LOW_STRUCTS);
  const gdtAddr = lowAt + (BOOT_GDT - LOW_STRUCTS);
  blockAt = strings.end;
  checkRange(strings.start, Math.max(strings.end - strings.start, 1), 'the multiboot information');
  const mods: { name: string; start: number; end: number }[] = [];
  let next = align(blockAt, 0x1000);
  for (const m of opts.modules) {
    checkRange(next, m.data.length, `module ${m.name}`);
    mods.push({ name: m.name, start: next, end: next + m.data.length });
    next = align(next + m.data.length, 0x1000);
  }

  // Load the kernel last, as QEMU's ROM does: our structures never overlap it anyway.
  const modEntries = new Uint8Array(mods.length * 16);
  const mdv = new DataView(modEntries.buffer);
  mods.forEach((m, i) => {
    mdv.setUint32(i * 16, m.start, true);
    mdv.setUint32(i * 16 + 4, m.end, true);
    mdv.setUint32(i * 16 + 8, modNameAddrs[i]!, true);
  });
  strings.set(modsAddr, modEntries);
  phys.load(strings.start, strings.bytes());
  mods.forEach((m, i) => phys.load(m.start, opts.modules[i]!.data));
  phys.load(mmapAddr, mm);
  const info = new Uint8Array(88);
  const idv = new DataView(info.buffer);
  idv.setUint32(0, MBI_MEM | MBI_BOOTDEV | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME, true);
  idv.setUint32(4, 639, true);
  idv.setUint32(8, upperMemoryKib(mmap), true);
  idv.setUint32(12, 0x8000ffff, true); // boot_device: first hard disk, no partition (QEMU's)
  idv.setUint32(16, cmdline, true);
  idv.setUint32(20, mods.length, true);
  idv.setUint32(24, modsAddr, true);
  idv.setUint32(44, mm.length, true);
  idv.setUint32(48, mmapAddr, true);
  idv.setUint32(64, loaderName, true);
  phys.load(infoAddr, info);
  loadKernel();

  enterFlatProtectedMode(phys, cpu, entry, gdtAddr);
  cpu.regs[0] = MULTIBOOT_BOOTLOADER_MAGIC | 0;
  cpu.regs[3] = infoAddr;
  return { entry, infoAddr, symbols, kernelEnd, modules: mods };
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

function overlapsAny(ranges: readonly [number, number][], start: number, len: number): boolean {
  return ranges.some(([s, e]) => start < e && s < start + len);
}

/** A block of loader data placed at `start`, grown by appending (4-byte aligned). */
class BlockWriter {
  private buf = new Uint8Array(0x1000);
  private used = 0;
  constructor(readonly start: number) {}
  get end(): number {
    return this.start + this.used;
  }
  reserve(len: number, alignTo = 4): number {
    this.used = align(this.used, alignTo);
    const at = this.start + this.used;
    this.used += len;
    if (this.used > this.buf.length) {
      const b = new Uint8Array(Math.max(this.used, this.buf.length * 2));
      b.set(this.buf);
      this.buf = b;
    }
    return at;
  }
  put(data: Uint8Array): number {
    const at = this.reserve(data.length);
    this.set(at, data);
    return at;
  }
  set(at: number, data: Uint8Array): void {
    this.buf.set(data, at - this.start);
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.used);
  }
}

/** The multiboot mmap: entries of size 20 (base, length, type as 64/64/32 bits). */
function encodeMultibootMmap(map: readonly MemoryMapEntry[]): Uint8Array {
  const mm = new Uint8Array(map.length * 24);
  const mmdv = new DataView(mm.buffer);
  map.forEach(({ base, length, type }, i) => {
    mmdv.setUint32(i * 24, 20, true);
    mmdv.setUint32(i * 24 + 4, base, true);
    mmdv.setUint32(i * 24 + 12, length, true);
    mmdv.setUint32(i * 24 + 20, type, true);
  });
  return mm;
}

/**
 * The state the Multiboot spec defines at entry: 32-bit protected mode, paging off,
 * flat 4 GiB code and data segments (selectors 0x08 / 0x10 of a GDT we provide), IF=0.
 */
export function enterFlatProtectedMode(phys: PhysicalMemory, cpu: Cpu, entry: number, gdtAddr = BOOT_GDT): void {
  const gdt = new Uint8Array(24);
  const g = new DataView(gdt.buffer);
  g.setUint32(8, 0x0000ffff, true);
  g.setUint32(12, 0x00cf9b00, true);
  g.setUint32(16, 0x0000ffff, true);
  g.setUint32(20, 0x00cf9300, true);
  phys.load(gdtAddr, gdt);
  cpu.gdtBase = gdtAddr;
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
