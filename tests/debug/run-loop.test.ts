// The debugger's run loop (the one loop of every front end: terminal UI, gdb, headless)
// does not slow guest time down when its slices are short (issue 11, defect 5). Under the
// terminal UI on a busy machine slices shrink to keep the UI answering (100 k
// instructions); a halted guest then skipped only 1 ms of guest time per slice and slept
// up to 10 ms between slices, so guest time ran at a tenth of wall time or less, and
// Linux, waiting on its timers after `Run /init`, sat at "running (hlt) 0.0 MIPS".
import { describe, expect, it } from 'vitest';
import { DebugController } from '../../src/debug/controller.js';
import { bootSample } from '../support/samples.js';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { enterFlatProtectedMode } from '../../src/boot/multiboot.js';

describe('run loop', () => {
  it('a guest sleeping on a 100 Hz timer gets through a second of guest time fast, with short slices', async () => {
    // demo: PIT at 100 Hz, 100 ticks of sti; hlt, then cli; hlt for good.
    const g = bootSample('demo');
    const ctl = new DebugController(g.pc, { sliceInsns: 100_000 });
    const t0 = performance.now();
    const r = await ctl.continue();
    const ms = performance.now() - t0;
    expect(r.kind).toBe('halted');
    expect(g.serial()).toContain('tick 100');
    // One second of guest time: the old loop took 5 s or more.
    expect(ms).toBeLessThan(1500);
  });

  it('a guest waiting for input with nothing scheduled waits for the input, and stops when input has ended', async () => {
    const g = bootSample('echo');
    let ended = false;
    const ctl = new DebugController(g.pc, { inputEnded: () => ended });
    ctl.resume('test');
    await new Promise((r) => setTimeout(r, 300));
    expect(ctl.state).toBe('running');
    ctl.serialInput(Buffer.from('hi\r'));
    await new Promise((r) => setTimeout(r, 200));
    expect(g.serial()).toContain('hi');
    ended = true;
    ctl.kick();
    expect(await ctl.waitForStop()).toEqual({ kind: 'idle' });
  });
});

describe('run loop with a guest that retires nothing', () => {
  it('a fault loop (every exception handler is a UD2) still ends slices: pause works, the event loop is served', async () => {
    // Issue 11, defect 8: garbage (a reset --kernel guest, a broken IDT) can deliver faults
    // for ever without retiring an instruction; the slice, bounded by retired
    // instructions, never ended and the UI stopped redrawing.
    const m = new PcMachine({});
    m.phys.load(0x100000, Uint8Array.from([0x0f, 0x0b])); // ud2
    const idt = new Uint8Array(256 * 8);
    for (let v = 0; v < 256; v++) idt.set([0x00, 0x00, 0x08, 0x00, 0x00, 0x8e, 0x10, 0x00], v * 8);
    m.phys.load(0x200000, idt);
    enterFlatProtectedMode(m.phys, m.cpu, 0x100000);
    m.cpu.idtBase = 0x200000;
    m.cpu.idtLimit = idt.length - 1;
    const ctl = new DebugController(m);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    ctl.resume('test');
    await new Promise((r) => setTimeout(r, 300));
    clearInterval(timer);
    // Timers ran while the guest spun, and a pause is answered.
    expect(ticks).toBeGreaterThan(1);
    expect(await ctl.pause('test')).toEqual({ kind: 'interrupt', by: 'test' });
    // Nothing retired; the storm is charged to the clock (decisions.md, "An exception storm is charged to the clock") and reported.
    expect(m.events.count('exception')).toBeGreaterThan(1000);
    expect(m.events.count('exception-storm')).toBe(1);
    expect(m.cpu.eip).toBe(0x100000);
  });
});
