// Local APIC against the Intel SDM vol. 3A chapter 10 (and QEMU 7.2 where the SDM leaves a
// choice): registers and reserved bits, priorities, EOI, the three timer modes measured on
// the virtual clock, IPIs, ESR, LINT0/LINT1, IA32_APIC_BASE and the CPU wiring.
import { describe, it, expect } from 'vitest';
import {
  APIC_APR, APIC_DEFAULT_BASE, APIC_DFR, APIC_EOI, APIC_ESR, APIC_ICR_HIGH, APIC_ICR_LOW, APIC_ID, APIC_IRR, APIC_ISR,
  APIC_LDR, APIC_LVT_ERROR, APIC_LVT_LINT0, APIC_LVT_LINT1, APIC_LVT_PERF, APIC_LVT_THERMAL, APIC_LVT_TIMER, APIC_PPR,
  APIC_SVR, APIC_TIMER_CURRENT, APIC_TIMER_DIVIDE, APIC_TIMER_INITIAL, APIC_TMR, APIC_TPR, APIC_VER, LocalApic,
  connectLocalApic, describeLocalApic,
} from '../../src/devices/local-apic.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { PhysicalMemory } from '../../src/memory/physical-memory.js';
import { IoBus } from '../../src/devices/io-bus.js';
import { Cpu, IRQ_HARD, IRQ_INIT, IRQ_NMI } from '../../src/cpu/cpu.js';
import { CPUID_APIC, cpuidLeaf, readMsr, writeMsr } from '../../src/cpu/cpuid-msr.js';

const MASKED = 0x10000;
const SELF = 1 << 18;
const ALL_INCL = 2 << 18;
const ALL_EXCL = 3 << 18;
const NMI = 4 << 8;

/** One virtual ns per instruction: icount == ns. */
function setup(opts: { phys?: PhysicalMemory; enable?: boolean } = {}) {
  const m = { icount: 0 };
  const clock = new VirtualClock(() => m.icount, 1);
  const intr: { level: boolean; ns: number }[] = [];
  let nmis = 0;
  const eois: number[] = [];
  const pic = { vector: 0x08, acks: 0, acknowledge() { this.acks++; return this.vector; } };
  const apic = new LocalApic(clock, {
    phys: opts.phys,
    onIntr: (level) => intr.push({ level, ns: m.icount }),
    onNmi: () => nmis++,
    onEoiBroadcast: (v) => eois.push(v),
    extInt: pic,
  });
  const r = (off: number) => apic.read(off, 4) >>> 0;
  const w = (off: number, v: number) => apic.write(off, v >>> 0, 4);
  if (opts.enable ?? true) w(APIC_SVR, 0x1ff);
  /** Run the clock's timers up to `ns` as the CPU loop does (stopping at each deadline). */
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
  const bit = (base: number, v: number) => (r(base + ((v >> 5) << 4)) >>> (v & 31)) & 1;
  const selfIpi = (v: number) => w(APIC_ICR_LOW, SELF | v);
  return { m, clock, apic, pic, intr, eois, r, w, runTo, bit, selfIpi, nmis: () => nmis };
}

describe('LocalApic registers', () => {
  it('comes out of reset as SDM 10.4.7.1 says, with the BSP LINT0 virtual wire of QEMU', () => {
    const { r, apic } = setup({ enable: false });
    expect(r(APIC_ID)).toBe(0);
    expect(r(APIC_VER)).toBe(0x00050014);
    expect(r(APIC_TPR)).toBe(0);
    expect(r(APIC_PPR)).toBe(0);
    expect(r(APIC_LDR)).toBe(0);
    expect(r(APIC_DFR)).toBe(0xffffffff);
    expect(r(APIC_SVR)).toBe(0xff);
    for (const off of [APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PERF, APIC_LVT_LINT1, APIC_LVT_ERROR]) expect(r(off)).toBe(MASKED);
    expect(r(APIC_LVT_LINT0)).toBe(0x700);
    for (let i = 0; i < 8; i++) for (const b of [APIC_ISR, APIC_TMR, APIC_IRR]) expect(r(b + i * 16)).toBe(0);
    expect(r(APIC_ESR)).toBe(0);
    expect(r(APIC_ICR_LOW)).toBe(0);
    expect(r(APIC_TIMER_INITIAL)).toBe(0);
    expect(r(APIC_TIMER_CURRENT)).toBe(0);
    expect(r(APIC_TIMER_DIVIDE)).toBe(0);
    expect(apic.baseMsr).toBe(0xfee00900);
    expect(apic.softwareEnabled).toBe(false);
  });

  it('keeps register bits as QEMU 7.2 does and ignores writes to read-only registers', () => {
    // Measured with tests/guests/cpu-probe "apicregs": all ones written, read back.
    const { r, w } = setup();
    w(APIC_TPR, 0xffffffff);
    expect(r(APIC_TPR)).toBe(0xff);
    w(APIC_TPR, 0);
    w(APIC_ID, 0xffffffff);
    expect(r(APIC_ID)).toBe(0xff000000);
    w(APIC_LDR, 0xffffffff);
    expect(r(APIC_LDR)).toBe(0xff000000);
    w(APIC_DFR, 0);
    expect(r(APIC_DFR)).toBe(0x0fffffff);
    for (const lvt of [APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PERF, APIC_LVT_LINT0, APIC_LVT_LINT1, APIC_LVT_ERROR]) {
      w(lvt, 0xffffffff);
      expect(r(lvt)).toBe(0xffffffff); // every bit stored
      w(lvt, 0x10000);
    }
    w(APIC_ICR_HIGH, 0xffffffff);
    expect(r(APIC_ICR_HIGH)).toBe(0xffffffff);
    w(APIC_TIMER_DIVIDE, 0xffffffff);
    expect(r(APIC_TIMER_DIVIDE)).toBe(0xb);
    w(APIC_SVR, 0xffffffff);
    expect(r(APIC_SVR)).toBe(0x1ff); // vector and enable only
    w(APIC_VER, 0);
    w(APIC_PPR, 0xff);
    w(APIC_IRR, 0xffffffff);
    w(APIC_ISR + 0x70, 0xffffffff);
    w(APIC_TIMER_CURRENT, 1234);
    expect(r(APIC_VER)).toBe(0x00050014);
    expect(r(APIC_PPR)).toBe(0);
    expect(r(APIC_IRR)).toBe(0);
    expect(r(APIC_ISR + 0x70)).toBe(0);
    expect(r(APIC_TIMER_CURRENT)).toBe(0);
    w(APIC_ESR, 0xffffffff);
    expect(r(APIC_ESR)).toBe(0);
  });

  it('serves only 32-bit accesses (QEMU): narrower reads give 0, narrower writes are dropped', () => {
    const { apic, r } = setup();
    expect(apic.read(APIC_VER, 1)).toBe(0);
    expect(apic.read(APIC_VER, 2)).toBe(0);
    apic.write(APIC_TPR, 0x20, 1);
    expect(r(APIC_TPR)).toBe(0);
    expect(apic.read(APIC_VER + 4, 4)).toBe(0x00050014); // bits 3-0 of the offset are ignored
  });

  it('ESR (QEMU 7.2): an unimplemented register sets bit 7 at once, writes never clear it, no error interrupt', () => {
    const { r, w, bit } = setup();
    w(APIC_LVT_ERROR, 0xfe);
    expect(r(APIC_ESR)).toBe(0);
    r(0x040); // reserved offset: illegal register address
    expect(r(APIC_ESR)).toBe(0x80);
    w(APIC_ESR, 0);
    expect(r(APIC_ESR)).toBe(0x80);
    w(0x2f0, 1); // LVT CMCI does not exist with six LVT entries
    expect(r(APIC_ESR)).toBe(0x80);
    expect(bit(APIC_IRR, 0xfe)).toBe(0);
  });

  it('vectors 0-15 are delivered like any other: no illegal-vector error (QEMU 7.2)', () => {
    const { apic, r, w, bit, selfIpi } = setup();
    w(APIC_LVT_ERROR, 0xfe);
    selfIpi(0x05);
    expect(bit(APIC_IRR, 5)).toBe(1);
    expect(bit(APIC_IRR, 0xfe)).toBe(0);
    expect(r(APIC_ESR)).toBe(0);
    expect(apic.acknowledge()).toBe(5);
  });

  it('a level-triggered fixed IPI sets its TMR bit (QEMU), so its EOI is broadcast', () => {
    const { apic, w, bit, eois } = setup();
    w(APIC_ICR_LOW, SELF | 0xc000 | 0x45);
    expect(bit(APIC_TMR, 0x45)).toBe(1);
    expect(apic.acknowledge()).toBe(0x45);
    w(APIC_EOI, 0);
    expect(eois).toEqual([0x45]);
  });
});

describe('LocalApic priorities and acceptance', () => {
  it('a self-IPI moves IRR → ISR on acknowledge, raises PPR, and EOI retires it', () => {
    const { apic, r, w, bit, selfIpi, intr, eois } = setup();
    selfIpi(0x40);
    expect(bit(APIC_IRR, 0x40)).toBe(1);
    expect(bit(APIC_TMR, 0x40)).toBe(0);
    expect(intr.at(-1)?.level).toBe(true);
    expect(apic.acknowledge()).toBe(0x40);
    expect(bit(APIC_IRR, 0x40)).toBe(0);
    expect(bit(APIC_ISR, 0x40)).toBe(1);
    expect(r(APIC_PPR)).toBe(0x40);
    expect(intr.at(-1)?.level).toBe(false);
    w(APIC_EOI, 0);
    expect(bit(APIC_ISR, 0x40)).toBe(0);
    expect(r(APIC_PPR)).toBe(0);
    expect(eois).toEqual([]); // edge: no EOI broadcast
  });

  it('presents the highest vector first; a lower class waits for the EOI of a higher one', () => {
    const { apic, w, selfIpi, intr } = setup();
    selfIpi(0x41);
    selfIpi(0x61);
    selfIpi(0x65);
    expect(apic.acknowledge()).toBe(0x65);
    // 0x61 shares class 6 with the in-service 0x65: blocked, like 0x41.
    expect(apic.intrLevel).toBe(false);
    expect(intr.at(-1)?.level).toBe(false);
    w(APIC_EOI, 0);
    expect(apic.acknowledge()).toBe(0x61);
    w(APIC_EOI, 0);
    expect(apic.acknowledge()).toBe(0x41);
    w(APIC_EOI, 0);
    expect(apic.intrLevel).toBe(false);
  });

  it('a higher class interrupts a lower one in service (nesting) and EOI retires the highest first', () => {
    const { apic, r, w, bit, selfIpi } = setup();
    selfIpi(0x41);
    expect(apic.acknowledge()).toBe(0x41);
    selfIpi(0x81);
    expect(apic.intrLevel).toBe(true);
    expect(apic.acknowledge()).toBe(0x81);
    expect(r(APIC_PPR)).toBe(0x80);
    w(APIC_EOI, 0);
    expect(bit(APIC_ISR, 0x81)).toBe(0);
    expect(bit(APIC_ISR, 0x41)).toBe(1);
    expect(r(APIC_PPR)).toBe(0x40);
  });

  it('TPR blocks classes at or below it; PPR and APR follow SDM 10.8.3', () => {
    const { apic, r, w, selfIpi } = setup();
    w(APIC_TPR, 0x5a);
    expect(r(APIC_PPR)).toBe(0x5a);
    expect(r(APIC_APR)).toBe(0x5a);
    selfIpi(0x5f);
    expect(apic.intrLevel).toBe(false);
    expect(r(APIC_APR)).toBe(0x5a); // TPR class >= IRRV class, > ISRV class
    selfIpi(0x61);
    expect(r(APIC_APR)).toBe(0x60);
    expect(apic.intrLevel).toBe(true);
    expect(apic.acknowledge()).toBe(0x61);
    expect(r(APIC_PPR)).toBe(0x60); // ISRV class above the TPR class
    w(APIC_EOI, 0);
    expect(r(APIC_PPR)).toBe(0x5a);
    w(APIC_TPR, 0x40);
    expect(apic.intrLevel).toBe(true);
    expect(apic.acknowledge()).toBe(0x5f);
  });

  it('returns the spurious vector without setting ISR when nothing is deliverable at INTA', () => {
    const { apic, r, w, bit, selfIpi } = setup();
    w(APIC_SVR, 0x1ef);
    expect(apic.acknowledge()).toBe(0xef);
    selfIpi(0x50);
    w(APIC_TPR, 0x50); // raised between INTR and INTA
    expect(apic.acknowledge()).toBe(0xef);
    expect(r(APIC_ISR + 0x70)).toBe(0);
    expect(bit(APIC_IRR, 0x50)).toBe(1);
    expect(apic.info().stats.spurious).toBe(2);
  });

  it('holds a vector in IRR and ISR at once (one pending, one in service)', () => {
    const { apic, w, bit, selfIpi } = setup();
    selfIpi(0x70);
    apic.acknowledge();
    selfIpi(0x70);
    expect(bit(APIC_IRR, 0x70)).toBe(1);
    expect(bit(APIC_ISR, 0x70)).toBe(1);
    expect(apic.intrLevel).toBe(false);
    w(APIC_EOI, 0);
    expect(apic.acknowledge()).toBe(0x70);
  });

  it('level-triggered vectors set TMR and their EOI is broadcast to the I/O APICs', () => {
    const { apic, w, bit, eois } = setup();
    apic.deliverMessage({ dest: 0, logical: false, deliveryMode: 0, vector: 0x33, level: true });
    expect(bit(APIC_TMR, 0x33)).toBe(1);
    expect(apic.acknowledge()).toBe(0x33);
    w(APIC_EOI, 0);
    expect(eois).toEqual([0x33]);
    apic.deliverMessage({ dest: 0, logical: false, deliveryMode: 0, vector: 0x33, level: false });
    expect(bit(APIC_TMR, 0x33)).toBe(0);
  });

  it('software-disabled: fixed interrupts wait in IRR, the LVTs stay as written (QEMU 7.2)', () => {
    const { apic, r, w, bit, selfIpi } = setup();
    w(APIC_LVT_TIMER, 0x30);
    w(APIC_SVR, 0x0ff);
    // QEMU leaves the LVTs alone and stores LVT writes as they come (measured; the SDM masks them)
    expect(r(APIC_LVT_TIMER)).toBe(0x30);
    w(APIC_LVT_TIMER, 0x31);
    expect(r(APIC_LVT_TIMER)).toBe(0x31);
    selfIpi(0x44); // the local APIC can still issue IPIs
    expect(bit(APIC_IRR, 0x44)).toBe(1);
    expect(apic.intrLevel).toBe(false);
    w(APIC_SVR, 0x1ff);
    expect(apic.intrLevel).toBe(true);
    expect(apic.acknowledge()).toBe(0x44);
  });
});

describe('LocalApic IPIs and destinations', () => {
  it('delivers fixed IPIs to self by shorthand, by physical ID and by broadcast, not to "others"', () => {
    const { r, w, bit } = setup();
    w(APIC_ID, 0x03000000);
    w(APIC_ICR_LOW, ALL_INCL | 0x50);
    expect(bit(APIC_IRR, 0x50)).toBe(1);
    w(APIC_ICR_LOW, ALL_EXCL | 0x51);
    expect(bit(APIC_IRR, 0x51)).toBe(0);
    w(APIC_ICR_HIGH, 0x03000000);
    w(APIC_ICR_LOW, 0x52);
    expect(bit(APIC_IRR, 0x52)).toBe(1);
    w(APIC_ICR_HIGH, 0x04000000);
    w(APIC_ICR_LOW, 0x53);
    expect(bit(APIC_IRR, 0x53)).toBe(0);
    w(APIC_ICR_HIGH, 0xff000000);
    w(APIC_ICR_LOW, 0x54);
    expect(bit(APIC_IRR, 0x54)).toBe(1);
    expect(r(APIC_ICR_LOW) & 0x1000).toBe(0); // delivery status idle
  });

  it('matches logical destinations in the flat and cluster models', () => {
    const { apic, w } = setup();
    w(APIC_LDR, 0x24000000);
    expect(apic.matchesDestination(0x04, true)).toBe(true); // flat: any common bit
    expect(apic.matchesDestination(0x01, true)).toBe(false);
    w(APIC_DFR, 0x0fffffff); // cluster: cluster 2, member bit 2
    expect(apic.matchesDestination(0x24, true)).toBe(true);
    expect(apic.matchesDestination(0x26, true)).toBe(true);
    expect(apic.matchesDestination(0x14, true)).toBe(false);
    expect(apic.matchesDestination(0x21, true)).toBe(false);
    expect(apic.matchesDestination(0x00, false)).toBe(true);
    expect(apic.deliverMessage({ dest: 0x14, logical: true, deliveryMode: 0, vector: 0x60, level: false })).toBe(false);
  });

  it('NMI by IPI, by LINT1 and by message reaches onNmi; INIT and STARTUP are ignored', () => {
    const { apic, r, w, nmis } = setup();
    w(APIC_ICR_LOW, SELF | NMI);
    expect(nmis()).toBe(1);
    w(APIC_LVT_LINT1, 0x400);
    apic.setLint1(true);
    apic.setLint1(true);
    apic.setLint1(false);
    expect(nmis()).toBe(2);
    apic.deliverMessage({ dest: 0, logical: false, deliveryMode: 4, vector: 0, level: false });
    expect(nmis()).toBe(3);
    w(APIC_ICR_LOW, SELF | (5 << 8) | 0x4000); // INIT
    w(APIC_ICR_LOW, SELF | (6 << 8) | 0x10); // STARTUP at 0x10000
    w(APIC_ICR_LOW, ALL_INCL | (5 << 8) | 0x8000); // INIT level de-assert
    expect(r(APIC_IRR + 0x10)).toBe(0);
    expect(apic.intrLevel).toBe(false);
    expect(nmis()).toBe(3);
  });

  it('decodes MSI address and data (SDM 10.11)', () => {
    const { apic, bit } = setup();
    expect(apic.deliverMsi(0xfee00000, 0x4061)).toBe(true);
    expect(bit(APIC_IRR, 0x61)).toBe(1);
    expect(apic.deliverMsi(0xfee01000, 0x62)).toBe(false); // APIC ID 1
  });
});

describe('LocalApic LINT0 (the 8259) and LINT1', () => {
  it('passes the 8259 INTR through LINT0 in ExtINT mode, even before software enable (QEMU reset state)', () => {
    const { apic, pic, bit } = setup({ enable: false });
    apic.setLint0(true);
    expect(apic.intrLevel).toBe(true);
    expect(apic.acknowledge()).toBe(0x08);
    expect(pic.acks).toBe(1);
    expect(bit(APIC_ISR, 0x08)).toBe(0);
    apic.setLint0(false);
    expect(apic.intrLevel).toBe(false);
  });

  it('ExtINT goes before a pending fixed interrupt and ignores the TPR', () => {
    const { apic, pic, w, selfIpi } = setup();
    selfIpi(0x90);
    w(APIC_TPR, 0xff);
    apic.setLint0(true);
    pic.vector = 0x20;
    expect(apic.acknowledge()).toBe(0x20);
    apic.setLint0(false);
    w(APIC_TPR, 0);
    expect(apic.acknowledge()).toBe(0x90);
  });

  it('a masked LINT0 blocks the 8259; unmasking lets its INTR through', () => {
    const { apic, w } = setup();
    w(APIC_LVT_LINT0, MASKED | 0x700);
    apic.setLint0(true);
    expect(apic.intrLevel).toBe(false);
    w(APIC_LVT_LINT0, 0x700);
    expect(apic.intrLevel).toBe(true);
  });

  it('LINT0 in fixed edge mode turns a rising INTR into its vector', () => {
    const { apic, w, bit } = setup();
    w(APIC_LVT_LINT0, 0x31);
    apic.setLint0(true);
    expect(bit(APIC_IRR, 0x31)).toBe(1);
    expect(apic.acknowledge()).toBe(0x31);
    w(APIC_EOI, 0);
    apic.setLint0(true); // no new edge
    expect(bit(APIC_IRR, 0x31)).toBe(0);
  });

  it('LINT0 in fixed level mode holds Remote IRR until EOI and asks again while high', () => {
    const { apic, r, w, bit, eois } = setup();
    w(APIC_LVT_LINT0, 0x8000 | 0x32);
    apic.setLint0(true);
    expect(r(APIC_LVT_LINT0) & 0x4000).toBe(0x4000);
    expect(bit(APIC_TMR, 0x32)).toBe(1);
    expect(apic.acknowledge()).toBe(0x32);
    w(APIC_EOI, 0);
    expect(eois).toEqual([0x32]);
    expect(bit(APIC_IRR, 0x32)).toBe(1); // still high: requested again
    expect(apic.acknowledge()).toBe(0x32);
    apic.setLint0(false);
    w(APIC_EOI, 0);
    expect(r(APIC_LVT_LINT0) & 0x4000).toBe(0);
    expect(bit(APIC_IRR, 0x32)).toBe(0);
  });
});

describe('LocalApic timer', () => {
  it('decodes the divide configuration register (SDM figure 10-10)', () => {
    const { apic, w } = setup();
    const want = [2, 4, 8, 16, 32, 64, 128, 1];
    for (let v = 0; v < 8; v++) {
      w(APIC_TIMER_DIVIDE, (v & 3) | ((v & 4) << 1));
      expect(apic.timerDivisor).toBe(want[v]);
    }
  });

  it('one-shot: counts down at the divided rate and interrupts once, one tick after the count reaches 0 (QEMU)', () => {
    const s = setup();
    s.m.icount = 100;
    s.w(APIC_TIMER_DIVIDE, 0x0); // ÷2
    s.w(APIC_LVT_TIMER, 0x30);
    s.w(APIC_TIMER_INITIAL, 1000);
    expect(s.r(APIC_TIMER_CURRENT)).toBe(1000);
    s.m.icount = 101;
    expect(s.r(APIC_TIMER_CURRENT)).toBe(1000);
    s.m.icount = 102;
    expect(s.r(APIC_TIMER_CURRENT)).toBe(999);
    s.runTo(2099);
    expect(s.r(APIC_TIMER_CURRENT)).toBe(1);
    s.runTo(2101);
    expect(s.r(APIC_TIMER_CURRENT)).toBe(0);
    expect(s.apic.intrLevel).toBe(false);
    s.runTo(2102); // (initial + 1) divided ticks after the write
    expect(s.intr.at(-1)).toEqual({ level: true, ns: 2102 });
    expect(s.r(APIC_TIMER_CURRENT)).toBe(0);
    expect(s.apic.acknowledge()).toBe(0x30);
    s.w(APIC_EOI, 0);
    s.runTo(100_000);
    expect(s.intr.filter((e) => e.level)).toHaveLength(1);
    expect(s.r(APIC_TIMER_CURRENT)).toBe(0);
    expect(s.r(APIC_TIMER_INITIAL)).toBe(1000);
  });

  it('periodic: reloads from the initial count and interrupts every initial + 1 ticks (QEMU) at the exact instruction count', () => {
    const s = setup();
    s.w(APIC_TIMER_DIVIDE, 0xb); // ÷1
    s.w(APIC_LVT_TIMER, 0x20000 | 0x31);
    s.m.icount = 7;
    s.w(APIC_TIMER_INITIAL, 500);
    const taken: number[] = [];
    for (let k = 1; k <= 5; k++) {
      s.runTo(7 + 501 * k - 1);
      expect(s.apic.intrLevel).toBe(false);
      s.runTo(7 + 501 * k);
      expect(s.apic.intrLevel).toBe(true);
      taken.push(s.intr.at(-1)!.ns);
      expect(s.r(APIC_TIMER_CURRENT)).toBe(500); // just reloaded
      expect(s.apic.acknowledge()).toBe(0x31);
      s.w(APIC_EOI, 0);
    }
    expect(taken).toEqual([508, 1009, 1510, 2011, 2512]);
    s.m.icount = 2512 + 123;
    expect(s.r(APIC_TIMER_CURRENT)).toBe(377);
  });

  it('a masked timer keeps counting without interrupting; unmasking resumes at the next period', () => {
    const s = setup();
    s.w(APIC_TIMER_DIVIDE, 0xb);
    s.w(APIC_LVT_TIMER, MASKED | 0x20000 | 0x31);
    s.w(APIC_TIMER_INITIAL, 100);
    s.runTo(350);
    expect(s.intr).toHaveLength(0);
    expect(s.r(APIC_TIMER_CURRENT)).toBe(53); // periods of 101 ticks
    s.w(APIC_LVT_TIMER, 0x20000 | 0x31);
    s.runTo(403);
    expect(s.apic.intrLevel).toBe(false);
    s.runTo(404);
    expect(s.intr.at(-1)).toEqual({ level: true, ns: 404 });
  });

  it('a write of 0 to the initial count stops the timer in both modes', () => {
    const s = setup();
    s.w(APIC_TIMER_DIVIDE, 0xb);
    s.w(APIC_LVT_TIMER, 0x20000 | 0x31);
    s.w(APIC_TIMER_INITIAL, 100);
    s.runTo(50);
    s.w(APIC_TIMER_INITIAL, 0);
    expect(s.r(APIC_TIMER_CURRENT)).toBe(0);
    s.runTo(10_000);
    expect(s.intr).toHaveLength(0);
    expect(s.clock.armedTimers()).toHaveLength(0);
  });

  it('changing the divider mid-count continues from the current count at the new rate', () => {
    const s = setup();
    s.w(APIC_TIMER_DIVIDE, 0xb); // ÷1
    s.w(APIC_LVT_TIMER, 0x32);
    s.w(APIC_TIMER_INITIAL, 1000);
    s.runTo(400);
    expect(s.r(APIC_TIMER_CURRENT)).toBe(600);
    s.w(APIC_TIMER_DIVIDE, 0x1); // ÷4
    s.runTo(800);
    expect(s.r(APIC_TIMER_CURRENT)).toBe(500);
    s.runTo(400 + 2403);
    expect(s.apic.intrLevel).toBe(false);
    s.runTo(400 + 2404); // 601 ticks of 4 ns
    expect(s.intr.at(-1)).toEqual({ level: true, ns: 2804 });
  });

  it('switching between one-shot and periodic keeps the running count', () => {
    const s = setup();
    s.w(APIC_TIMER_DIVIDE, 0xb);
    s.w(APIC_LVT_TIMER, 0x33);
    s.w(APIC_TIMER_INITIAL, 100);
    s.runTo(40);
    s.w(APIC_LVT_TIMER, 0x20000 | 0x33);
    expect(s.r(APIC_TIMER_CURRENT)).toBe(60);
    s.runTo(101);
    expect(s.intr.at(-1)).toEqual({ level: true, ns: 101 });
    s.apic.acknowledge();
    s.w(APIC_EOI, 0);
    s.runTo(202);
    expect(s.intr.filter((e) => e.level).map((e) => e.ns)).toEqual([101, 202]);
  });

});

describe('LocalApic base MSR and memory map', () => {
  it('the registers sit at 0xFEE00000 whatever the base, repeating every 4 KiB through 1 MiB (QEMU)', () => {
    const phys = new PhysicalMemory(1 << 20);
    const ram = phys.allocate('ram', 1 << 20);
    phys.mapDirect(0, 1 << 20, ram, 0, true, true);
    phys.write32(0x80000, 0x12345678);
    const { apic } = setup({ phys });
    expect(phys.read32(APIC_DEFAULT_BASE + APIC_VER) >>> 0).toBe(0x00050014);
    expect(phys.read32(0xfee01000 + APIC_VER) >>> 0).toBe(0x00050014);
    expect(phys.read32(0xfeeff000 + APIC_SVR) >>> 0).toBe(0x1ff);
    expect(phys.read32(0xfef00000 + APIC_VER)).toBe(0); // past the window: unassigned
    apic.setBaseMsr(0x80000 | 0x800);
    expect(apic.baseMsr).toBe(0x80900); // the MSR keeps the new base...
    expect(phys.read32(0x80000)).toBe(0x12345678); // ...but nothing moves
    expect(phys.read32(APIC_DEFAULT_BASE + APIC_VER) >>> 0).toBe(0x00050014);
  });

  it('global disable as QEMU 7.2: enable bit and SVR bit 8 clear, registers kept and working; enabled again only by RESET', () => {
    const phys = new PhysicalMemory(1 << 16);
    const { apic, pic, nmis, selfIpi, r, w, bit } = setup({ phys });
    const changes: boolean[] = [];
    apic.onEnableChange = (on) => changes.push(on);
    w(APIC_LVT_TIMER, 0x20031);
    w(APIC_LDR, 0x01000000);
    apic.setBaseMsr(APIC_DEFAULT_BASE); // bit 11 clear
    expect(apic.globallyEnabled).toBe(false);
    expect(changes).toEqual([false]); // CPUID.1:EDX.APIC follows
    expect(apic.baseMsr).toBe(0xfee00100);
    expect(r(APIC_SVR)).toBe(0xff);
    expect(r(APIC_LVT_TIMER)).toBe(0x20031);
    expect(r(APIC_LDR)).toBe(0x01000000);
    expect(phys.read32(APIC_DEFAULT_BASE + APIC_VER) >>> 0).toBe(0x00050014); // still mapped
    selfIpi(0x40); // software-disabled now: waits in the IRR
    expect(bit(APIC_IRR, 0x40)).toBe(1);
    expect(apic.intrLevel).toBe(false);
    w(APIC_SVR, 0x1ff);
    expect(apic.acknowledge()).toBe(0x40);
    // The 8259 goes through LINT0 as its LVT says (ExtINT at reset), LINT1 through its LVT.
    apic.setLint0(true);
    expect(apic.acknowledge()).toBe(0x08);
    expect(pic.acks).toBe(1);
    w(APIC_LVT_LINT0, 0x10700);
    expect(apic.intrLevel).toBe(false);
    apic.setLint0(false);
    w(APIC_LVT_LINT1, 0x400);
    apic.setLint1(true);
    expect(nmis()).toBe(1);
    expect(apic.deliverMessage({ dest: 0, logical: false, deliveryMode: 0, vector: 0x50, level: false })).toBe(true);
    apic.setBaseMsr(APIC_DEFAULT_BASE | 0x800); // cannot be enabled again
    expect(apic.globallyEnabled).toBe(false);
    expect(apic.baseMsr).toBe(0xfee00100);
    apic.reset();
    expect(apic.baseMsr).toBe(0xfee00900);
    expect(changes).toEqual([false, true]);
  });

  it('an INIT to itself resets the registers to their INIT state (LINT0 masked too) and tells the CPU', () => {
    const { apic, r, w } = setup();
    let inits = 0;
    apic.onInit = () => inits++;
    w(APIC_ID, 0x02000000);
    w(APIC_TPR, 0x20);
    w(APIC_LVT_TIMER, 0x20031);
    w(APIC_TIMER_INITIAL, 1000);
    w(APIC_ICR_HIGH, 0x02000000);
    w(APIC_ICR_LOW, 0x8500); // INIT level de-assert: arbitration only
    expect(inits).toBe(0);
    w(APIC_ICR_LOW, 0x4500); // INIT, assert, to APIC ID 2
    expect(inits).toBe(1);
    expect(r(APIC_ID)).toBe(0x02000000);
    expect(r(APIC_TPR)).toBe(0);
    expect(r(APIC_SVR)).toBe(0xff);
    expect(r(APIC_LVT_TIMER)).toBe(0x10000);
    expect(r(APIC_LVT_LINT0)).toBe(0x10000);
    expect(r(APIC_ICR_LOW)).toBe(0);
    expect(r(APIC_TIMER_INITIAL)).toBe(0);
    expect(apic.baseMsr).toBe(0xfee00900);
    apic.deliverMessage({ dest: 2, logical: false, deliveryMode: 5, vector: 0, level: false });
    expect(inits).toBe(2);
    w(APIC_ICR_LOW, 0x4600 | 0x10); // STARTUP: the BSP waits for none
    expect(inits).toBe(2);
  });

  it('saves and restores its state, timer included', () => {
    const a = setup();
    a.w(APIC_TIMER_DIVIDE, 0xb);
    a.w(APIC_LVT_TIMER, 0x20000 | 0x31);
    a.w(APIC_TIMER_INITIAL, 300);
    a.w(APIC_TPR, 0x20);
    a.selfIpi(0x70);
    a.runTo(1000);
    const snap = JSON.parse(JSON.stringify(a.apic.saveState()));
    const b = setup({ enable: false });
    b.m.icount = 1000;
    b.apic.loadState(snap);
    expect(b.intr.at(-1)?.level).toBe(true);
    expect(b.r(APIC_TPR)).toBe(0x20);
    expect(b.r(APIC_TIMER_CURRENT)).toBe(a.r(APIC_TIMER_CURRENT));
    expect(b.clock.nextDeadline()).toBe(a.clock.nextDeadline());
    expect(b.apic.acknowledge()).toBe(0x70);
  });
});

describe('connectLocalApic (the CPU side of the wiring)', () => {
  function cpuSetup() {
    const phys = new PhysicalMemory(1 << 20);
    const cpu = new Cpu(phys, new IoBus());
    const clock = new VirtualClock(() => cpu.icount, 1);
    cpu.tscSource = () => Math.floor(clock.now());
    const apic = new LocalApic(clock, { phys });
    const other = { read: (msr: number) => (msr === 0x278 ? 7n : null), write: (msr: number) => msr === 0x278 };
    cpu.msrHook = other;
    connectLocalApic(cpu, apic);
    return { cpu, clock, apic, phys };
  }

  it('advertises the APIC in CPUID while enabled and routes IA32_APIC_BASE to the APIC', () => {
    const { cpu, apic } = cpuSetup();
    expect(cpuidLeaf(cpu, 1, 0)[3] & CPUID_APIC).toBe(CPUID_APIC);
    expect(cpu.intc).toBe(apic);
    expect(readMsr(cpu, 0x1b)).toBe(0xfee00900n);
    expect(writeMsr(cpu, 0x1b, 0xfed00900n)).toBe(true);
    expect(apic.baseMsr).toBe(0xfed00900);
    expect(writeMsr(cpu, 0x1b, 0x1fee00901n)).toBe(true); // reserved bits are ignored (QEMU)
    expect(readMsr(cpu, 0x1b)).toBe(0xfee00900n);
    expect(writeMsr(cpu, 0x1b, 0xfee00100n)).toBe(true);
    expect(cpuidLeaf(cpu, 1, 0)[3] & CPUID_APIC).toBe(0); // QEMU clears it with bit 11
    apic.reset(); // RESET (the board resets the APIC with the CPU)
    expect(readMsr(cpu, 0x1b)).toBe(0xfee00900n);
    expect(cpuidLeaf(cpu, 1, 0)[3] & CPUID_APIC).toBe(CPUID_APIC);
  });

  it('leaves IA32_TSC_DEADLINE unserved (QEMU 7.2 TCG: reads 0, writes ignored); other MSRs reach the board hook', () => {
    const { cpu, apic, clock } = cpuSetup();
    apic.write(APIC_SVR, 0x1ff, 4);
    apic.write(APIC_LVT_TIMER, 0x40000 | 0x40, 4);
    cpu.icount = 100;
    expect(writeMsr(cpu, 0x6e0, 600n)).toBe(true); // IA32_TSC_DEADLINE
    expect(readMsr(cpu, 0x6e0)).toBe(0n);
    expect(clock.nextDeadlineIcount()).toBe(Infinity);
    expect(readMsr(cpu, 0x278)).toBe(7n);
    expect(readMsr(cpu, 0x279)).toBe(0n); // unknown: 0, no #GP
  });

  it('raises IRQ_INIT on the CPU for an INIT to itself', () => {
    const { cpu, apic } = cpuSetup();
    cpu.deadline = 1000;
    apic.write(APIC_ICR_LOW, SELF | 0x4500, 4);
    expect(cpu.interruptRequest & IRQ_INIT).toBe(IRQ_INIT);
    expect(cpu.deadline).toBe(0);
  });

  it('drives IRQ_HARD from INTR and IRQ_NMI from NMIs', () => {
    const { cpu, apic } = cpuSetup();
    apic.write(APIC_SVR, 0x1ff, 4);
    cpu.deadline = 1000;
    apic.write(APIC_ICR_LOW, SELF | 0x45, 4);
    expect(cpu.interruptRequest & IRQ_HARD).toBe(IRQ_HARD);
    expect(cpu.deadline).toBe(0); // leaves translated code
    expect(cpu.intc!.acknowledge()).toBe(0x45);
    expect(cpu.interruptRequest & IRQ_HARD).toBe(0);
    apic.write(APIC_ICR_LOW, SELF | NMI, 4);
    expect(cpu.interruptRequest & IRQ_NMI).toBe(IRQ_NMI);
  });
});

describe('LocalApic for the debugger', () => {
  it('reports its state as JSON-safe info and QEMU-style `info lapic` text', () => {
    const s = setup();
    s.w(APIC_TIMER_DIVIDE, 0xb);
    s.w(APIC_LVT_TIMER, 0x20000 | 0x31);
    s.w(APIC_TIMER_INITIAL, 1000);
    s.selfIpi(0x45);
    s.apic.deliverMessage({ dest: 0, logical: false, deliveryMode: 0, vector: 0x46, level: true });
    const info = s.apic.info();
    expect(() => JSON.stringify(info)).not.toThrow();
    expect(info.irr).toEqual([0x45, 0x46]);
    expect(info.nextVector).toBe(0x46);
    expect(info.timer).toMatchObject({ mode: 'periodic', divisor: 1, initialCount: 1000, currentCount: 1000, nextFireNs: 1001 });
    const text = describeLocalApic(info);
    expect(text).toContain('LVTtimer    0x00020031 periodic vec 49');
    expect(text).toContain('LVTlint0    0x00000700 ExtINT vec 0');
    expect(text).toContain('IRR       69 70(level)');
    expect(text).toContain('ISR       (none)');
  });
});
