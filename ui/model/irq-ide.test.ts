// The IRQ timeline ties the IDE channels' interrupts (IRQ 14, 15) to the command they
// answer: the selected raise names the last command the guest gave that channel.
import { describe, expect, it } from 'vitest';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { MemoryBackend, TrackedImage } from '../../src/block/block-image.js';
import { DebugController } from '../../src/debug/controller.js';
import { buildIrqTimeline, describeIrqEvent, irqEvents } from './irq-view.js';

describe('IRQ timeline: the IDE command behind IRQ 14', () => {
  it('a raise of IRQ 14 is described with the ATA command that caused it', () => {
    const image = new TrackedImage(new MemoryBackend(new Uint8Array(1 << 20)));
    const m = new PcMachine({ memoryMiB: 16, drives: [{ bus: 'ide', unit: 0, media: 'disk', image }] });
    const ctl = new DebugController(m);
    // "jmp $" runs for a while, then the guest's READ SECTORS (through the ports) at a later count.
    m.phys.load(0x1000, Uint8Array.of(0xeb, 0xfe));
    m.cpu.loadSegmentReal(1, 0);
    m.cpu.eip = 0x1000;
    m.io.write(0x3f6, 0, 1); // nIEN clear
    m.run(1000);
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
