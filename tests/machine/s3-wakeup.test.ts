// ACPI S3 on the PC board: what suspends, what wakes it (QEMU's wake-up sources: the RTC
// alarm only with PM1_EN.RTC_EN, a key, the monitor's system_wakeup; not serial input),
// and the i440FX keeping PAM over the wake-up reset as QEMU does. The whole round trip
// through SeaBIOS and a direct boot is compared with QEMU by tests/devices/board-guests.test.ts.
import { describe, expect, it } from 'vitest';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { installFirmwareTables } from '../../src/boot/firmware-tables.js';
import { DebugController } from '../../src/debug/controller.js';
import { runMonitorCommand } from '../../src/debug/monitor.js';

const PM = 0x600;
const S3 = (1 << 10) | (1 << 13);

/** A machine whose guest code is "jmp $" at 0x1000 in flat protected mode (no BIOS). */
function machine(): PcMachine {
  const m = new PcMachine({ memoryMiB: 32 });
  installFirmwareTables(m);
  m.phys.load(0x1000, Uint8Array.of(0xeb, 0xfe));
  m.cpu.loadSegmentReal(1, 0);
  m.cpu.eip = 0x1000;
  return m;
}

describe('ACPI S3 suspend and wake-up', () => {
  it('stops the CPU, marks CMOS 0x0F for the firmware, and ignores serial input', () => {
    const m = machine();
    m.io.write(PM + 4, S3, 2);
    expect(m.suspended).toBe(true);
    expect(m.rtc.getCmos(0x0f)).toBe(0xfe);
    const before = m.cpu.icount;
    expect(m.run(1_000_000)).toMatchObject({ kind: 'budget', halted: true });
    m.serialInput([0x41]);
    m.run(1_000_000);
    expect(m.cpu.icount).toBe(before);
    expect(m.suspended).toBe(true);
  });

  it('wakes on a key with WAK_STS and PWRBTN_STS, through a reset', () => {
    const m = machine();
    const resets = m.resets;
    m.io.write(PM + 4, S3, 2);
    m.keyboardInput([0x1e]);
    m.run(1000);
    expect(m.suspended).toBe(false);
    expect(m.resets).toBe(resets + 1);
    expect(m.io.read(PM, 2) & 0x8100).toBe(0x8100);
  });

  it('wakes on the RTC alarm only when PM1_EN.RTC_EN is set', () => {
    for (const rtcEn of [false, true]) {
      const m = machine();
      // Alarm at any second (all "don't care"), AIE on.
      for (const r of [0x01, 0x03, 0x05]) {
        m.io.write(0x70, r, 1);
        m.io.write(0x71, 0xff, 1);
      }
      m.io.write(0x70, 0x0b, 1);
      m.io.write(0x71, 0x22, 1);
      if (rtcEn) m.io.write(PM + 2, 0x0400, 2);
      m.io.write(PM + 4, S3, 2);
      for (let i = 0; i < 5 && m.suspended; i++) m.run(1_000_000_000);
      expect(m.suspended).toBe(!rtcEn);
      if (rtcEn) expect(m.io.read(PM, 2) & 0x8400).toBe(0x8400);
    }
  });

  it('serves system_wakeup in the monitor, as QEMU', async () => {
    const m = machine();
    const ctl = new DebugController(m);
    expect(await runMonitorCommand(ctl, 'system_wakeup')).toMatch(/not in suspended state/);
    m.io.write(PM + 4, S3, 2);
    expect(await runMonitorCommand(ctl, 'system_wakeup')).toMatch(/waking up/);
    m.run(1000);
    expect(m.suspended).toBe(false);
  });

  it('keeps the i440FX PAM registers over a system reset (QEMU 7.2, measured)', () => {
    const m = new PcMachine({ memoryMiB: 32, bios: new Uint8Array(65536) });
    m.pci.configWrite(0, 0, 0x5a, 0x33, 1);
    m.pci.configWrite(0, 0, 0x5e, 0x11, 1);
    m.reset('test');
    expect(m.pci.configRead(0, 0, 0x58, 4)).toBe(0x00330000);
    expect(m.pci.configRead(0, 0, 0x5c, 4)).toBe(0x00110000);
  });
});
