import { describe, it, expect } from 'vitest';
import { cfgRead, cfgWrite, makeBoard } from './pci-support.js';
import { Piix4Pm, pmTimerTicksAt, PM_TIMER_FREQUENCY } from '../../src/devices/pci/piix4-pm.js';
import { Piix3Ide } from '../../src/devices/pci/piix3-ide.js';

function setup(opts: { smm?: boolean } = {}) {
  const b = makeBoard();
  const offs: number[] = [];
  const suspends: number[] = [];
  const smis: number[] = [];
  const pm = new Piix4Pm(b.io, b.bus, b.clock, {
    sci: b.line(9), onPowerOff: () => offs.push(b.m.icount), onSuspend: () => suspends.push(1), onSmi: () => smis.push(1), smm: opts.smm,
  });
  /** SeaBIOS's piix4_pm_setup with pm_base 0x600. */
  const enable = () => {
    cfgWrite(b.io, 1, 3, 0x3c, 9, 1);
    cfgWrite(b.io, 1, 3, 0x40, 0x601, 4);
    cfgWrite(b.io, 1, 3, 0x80, 0x01, 1);
    cfgWrite(b.io, 1, 3, 0x90, 0x701, 4);
    cfgWrite(b.io, 1, 3, 0xd2, 0x09, 1);
  };
  return { ...b, pm, offs, suspends, smis, enable };
}

describe('PIIX4 power management', () => {
  it('config space at reset: PMBA bit 0, SMBus base 0xB100, SMM reported as set up', () => {
    const { io } = setup();
    expect(cfgRead(io, 1, 3, 0x40, 4)).toBe(0x00000001);
    expect(cfgRead(io, 1, 3, 0x80, 1)).toBe(0);
    expect(cfgRead(io, 1, 3, 0x58, 4)).toBe(0x02000000); // DEVACTB.APMC_EN
    expect(cfgRead(io, 1, 3, 0x90, 4)).toBe(0xb101);
    expect(cfgRead(io, 1, 3, 0xd2, 1)).toBe(0x09);
    expect(cfgRead(io, 1, 3, 0x06, 2)).toBe(0x0280);
    cfgWrite(io, 1, 3, 0x40, 0xffffffff, 4);
    expect(cfgRead(io, 1, 3, 0x40, 4)).toBe(0x0000ffc1);
    expect(setup({ smm: true }).io.read(0xcfc, 4)).toBeDefined();
  });

  it('PM registers appear at PMBA only with PMIOSE', () => {
    const { io, enable, pm } = setup();
    expect(io.read(0x608, 4)).toBe(0xffffffff);
    enable();
    expect(pm.pmBase).toBe(0x600);
    expect(io.read(0x600, 2)).toBe(0x0001); // TMR_STS reads set until cleared, as in QEMU
    io.write(0x600, 0xffff, 2);
    expect(io.read(0x600, 2)).toBe(0);
    cfgWrite(io, 1, 3, 0x80, 0x00, 1);
    expect(io.read(0x600, 2)).toBe(0xffff);
    expect(pm.deviceInfo().smbusBase).toBe(0x700);
  });

  it('PM timer counts at 3.579545 MHz in 24 bits from the virtual clock', () => {
    const { io, enable, m } = setup();
    enable();
    expect(io.read(0x608, 4)).toBe(0);
    m.icount = 1_000_000_000;
    expect(io.read(0x608, 4)).toBe(PM_TIMER_FREQUENCY);
    m.icount = 1_000_000;
    expect(io.read(0x608, 4)).toBe(3579);
    m.icount = 10_000_000_000; // past 2^24 ticks: wraps
    expect(io.read(0x608, 4)).toBe((PM_TIMER_FREQUENCY * 10) & 0xffffff);
    // Narrow reads give the timer's low bytes at any offset (QEMU 7.2, decisions.md 29).
    expect(io.read(0x60a, 1)).toBe((PM_TIMER_FREQUENCY * 10) & 0xff);
    expect(io.read(0x609, 2)).toBe((PM_TIMER_FREQUENCY * 10) & 0xffff);
    expect(pmTimerTicksAt(279)).toBe(0);
    expect(pmTimerTicksAt(280)).toBe(1);
  });

  it('TMR_STS sets when bit 23 toggles; with TMR_EN it raises SCI on IRQ 9', () => {
    const { io, enable, m, clock, irqs } = setup();
    enable();
    io.write(0x600, 0x0001, 2); // clear the initial TMR_STS
    io.write(0x602, 0x0001, 2); // TMR_EN
    const toggle = Math.ceil((2 ** 23 * 1e9) / PM_TIMER_FREQUENCY);
    expect(clock.nextDeadline()).toBe(toggle);
    m.icount = toggle - 1;
    clock.runDue();
    expect(io.read(0x600, 2) & 1).toBe(0);
    m.icount = toggle;
    clock.runDue();
    expect(irqs.get(9)).toEqual([true]);
    expect(io.read(0x600, 2) & 1).toBe(1);
    io.write(0x600, 0x0001, 2); // write 1 to clear
    expect(io.read(0x600, 2) & 1).toBe(0);
    expect(irqs.get(9)).toEqual([true, false]);
  });

  it('power button and GPE0 events raise SCI when enabled', () => {
    const { io, enable, pm, irqs } = setup();
    enable();
    pm.pressPowerButton();
    expect(irqs.get(9)).toBeUndefined();
    io.write(0x602, 0x0100, 2);
    expect(irqs.get(9)).toEqual([true]);
    io.write(0x601, 0x01, 1); // byte write of the high status byte clears PWRBTN_STS
    expect(irqs.get(9)).toEqual([true, false]);
    io.write(0xafe2, 0x0002, 2);
    pm.raiseGpe(0x0002);
    expect(io.read(0xafe0, 2)).toBe(0x0002);
    expect(irqs.get(9)!.at(-1)).toBe(true);
    io.write(0xafe0, 0x0002, 2);
    expect(irqs.get(9)!.at(-1)).toBe(false);
  });

  it('SLP_EN with SLP_TYP 0 (S5) powers off; SLP_EN reads back 0', () => {
    const { io, enable, offs, suspends, m } = setup();
    enable();
    m.icount = 1234;
    io.write(0x604, (1 << 10) | 0x2000, 2);
    expect(suspends).toEqual([1]);
    expect(offs).toEqual([]);
    io.write(0x604, 0x2000 | 0x0001, 2);
    expect(offs).toEqual([1234]);
    expect(io.read(0x604, 2)).toBe(0x0001);
  });

  it('ACPI enable/disable through the APM control port', () => {
    const { io, enable, smis } = setup();
    enable();
    io.write(0xb2, 0xf1, 1);
    expect(io.read(0x604, 2) & 1).toBe(1);
    io.write(0xb2, 0xf0, 1);
    expect(io.read(0x604, 2) & 1).toBe(0);
    io.write(0xb3, 0x5a, 1);
    expect(io.read(0xb3, 1)).toBe(0x5a);
    io.write(0xb2, 0x00, 1);
    expect(smis).toEqual([]); // no SMM
    const s = setup({ smm: true });
    cfgWrite(s.io, 1, 3, 0x58, 0x02000000, 4);
    s.io.write(0xb2, 0x00, 1);
    expect(s.smis).toEqual([1]);
  });

  it('SMBus host: a transaction finds no device', () => {
    const { io, enable } = setup();
    enable();
    io.write(0x704, 0xa1, 1);
    io.write(0x702, 0x48, 1); // START, byte data
    expect(io.read(0x700, 1) & 0x04).toBe(0x04);
    expect(io.read(0x702, 1) & 0x40).toBe(0);
    io.write(0x700, 0x04, 1);
    expect(io.read(0x700, 1)).toBe(0);
  });
});

describe('PIIX3 IDE with no drives', () => {
  function ide() {
    const b = makeBoard();
    const dev = new Piix3Ide(b.io, b.bus, { irqPrimary: b.line(14), irqSecondary: b.line(15) });
    return { ...b, dev };
  }

  it('every task-file register and the alternate status read 0 on both channels', () => {
    const { io } = ide();
    for (const base of [0x1f0, 0x170]) {
      io.write(base + 2, 0x55, 1); // SeaBIOS's presence probe
      io.write(base + 3, 0xaa, 1);
      for (let r = 1; r < 8; r++) expect(io.read(base + r, 1)).toBe(0);
      expect(io.read(base, 2)).toBe(0);
    }
    expect(io.read(0x3f6, 1)).toBe(0);
    expect(io.read(0x376, 1)).toBe(0);
  });

  it('a command to the master is aborted with an interrupt; status read acknowledges it', () => {
    const { io, irqs } = ide();
    io.write(0x1f6, 0xa0, 1);
    io.write(0x1f7, 0xec, 1); // IDENTIFY
    expect(irqs.get(14)).toEqual([true]);
    expect(io.read(0x1f7, 1)).toBe(0);
    expect(irqs.get(14)).toEqual([true, false]);
    io.write(0x176, 0xb0, 1); // slave of the secondary channel: ignored
    io.write(0x177, 0xec, 1);
    expect(irqs.get(15)).toBeUndefined();
    io.write(0x3f6, 0x02, 1); // nIEN
    io.write(0x1f7, 0xec, 1);
    expect(irqs.get(14)).toEqual([true, false]);
  });

  it('bus-master status: bits 1-2 write-one-to-clear, 5-6 read/write', () => {
    const { io, dev } = ide();
    cfgWrite(io, 1, 1, 0x20, 0xc000, 4);
    cfgWrite(io, 1, 1, 0x04, 0x0005, 2);
    io.write(0xc002, 0x66, 1);
    expect(io.read(0xc002, 1)).toBe(0x60);
    expect(io.read(0xc001, 1)).toBe(0xff);
    expect(dev.deviceInfo().busMaster.status).toEqual([0x60, 0]);
  });
});
