import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/devices/io-bus.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { Mc146818Rtc } from '../../src/devices/mc146818-rtc.js';

const S = 1_000_000_000;
/** 2024-03-09 (a Saturday) 23:59:58 UTC */
const START = Date.UTC(2024, 2, 9, 23, 59, 58) / 1000;

function setup(startTime = START) {
  const io = new IoBus();
  const m = { icount: 0 };
  const clock = new VirtualClock(() => m.icount, 1);
  const edges: { level: boolean; ns: number }[] = [];
  const rtc = new Mc146818Rtc(io, clock, { irq: { set: (level) => edges.push({ level, ns: m.icount }) }, startTime });
  const rd = (i: number) => (io.write(0x70, i, 1), io.read(0x71, 1));
  const wr = (i: number, v: number) => (io.write(0x70, i, 1), io.write(0x71, v, 1));
  const runTo = (ns: number) => {
    for (;;) {
      const d = clock.nextDeadlineIcount();
      if (d > ns) break;
      m.icount = Math.max(m.icount, d);
      clock.runDue();
    }
    m.icount = ns;
    clock.runDue();
  };
  return { io, m, clock, rtc, edges, rd, wr, runTo };
}

describe('MC146818 RTC', () => {
  it('powers on with QEMU\'s register values and the configured date in BCD, 24h', () => {
    const { rd, io } = setup();
    expect(rd(0x0a)).toBe(0x26);
    expect(rd(0x0b)).toBe(0x02);
    expect(rd(0x0c)).toBe(0x00);
    expect(rd(0x0d)).toBe(0x80);
    expect([rd(0), rd(2), rd(4), rd(6), rd(7), rd(8), rd(9), rd(0x32)]).toEqual([0x58, 0x59, 0x23, 0x07, 0x09, 0x03, 0x24, 0x20]);
    expect(io.read(0x70, 1)).toBe(0xff);
  });

  it('advances with the virtual clock across midnight', () => {
    const { rd, m } = setup();
    m.icount = 2 * S + 5;
    expect([rd(0), rd(2), rd(4), rd(6), rd(7), rd(8)]).toEqual([0x00, 0x00, 0x00, 0x01, 0x10, 0x03]);
  });

  it('binary mode and 12-hour mode with the PM bit', () => {
    const { rd, wr } = setup(Date.UTC(2024, 0, 1, 15, 4, 9) / 1000);
    wr(0x0b, 0x06); // binary, 24h
    expect([rd(0), rd(2), rd(4)]).toEqual([9, 4, 15]);
    wr(0x0b, 0x04); // binary, 12h
    expect(rd(4)).toBe(0x80 | 3);
    wr(0x0b, 0x00); // BCD, 12h
    expect(rd(4)).toBe(0x83);
    const r = setup(Date.UTC(2024, 0, 1, 0, 30, 0) / 1000);
    r.wr(0x0b, 0x00);
    expect(r.rd(4)).toBe(0x12); // 00:30 is 12:30 AM
  });

  it('sets the time through SET and keeps running from the written date', () => {
    const { rd, wr, m } = setup();
    wr(0x0b, 0x82); // SET, 24h BCD
    wr(0x04, 0x12);
    wr(0x02, 0x34);
    wr(0x00, 0x56);
    m.icount = 10 * S; // frozen while SET
    expect(rd(0)).toBe(0x56);
    expect(rd(0x0a) & 0x80).toBe(0); // no UIP in set mode
    wr(0x0b, 0x02);
    m.icount = 13 * S;
    expect([rd(4), rd(2), rd(0)]).toEqual([0x12, 0x34, 0x59]);
  });

  it('update-in-progress is set in the last 244 us before each update', () => {
    const { rd, m } = setup();
    m.icount = S - 244141;
    expect(rd(0x0a) & 0x80).toBe(0);
    m.icount = S - 244140;
    expect(rd(0x0a)).toBe(0xa6);
    m.icount = S - 1;
    expect(rd(0x0a) & 0x80).toBe(0x80);
    m.icount = S;
    expect(rd(0x0a) & 0x80).toBe(0);
  });

  it('periodic interrupt at the rate of register A, cleared by reading C', () => {
    const { rd, wr, edges, runTo } = setup();
    wr(0x0a, 0x26); // 1024 Hz: 976562.5 ns
    wr(0x0b, 0x42); // PIE
    runTo(976562);
    expect(edges).toEqual([]);
    runTo(976563);
    expect(edges).toEqual([{ level: true, ns: 976563 }]);
    expect(rd(0x0c)).toBe(0xc0); // IRQF | PF
    expect(edges.at(-1)).toEqual({ level: false, ns: 976563 });
    expect(rd(0x0c)).toBe(0x00);
    runTo(2 * 976563);
    expect(edges.at(-1)!.level).toBe(true);
    wr(0x0a, 0x2f); // rate 15: 2 Hz
    rd(0x0c);
    edges.length = 0;
    runTo(500_000_000);
    expect(edges.map((e) => e.ns)).toEqual([500_000_000]);
  });

  it('PF stays clear without PIE or SQWE, and sets with SQWE alone without an interrupt (QEMU)', () => {
    const { rd, wr, edges, m } = setup();
    m.icount = 2_000_000;
    expect(rd(0x0c)).toBe(0x00);
    wr(0x0b, 0x0a); // SQWE
    m.icount = 4_000_000;
    expect(rd(0x0c)).toBe(0x40);
    expect(edges).toEqual([]);
  });

  it('update-ended interrupt once a second', () => {
    const { rd, wr, edges, runTo } = setup();
    wr(0x0b, 0x12); // UIE
    runTo(S - 1);
    expect(edges).toEqual([]);
    runTo(S);
    expect(edges).toEqual([{ level: true, ns: S }]);
    expect(rd(0x0c)).toBe(0x90); // IRQF | UF (no PF: PIE is off)
    runTo(2 * S);
    expect(edges.at(-1)).toEqual({ level: true, ns: 2 * S });
  });

  it('alarm interrupt at the matching time, with don\'t-care bytes', () => {
    const { rd, wr, edges, runTo } = setup(Date.UTC(2024, 0, 1, 10, 0, 0) / 1000);
    wr(0x01, 0x05); // seconds alarm
    wr(0x03, 0xc0); // any minute
    wr(0x05, 0x10); // hour 10
    wr(0x0b, 0x22); // AIE
    runTo(4 * S);
    expect(edges).toEqual([]);
    runTo(5 * S);
    expect(edges).toEqual([{ level: true, ns: 5 * S }]);
    expect(rd(0x0c)).toBe(0xb0); // IRQF | AF | UF
    runTo(65 * S); // next minute, same second
    expect(edges.at(-1)).toEqual({ level: true, ns: 65 * S });
  });

  it('leaving divider reset starts the first update half a second later', () => {
    const { rd, wr, m } = setup(Date.UTC(2024, 0, 1, 0, 0, 0) / 1000);
    m.icount = 300_000_000;
    wr(0x0a, 0x70); // divider reset: time stops
    m.icount = 5 * S;
    expect(rd(0)).toBe(0x00);
    wr(0x0a, 0x26);
    m.icount = 5 * S + 499_999_999;
    expect(rd(0)).toBe(0x00);
    m.icount = 5 * S + 500_000_000;
    expect(rd(0)).toBe(0x01);
  });

  it('port 0x70 bit 7 is the NMI mask; CMOS bytes are plain storage', () => {
    const { io, rtc, rd, wr } = setup();
    io.write(0x70, 0x8f, 1);
    expect(rtc.nmiMask).toBe(true);
    io.write(0x71, 0x5a, 1);
    expect(rd(0x0f)).toBe(0x5a);
    expect(rtc.nmiMask).toBe(false);
    wr(0x7f, 0xa5);
    expect(rd(0x7f)).toBe(0xa5);
    wr(0x0d, 0x00);
    expect(rd(0x0d)).toBe(0x80);
  });

  it('fills the CMOS like QEMU\'s pc_cmos_init', () => {
    const { rtc, rd } = setup();
    rtc.fillPcCmos({ belowFourG: 32 << 20 });
    expect([rd(0x15), rd(0x16)]).toEqual([0x80, 0x02]); // 640 KiB
    expect([rd(0x17), rd(0x18), rd(0x30), rd(0x31)]).toEqual([0x00, 0x7c, 0x00, 0x7c]); // 31 MiB in KiB
    expect([rd(0x34), rd(0x35)]).toEqual([0x00, 0x01]); // 16 MiB in 64 KiB units
    expect([rd(0x5b), rd(0x5c), rd(0x5d), rd(0x5f)]).toEqual([0, 0, 0, 0]);
    expect([rd(0x3d), rd(0x38)]).toEqual([0x12, 0x30]); // boot order "cad"
    expect([rd(0x10), rd(0x14), rd(0x12)]).toEqual([0x00, 0x06, 0x00]);
    rtc.fillPcCmos({ belowFourG: 2048 * 1024 * 1024, floppy: [4, 0], bootOrder: 'dc', checksum: true });
    expect([rd(0x17), rd(0x18), rd(0x34), rd(0x35)]).toEqual([0xff, 0xff, 0x00, 0x7f]);
    expect([rd(0x10), rd(0x14), rd(0x3d), rd(0x38)]).toEqual([0x40, 0x07, 0x23, 0x00]);
    expect((rd(0x2e) << 8) | rd(0x2f)).toBe(rtc.cmosChecksum());
  });

  it('reset clears PIE, AIE, SQWE and the flags, not UIE or the time (QEMU rtc_reset)', () => {
    const { rtc, rd, wr, edges, runTo } = setup();
    wr(0x0b, 0x52);
    runTo(S);
    expect(edges.at(-1)!.level).toBe(true);
    rtc.reset();
    expect(edges.at(-1)!.level).toBe(false);
    expect(rd(0x0b)).toBe(0x12);
    expect(rd(0)).toBe(0x59);
  });

  it('state round-trips through JSON', () => {
    const a = setup();
    a.wr(0x0b, 0x42);
    a.wr(0x40, 0x77);
    a.m.icount = 3 * S;
    const saved = JSON.parse(JSON.stringify(a.rtc.saveState()));
    const b = setup(0);
    b.m.icount = 3 * S;
    b.rtc.loadState(saved);
    expect([b.rd(0), b.rd(2), b.rd(0x40), b.rd(0x0b)]).toEqual([a.rd(0), a.rd(2), 0x77, 0x42]);
  });
});
