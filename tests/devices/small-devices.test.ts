import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/devices/io-bus.js';
import { PhysicalMemory } from '../../src/memory/physical-memory.js';
import { EventLog } from '../../src/events/machine-events.js';
import { PostPort } from '../../src/devices/post-port.js';
import { Port92 } from '../../src/devices/port92.js';
import { PcTestdev } from '../../src/devices/pc-testdev.js';
import { PciTestdev } from '../../src/devices/pci/pci-testdev.js';
import { cfgRead, cfgWrite, makeBoard } from './pci-support.js';

describe('POST port 0x80', () => {
  it('keeps the last code, logs a post event, reads all ones', () => {
    const io = new IoBus();
    const log = new EventLog();
    log.icount = () => 42;
    const codes: number[] = [];
    const post = new PostPort(io, { log, onCode: (c) => codes.push(c) });
    io.write(0x80, 0x1234, 2);
    io.write(0x80, 0xaa, 1);
    expect(post.lastCode).toBe(0xaa);
    expect(codes).toEqual([0x34, 0xaa]);
    expect(log.recent(['post'])).toEqual([{ kind: 'post', icount: 42, code: 0x34 }, { kind: 'post', icount: 42, code: 0xaa }]);
    expect(io.read(0x80, 1)).toBe(0xff);
    expect(post.info()).toEqual({ port: 0x80, last: 0xaa, count: 2 });
  });
});

describe('port 0x92', () => {
  it('bit 1 gates A20, a rising bit 0 resets, reset clears bit 0 only', () => {
    const io = new IoBus();
    const a20: boolean[] = [];
    const resets: number[] = [];
    const p = new Port92(io, { setA20: (e) => a20.push(e), onReset: () => resets.push(1) });
    io.write(0x92, 0x02, 1);
    expect(a20).toEqual([true]);
    expect(io.read(0x92, 1)).toBe(0x02);
    io.write(0x92, 0x03, 1);
    expect(resets).toEqual([1]);
    io.write(0x92, 0x03, 1); // still high: no new reset
    expect(resets).toEqual([1]);
    p.reset();
    expect(io.read(0x92, 1)).toBe(0x02);
    io.write(0x92, 0x00, 1);
    expect(a20.at(-1)).toBe(false);
  });
});

describe('pc-testdev', () => {
  function setup() {
    const io = new IoBus();
    const phys = new PhysicalMemory(4096);
    const irqs: [number, boolean][] = [];
    const flushes: number[] = [];
    const dev = new PcTestdev(io, { phys, setIrq: (l, v) => irqs.push([l, v]), onFlushPage: (p) => flushes.push(p) });
    return { io, phys, dev, irqs, flushes };
  }

  it('0xE0 is a 32-bit register with byte lanes; 0xE8 aliases it', () => {
    const { io } = setup();
    io.write(0xe0, 0x12345678, 4);
    expect(io.read(0xe0, 4)).toBe(0x12345678);
    expect(io.read(0xe2, 2)).toBe(0x1234);
    expect(io.read(0xe1, 1)).toBe(0x56);
    io.write(0xe3, 0xab, 1);
    expect(io.read(0xe0, 4)).toBe(0xab345678);
    expect(io.read(0xe8, 4)).toBe(0xab345678);
    io.write(0xe9, 0xcd, 1);
    expect(io.read(0xe0, 4)).toBe(0xab34cd78);
  });

  it('0xE4 flushes a page; 0x2000+n drives interrupt line n', () => {
    const { io, irqs, flushes } = setup();
    io.write(0xe4, 0x00123456, 4);
    expect(flushes).toEqual([0x00123000]);
    io.write(0x2000 + 10, 1, 1);
    io.write(0x2000 + 10, 0, 1);
    io.write(0x2000 + 17, 5, 1);
    expect(irqs).toEqual([[10, true], [10, false], [17, true]]);
  });

  it('64 KiB of scratch memory at 0xFF000000', () => {
    const { phys } = setup();
    phys.write32(0xff000100, 0xdeadbeef);
    expect(phys.read32(0xff000100) >>> 0).toBe(0xdeadbeef);
    expect(phys.read8(0xff00ffff)).toBe(0);
  });
});

describe('pci-testdev', () => {
  it('has Red Hat\'s IDs and a memory and an I/O BAR', () => {
    const b = makeBoard();
    new PciTestdev(b.bus, { slot: 3 });
    expect(cfgRead(b.io, 3, 0, 0, 4)).toBe(0x00051b36);
    expect(cfgRead(b.io, 3, 0, 8, 4) >>> 8).toBe(0xff0000);
    cfgWrite(b.io, 3, 0, 0x10, 0xffffffff, 4);
    cfgWrite(b.io, 3, 0, 0x14, 0xffffffff, 4);
    expect(cfgRead(b.io, 3, 0, 0x10, 4)).toBe(0xfffff000);
    expect(cfgRead(b.io, 3, 0, 0x14, 4)).toBe(0xffffff01);
  });

  it('selects a test by writing its number and counts matching accesses', () => {
    const b = makeBoard();
    const t = new PciTestdev(b.bus, { slot: 3 });
    cfgWrite(b.io, 3, 0, 0x10, 0xfe000000, 4);
    cfgWrite(b.io, 3, 0, 0x14, 0xc100, 4);
    cfgWrite(b.io, 3, 0, 0x04, 0x0003, 2);
    const hdr = (read: (o: number) => number) => {
      const bytes = Array.from({ length: 48 }, (_, i) => read(i));
      const name = String.fromCharCode(...bytes.slice(16, bytes.indexOf(0, 16)));
      const le = (o: number) => bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24);
      return { test: bytes[0], width: bytes[1], offset: le(4), data: bytes[8], count: le(12), name };
    };
    // port I/O, test 2 (datamatch)
    b.io.write(0xc100, 2, 1);
    const h = hdr((o) => b.io.read(0xc100 + o, 1));
    expect(h).toEqual({ test: 5, width: 1, offset: 128 + 5, data: 0xfa, count: 0, name: 'portio-datamatch-eventfd' });
    b.io.write(0xc100 + h.offset, 0xfa, 1);
    b.io.write(0xc100 + h.offset, 0xfb, 1); // wrong data
    b.io.write(0xc100 + h.offset, 0xfa, 2); // wrong width
    expect(t.count).toBe(1);
    // MMIO, test 1 (wildcard)
    b.phys.write8(0xfe000000, 1);
    const m = hdr((o) => b.phys.read8(0xfe000000 + o));
    expect(m).toMatchObject({ test: 1, offset: 2048 + 1, data: 0xce, name: 'mmio-wildcard-eventfd' });
    b.phys.write32(0xfe000000 + m.offset, 0x12345678);
    expect(t.count).toBe(1);
  });
});
