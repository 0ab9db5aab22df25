// The HPET model's state handling; its guest-visible behaviour is compared with QEMU 7.2 by
// tests/devices/board-guests.test.ts (board-hpet.elf).
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { Hpet, HPET_CFG, HPET_COUNTER, HPET_STATUS } from '../../src/devices/hpet.js';

function setup() {
  const m = { icount: 0 };
  const clock = new VirtualClock(() => m.icount, 1);
  const levels: boolean[] = [];
  const hpet = new Hpet(clock, { gsi: (n) => ({ set: (l) => { if (n === 2) levels.push(l); } }) });
  return { m, clock, hpet, levels };
}

describe('HPET', () => {
  it('counts at 100 MHz only while enabled', () => {
    const { m, hpet } = setup();
    m.icount = 1000;
    expect(hpet.read(HPET_COUNTER, 4)).toBe(0);
    hpet.write(HPET_CFG, 1, 4);
    m.icount = 2000;
    expect(hpet.read(HPET_COUNTER, 4)).toBe(100);
    hpet.write(HPET_CFG, 0, 4);
    m.icount = 9000;
    expect(hpet.read(HPET_COUNTER, 4)).toBe(100);
  });

  it('saves and restores the counter, the timers and armed deadlines', () => {
    const a = setup();
    a.hpet.write(0x108 + 0x40, 500, 4); // timer 2 comparator
    a.hpet.write(0x10c + 0x40, 0, 4);
    a.hpet.write(0x100 + 0x40, (2 << 9) | 0x6, 4); // route 2, enabled, level
    a.hpet.write(HPET_CFG, 1, 4);
    a.m.icount = 1000;
    const saved = JSON.parse(JSON.stringify(a.hpet.saveState()));
    const b = setup();
    b.m.icount = 1000;
    b.hpet.loadState(saved);
    expect(b.hpet.read(HPET_COUNTER, 4)).toBe(100);
    expect(b.clock.nextDeadline()).toBe(a.clock.nextDeadline());
    b.m.icount = 5000;
    b.clock.runDue();
    expect(b.hpet.read(HPET_STATUS, 4)).toBe(4);
    expect(b.levels).toEqual([true]);
  });
});
