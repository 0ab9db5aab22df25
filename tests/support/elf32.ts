// A minimal ELF32 little-endian reader for test guests: symbols and loadable bytes.

export interface Elf32Symbol {
  name: string;
  value: number;
  size: number;
  /** STB_*: 0 local, 1 global, 2 weak */
  bind: number;
  /** STT_*: 0 notype, 1 object, 2 func, 3 section, 4 file */
  type: number;
  /** section index; 0xfff1 = SHN_ABS */
  shndx: number;
}

export interface Elf32Segment {
  vaddr: number;
  paddr: number;
  fileSize: number;
  memSize: number;
  flags: number;
  data: Uint8Array;
}

export interface Elf32 {
  entry: number;
  eMachine: number;
  symbols: Elf32Symbol[];
  segments: Elf32Segment[];
  sections: Array<{ name: string; addr: number; offset: number; size: number; type: number }>;
}

export const SHN_ABS = 0xfff1;

export function parseElf32(buf: Uint8Array): Elf32 {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, false) !== 0x7f454c46) throw new Error('not an ELF file');
  if (buf[4] !== 1) throw new Error('not ELF32');
  if (buf[5] !== 1) throw new Error('not little-endian');
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const entry = u32(24);
  const machine = u16(18);
  const phoff = u32(28);
  const shoff = u32(32);
  const phentsize = u16(42);
  const phnum = u16(44);
  const shentsize = u16(46);
  const shnum = u16(48);
  const shstrndx = u16(50);

  const segments: Elf32Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (u32(o) !== 1 /* PT_LOAD */) continue;
    const offset = u32(o + 4);
    const fileSize = u32(o + 16);
    segments.push({
      vaddr: u32(o + 8),
      paddr: u32(o + 12),
      fileSize,
      memSize: u32(o + 20),
      flags: u32(o + 24),
      data: buf.subarray(offset, offset + fileSize),
    });
  }

  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raw.push({
      nameOff: u32(o),
      type: u32(o + 4),
      addr: u32(o + 12),
      offset: u32(o + 16),
      size: u32(o + 20),
      link: u32(o + 24),
      entsize: u32(o + 36),
    });
  }
  const cstr = (off: number) => {
    let end = off;
    while (end < buf.length && buf[end] !== 0) end++;
    return new TextDecoder().decode(buf.subarray(off, end));
  };
  const shstr = raw[shstrndx];
  const sections = raw.map((s) => ({
    name: shstr ? cstr(shstr.offset + s.nameOff) : '',
    addr: s.addr,
    offset: s.offset,
    size: s.size,
    type: s.type,
  }));

  const symbols: Elf32Symbol[] = [];
  for (const s of raw) {
    if (s.type !== 2 /* SHT_SYMTAB */) continue;
    const strtab = raw[s.link];
    if (!strtab) continue;
    for (let o = s.offset; o + 16 <= s.offset + s.size; o += s.entsize || 16) {
      const info = buf[o + 12]!;
      symbols.push({
        name: cstr(strtab.offset + u32(o)),
        value: u32(o + 4),
        size: u32(o + 8),
        bind: info >> 4,
        type: info & 0xf,
        shndx: u16(o + 14),
      });
    }
  }
  return { entry, eMachine: machine, symbols, segments, sections };
}

/** Bytes at a virtual address from the loadable segments (zeros for .bss). */
export function readElfBytes(elf: Elf32, addr: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (const seg of elf.segments) {
    for (let i = 0; i < len; i++) {
      const off = addr + i - seg.vaddr;
      if (off >= 0 && off < seg.fileSize) out[i] = seg.data[off]!;
    }
  }
  return out;
}
