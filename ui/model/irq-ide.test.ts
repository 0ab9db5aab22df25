// The IRQ timeline ties the IDE channels' interrupts (IRQ 14, 15) to the command they
// answer: the selected raise names the last command the guest gave that channel.
import { describe, expect, it } from 'vitest';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { MemoryBackend, TrackedImage } from '../../src/block/block-image.js';
import { DebugController } from '../../src/debug/controller.js';
import { buildIrqTimeline, describeIrqEvent, irqEvents } from './irq-view.js';

/**
 * A machine with one drive (IDE unit 0-3) running "jmp $" for 1000 instructions, its
 * channel's interrupts enabled (nIEN clear): the commands the test gives come later.
 */
function spinningWithDrive(unit: number, media: 'disk' | 'cdrom', image: TrackedImage): { m: PcMachine; ctl: DebugController } {
  const m = new PcMachine({ memoryMiB: 16, drives: [{ bus: 'ide', unit, media, image }] });
  const ctl = new DebugController(m);
  m.phys.load(0x1000, Uint8Array.of(0xeb, 0xfe));
  m.cpu.loadSegmentReal(1, 0);
  m.cpu.eip = 0x1000;
  m.io.write(unit < 2 ? 0x3f6 : 0x376, 0, 1);
  m.run(1000);
  return { m, ctl };
}

describe('IRQ timeline: the IDE command behind IRQ 14', () => {
  it('a raise of IRQ 14 is described with the ATA command that caused it', () => {
    const { m, ctl } = spinningWithDrive(0, 'disk', new TrackedImage(new MemoryBackend(new Uint8Array(1 << 20))));
    // The guest's READ SECTORS (through the ports) at a later count.
    m.io.write(0x1f6, 0xe0, 1);
    m.io.write(0x1f2, 1, 1);
    m.io.write(0x1f3, 7, 1);
    m.io.write(0x1f4, 0, 1);
    m.io.write(0x1f5, 0, 1);
    m.io.write(0x1f7, 0x20, 1);
    expect(ctl.ideCommands().at(-1)).toMatchObject({ channel: 0, unit: 0, text: 'READ SECTORS lba 7 count 1, status 0x58' });
    const events = irqEvents(ctl);
    const raise = events.findIndex((e) => e.kind === 'irq-raise' && e.line === 14);
    expect(raise).toBeGreaterThanOrEqual(0);
    const view = buildIrqTimeline(ctl, { start: null, perCol: null, cols: 40, rows: 20, selected: raise });
    expect(describeIrqEvent(view.selected!)).toMatch(/^IRQ 14 raised at icount .* · after IDE master: READ SECTORS lba 7 count 1, status 0x58$/);
  });
});

describe('IRQ timeline: IRQ 15 and the CD-ROM on the secondary channel', () => {
  it('a raise of IRQ 15 is described with its PACKET command, which the secondary channel\'s last commands list', async () => {
    // A 4-sector "CD" (2 KiB sectors) in the secondary master, as -cdrom puts it.
    const { m, ctl } = spinningWithDrive(2, 'cdrom', new TrackedImage(new MemoryBackend(new Uint8Array(4 * 2048), true)));
    // PACKET, PIO, up to 8 bytes a DRQ block; the CDB is READ CAPACITY (0x25).
    m.io.write(0x176, 0xa0, 1);
    m.io.write(0x171, 0, 1);
    m.io.write(0x174, 8, 1);
    m.io.write(0x175, 0, 1);
    m.io.write(0x177, 0xa0, 1);
    const cdb = [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 12; i += 2) m.io.write(0x170, cdb[i]! | (cdb[i + 1]! << 8), 2);
    // The reply: the last LBA (3) and the block size (2048), big-endian.
    const reply = [0, 0, 0, 0].map(() => m.io.read(0x170, 2));
    expect(reply).toEqual([0x0000, 0x0300, 0x0000, 0x0008]);
    expect(m.io.read(0x177, 1) & 0x89).toBe(0); // not busy, no DRQ, no error
    const secondary = ctl.ideCommands().filter((c) => c.channel === 1);
    expect(secondary.at(-1)).toMatchObject({ unit: 0, text: expect.stringMatching(/^PACKET \(SCSI 0x25\), status 0x/) });
    const events = irqEvents(ctl);
    const raise = events.findIndex((e) => e.kind === 'irq-raise' && e.line === 15);
    expect(raise).toBeGreaterThanOrEqual(0);
    expect(events.some((e) => e.kind === 'irq-raise' && e.line === 14)).toBe(false);
    const view = buildIrqTimeline(ctl, { start: null, perCol: null, cols: 40, rows: 20, selected: raise });
    expect(describeIrqEvent(view.selected!)).toMatch(/^IRQ 15 raised at icount .* · after IDE master: PACKET \(SCSI 0x25\), status 0x[0-9a-f]{2}$/);
    // The monitor's `info block` lists it under the CD-ROM's last commands.
    const { runMonitorCommand } = await import('../../src/debug/monitor.js');
    const info = await runMonitorCommand(ctl, 'info block');
    expect(info).toMatch(/^ide1-cd0: .*\n    Attached to:      IDE secondary master, CD-ROM[^]*Last commands:\n(      .*\n)*      PACKET \(SCSI 0x25\), status 0x/m);
  });
});
