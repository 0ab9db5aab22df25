// I/O APIC against the 82093AA datasheet and QEMU 7.2's pc machine: registers, edge and
// level pins, Remote IRR and EOI (by the local APIC's broadcast and by the version-0x20 EOI
// register), masking, the ISA IRQ wiring, and the message it sends to a real local APIC.
import { describe, it, expect } from 'vitest';
import {
  IOAPIC_DEFAULT_BASE, IOAPIC_EOI, IOAPIC_IOREGSEL, IOAPIC_IOWIN, IoApic, describeIoApic, isaIrqLine, isaIrqToGsi,
} from '../../src/devices/io-apic.js';
import { APIC_EOI, APIC_SVR, LocalApic, type ApicMessage } from '../../src/devices/local-apic.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { PhysicalMemory } from '../../src/memory/physical-memory.js';
import { IoBus } from '../../src/devices/io-bus.js';
import { DualPic } from '../../src/devices/pic8259.js';

const MASKED = 1 << 16;
const LEVEL = 1 << 15;
const REMOTE_IRR = 1 << 14;

function setup(opts: { version?: number } = {}) {
  const sent: ApicMessage[] = [];
  const bus = { deliverMessage: (m: ApicMessage) => (sent.push(m), true) };
  const io = new IoApic(bus, { version: opts.version });
  const reg = (i: number) => (io.write(IOAPIC_IOREGSEL, i, 4), io.read(IOAPIC_IOWIN, 4) >>> 0);
  const setReg = (i: number, v: number) => {
    io.write(IOAPIC_IOREGSEL, i, 4);
    io.write(IOAPIC_IOWIN, v >>> 0, 4);
  };
  const rte = (pin: number, lo: number, hi = 0) => {
    setReg(0x11 + 2 * pin, hi);
    setReg(0x10 + 2 * pin, lo);
  };
  return { io, sent, reg, setReg, rte };
}

describe('IoApic registers', () => {
  it('has QEMU pc reset values: ID 0, version 0x20 with 24 entries, every entry masked', () => {
    const { reg } = setup();
    expect(reg(0x00)).toBe(0);
    expect(reg(0x01)).toBe(0x00170020);
    expect(reg(0x02)).toBe(0);
    for (let pin = 0; pin < 24; pin++) {
      expect(reg(0x10 + 2 * pin)).toBe(MASKED);
      expect(reg(0x11 + 2 * pin)).toBe(0);
    }
    expect(reg(0x40)).toBe(0); // beyond the table
  });

  it('writes the 4-bit ID (mirrored in the arbitration register); version and arbitration are read-only', () => {
    const { reg, setReg } = setup();
    setReg(0x00, 0xff000000);
    expect(reg(0x00)).toBe(0x0f000000);
    expect(reg(0x02)).toBe(0x0f000000);
    setReg(0x01, 0);
    setReg(0x02, 0);
    expect(reg(0x01)).toBe(0x00170020);
    expect(reg(0x02)).toBe(0x0f000000);
  });

  it('keeps the read-only and reserved bits of a redirection entry at zero', () => {
    const { reg, setReg } = setup();
    setReg(0x10, 0xffffffff);
    expect(reg(0x10)).toBe(0x1afff); // no delivery status, no remote IRR, nothing above bit 16
    setReg(0x11, 0xffffffff);
    expect(reg(0x11)).toBe(0xff000000);
  });

  it('reads back IOREGSEL, needs 32-bit IOWIN accesses and repeats the window every 256 bytes', () => {
    const { io, reg } = setup();
    io.write(IOAPIC_IOREGSEL, 0x101, 4);
    expect(io.read(IOAPIC_IOREGSEL, 4)).toBe(0x01);
    expect(io.read(IOAPIC_IOWIN, 2)).toBe(0);
    expect(io.read(IOAPIC_IOWIN + 0x100, 4)).toBe(0x00170020);
    expect(reg(0x01)).toBe(0x00170020);
  });

  it('is mapped at 0xFEC00000', () => {
    const phys = new PhysicalMemory(1 << 16);
    new IoApic({ deliverMessage: () => true }, { phys });
    phys.write32(IOAPIC_DEFAULT_BASE, 1);
    expect(phys.read32(IOAPIC_DEFAULT_BASE + 0x10)).toBe(0x00170020);
  });

  it('rejects versions QEMU does not model', () => {
    expect(() => new IoApic({ deliverMessage: () => true }, { version: 0x13 })).toThrow(RangeError);
  });
});

describe('IoApic delivery', () => {
  it('edge pin: each rising edge sends one message with the entry fields', () => {
    const { io, sent, rte } = setup();
    rte(4, 0x800 | (1 << 8) | 0x34, 0x03000000); // logical, lowest priority, vector 0x34, dest 3
    io.setIrq(4, true);
    io.setIrq(4, true); // no new edge
    io.setIrq(4, false);
    io.setIrq(4, true);
    expect(sent).toEqual([
      { dest: 3, logical: true, deliveryMode: 1, vector: 0x34, level: false },
      { dest: 3, logical: true, deliveryMode: 1, vector: 0x34, level: false },
    ]);
  });

  it('edge pin: an edge while masked is lost (82093AA), not delivered on unmask', () => {
    const { io, sent, rte } = setup();
    rte(1, MASKED | 0x31);
    io.setIrq(1, true);
    rte(1, 0x31);
    expect(sent).toHaveLength(0);
    io.setIrq(1, false);
    io.setIrq(1, true);
    expect(sent).toHaveLength(1);
  });

  it('level pin: Remote IRR holds further messages until the EOI; a line still high asks again', () => {
    const { io, sent, rte, reg } = setup();
    rte(10, LEVEL | 0x4a);
    io.setIrq(10, true);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.level).toBe(true);
    expect(reg(0x10 + 20) & REMOTE_IRR).toBe(REMOTE_IRR);
    io.setIrq(10, false);
    io.setIrq(10, true);
    expect(sent).toHaveLength(1);
    io.eoiBroadcast(0x4b); // another vector: nothing
    expect(reg(0x10 + 20) & REMOTE_IRR).toBe(REMOTE_IRR);
    io.eoiBroadcast(0x4a);
    expect(sent).toHaveLength(2); // still high
    io.setIrq(10, false);
    io.eoiBroadcast(0x4a);
    expect(reg(0x10 + 20) & REMOTE_IRR).toBe(0);
    expect(sent).toHaveLength(2);
  });

  it('level pin: a request that arrives while masked is delivered when unmasked', () => {
    const { io, sent, rte } = setup();
    rte(11, MASKED | LEVEL | 0x4c);
    io.setIrq(11, true);
    expect(sent).toHaveLength(0);
    rte(11, LEVEL | 0x4c);
    expect(sent).toHaveLength(1);
  });

  it('level pin dropped before unmasking sends nothing', () => {
    const { io, sent, rte } = setup();
    rte(11, MASKED | LEVEL | 0x4c);
    io.setIrq(11, true);
    io.setIrq(11, false);
    rte(11, LEVEL | 0x4c);
    expect(sent).toHaveLength(0);
  });

  it('the EOI register (version 0x20) clears Remote IRR; version 0x11 has none', () => {
    const a = setup();
    a.rte(9, LEVEL | 0x59);
    a.io.setIrq(9, true);
    a.io.setIrq(9, false);
    a.io.write(IOAPIC_EOI, 0x59, 4);
    expect(a.reg(0x10 + 18) & REMOTE_IRR).toBe(0);
    const b = setup({ version: 0x11 });
    expect(b.reg(0x01)).toBe(0x00170011);
    b.rte(9, LEVEL | 0x59);
    b.io.setIrq(9, true);
    b.io.setIrq(9, false);
    b.io.write(IOAPIC_EOI, 0x59, 4);
    expect(b.reg(0x10 + 18) & REMOTE_IRR).toBe(REMOTE_IRR);
  });

  it('rewriting a level entry as edge clears Remote IRR (QEMU, for Linux EOI emulation)', () => {
    const { io, rte, reg } = setup();
    rte(5, LEVEL | 0x45);
    io.setIrq(5, true);
    rte(5, MASKED | 0x45);
    expect(reg(0x10 + 10) & REMOTE_IRR).toBe(0);
  });

  it('reset masks every entry; input levels stay (a high line needs a new edge)', () => {
    const { io, sent, rte } = setup();
    rte(3, 0x43);
    io.setIrq(3, true);
    io.reset();
    rte(3, 0x43);
    io.setIrq(3, true);
    expect(sent).toHaveLength(1);
    expect(io.info().pins[3]!.level).toBe(true);
  });

  it('saves and restores its state', () => {
    const a = setup();
    a.rte(7, LEVEL | 0x47, 0x01000000);
    a.io.setIrq(7, true);
    const b = setup();
    b.io.loadState(JSON.parse(JSON.stringify(a.io.saveState())));
    expect(b.io.info()).toEqual(a.io.info());
    b.io.eoiBroadcast(0x47);
    expect(b.sent).toHaveLength(1); // still high after the EOI
  });
});

describe('IoApic wiring on the PC', () => {
  it('maps ISA IRQ 0 to pin 2 and the others 1:1', () => {
    expect(isaIrqToGsi(0)).toBe(2);
    for (let irq = 1; irq < 16; irq++) expect(isaIrqToGsi(irq)).toBe(irq);
  });

  it('an ISA IRQ line drives the 8259 pair and the I/O APIC together; IRQ 2 does not exist', () => {
    const bus = new IoBus();
    const intr: boolean[] = [];
    const pic = new DualPic(bus, { onIntr: (l) => intr.push(l) });
    const { io, sent, rte } = setup();
    rte(2, 0x30);
    const irq0 = isaIrqLine(pic, io, 0);
    irq0.set(true);
    expect(sent.map((m) => m.vector)).toEqual([0x30]);
    expect(pic.info().lines[0]!.level).toBe(true);
    expect(() => isaIrqLine(pic, io, 2)).toThrow(RangeError);
    expect(() => isaIrqLine(pic, io, 16)).toThrow(RangeError);
  });

  it('delivers through a real local APIC: fixed and level with EOI broadcast, NMI, ExtINT', () => {
    const clock = new VirtualClock(() => 0, 1);
    let nmis = 0;
    const pic = { acknowledge: () => 0x28 };
    const lapic = new LocalApic(clock, { onNmi: () => nmis++, extInt: pic });
    const io = new IoApic(lapic);
    lapic.onEoiBroadcast = (v) => io.eoiBroadcast(v);
    lapic.write(APIC_SVR, 0x1ff, 4);
    const sel = (i: number, v: number) => {
      io.write(IOAPIC_IOREGSEL, i, 4);
      io.write(IOAPIC_IOWIN, v >>> 0, 4);
    };
    sel(0x10 + 2 * 9, LEVEL | 0x59); // pin 9 level, physical dest 0
    io.setIrq(9, true);
    expect(lapic.acknowledge()).toBe(0x59);
    lapic.write(APIC_EOI, 0, 4); // broadcast: Remote IRR cleared, the line is still high
    expect(lapic.intrLevel).toBe(true);
    io.setIrq(9, false);
    expect(lapic.acknowledge()).toBe(0x59);
    lapic.write(APIC_EOI, 0, 4);
    expect(io.info().pins[9]!.remoteIrr).toBe(false);
    expect(lapic.intrLevel).toBe(false);
    sel(0x11 + 2 * 4, 0x05000000); // destination APIC 5: nobody
    sel(0x10 + 2 * 4, 0x44);
    io.setIrq(4, true);
    expect(lapic.intrLevel).toBe(false);
    sel(0x10 + 2 * 6, 4 << 8); // NMI
    io.setIrq(6, true);
    expect(nmis).toBe(1);
    sel(0x10 + 2 * 1, 7 << 8); // ExtINT: the vector comes from the 8259
    io.setIrq(1, true);
    expect(lapic.intrLevel).toBe(true);
    expect(lapic.acknowledge()).toBe(0x28);
    expect(lapic.intrLevel).toBe(false);
  });
});

describe('IoApic for the debugger', () => {
  it('reports its state as JSON-safe info and QEMU-style `info ioapic` text', () => {
    const { io, rte } = setup();
    rte(9, LEVEL | 0x800 | 0x59, 0x01000000);
    io.setIrq(9, true);
    const info = io.info();
    expect(() => JSON.stringify(info)).not.toThrow();
    expect(info.pins[9]).toMatchObject({ low: REMOTE_IRR | LEVEL | 0x800 | 0x59, high: 0x01000000, remoteIrr: true, level: true, deliveries: 1 });
    const text = describeIoApic(info);
    expect(text).toContain('ioapic0: ver=0x20 id=0x00 sel=0x22');
    expect(text).toContain('pin 9  0x010000000000c859 dest=1 vec=89  active-hi level        fixed  logical line=1 remote-irr (1)');
    expect(text).toContain('Remote IRR 9');
  });
});
