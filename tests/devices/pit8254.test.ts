import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/devices/io-bus.js';
import { Pit8254, PIT_FREQ, pitTicksAt, pitTickToNs } from '../../src/devices/pit8254.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';

/** One virtual ns per instruction: icount == ns. */
function setup(startNs = 0) {
  const io = new IoBus();
  const m = { icount: startNs };
  const clock = new VirtualClock(() => m.icount, 1);
  const edges: { level: boolean; icount: number }[] = [];
  const pit = new Pit8254(io, clock, { irq0: { set: (level) => edges.push({ level, icount: m.icount }) } });
  edges.length = 0;
  const at = (tick: number) => { m.icount = pitTickToNs(tick); };
  const tick = () => pitTicksAt(m.icount);
  /** Run the clock's timers up to `ns` the way the CPU loop does (warp to each deadline). */
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
  const latch = (ch: number) => {
    io.write(0x43, ch << 6, 1);
    const lo = io.read(0x40 + ch, 1);
    const hi = io.read(0x40 + ch, 1);
    return lo | (hi << 8);
  };
  const status = (ch: number) => {
    io.write(0x43, 0xe0 | (2 << ch), 1); // read-back: status only
    return io.read(0x40 + ch, 1);
  };
  const program = (ch: number, mode: number, count: number) => {
    io.write(0x43, (ch << 6) | 0x30 | (mode << 1), 1);
    io.write(0x40 + ch, count & 0xff, 1);
    io.write(0x40 + ch, (count >> 8) & 0xff, 1);
  };
  return { io, m, clock, pit, edges, at, tick, runTo, latch, status, program };
}

describe('PIT clock arithmetic', () => {
  it('converts between virtual ns and 1.193182 MHz ticks exactly', () => {
    expect(pitTicksAt(1e9)).toBe(PIT_FREQ);
    expect(pitTickToNs(PIT_FREQ)).toBe(1e9);
    expect(pitTicksAt(838)).toBe(0);
    expect(pitTicksAt(839)).toBe(1);
    for (const t of [1, 2, 17, 1193, 65536, 123456789, 98765432101]) {
      const ns = pitTickToNs(t);
      expect(pitTicksAt(ns)).toBe(t);
      expect(pitTicksAt(ns - 1)).toBe(t - 1);
    }
  });
});

describe('Pit8254', () => {
  it('mode 0: counts down from the pulse after the write, OUT rises at terminal count', () => {
    const s = setup();
    s.at(1000);
    s.program(0, 0, 500); // loaded at tick 1001
    expect(s.status(0) & 0x80).toBe(0);
    s.at(1001);
    expect(s.latch(0)).toBe(500);
    s.at(1101);
    expect(s.latch(0)).toBe(400);
    s.at(1500);
    expect(s.latch(0)).toBe(1);
    expect(s.status(0) & 0x80).toBe(0);
    s.at(1501);
    expect(s.latch(0)).toBe(0);
    expect(s.status(0) & 0x80).toBe(0x80);
    s.at(1503);
    expect(s.latch(0)).toBe(0xfffe); // keeps counting, wrapping
  });

  it('a count written in modes 0 and 4 reads back before the load pulse, as under QEMU (Linux quick_pit_calibrate)', () => {
    const s = setup();
    // Channel 2, mode 0, 0xFFFF, read back 4 ns later: the MSB must be 0xFF.
    s.m.icount = pitTickToNs(5000) + 100;
    s.program(2, 0, 0xffff);
    s.m.icount += 4;
    expect(s.latch(2)).toBe(0xffff);
    // Channel 0 (GATE high), mode 4: the count reads back at once; counting itself still
    // starts at the next pulse.
    s.program(0, 4, 1234);
    expect(s.latch(0)).toBe(1234);
    s.at(5001);
    expect(s.latch(0)).toBe(1234);
    s.at(5101);
    expect(s.latch(0)).toBe(1134);
  });

  it('mode 0 on channel 0 raises IRQ 0 at the terminal count through a clock timer', () => {
    const s = setup();
    s.at(1000);
    s.program(0, 0, 500);
    expect(s.edges).toEqual([{ level: false, icount: pitTickToNs(1000) }]);
    const due = pitTickToNs(1501);
    expect(s.clock.nextDeadlineIcount()).toBe(due);
    s.m.icount = due - 1;
    s.clock.runDue();
    expect(s.edges.length).toBe(1);
    s.m.icount = due;
    s.clock.runDue();
    expect(s.edges.at(-1)).toEqual({ level: true, icount: due });
    expect(s.clock.nextDeadlineIcount()).toBe(Infinity); // OUT stays high: no more timer
  });

  it('mode 2: rate generator counts n..1, OUT low during count 1, IRQ edge once per period', () => {
    const s = setup();
    const n = 1193;
    s.at(5000);
    s.program(0, 2, n); // start at tick 5001
    s.at(5001);
    expect(s.latch(0)).toBe(n);
    s.at(5001 + n - 1);
    expect(s.latch(0)).toBe(1);
    expect(s.status(0) & 0x80).toBe(0);
    s.at(5001 + n);
    expect(s.latch(0)).toBe(n);
    expect(s.status(0) & 0x80).toBe(0x80);

    const t = setup();
    t.at(5000);
    t.program(0, 2, n);
    t.edges.length = 0;
    t.runTo(pitTickToNs(5001 + 5 * n) + 10);
    const rises = t.edges.filter((e) => e.level).map((e) => e.icount);
    expect(rises).toEqual([1, 2, 3, 4, 5].map((k) => pitTickToNs(5001 + k * n)));
    // ~1 ms period in instruction counts at 1 ns per instruction.
    expect(rises[1]! - rises[0]!).toBeGreaterThanOrEqual(999_846);
    expect(rises[1]! - rises[0]!).toBeLessThanOrEqual(999_848);
    const falls = t.edges.filter((e) => !e.level).map((e) => e.icount);
    expect(falls[0]).toBe(pitTickToNs(5001 + n - 1));
  });

  it('mode 2: a new count takes effect at the end of the current period', () => {
    const s = setup();
    s.at(100);
    s.program(0, 2, 1000); // epoch at 101
    s.at(400);
    s.program(0, 2, 1000); // the control word restarts: epoch at 401
    s.at(500);
    s.io.write(0x40, 200, 1);
    s.io.write(0x40, 0, 1); // new count 200, picked up at 401 + 1000
    expect(s.status(0) & 0x40).toBe(0x40); // null count until then
    s.at(1400);
    expect(s.latch(0)).toBe(1);
    s.at(1401);
    expect(s.latch(0)).toBe(200);
    expect(s.status(0) & 0x40).toBe(0);
    s.edges.length = 0;
    s.runTo(pitTickToNs(1401 + 400) + 1);
    expect(s.edges.filter((e) => e.level).map((e) => e.icount)).toEqual([pitTickToNs(1601), pitTickToNs(1801)]);
  });

  it('mode 3 even count: square wave, counting down by two, half period high', () => {
    const s = setup();
    s.at(10);
    s.program(0, 3, 10); // epoch at 11
    const seen: number[] = [];
    const outs: number[] = [];
    for (let t = 11; t < 21; t++) {
      s.at(t);
      seen.push(s.latch(0));
      outs.push(s.status(0) >> 7);
    }
    expect(seen).toEqual([10, 8, 6, 4, 2, 10, 8, 6, 4, 2]);
    expect(outs).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('mode 3 odd count: high (n+1)/2, low (n-1)/2', () => {
    const s = setup();
    s.at(10);
    s.program(2, 3, 5);
    s.io.write(0x61, 0x01, 1); // gate channel 2 on: retrigger, epoch at the next pulse
    const t0 = s.tick() + 1;
    const seen: number[] = [];
    const outs: number[] = [];
    for (let t = t0; t < t0 + 10; t++) {
      s.at(t);
      seen.push(s.latch(2));
      outs.push((s.io.read(0x61, 1) >> 5) & 1);
    }
    expect(seen).toEqual([5, 4, 2, 5, 2, 5, 4, 2, 5, 2]);
    expect(outs).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 0, 0]);
  });

  it('mode 3: a new count is picked up at the end of the current half-cycle', () => {
    const s = setup();
    s.at(10);
    s.program(0, 3, 10); // epoch at 11: high 11-15, low 16-20
    s.at(13);
    s.io.write(0x40, 6, 1);
    s.io.write(0x40, 0, 1);
    const outs: number[] = [];
    const counts: number[] = [];
    for (let t = 13; t < 23; t++) {
      s.at(t);
      outs.push(s.status(0) >> 7);
      counts.push(s.latch(0));
    }
    // The old half-cycle finishes (13-15), then the new count runs its low half first.
    expect(outs).toEqual([1, 1, 1, 0, 0, 0, 1, 1, 1, 0]);
    expect(counts).toEqual([6, 4, 2, 6, 4, 2, 6, 4, 2, 6]);
  });

  it('mode 0: writing the first byte of a lo/hi count stops counting and drops OUT', () => {
    const s = setup();
    s.at(0);
    s.program(0, 0, 10); // epoch at 1, OUT high from 11
    s.at(20);
    expect(s.status(0) & 0x80).toBe(0x80);
    s.io.write(0x40, 0x00, 1); // first byte only
    expect(s.status(0) & 0x80).toBe(0);
    const frozen = s.latch(0);
    s.at(500);
    expect(s.latch(0)).toBe(frozen);
    expect(s.edges.at(-1)!.level).toBe(false);
    s.io.write(0x40, 0x01, 1); // count 0x100, loaded at 501
    s.at(501 + 0x100);
    expect(s.status(0) & 0x80).toBe(0x80);
  });

  it('mode 4: OUT strobes low for one clock at terminal count', () => {
    const s = setup();
    s.at(0);
    s.program(1, 4, 3); // epoch at 1
    const outs: number[] = [];
    for (let t = 1; t <= 6; t++) {
      s.at(t);
      outs.push(s.status(1) >> 7);
    }
    expect(outs).toEqual([1, 1, 1, 0, 1, 1]);
  });

  it('mode 1 on channel 2: one-shot triggered by the gate (port 0x61 bit 0)', () => {
    const s = setup();
    s.at(0);
    s.program(2, 1, 100);
    s.at(50);
    expect(s.io.read(0x61, 1) & 0x20).toBe(0x20); // OUT high until triggered
    s.io.write(0x61, 0x01, 1); // trigger at tick 50, load at 51
    expect(s.io.read(0x61, 1) & 0x21).toBe(0x21);
    s.at(51);
    expect(s.io.read(0x61, 1) & 0x20).toBe(0);
    expect(s.latch(2)).toBe(100);
    s.at(150);
    expect(s.io.read(0x61, 1) & 0x20).toBe(0);
    s.at(151);
    expect(s.io.read(0x61, 1) & 0x20).toBe(0x20);
  });

  it('mode 5: strobe after a gate trigger, and only after it', () => {
    const s = setup();
    s.at(0);
    s.program(2, 5, 10);
    s.at(100);
    expect(s.io.read(0x61, 1) & 0x20).toBe(0x20);
    s.io.write(0x61, 0x01, 1); // trigger at 100, epoch 101, strobe at 111
    s.at(110);
    expect(s.io.read(0x61, 1) & 0x20).toBe(0x20);
    s.at(111);
    expect(s.io.read(0x61, 1) & 0x20).toBe(0);
    s.at(112);
    expect(s.io.read(0x61, 1) & 0x20).toBe(0x20);
  });

  it('mode 0 on channel 2: a low gate suspends counting, port 0x61 bit 5 shows OUT', () => {
    const s = setup();
    s.at(0);
    s.io.write(0x61, 0x01, 1);
    s.program(2, 0, 100); // epoch at 1
    s.at(41);
    expect(s.latch(2)).toBe(60);
    s.io.write(0x61, 0x00, 1); // gate low at 41
    s.at(1000);
    expect(s.latch(2)).toBe(60);
    expect(s.io.read(0x61, 1) & 0x20).toBe(0);
    s.io.write(0x61, 0x01, 1); // resume at 1000
    s.at(1059);
    expect(s.latch(2)).toBe(1);
    expect(s.io.read(0x61, 1) & 0x20).toBe(0);
    s.at(1060);
    expect(s.io.read(0x61, 1) & 0x20).toBe(0x20);
  });

  it('port 0x61: gate and speaker bits read back; the refresh bit toggles at every read, as QEMU (decisions.md 17)', () => {
    const s = setup();
    s.io.write(0x61, 0x03, 1);
    expect(s.io.read(0x61, 1) & 0x03).toBe(0x03);
    s.io.write(0x61, 0x02, 1);
    expect(s.io.read(0x61, 1) & 0x03).toBe(0x02);
    s.at(18 * 7);
    const bits = Array.from({ length: 6 }, () => s.io.read(0x61, 1) & 0x10);
    expect(bits).toEqual([0x10, 0, 0x10, 0, 0x10, 0]);
  });

  it('modes 1 and 5 on channels 0 and 1 (GATE tied high) start counting at the count write, as QEMU; OUT as the datasheet (decisions.md 17)', () => {
    const s = setup();
    s.at(0);
    s.program(0, 1, 100); // epoch at 1
    s.at(51);
    expect(s.latch(0)).toBe(50);
    expect(s.status(0) >> 7).toBe(0); // OUT low while counting (QEMU 7.2: high)
    s.program(1, 5, 10); // epoch at 52, strobe at 62
    s.at(61);
    expect(s.status(1) >> 7).toBe(1);
    s.at(62);
    expect(s.status(1) >> 7).toBe(0);
    // Channel 0's one-shot ends with a rising OUT: IRQ 0, and not before.
    s.edges.length = 0;
    s.runTo(pitTickToNs(99));
    expect(s.edges.map((e) => e.level)).not.toContain(true);
    s.runTo(pitTickToNs(102));
    expect(s.edges.map((e) => e.level)).toContain(true);
  });

  it('read-back: status byte holds OUT, null count and the programmed control bits', () => {
    const s = setup();
    s.at(0);
    s.io.write(0x43, 0x34, 1); // ch0, lo/hi, mode 2, binary
    expect(s.status(0)).toBe(0x80 | 0x40 | 0x34); // OUT high, null count, RW=3 M=2
    s.io.write(0x40, 0x10, 1);
    s.io.write(0x40, 0x00, 1);
    expect(s.status(0) & 0x40).toBe(0x40); // loaded on the next pulse
    s.at(1);
    expect(s.status(0)).toBe(0x80 | 0x34);
    // Latch count and status together: status comes first, then the count bytes.
    s.at(5);
    s.io.write(0x43, 0xc2, 1);
    expect(s.io.read(0x40, 1)).toBe(0x80 | 0x34);
    expect(s.io.read(0x40, 1)).toBe(12);
    expect(s.io.read(0x40, 1)).toBe(0);
    // A latched count is frozen until read, and further latches are ignored.
    s.io.write(0x43, 0xd2, 1);
    s.at(9);
    s.io.write(0x43, 0x00, 1);
    expect(s.io.read(0x40, 1)).toBe(12);
    expect(s.io.read(0x40, 1)).toBe(0);
    expect(s.latch(0)).toBe(8);
  });

  it('read-back can latch several counters at once', () => {
    const s = setup();
    s.at(0);
    s.program(0, 0, 1000);
    s.program(1, 0, 2000);
    s.at(101);
    s.io.write(0x43, 0xd6, 1); // count of 0 and 1
    s.at(500);
    expect(s.io.read(0x40, 1) | (s.io.read(0x40, 1) << 8)).toBe(900);
    expect(s.io.read(0x41, 1) | (s.io.read(0x41, 1) << 8)).toBe(1900);
  });

  it('lobyte-only and hibyte-only access modes', () => {
    const s = setup();
    s.at(0);
    s.io.write(0x43, 0x50, 1); // ch1, lobyte only, mode 0
    s.io.write(0x41, 200, 1);
    s.at(51);
    expect(s.io.read(0x41, 1)).toBe(150);
    expect(s.io.read(0x41, 1)).toBe(150);
    s.io.write(0x43, 0x60, 1); // ch1, hibyte only, mode 0
    s.io.write(0x41, 0x02, 1); // count 0x200
    s.at(51 + 1 + 0x100);
    expect(s.io.read(0x41, 1)).toBe(0x01);
  });

  it('unlatched lo/hi reads alternate low and high byte', () => {
    const s = setup();
    s.at(0);
    s.program(1, 0, 0x1234);
    s.at(1);
    expect(s.io.read(0x41, 1)).toBe(0x34);
    expect(s.io.read(0x41, 1)).toBe(0x12);
  });

  it('BCD mode counts in decimal digits', () => {
    const s = setup();
    s.at(0);
    s.io.write(0x43, 0x31, 1); // ch0, lo/hi, mode 0, BCD
    s.io.write(0x40, 0x00, 1);
    s.io.write(0x40, 0x10, 1); // 1000 decimal
    s.at(1 + 1);
    expect(s.latch(0)).toBe(0x0999);
    s.at(1 + 1000);
    expect(s.latch(0)).toBe(0x0000);
    s.at(1 + 1001);
    expect(s.latch(0)).toBe(0x9999);
  });

  it('resets like QEMU: channel 0 in mode 3 with count 65536 gives an 18.2 Hz IRQ 0', () => {
    const s = setup();
    const info = s.pit.info();
    expect(info.channels[0]!.mode).toBe(3);
    expect(info.channels[0]!.reload).toBe(65536);
    expect(info.channels[2]!.gate).toBe(false);
    s.runTo(pitTickToNs(1 + 3 * 65536));
    const rises = s.edges.filter((e) => e.level).map((e) => e.icount);
    expect(rises).toEqual([1, 2, 3].map((k) => pitTickToNs(1 + k * 65536)));
    // OUT starts high in mode 3, so the power-on level counts as the first raise.
    expect(s.pit.info().irq0.raises).toBe(4);
  });

  it('late timer runs still deliver every edge in order', () => {
    const s = setup();
    s.at(0);
    s.program(0, 2, 100);
    s.edges.length = 0;
    s.m.icount = pitTickToNs(1 + 350);
    s.clock.runDue(); // one late call: three periods have passed
    expect(s.edges.filter((e) => e.level).length).toBe(3);
    expect(s.edges.map((e) => e.level)).toEqual([false, true, false, true, false, true]);
  });

  it('is deterministic and restores from a saved state mid-period', () => {
    const script = (s: ReturnType<typeof setup>) => {
      s.at(77);
      s.program(0, 2, 5000);
      s.runTo(pitTickToNs(12_345));
    };
    const a = setup();
    const b = setup();
    script(a);
    script(b);
    expect(JSON.stringify(a.pit.saveState())).toBe(JSON.stringify(b.pit.saveState()));
    expect(a.edges).toEqual(b.edges);

    const saved = JSON.parse(JSON.stringify(a.pit.saveState()));
    const c = setup(a.m.icount);
    c.pit.loadState(saved);
    c.edges.length = 0;
    a.edges.length = 0;
    const end = pitTickToNs(40_000);
    a.runTo(end);
    c.runTo(end);
    expect(c.edges).toEqual(a.edges);
    expect(c.latch(0)).toBe(a.latch(0));
  });
});
