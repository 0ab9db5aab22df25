// ELF32 (i386) reader: load segments and the symbol table, with clear errors for
// anything that is not a 32-bit little-endian x86 executable.
import { UserError } from '../user-error.js';

export interface ElfSegment {
  readonly paddr: number;
  readonly vaddr: number;
  readonly data: Uint8Array; // file bytes
  readonly memsz: number;
}

export interface ElfSymbol {
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly type: number; // STT_*
}

export interface ElfImage {
  readonly entry: number;
  readonly segments: ElfSegment[];
  readonly symbols: ElfSymbol[];
}

export const STT_OBJECT = 1;
export const STT_FUNC = 2;

export function isElf(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

export function parseElf32(data: Uint8Array, name = 'image'): ElfImage {
  if (!isElf(data)) throw new UserError(`${name}: not an ELF file`);
  if (data.length < 52) throw new UserError(`${name}: truncated ELF header`);
  if (data[4] !== 1) throw new UserError(`${name}: not a 32-bit ELF (ELFCLASS${data[4] === 2 ? '64' : '?'})`);
  if (data[5] !== 1) throw new UserError(`${name}: not a little-endian ELF`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const machine = dv.getUint16(18, true);
  if (machine !== 3) throw new UserError(`${name}: ELF machine ${machine} is not i386`);
  const entry = dv.getUint32(24, true);
  const phoff = dv.getUint32(28, true);
  const shoff = dv.getUint32(32, true);
  const phentsize = dv.getUint16(42, true);
  const phnum = dv.getUint16(44, true);
  const shentsize = dv.getUint16(46, true);
  const shnum = dv.getUint16(48, true);
  if (phnum > 0 && (phentsize < 32 || phoff + phnum * phentsize > data.length)) {
    throw new UserError(`${name}: program headers outside the file`);
  }
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (dv.getUint32(o, true) !== 1) continue; // PT_LOAD
    const offset = dv.getUint32(o + 4, true);
    const vaddr = dv.getUint32(o + 8, true);
    const paddr = dv.getUint32(o + 12, true);
    const filesz = dv.getUint32(o + 16, true);
    const memsz = dv.getUint32(o + 20, true);
    if (offset + filesz > data.length) throw new UserError(`${name}: segment ${i} extends past the end of the file`);
    if (filesz > memsz) throw new UserError(`${name}: segment ${i} has filesz > memsz`);
    segments.push({ paddr, vaddr, data: data.subarray(offset, offset + filesz), memsz });
  }
  const symbols: ElfSymbol[] = [];
  if (shnum > 0 && shentsize >= 40 && shoff + shnum * shentsize <= data.length) {
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      if (dv.getUint32(o + 4, true) !== 2) continue; // SHT_SYMTAB
      const off = dv.getUint32(o + 16, true);
      const size = dv.getUint32(o + 20, true);
      const link = dv.getUint32(o + 24, true);
      const entsize = dv.getUint32(o + 36, true) || 16;
      if (link >= shnum || off + size > data.length) continue;
      const so = shoff + link * shentsize;
      const stroff = dv.getUint32(so + 16, true);
      const strsize = dv.getUint32(so + 20, true);
      if (stroff + strsize > data.length) continue;
      for (let p = off; p + 16 <= off + size; p += entsize) {
        const nameOff = dv.getUint32(p, true);
        const value = dv.getUint32(p + 4, true);
        const symSize = dv.getUint32(p + 8, true);
        const type = data[p + 12]! & 0xf;
        if (nameOff === 0 || nameOff >= strsize) continue;
        let end = stroff + nameOff;
        while (end < stroff + strsize && data[end] !== 0) end++;
        const symName = new TextDecoder().decode(data.subarray(stroff + nameOff, end));
        if (symName) symbols.push({ name: symName, value, size: symSize, type });
      }
    }
  }
  return { entry, segments, symbols };
}
