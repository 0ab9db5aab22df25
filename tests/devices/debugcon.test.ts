import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/devices/io-bus.js';
import { DebugCon } from '../../src/devices/debugcon.js';

describe('DebugCon', () => {
  it('passes every written byte to onOutput', () => {
    const io = new IoBus();
    const out: number[] = [];
    const con = new DebugCon(io, { onOutput: (b) => out.push(b) });
    for (const c of 'ok\n') io.write(0xe9, c.charCodeAt(0), 1);
    expect(String.fromCharCode(...out)).toBe('ok\n');
    expect(con.info().bytes).toBe(3);
  });

  it('reads back 0xE9 so guests can detect it', () => {
    const io = new IoBus();
    new DebugCon(io);
    expect(io.read(0xe9, 1)).toBe(0xe9);
    // Wider accesses: only the first byte is the device, the next ports are unclaimed.
    expect(io.read(0xe9, 2)).toBe(0xffe9);
  });

  it('a word write outputs its low byte only', () => {
    const io = new IoBus();
    const out: number[] = [];
    new DebugCon(io, { onOutput: (b) => out.push(b) });
    io.write(0xe9, 0x4241, 2);
    expect(out).toEqual([0x41]);
  });

  it('can sit on another port beside the first', () => {
    const io = new IoBus();
    const a: number[] = [];
    const b: number[] = [];
    new DebugCon(io, { onOutput: (x) => a.push(x) });
    new DebugCon(io, { port: 0x402, onOutput: (x) => b.push(x) });
    io.write(0x402, 0x58, 1);
    expect(a).toEqual([]);
    expect(b).toEqual([0x58]);
    expect(io.read(0x402, 1)).toBe(0xe9);
  });
});
