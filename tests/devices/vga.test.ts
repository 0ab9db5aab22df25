import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/devices/io-bus.js';
import { Vga } from '../../src/devices/vga.js';

function setup(opts: { textModeAtReset?: boolean } = {}) {
  const io = new IoBus();
  const vga = new Vga(io, { vramSize: 1 << 20, ...opts });
  const mem = vga.lowMem;
  const sr = (i: number, v: number) => { io.write(0x3c4, i, 1); io.write(0x3c5, v, 1); };
  const gr = (i: number, v: number) => { io.write(0x3ce, i, 1); io.write(0x3cf, v, 1); };
  const crt = (i: number, v: number) => { io.write(0x3d4, i, 1); io.write(0x3d5, v, 1); };
  return { io, vga, mem, sr, gr, crt };
}

describe('VGA', () => {
  it('resets like QEMU: mono decode, nothing at 0xB8000 until a mode is set', () => {
    const { io, mem } = setup();
    expect(io.read(0x3cc, 1)).toBe(0x00);
    expect(io.read(0x3d5, 1)).toBe(0xff); // colour ports dead in mono mode
    mem.write(0x18000, 0x41, 1); // planar write with map mask 0: lost
    expect(mem.read(0x18000, 1)).toBe(0);
  });

  it('mode 3 text memory at 0xB8000 shows on the text screen with the cursor', () => {
    const { mem, vga, crt } = setup({ textModeAtReset: true });
    const hello = 'Hello';
    for (let i = 0; i < hello.length; i++) mem.write(0x18000 + 2 * i, hello.charCodeAt(i) | (0x1f << 8), 2);
    mem.write(0x18000 + 160 * 24 + 158, 0x07db, 2); // bottom-right, a full block
    crt(0x0e, 0x00);
    crt(0x0f, 83); // row 1, column 3
    const t = vga.textScreen();
    expect(t.cols).toBe(80);
    expect(t.rows).toBe(25);
    expect(t.chars[0]!.startsWith('Hello ')).toBe(true);
    expect(t.attrs[0]!.slice(0, 5)).toEqual([0x1f, 0x1f, 0x1f, 0x1f, 0x1f]);
    expect(t.chars[24]![79]).toBe('█');
    expect(t.cursor).toEqual({ x: 3, y: 1, visible: true });
    expect(mem.read(0x18000, 2)).toBe(0x1f48);
    expect(vga.vram[0]).toBe(0x48); // plane 0 at planar index 0
    expect(vga.vram[1]).toBe(0x1f); // plane 1
  });

  it('honours the CRTC start address (scrolling) and cursor disable', () => {
    const { mem, vga, crt } = setup({ textModeAtReset: true });
    mem.write(0x18000 + 160, 0x0741, 2); // 'A' at row 1
    crt(0x0c, 0);
    crt(0x0d, 80);
    crt(0x0a, 0x20);
    const t = vga.textScreen();
    expect(t.chars[0]![0]).toBe('A');
    expect(t.cursor.visible).toBe(false);
  });

  it('loads a font into plane 2 the way a VGA BIOS does, without touching text', () => {
    const { mem, vga, sr, gr } = setup({ textModeAtReset: true });
    mem.write(0x18000, 0x0741, 2);
    // get_font_access: plane 2, sequential, A0000 64K
    sr(0x02, 0x04); sr(0x04, 0x07); gr(0x04, 0x02); gr(0x05, 0x00); gr(0x06, 0x04);
    mem.write(0x0020, 0x7e, 1);
    expect(vga.vram[4 * 0x20 + 2]).toBe(0x7e);
    expect(mem.read(0x0020, 1)).toBe(0x7e); // read map 2
    // release_font_access
    sr(0x02, 0x03); sr(0x04, 0x03); gr(0x04, 0x00); gr(0x05, 0x10); gr(0x06, 0x0e);
    expect(vga.textScreen().chars[0]![0]).toBe('A');
    expect(mem.read(0x0020, 1)).toBe(0xff); // A0000 no longer decodes
  });

  it('planar write modes, latches and read mode 1', () => {
    const { mem, vga, sr, gr } = setup();
    sr(0x02, 0x0f); gr(0x06, 0x05); // graphics, A0000 64K
    gr(0x08, 0xff);
    gr(0x01, 0x0f); gr(0x00, 0x05); // set/reset planes 0 and 2
    mem.write(0, 0x00, 1);
    expect(Array.from(vga.vram.subarray(0, 4))).toEqual([0xff, 0x00, 0xff, 0x00]);
    gr(0x01, 0x00);
    gr(0x05, 0x02); // write mode 2
    gr(0x08, 0x0f); // bit mask: low nibble
    mem.read(0, 1); // load latches
    mem.write(0, 0x0a, 1);
    expect(Array.from(vga.vram.subarray(0, 4))).toEqual([0xf0, 0x0f, 0xf0, 0x0f]);
    gr(0x05, 0x01); // write mode 1 copies the latches
    mem.read(0, 1);
    mem.write(1, 0, 1);
    expect(Array.from(vga.vram.subarray(4, 8))).toEqual([0xf0, 0x0f, 0xf0, 0x0f]);
    gr(0x05, 0x08); // read mode 1: colour compare
    gr(0x02, 0x0a); gr(0x07, 0x0f);
    expect(mem.read(0, 1)).toBe(0x0f);
  });

  it('chain-4 addresses bytes linearly (mode 13h)', () => {
    const { mem, vga, sr, gr } = setup();
    sr(0x02, 0x0f); sr(0x04, 0x0e); gr(0x05, 0x40); gr(0x06, 0x05);
    mem.write(0x1234, 0x99, 1);
    expect(vga.vram[0x1234]).toBe(0x99);
  });

  it('attribute controller flip-flop resets on an input status read; misc output', () => {
    const { io } = setup();
    io.write(0x3c2, 0x67, 1);
    expect(io.read(0x3cc, 1)).toBe(0x67);
    io.write(0x3c0, 0x10, 1); // index
    io.write(0x3c0, 0x0c, 1); // data
    expect(io.read(0x3c1, 1)).toBe(0x0c);
    io.write(0x3c0, 0x11, 1); // index again
    io.read(0x3da, 1); // reset flip-flop
    io.write(0x3c0, 0x12, 1); // this is an index
    io.write(0x3c0, 0xff, 1);
    io.write(0x3c0, 0x12, 1);
    expect(io.read(0x3c1, 1)).toBe(0x3f);
    const a = io.read(0x3da, 1);
    const b = io.read(0x3da, 1);
    expect((a ^ b) & 0x09).toBe(0x09); // retrace toggles for polling loops
  });

  it('CRTC registers, with CR0-7 write protection', () => {
    const { io, crt } = setup();
    io.write(0x3c2, 0x01, 1);
    crt(0x0e, 0x12);
    io.write(0x3d4, 0x0e, 1);
    expect(io.read(0x3d5, 1)).toBe(0x12);
    crt(0x11, 0x80);
    crt(0x01, 0x55);
    io.write(0x3d4, 0x01, 1);
    expect(io.read(0x3d5, 1)).toBe(0x00);
  });

  it('DAC palette through the index/data ports', () => {
    const { io } = setup();
    io.write(0x3c8, 5, 1);
    for (const v of [1, 2, 3, 4, 5, 6]) io.write(0x3c9, v, 1);
    io.write(0x3c7, 5, 1);
    expect([0, 1, 2, 3, 4, 5].map(() => io.read(0x3c9, 1))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(io.read(0x3c8, 1)).toBe(7);
  });

  it('Bochs VBE DISPI: ID, capabilities, memory size, mode set', () => {
    const { io, vga } = setup();
    const dispi = (i: number, v?: number) => {
      io.write(0x1ce, i, 2);
      if (v === undefined) return io.read(0x1cf, 2);
      io.write(0x1cf, v, 2);
      return 0;
    };
    expect(dispi(0)).toBe(0xb0c5);
    dispi(0, 0xb0c0);
    expect(dispi(0)).toBe(0xb0c0);
    dispi(0, 0x1234);
    expect(dispi(0)).toBe(0xb0c0);
    expect(dispi(0x0a)).toBe(16); // 1 MiB in 64 KiB units
    dispi(4, 0x02); // GETCAPS
    expect([dispi(1), dispi(2), dispi(3)]).toEqual([16000, 12000, 32]);
    dispi(4, 0x00);
    dispi(1, 640); dispi(2, 480); dispi(3, 32);
    dispi(4, 0x41); // enabled, LFB
    expect(vga.info().mode).toBe('vbe');
    expect(dispi(2)).toBe(409); // clamped to what 1 MiB holds at 2560 bytes a line
    expect(dispi(7)).toBe(409);
  });

  it('state round-trips; video memory is kept by machine snapshots, which see every write to it', () => {
    const a = setup({ textModeAtReset: true });
    a.vga.vramDirty.clean();
    a.mem.write(0x18000, 0x0758, 2);
    // Odd/even text mode: the character and its attribute in planes 0 and 1 of one page.
    expect(Array.from(a.vga.vramDirty.dirtyPages())).toEqual([0]);
    const s = JSON.parse(JSON.stringify(a.vga.saveState()));
    const b = setup();
    b.vga.loadState(s);
    b.vga.vram.set(a.vga.vram);
    expect(b.vga.textScreen().chars[0]![0]).toBe('X');
  });
});
