// VGA core as in QEMU's std VGA (hw/display/vga.c; IBM VGA technical reference): the
// register file at 0x3B4/0x3B5/0x3BA (mono) and 0x3C0-0x3CF, 0x3D4/0x3D5/0x3DA (color),
// the 0xA0000-0xBFFFF memory window with planar, odd/even and chain-4 addressing, write
// modes 0-3, latches and read modes 0-1 (so a VGA BIOS can load fonts into plane 2), and
// the Bochs VBE "DISPI" registers at 0x1CE (index) / 0x1CF (data).
//
// Video memory is stored as QEMU does: planar byte i of plane p at vram[4 * i + p]; in
// text mode character k of the screen is plane 0 (code) and plane 1 (attribute) of
// planar index start + k. No pixels are rendered: `textScreen()` decodes the 80x25 text
// page for the UI. The memory window is an MmioHandler (`lowMem`) that the board maps at
// 0xA0000 (through the i440FX SMRAM routing); the linear frame buffer is `vramBlock`,
// which the PCI function (pci/std-vga.ts) exposes as BAR0.
//
// Reset state is QEMU's (all registers zero: nothing decodes at 0xB8000 until a VGA BIOS
// sets a mode); `textModeAtReset` instead loads BIOS mode 3, for boots without a BIOS.
import type { IoBus, PortHandler } from './io-bus.js';
import type { Resettable, SavesState } from './device.js';
import type { MmioHandler } from '../memory/physical-memory.js';
import type { RegisterBlock } from './pci/pci-io-space.js';
import { DirtyPages } from '../memory/dirty-pages.js';

export const VBE_DISPI_IOPORT_INDEX = 0x1ce;
export const VBE_DISPI_IOPORT_DATA = 0x1cf;
export const VBE_DISPI_INDEX_ID = 0x0;
export const VBE_DISPI_INDEX_XRES = 0x1;
export const VBE_DISPI_INDEX_YRES = 0x2;
export const VBE_DISPI_INDEX_BPP = 0x3;
export const VBE_DISPI_INDEX_ENABLE = 0x4;
export const VBE_DISPI_INDEX_BANK = 0x5;
export const VBE_DISPI_INDEX_VIRT_WIDTH = 0x6;
export const VBE_DISPI_INDEX_VIRT_HEIGHT = 0x7;
export const VBE_DISPI_INDEX_X_OFFSET = 0x8;
export const VBE_DISPI_INDEX_Y_OFFSET = 0x9;
export const VBE_DISPI_INDEX_VIDEO_MEMORY_64K = 0xa;
const VBE_DISPI_INDEX_NB = 0xb;
export const VBE_DISPI_ID0 = 0xb0c0;
export const VBE_DISPI_ID5 = 0xb0c5;
export const VBE_DISPI_MAX_XRES = 16000;
export const VBE_DISPI_MAX_YRES = 12000;
export const VBE_DISPI_MAX_BPP = 32;
export const VBE_DISPI_ENABLED = 0x01;
export const VBE_DISPI_GETCAPS = 0x02;
export const VBE_DISPI_8BIT_DAC = 0x20;
export const VBE_DISPI_LFB_ENABLED = 0x40;
export const VBE_DISPI_NOCLEARMEM = 0x80;

const ST01_V_RETRACE = 0x08;
const ST01_DISP_ENABLE = 0x01;
const MSR_COLOR = 0x01;
// Writable bits of the sequencer and graphics controller registers (QEMU's sr_mask, gr_mask).
const SR_MASK = [0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0xff];
const GR_MASK = [0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff, 0, 0, 0, 0, 0, 0, 0];
const SR_MEMORY_MODE = 4;
const SR04_CHN_4M = 0x08;
const GR_MODE = 5;
const GR_MISC = 6;

/** Code page 437 as Unicode, for the text screen. */
const CP437 =
  '\u0000☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼' +
  ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~⌂' +
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

/** BIOS mode 3 (80x25 colour text) register values. */
const MODE3 = {
  msr: 0x67,
  sr: [0x03, 0x00, 0x03, 0x00, 0x02, 0, 0, 0],
  cr: [0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
    0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff],
  gr: [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff],
  ar: [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x0c, 0x00, 0x0f, 0x08, 0x00],
};

export interface TextScreen {
  cols: 80;
  rows: 25;
  chars: string[];
  attrs: number[][];
  cursor: { x: number; y: number; visible: boolean };
}

export interface VgaOptions {
  /** Video memory size in bytes (default 16 MiB, QEMU's vgamem_mb). */
  vramSize?: number;
  /** Reset into BIOS mode 3 instead of QEMU's all-zero registers (boots without a BIOS). */
  textModeAtReset?: boolean;
}

export interface VgaState {
  sr: number[]; srIndex: number;
  gr: number[]; grIndex: number;
  cr: number[]; crIndex: number;
  ar: number[]; arIndex: number; arFlipFlop: number;
  msr: number; fcr: number; st00: number; st01: number;
  dacState: number; dacReadIndex: number; dacWriteIndex: number; dacSubIndex: number; dacCache: number[];
  palette: number[];
  latch: number;
  vbeIndex: number; vbeRegs: number[]; bankOffset: number;
  // Video memory is not here: snapshots keep it page by page with guest RAM (`vramDirty`).
}

export interface VgaInfo {
  mode: 'text' | 'graphics' | 'vbe';
  misc: number;
  memoryMap: string;
  startAddress: number;
  cursor: number;
  vbe: { enabled: boolean; xres: number; yres: number; bpp: number; bank: number };
  vramSize: number;
}

export class Vga implements PortHandler, Resettable, SavesState<VgaState> {
  readonly vram: Uint8Array;
  /** Pages of `vram` written since the last snapshot (every write below marks its page). */
  readonly vramDirty: DirtyPages;
  readonly vramSize: number;
  private sr = new Uint8Array(8);
  private srIndex = 0;
  private gr = new Uint8Array(16);
  private grIndex = 0;
  private cr = new Uint8Array(256);
  private crIndex = 0;
  private ar = new Uint8Array(21);
  private arIndex = 0;
  private arFlipFlop = 0;
  private msr = 0;
  private fcr = 0;
  private st00 = 0;
  private st01 = 0;
  private dacState = 0;
  private dacReadIndex = 0;
  private dacWriteIndex = 0;
  private dacSubIndex = 0;
  private dacCache = [0, 0, 0];
  private palette = new Uint8Array(768);
  private latch = 0;
  private vbeIndex = 0;
  private vbeRegs = new Uint16Array(VBE_DISPI_INDEX_NB);
  private bankOffset = 0;
  private readonly textModeAtReset: boolean;

  /** The 128 KiB window at 0xA0000 (offsets 0-0x1FFFF). */
  readonly lowMem: MmioHandler = {
    name: 'vga-lowmem',
    read: (off, size) => {
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.memReadByte(off + i) << (8 * i);
      return v >>> 0;
    },
    write: (off, value, size) => {
      for (let i = 0; i < size; i++) this.memWriteByte(off + i, (value >>> (8 * i)) & 0xff);
    },
  };

  /** Linear access to video memory (the LFB, PCI BAR0). */
  readonly vramBlock: RegisterBlock = {
    read: (off, size) => {
      let v = 0;
      for (let i = 0; i < size; i++) v |= (this.vram[off + i] ?? 0xff) << (8 * i);
      return v >>> 0;
    },
    write: (off, value, size) => {
      for (let i = 0; i < size; i++) {
        if (off + i < this.vramSize) {
          this.vramDirty.mark((off + i) >>> 12);
          this.vram[off + i] = (value >>> (8 * i)) & 0xff;
        }
      }
    },
  };

  constructor(io: IoBus, opts: VgaOptions = {}) {
    this.vramSize = opts.vramSize ?? 16 << 20;
    this.vram = new Uint8Array(this.vramSize);
    this.vramDirty = new DirtyPages(Math.ceil(this.vramSize / 4096));
    this.textModeAtReset = opts.textModeAtReset ?? false;
    io.register(0x3b4, 2, this, 'vga');
    io.register(0x3ba, 1, this, 'vga');
    io.register(0x3c0, 16, this, 'vga');
    io.register(0x3d4, 2, this, 'vga');
    io.register(0x3da, 1, this, 'vga');
    const vbe: PortHandler = {
      read: (port, size) => {
        const v = port === VBE_DISPI_IOPORT_INDEX ? this.vbeIndex : this.vbeReadData();
        return size === 1 ? v & 0xff : v & 0xffff;
      },
      write: (port, value) => {
        if (port === VBE_DISPI_IOPORT_INDEX) this.vbeIndex = value & 0xffff;
        else this.vbeWriteData(value & 0xffff);
      },
    };
    io.register(VBE_DISPI_IOPORT_INDEX, 2, vbe, 'vbe');
    this.reset();
  }

  // ---- registers -----------------------------------------------------------------------

  read(port: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.ioportRead(port + i) << (8 * i);
    return v >>> 0;
  }

  write(port: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) this.ioportWrite(port + i, (value >>> (8 * i)) & 0xff);
  }

  /** Mono ports are dead in colour mode and the other way round (vga_ioport_invalid). */
  private invalid(port: number): boolean {
    return this.msr & MSR_COLOR ? port >= 0x3b0 && port <= 0x3bf : port >= 0x3d0 && port <= 0x3df;
  }

  ioportRead(port: number): number {
    if (this.invalid(port)) return 0xff;
    switch (port) {
      case 0x3c0: return this.arFlipFlop === 0 ? this.arIndex : 0;
      case 0x3c1: {
        const i = this.arIndex & 0x1f;
        return i < 21 ? this.ar[i]! : 0;
      }
      case 0x3c2: return this.st00;
      case 0x3c4: return this.srIndex;
      case 0x3c5: return this.sr[this.srIndex]!;
      case 0x3c7: return this.dacState;
      case 0x3c8: return this.dacWriteIndex;
      case 0x3c9: {
        const v = this.palette[this.dacReadIndex * 3 + this.dacSubIndex]!;
        if (++this.dacSubIndex === 3) {
          this.dacSubIndex = 0;
          this.dacReadIndex = (this.dacReadIndex + 1) & 0xff;
        }
        return v;
      }
      case 0x3ca: return this.fcr;
      case 0x3cc: return this.msr;
      case 0x3ce: return this.grIndex;
      case 0x3cf: return this.gr[this.grIndex]!;
      case 0x3b4: case 0x3d4: return this.crIndex;
      case 0x3b5: case 0x3d5: return this.cr[this.crIndex]!;
      case 0x3ba: case 0x3da:
        // Toggle retrace and display-enable so polling loops make progress (QEMU "dumb").
        this.st01 ^= ST01_V_RETRACE | ST01_DISP_ENABLE;
        this.arFlipFlop = 0;
        return this.st01;
      default: return 0;
    }
  }

  ioportWrite(port: number, val: number): void {
    if (this.invalid(port)) return;
    switch (port) {
      case 0x3c0:
        if (this.arFlipFlop === 0) this.arIndex = val & 0x3f;
        else {
          const i = this.arIndex & 0x1f;
          if (i < 0x10) this.ar[i] = val & 0x3f;
          else if (i === 0x10) this.ar[i] = val & ~0x10;
          else if (i === 0x11) this.ar[i] = val;
          else if (i === 0x12) this.ar[i] = val & ~0xc0;
          else if (i === 0x13) this.ar[i] = val & ~0xf0;
          else if (i === 0x14) this.ar[i] = val & ~0xf0;
        }
        this.arFlipFlop ^= 1;
        break;
      case 0x3c2: this.msr = val & ~0x10; break;
      case 0x3c4: this.srIndex = val & 7; break;
      case 0x3c5: this.sr[this.srIndex] = val & SR_MASK[this.srIndex]!; break;
      case 0x3c7:
        this.dacReadIndex = val;
        this.dacSubIndex = 0;
        this.dacState = 3;
        break;
      case 0x3c8:
        this.dacWriteIndex = val;
        this.dacSubIndex = 0;
        this.dacState = 0;
        break;
      case 0x3c9:
        this.dacCache[this.dacSubIndex] = val;
        if (++this.dacSubIndex === 3) {
          this.palette.set(this.dacCache, this.dacWriteIndex * 3);
          this.dacSubIndex = 0;
          this.dacWriteIndex = (this.dacWriteIndex + 1) & 0xff;
        }
        break;
      case 0x3ce: this.grIndex = val & 0x0f; break;
      case 0x3cf: this.gr[this.grIndex] = val & GR_MASK[this.grIndex]!; break;
      case 0x3b4: case 0x3d4: this.crIndex = val; break;
      case 0x3b5: case 0x3d5:
        // CR11 bit 7 write-protects CR0-CR7, except CR7 bit 4.
        if (this.cr[0x11]! & 0x80 && this.crIndex <= 7) {
          if (this.crIndex === 7) this.cr[7] = (this.cr[7]! & ~0x10) | (val & 0x10);
          return;
        }
        this.cr[this.crIndex] = val;
        break;
      case 0x3ba: case 0x3da: this.fcr = val & 0x10; break;
    }
  }

  // ---- Bochs VBE -----------------------------------------------------------------------

  /** Select a DISPI register (the index port). */
  vbeSelect(index: number): void {
    this.vbeIndex = index & 0xffff;
  }

  vbeReadData(): number {
    const i = this.vbeIndex;
    if (i < VBE_DISPI_INDEX_NB) {
      if (i === VBE_DISPI_INDEX_VIDEO_MEMORY_64K) return this.vramSize >>> 16;
      if (this.vbeRegs[VBE_DISPI_INDEX_ENABLE]! & VBE_DISPI_GETCAPS) {
        if (i === VBE_DISPI_INDEX_XRES) return VBE_DISPI_MAX_XRES;
        if (i === VBE_DISPI_INDEX_YRES) return VBE_DISPI_MAX_YRES;
        if (i === VBE_DISPI_INDEX_BPP) return VBE_DISPI_MAX_BPP;
      }
      return this.vbeRegs[i]!;
    }
    return 0;
  }

  vbeWriteData(val: number): void {
    const r = this.vbeRegs;
    switch (this.vbeIndex) {
      case VBE_DISPI_INDEX_ID:
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5) r[0] = val;
        break;
      case VBE_DISPI_INDEX_XRES: case VBE_DISPI_INDEX_YRES: case VBE_DISPI_INDEX_BPP:
      case VBE_DISPI_INDEX_VIRT_WIDTH: case VBE_DISPI_INDEX_X_OFFSET: case VBE_DISPI_INDEX_Y_OFFSET:
        r[this.vbeIndex] = val;
        this.vbeFixup();
        break;
      case VBE_DISPI_INDEX_BANK: {
        const bankMask = (this.vramSize >>> 16) - 1;
        val &= r[VBE_DISPI_INDEX_BPP] === 4 ? bankMask >> 2 : bankMask;
        r[VBE_DISPI_INDEX_BANK] = val;
        this.bankOffset = val << 16;
        break;
      }
      case VBE_DISPI_INDEX_ENABLE:
        if (val & VBE_DISPI_ENABLED && !(r[VBE_DISPI_INDEX_ENABLE]! & VBE_DISPI_ENABLED)) {
          r[VBE_DISPI_INDEX_VIRT_WIDTH] = 0;
          r[VBE_DISPI_INDEX_X_OFFSET] = 0;
          r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
          r[VBE_DISPI_INDEX_ENABLE] = r[VBE_DISPI_INDEX_ENABLE]! | VBE_DISPI_ENABLED;
          const lineLength = this.vbeFixup();
          if (!(val & VBE_DISPI_NOCLEARMEM)) {
            const n = Math.min(this.vramSize, r[VBE_DISPI_INDEX_YRES]! * lineLength);
            this.vramDirty.markRange(0, n);
            this.vram.fill(0, 0, n);
          }
          // Graphics mode, memory map A0000 64 KiB, chain 4 for packed pixels (QEMU).
          this.gr[GR_MISC] = (this.gr[GR_MISC]! & ~0x0c) | 0x04 | 0x01;
          this.cr[0x17] = this.cr[0x17]! | 3;
          if (r[VBE_DISPI_INDEX_BPP] !== 4) {
            this.sr[SR_MEMORY_MODE] = this.sr[SR_MEMORY_MODE]! | SR04_CHN_4M;
            this.sr[2] = this.sr[2]! | 0x0f;
          }
        } else if (!(val & VBE_DISPI_ENABLED)) this.bankOffset = 0;
        r[VBE_DISPI_INDEX_ENABLE] = val;
        break;
    }
  }

  /** vbe_fixup_regs: clamp the mode to what fits; returns the line length in bytes. */
  private vbeFixup(): number {
    const r = this.vbeRegs;
    if (!(r[VBE_DISPI_INDEX_ENABLE]! & VBE_DISPI_ENABLED)) return 0;
    let bits: number;
    switch (r[VBE_DISPI_INDEX_BPP]) {
      case 4: case 8: case 16: case 24: case 32: bits = r[VBE_DISPI_INDEX_BPP]!; break;
      case 15: bits = 16; break;
      default: bits = 8; r[VBE_DISPI_INDEX_BPP] = 8;
    }
    r[VBE_DISPI_INDEX_XRES] = r[VBE_DISPI_INDEX_XRES]! & ~7;
    if (r[VBE_DISPI_INDEX_XRES] === 0) r[VBE_DISPI_INDEX_XRES] = 8;
    if (r[VBE_DISPI_INDEX_XRES]! > VBE_DISPI_MAX_XRES) r[VBE_DISPI_INDEX_XRES] = VBE_DISPI_MAX_XRES;
    r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_VIRT_WIDTH]! & ~7;
    if (r[VBE_DISPI_INDEX_VIRT_WIDTH]! > VBE_DISPI_MAX_XRES) r[VBE_DISPI_INDEX_VIRT_WIDTH] = VBE_DISPI_MAX_XRES;
    if (r[VBE_DISPI_INDEX_VIRT_WIDTH]! < r[VBE_DISPI_INDEX_XRES]!) r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES]!;
    const lineLength = (r[VBE_DISPI_INDEX_VIRT_WIDTH]! * bits) / 8;
    const maxY = Math.floor(this.vramSize / lineLength);
    if (r[VBE_DISPI_INDEX_YRES] === 0) r[VBE_DISPI_INDEX_YRES] = 1;
    if (r[VBE_DISPI_INDEX_YRES]! > VBE_DISPI_MAX_YRES) r[VBE_DISPI_INDEX_YRES] = VBE_DISPI_MAX_YRES;
    if (r[VBE_DISPI_INDEX_YRES]! > maxY) r[VBE_DISPI_INDEX_YRES] = maxY;
    if (r[VBE_DISPI_INDEX_X_OFFSET]! > VBE_DISPI_MAX_XRES) r[VBE_DISPI_INDEX_X_OFFSET] = VBE_DISPI_MAX_XRES;
    if (r[VBE_DISPI_INDEX_Y_OFFSET]! > VBE_DISPI_MAX_YRES) r[VBE_DISPI_INDEX_Y_OFFSET] = VBE_DISPI_MAX_YRES;
    let offset = (r[VBE_DISPI_INDEX_X_OFFSET]! * bits) / 8 + r[VBE_DISPI_INDEX_Y_OFFSET]! * lineLength;
    if (offset + r[VBE_DISPI_INDEX_YRES]! * lineLength > this.vramSize) {
      r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
      offset = (r[VBE_DISPI_INDEX_X_OFFSET]! * bits) / 8;
      if (offset + r[VBE_DISPI_INDEX_YRES]! * lineLength > this.vramSize) r[VBE_DISPI_INDEX_X_OFFSET] = 0;
    }
    r[VBE_DISPI_INDEX_VIRT_HEIGHT] = Math.min(maxY, 0xffff);
    return lineLength;
  }

  // ---- the memory window ---------------------------------------------------------------

  /** Window offset -> VGA memory offset, or -1 when the memory map does not decode it. */
  private windowOffset(off: number): number {
    off &= 0x1ffff;
    switch ((this.gr[GR_MISC]! >> 2) & 3) {
      case 0: return off;
      case 1: return off < 0x10000 ? off + this.bankOffset : -1;
      case 2: return off >= 0x10000 && off < 0x18000 ? off - 0x10000 : -1;
      default: return off >= 0x18000 ? off - 0x18000 : -1;
    }
  }

  private latchAt(i: number): number {
    const o = 4 * i;
    const v = this.vram;
    return (v[o]! | (v[o + 1]! << 8) | (v[o + 2]! << 16) | (v[o + 3]! << 24)) >>> 0;
  }

  memReadByte(off: number): number {
    const addr = this.windowOffset(off);
    if (addr < 0) return 0xff;
    if (this.sr[SR_MEMORY_MODE]! & SR04_CHN_4M) return this.vram[addr] ?? 0xff;
    if (this.gr[GR_MODE]! & 0x10) {
      // Odd/even (text) addressing: even bytes in plane 0/2, odd bytes in plane 1/3.
      const plane = (this.gr[4]! & 2) | (addr & 1);
      return this.vram[((addr & ~1) << 1) | plane] ?? 0xff;
    }
    if (4 * addr + 3 >= this.vramSize) return 0xff;
    this.latch = this.latchAt(addr);
    if (!(this.gr[GR_MODE]! & 0x08)) return (this.latch >>> (8 * (this.gr[4]! & 3))) & 0xff;
    // Read mode 1: colour compare.
    const cmp = expand4(this.gr[2]!);
    const care = expand4(this.gr[7]!);
    let ret = ((this.latch ^ cmp) & care) >>> 0;
    ret |= ret >>> 16;
    ret |= ret >>> 8;
    return ~ret & 0xff;
  }

  memWriteByte(off: number, val: number): void {
    const addr = this.windowOffset(off);
    if (addr < 0) return;
    if (this.sr[SR_MEMORY_MODE]! & SR04_CHN_4M) {
      if (this.sr[2]! & (1 << (addr & 3)) && addr < this.vramSize) {
        this.vramDirty.mark(addr >>> 12);
        this.vram[addr] = val;
      }
      return;
    }
    if (this.gr[GR_MODE]! & 0x10) {
      const plane = (this.gr[4]! & 2) | (addr & 1);
      if (this.sr[2]! & (1 << plane)) {
        const o = ((addr & ~1) << 1) | plane;
        if (o < this.vramSize) {
          this.vramDirty.mark(o >>> 12);
          this.vram[o] = val;
        }
      }
      return;
    }
    if (4 * addr + 3 >= this.vramSize) return;
    let v: number;
    let bitMask: number;
    const rot = this.gr[3]! & 7;
    switch (this.gr[GR_MODE]! & 3) {
      case 1:
        v = this.latch;
        this.storePlanes(addr, v);
        return;
      case 2:
        v = expand4(val & 0x0f);
        bitMask = this.gr[8]!;
        break;
      case 3: {
        const r = ((val >> rot) | (val << (8 - rot))) & 0xff;
        bitMask = this.gr[8]! & r;
        v = expand4(this.gr[0]!);
        break;
      }
      default: {
        let r = ((val >> rot) | (val << (8 - rot))) & 0xff;
        r = (r * 0x01010101) >>> 0;
        const setMask = expand4(this.gr[1]!);
        v = ((r & ~setMask) | (expand4(this.gr[0]!) & setMask)) >>> 0;
        bitMask = this.gr[8]!;
      }
    }
    switch (this.gr[3]! >> 3) {
      case 1: v &= this.latch; break;
      case 2: v |= this.latch; break;
      case 3: v ^= this.latch; break;
    }
    const bm = (bitMask * 0x01010101) >>> 0;
    v = ((v & bm) | (this.latch & ~bm)) >>> 0;
    this.storePlanes(addr, v);
  }

  /** Store a 4-plane value at planar index `i` through the map mask (SR2). */
  private storePlanes(i: number, v: number): void {
    const mask = this.sr[2]!;
    this.vramDirty.mark((4 * i) >>> 12);
    for (let p = 0; p < 4; p++) if (mask & (1 << p)) this.vram[4 * i + p] = (v >>> (8 * p)) & 0xff;
  }

  // ---- the text screen -----------------------------------------------------------------

  /** The 80x25 text page the CRTC shows (start address, line offset), decoded from CP437. */
  textScreen(): TextScreen {
    const start = (this.cr[0x0c]! << 8) | this.cr[0x0d]!;
    const pitch = this.cr[0x13]! ? this.cr[0x13]! * 2 : 80;
    const chars: string[] = [];
    const attrs: number[][] = [];
    for (let y = 0; y < 25; y++) {
      let line = '';
      const a: number[] = [];
      for (let x = 0; x < 80; x++) {
        const i = 4 * ((start + y * pitch + x) & 0xffff);
        line += CP437[this.vram[i]!] ?? ' ';
        a.push(this.vram[i + 1]!);
      }
      chars.push(line.replace(/\u0000/g, ' '));
      attrs.push(a);
    }
    const off = ((this.cr[0x0e]! << 8) | this.cr[0x0f]!) - start;
    const visible = !(this.cr[0x0a]! & 0x20) && off >= 0 && off < pitch * 25;
    return {
      cols: 80, rows: 25, chars, attrs,
      cursor: { x: off >= 0 ? off % pitch : 0, y: off >= 0 ? Math.floor(off / pitch) : 0, visible },
    };
  }

  /** Load the standard mode 3 registers (what a VGA BIOS does for INT 10h AX=0003h). */
  setTextMode3(): void {
    this.msr = MODE3.msr;
    this.sr.fill(0);
    this.sr.set(MODE3.sr);
    this.cr.fill(0);
    this.cr.set(MODE3.cr);
    this.gr.fill(0);
    this.gr.set(MODE3.gr);
    this.ar.set(MODE3.ar);
    this.arIndex = 0x20; // palette address source: display enabled
  }

  reset(): void {
    this.sr.fill(0);
    this.gr.fill(0);
    this.cr.fill(0);
    this.ar.fill(0);
    this.srIndex = this.grIndex = this.crIndex = this.arIndex = this.arFlipFlop = 0;
    this.msr = this.fcr = this.st00 = this.st01 = 0;
    this.dacState = this.dacReadIndex = this.dacWriteIndex = this.dacSubIndex = 0;
    this.latch = 0;
    this.vbeIndex = 0;
    this.vbeRegs.fill(0);
    this.vbeRegs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    this.vbeRegs[VBE_DISPI_INDEX_VIDEO_MEMORY_64K] = this.vramSize >>> 16;
    this.bankOffset = 0;
    if (this.textModeAtReset) this.setTextMode3();
  }

  saveState(): VgaState {
    return {
      sr: Array.from(this.sr), srIndex: this.srIndex, gr: Array.from(this.gr), grIndex: this.grIndex,
      cr: Array.from(this.cr), crIndex: this.crIndex, ar: Array.from(this.ar), arIndex: this.arIndex,
      arFlipFlop: this.arFlipFlop, msr: this.msr, fcr: this.fcr, st00: this.st00, st01: this.st01,
      dacState: this.dacState, dacReadIndex: this.dacReadIndex, dacWriteIndex: this.dacWriteIndex,
      dacSubIndex: this.dacSubIndex, dacCache: [...this.dacCache], palette: Array.from(this.palette),
      latch: this.latch, vbeIndex: this.vbeIndex, vbeRegs: Array.from(this.vbeRegs), bankOffset: this.bankOffset,
    };
  }

  loadState(s: VgaState): void {
    this.sr.set(s.sr); this.srIndex = s.srIndex;
    this.gr.set(s.gr); this.grIndex = s.grIndex;
    this.cr.set(s.cr); this.crIndex = s.crIndex;
    this.ar.set(s.ar); this.arIndex = s.arIndex; this.arFlipFlop = s.arFlipFlop;
    this.msr = s.msr; this.fcr = s.fcr; this.st00 = s.st00; this.st01 = s.st01;
    this.dacState = s.dacState; this.dacReadIndex = s.dacReadIndex; this.dacWriteIndex = s.dacWriteIndex;
    this.dacSubIndex = s.dacSubIndex; this.dacCache = [...s.dacCache]; this.palette.set(s.palette);
    this.latch = s.latch >>> 0; this.vbeIndex = s.vbeIndex; this.vbeRegs.set(s.vbeRegs); this.bankOffset = s.bankOffset;
  }

  info(): VgaInfo {
    const vbeOn = (this.vbeRegs[VBE_DISPI_INDEX_ENABLE]! & VBE_DISPI_ENABLED) !== 0;
    return {
      mode: vbeOn ? 'vbe' : this.gr[GR_MISC]! & 1 ? 'graphics' : 'text',
      misc: this.msr,
      memoryMap: ['A0000-BFFFF', 'A0000-AFFFF', 'B0000-B7FFF', 'B8000-BFFFF'][(this.gr[GR_MISC]! >> 2) & 3]!,
      startAddress: (this.cr[0x0c]! << 8) | this.cr[0x0d]!,
      cursor: (this.cr[0x0e]! << 8) | this.cr[0x0f]!,
      vbe: {
        enabled: vbeOn, xres: this.vbeRegs[VBE_DISPI_INDEX_XRES]!, yres: this.vbeRegs[VBE_DISPI_INDEX_YRES]!,
        bpp: this.vbeRegs[VBE_DISPI_INDEX_BPP]!, bank: this.vbeRegs[VBE_DISPI_INDEX_BANK]!,
      },
      vramSize: this.vramSize,
    };
  }
}

/** Each of the low 4 bits becomes a 0xFF byte (QEMU's mask16). */
function expand4(v: number): number {
  return ((v & 1 ? 0xff : 0) | (v & 2 ? 0xff00 : 0) | (v & 4 ? 0xff0000 : 0) | (v & 8 ? 0xff000000 : 0)) >>> 0;
}
