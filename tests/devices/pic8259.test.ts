import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/devices/io-bus.js';
import { DualPic } from '../../src/devices/pic8259.js';
import { EventLog } from '../../src/events/machine-events.js';

/** A PC's BIOS-style init: master vectors 0x20-0x27, slave 0x28-0x2F, 8086 mode. */
function setup(opts: { icw4?: number; icw1?: number } = {}) {
  const io = new IoBus();
  const intr: boolean[] = [];
  const pic = new DualPic(io, { onIntr: (l) => intr.push(l) });
  const icw1 = opts.icw1 ?? 0x11;
  const icw4 = opts.icw4 ?? 0x01;
  io.write(0x20, icw1, 1);
  io.write(0x21, 0x20, 1);
  io.write(0x21, 0x04, 1);
  io.write(0x21, icw4, 1);
  io.write(0xa0, icw1, 1);
  io.write(0xa1, 0x28, 1);
  io.write(0xa1, 0x02, 1);
  io.write(0xa1, icw4, 1);
  return { io, pic, intr };
}

const readIsr = (io: IoBus, cmd = 0x20) => (io.write(cmd, 0x0b, 1), io.read(cmd, 1));
const readIrr = (io: IoBus, cmd = 0x20) => (io.write(cmd, 0x0a, 1), io.read(cmd, 1));
const eoi = (io: IoBus, cmd = 0x20) => io.write(cmd, 0x20, 1);

describe('DualPic (8259A pair)', () => {
  it('initialises through ICW1-ICW4 and then takes OCW1 as the mask', () => {
    const { io, pic } = setup();
    expect(io.read(0x21, 1)).toBe(0x00); // ICW1 cleared the IMR
    io.write(0x21, 0xfb, 1);
    io.write(0xa1, 0xff, 1);
    expect(io.read(0x21, 1)).toBe(0xfb);
    expect(io.read(0xa1, 1)).toBe(0xff);
    const info = pic.info();
    expect(info.master.vectorBase).toBe(0x20);
    expect(info.slave.vectorBase).toBe(0x28);
    expect(info.master.initialized).toBe(true);
    expect(info.master.mode8086).toBe(true);
  });

  it('skips ICW3 in single mode and ICW4 when ICW1 does not ask for it', () => {
    const io = new IoBus();
    const pic = new DualPic(io);
    io.write(0x20, 0x12, 1); // single, no ICW4
    io.write(0x21, 0x40, 1); // ICW2
    io.write(0x21, 0x5a, 1); // already OCW1
    expect(io.read(0x21, 1)).toBe(0x5a);
    expect(pic.info().master.vectorBase).toBe(0x40);
  });

  it('delivers an edge-triggered request and tracks IRR/ISR through INTA and EOI', () => {
    const { io, pic, intr } = setup();
    pic.setIrq(0, true);
    expect(intr).toEqual([true]);
    expect(readIrr(io)).toBe(0x01);
    expect(pic.peekVector()).toBe(0x20);
    expect(pic.acknowledge()).toBe(0x20);
    expect(intr).toEqual([true, false]);
    expect(readIrr(io)).toBe(0x00);
    expect(readIsr(io)).toBe(0x01);
    eoi(io);
    expect(readIsr(io)).toBe(0x00);
    // The line is still high: an edge-triggered input needs a new rising edge.
    expect(pic.intrLevel).toBe(false);
    pic.setIrq(0, false);
    pic.setIrq(0, true);
    expect(pic.intrLevel).toBe(true);
  });

  it('latches a masked edge and delivers it when unmasked', () => {
    const { io, pic } = setup();
    io.write(0x21, 0x02, 1);
    pic.setIrq(1, true);
    pic.setIrq(1, false);
    expect(pic.intrLevel).toBe(false);
    expect(readIrr(io)).toBe(0x02);
    io.write(0x21, 0x00, 1);
    expect(pic.intrLevel).toBe(true);
    expect(pic.acknowledge()).toBe(0x21);
  });

  it('resolves priority: lower IR first, higher priority nests, lower waits for EOI', () => {
    const { io, pic } = setup();
    pic.setIrq(3, true);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x21);
    expect(pic.intrLevel).toBe(false); // IR3 is blocked by IR1 in service
    pic.setIrq(0, true);
    expect(pic.intrLevel).toBe(true); // IR0 has higher priority and nests
    expect(pic.acknowledge()).toBe(0x20);
    expect(readIsr(io)).toBe(0x03);
    eoi(io); // non-specific EOI clears the highest-priority ISR bit (IR0)
    expect(readIsr(io)).toBe(0x02);
    expect(pic.intrLevel).toBe(false);
    eoi(io);
    expect(pic.intrLevel).toBe(true);
    expect(pic.acknowledge()).toBe(0x23);
  });

  it('specific EOI clears the named level only', () => {
    const { io, pic } = setup();
    pic.setIrq(4, true);
    pic.acknowledge();
    pic.setIrq(1, true);
    pic.acknowledge();
    expect(readIsr(io)).toBe(0x12);
    io.write(0x20, 0x64, 1); // specific EOI, level 4
    expect(readIsr(io)).toBe(0x02);
  });

  it('rotate on non-specific EOI makes the serviced level the lowest priority', () => {
    const { io, pic } = setup();
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x21);
    io.write(0x20, 0xa0, 1); // rotate on non-specific EOI
    expect(readIsr(io)).toBe(0x00);
    expect(pic.info().master.lowestPriority).toBe(1);
    // Now IR2..IR7, IR0, IR1 in that order: IR4 beats IR0.
    pic.setIrq(0, true);
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x24);
  });

  it('set-priority and rotate-on-specific-EOI commands reorder the levels', () => {
    const { io, pic } = setup();
    io.write(0x20, 0xc4, 1); // set priority: IR4 lowest, IR5 highest
    pic.setIrq(3, true);
    pic.setIrq(6, true);
    expect(pic.acknowledge()).toBe(0x26);
    io.write(0x20, 0xe6, 1); // rotate on specific EOI of IR6: IR7 highest
    expect(readIsr(io)).toBe(0x00);
    expect(pic.info().master.lowestPriority).toBe(6);
    pic.setIrq(5, true);
    // IR7 > IR0 > ... > IR3 > IR4 > IR5: IR3 wins over IR5.
    expect(pic.acknowledge()).toBe(0x23);
  });

  it('cascades slave requests through master IR2', () => {
    const { io, pic } = setup();
    pic.setIrq(12, true);
    expect(pic.intrLevel).toBe(true);
    expect(readIrr(io)).toBe(0x04);
    expect(readIrr(io, 0xa0)).toBe(0x10);
    expect(pic.acknowledge()).toBe(0x2c);
    expect(readIsr(io)).toBe(0x04);
    expect(readIsr(io, 0xa0)).toBe(0x10);
    eoi(io, 0xa0);
    eoi(io);
    expect(readIsr(io)).toBe(0x00);
    expect(readIsr(io, 0xa0)).toBe(0x00);
    const line = pic.info().lines[12]!;
    expect(line.raised).toBe(1);
    expect(line.delivered).toBe(1);
  });

  it('the slave mask blocks slave lines without touching the master', () => {
    const { io, pic } = setup();
    io.write(0xa1, 0x01, 1);
    pic.setIrq(8, true);
    expect(pic.intrLevel).toBe(false);
    io.write(0xa1, 0x00, 1);
    expect(pic.acknowledge()).toBe(0x28);
  });

  it('answers a spurious INTA on the master with IR7 and no ISR bit', () => {
    const { io, pic } = setup();
    pic.setLevelTriggered(1 << 5);
    pic.setIrq(5, true);
    expect(pic.intrLevel).toBe(true);
    pic.setIrq(5, false); // the request goes away before the CPU acknowledges
    expect(pic.acknowledge()).toBe(0x27);
    expect(readIsr(io)).toBe(0x00);
    expect(pic.info().spurious.master).toBe(1);
  });

  it('answers a spurious slave request with IR15 while master IR2 is in service', () => {
    const { io, pic } = setup();
    pic.setIrq(10, true);
    io.write(0xa1, 0x04, 1); // mask IR10 after the slave raised INT: master IR2 stays latched
    expect(pic.intrLevel).toBe(true);
    expect(pic.acknowledge()).toBe(0x2f);
    expect(readIsr(io)).toBe(0x04);
    expect(readIsr(io, 0xa0)).toBe(0x00);
    expect(pic.info().spurious.slave).toBe(1);
  });

  it('automatic EOI leaves ISR clear after INTA', () => {
    const { io, pic } = setup({ icw4: 0x03 });
    expect(pic.info().master.autoEoi).toBe(true);
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x23);
    expect(readIsr(io)).toBe(0x00);
    pic.setIrq(4, true); // nothing in service blocks it
    expect(pic.acknowledge()).toBe(0x24);
  });

  it('rotate in automatic EOI mode rotates priorities at each INTA', () => {
    const { io, pic } = setup({ icw4: 0x03 });
    io.write(0x20, 0x80, 1); // set rotate in AEOI
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x20);
    pic.setIrq(1, true);
    pic.setIrq(0, false);
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x21); // IR0 is now the lowest
  });

  it('level-triggered lines (ELCR) follow the line and re-request after EOI', () => {
    const { io, pic } = setup();
    pic.setLevelTriggered(1 << 11);
    pic.setIrq(11, true);
    expect(pic.acknowledge()).toBe(0x2b);
    expect(readIrr(io, 0xa0)).toBe(0x08); // still requesting while the line is high
    eoi(io, 0xa0);
    eoi(io);
    expect(pic.intrLevel).toBe(true);
    expect(pic.acknowledge()).toBe(0x2b);
    pic.setIrq(11, false);
    expect(readIrr(io, 0xa0)).toBe(0x00);
    eoi(io, 0xa0);
    eoi(io);
    expect(pic.intrLevel).toBe(false);
    expect(pic.info().lines[11]!.trigger).toBe('level');
    expect(pic.levelTriggered()).toBe(1 << 11);
  });

  it('ICW1.LTIM makes every line of that chip level-sensitive', () => {
    const { io, pic } = setup({ icw1: 0x19 });
    pic.setIrq(6, true);
    pic.setIrq(6, false);
    expect(readIrr(io)).toBe(0x00);
    expect(pic.intrLevel).toBe(false);
  });

  it('ICW1 forgets an edge line\'s level, as QEMU: no request by itself, but a device driving it high again latches one', () => {
    const io = new IoBus();
    const pic = new DualPic(io);
    pic.setIrq(1, true);
    io.write(0x20, 0x11, 1);
    io.write(0x21, 0x08, 1);
    io.write(0x21, 0x04, 1);
    io.write(0x21, 0x01, 1);
    expect(pic.intrLevel).toBe(false);
    pic.setIrq(1, true); // the device asserts again (QEMU's devices do, e.g. the UART on register accesses)
    expect(pic.acknowledge()).toBe(0x09);
  });

  it('poll command returns 0x80|level and acknowledges it', () => {
    const { io, pic } = setup();
    pic.setIrq(5, true);
    io.write(0x20, 0x0c, 1); // OCW3 poll
    expect(io.read(0x20, 1)).toBe(0x85);
    expect(readIsr(io)).toBe(0x20);
    io.write(0x20, 0x0c, 1);
    expect(io.read(0x20, 1)).toBe(0x00); // nothing else pending
  });

  it('special mask mode lets lower levels through while the in-service level is masked', () => {
    const { io, pic } = setup();
    pic.setIrq(3, true);
    pic.acknowledge();
    pic.setIrq(5, true);
    expect(pic.intrLevel).toBe(false);
    io.write(0x20, 0x68, 1); // OCW3: set special mask mode
    io.write(0x21, 0x08, 1); // mask IR3
    expect(pic.intrLevel).toBe(true);
    expect(pic.acknowledge()).toBe(0x25);
    io.write(0x20, 0x48, 1); // reset special mask mode
    expect(pic.info().master.specialMask).toBe(false);
  });

  it('special fully nested mode lets a higher slave request through while IR2 is in service', () => {
    const { pic } = setup({ icw4: 0x11 });
    pic.setIrq(12, true);
    expect(pic.acknowledge()).toBe(0x2c);
    pic.setIrq(9, true);
    expect(pic.intrLevel).toBe(true);
    expect(pic.acknowledge()).toBe(0x29);
    const normal = setup();
    normal.pic.setIrq(12, true);
    normal.pic.acknowledge();
    normal.pic.setIrq(9, true);
    expect(normal.pic.intrLevel).toBe(false);
  });

  it('logs line edges with the instruction count and counts raises', () => {
    const io = new IoBus();
    const log = new EventLog();
    let icount = 100;
    log.icount = () => icount;
    const pic = new DualPic(io, { log });
    pic.irqLine(4).set(true);
    pic.irqLine(4).set(true); // no edge, no event
    icount = 250;
    pic.irqLine(4).set(false);
    expect(log.recent(['irq-raise', 'irq-lower'])).toEqual([
      { kind: 'irq-raise', icount: 100, line: 4 },
      { kind: 'irq-lower', icount: 250, line: 4 },
    ]);
    expect(pic.info().lines[4]!.raised).toBe(1);
  });

  it('rejects IRQ 2 and out-of-range lines', () => {
    const { pic } = setup();
    expect(() => pic.setIrq(2, true)).toThrow(RangeError);
    expect(() => pic.irqLine(16)).toThrow(RangeError);
  });

  it('ELCR ports, when claimed, mask the PIIX reserved bits', () => {
    const io = new IoBus();
    const pic = new DualPic(io, { elcrPorts: true });
    io.write(0x4d0, 0xffff, 2);
    expect(io.read(0x4d0, 1)).toBe(0xf8);
    expect(io.read(0x4d1, 1)).toBe(0xde);
    expect(pic.levelTriggered()).toBe(0xdef8);
  });

  it('saves and restores its state, reporting INTR on load', () => {
    const a = setup();
    a.pic.setIrq(1, true);
    a.pic.setIrq(12, true);
    a.pic.acknowledge();
    const state = JSON.parse(JSON.stringify(a.pic.saveState()));
    const b = setup();
    b.pic.loadState(state);
    expect(b.intr.at(-1)).toBe(a.pic.intrLevel);
    expect(b.pic.info()).toEqual(a.pic.info());
    expect(b.pic.acknowledge()).toBe(a.pic.acknowledge());
  });

  it('reset returns both chips to the uninitialised state', () => {
    const { io, pic } = setup();
    io.write(0x21, 0xff, 1);
    pic.setLevelTriggered(0x0800);
    pic.reset();
    expect(io.read(0x21, 1)).toBe(0);
    expect(pic.levelTriggered()).toBe(0);
    expect(pic.info().master.vectorBase).toBe(0);
  });
});
