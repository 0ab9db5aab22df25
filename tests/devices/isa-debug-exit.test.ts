import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/devices/io-bus.js';
import { IsaDebugExit, debugExitCode } from '../../src/devices/isa-debug-exit.js';

function setup() {
  const io = new IoBus();
  const codes: number[] = [];
  const dev = new IsaDebugExit(io, { onExit: (c) => codes.push(c) });
  return { io, codes, dev };
}

describe('IsaDebugExit', () => {
  it('a byte write of 0x31 exits with (0x31 << 1) | 1 = 99', () => {
    const { io, codes } = setup();
    io.write(0xf4, 0x31, 1);
    expect(codes).toEqual([0x63]);
    expect(codes[0]! % 256).toBe(99);
  });

  it('takes any access size and keeps the full code (the CLI takes it mod 256)', () => {
    const { io, codes } = setup();
    io.write(0xf4, 0x10, 4);
    io.write(0xf4, 0x0100, 2);
    io.write(0xf4, 0xffffffff, 4);
    expect(codes).toEqual([0x21, 0x201, 0x1ffffffff]);
    expect(codes.map((c) => c % 256)).toEqual([0x21, 0x01, 0xff]);
    expect(debugExitCode(0)).toBe(1);
  });

  it('claims 0xF4-0xF7 (iosize 4) and reads as 0', () => {
    const { io, codes, dev } = setup();
    expect(io.ownerOf(0xf7)).toBe('isa-debug-exit');
    expect(io.ownerOf(0xf8)).toBeUndefined();
    io.write(0xf6, 2, 1);
    expect(codes).toEqual([5]);
    expect(io.read(0xf4, 1)).toBe(0);
    expect(io.read(0xf4, 4)).toBe(0);
    expect(dev.info().lastCode).toBe(5);
  });
});
