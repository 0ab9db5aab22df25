// The session publishes snapshots at most ~30 times a second however fast keys come,
// about 5 times a second while the guest runs with nothing typed, and never per TB.
import { describe, expect, it } from 'vitest';
import { UiSession } from './ui-session.js';
import { sampleController } from '../../tests/support/sample-controller.js';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { enterFlatProtectedMode } from '../../src/boot/multiboot.js';
import { DebugController } from '../../src/debug/controller.js';
import { statusText } from '../panes/status-line.js';

/** inc eax; add ebx,eax; xor ecx,ebx; rol edx,1; add edx,ecx; jmp back: runs forever. */
function spinController(): DebugController {
  const m = new PcMachine({});
  m.phys.load(0x100000, Uint8Array.from([0x40, 0x01, 0xc3, 0x31, 0xd9, 0xd1, 0xc2, 0x01, 0xca, 0xeb, 0xf5]));
  enterFlatProtectedMode(m.phys, m.cpu, 0x100000);
  return new DebugController(m);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('UiSession publishing', () => {
  it('caps redraws at ~30/s under a storm of keys and runs ~5/s while the guest runs', async () => {
    const ctl = spinController();
    const session = new UiSession(ctl, { columns: 120, rows: 40 });
    session.attach();
    let published = 0;
    session.subscribe(() => published++);
    ctl.resume('test');
    await sleep(300);
    // Running, nothing typed: the ticker draws about 5 frames a second.
    published = 0;
    await sleep(2000);
    // (the lower bounds are loose: on a machine loaded many times over, timers run late)
    expect(published).toBeGreaterThanOrEqual(3);
    expect(published).toBeLessThanOrEqual(12);
    // Hundreds of keys a second (cursor moves, pane switches): still at most ~30 frames/s.
    published = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 1000) {
      session.handleKeys(['3', '4', 'j', '2']);
      await sleep(2);
    }
    await sleep(50);
    expect(published).toBeGreaterThan(5);
    expect(published).toBeLessThanOrEqual(32);
    // Millions of TBs ran meanwhile.
    expect(ctl.tbStats().executions).toBeGreaterThan(1000);
    await ctl.pause('test');
    session.dispose();
  });

  it('while the guest runs, draws less often when frames cost more: drawing stays under 1/20 of the time', async () => {
    const ctl = spinController();
    // Each frame "costs" 150 ms: the clock moves on by that much between a snapshot and
    // the front end reporting the frame drawn.
    let skew = 0;
    const session = new UiSession(ctl, { columns: 120, rows: 40, now: () => performance.now() + skew });
    session.attach();
    let published = 0;
    session.subscribe(() => {
      published++;
      skew += 150;
      session.frameDrawn();
    });
    ctl.resume('test');
    await sleep(300);
    published = 0;
    await sleep(2000);
    // 20 x 150 ms = 3 s between running frames (5 a second without the report).
    expect(published).toBeLessThanOrEqual(1);
    // A key still draws at once.
    const before = published;
    session.handleKeys(['3']);
    await sleep(100);
    expect(published).toBeGreaterThan(before);
    await ctl.pause('test');
    session.dispose();
  });

  it('redraws on a stop at once, with the registers of the previous stop for highlighting', async () => {
    const { ctl, symbol } = sampleController('hello');
    const session = new UiSession(ctl, { columns: 100, rows: 30 });
    session.attach();
    const snaps: number[] = [];
    session.subscribe((s) => snaps.push(s.registers.cur.eip));
    ctl.addBreakpoint(symbol('main'));
    await ctl.continue();
    await sleep(60);
    expect(snaps.at(-1)).toBe(symbol('main'));
    await ctl.stepInstruction(1);
    await sleep(60);
    const snap = session.getSnapshot();
    expect(snap.registers.cur.eip).toBe(symbol('main') + 4);
    expect(snap.registers.prev!.eip).toBe(symbol('main'));
    expect(snap.status.reason).toBe('stepped to 0x00100b54 <main+0x4>');
    session.dispose();
  });
});

describe('the VGA pane types into the guest keyboard', () => {
  it('i starts typing: keys become set 1 make/break codes (Shift around capitals), Esc stops', async () => {
    const { keyToScancodes } = await import('./keys.js');
    expect(keyToScancodes('a')).toEqual([0x1e, 0x9e]);
    expect(keyToScancodes('A')).toEqual([0x2a, 0x1e, 0x9e, 0xaa]);
    expect(keyToScancodes('return')).toEqual([0x1c, 0x9c]);
    expect(keyToScancodes('down')).toEqual([0xe0, 0x50, 0xe0, 0xd0]);
    expect(keyToScancodes('ctrl-x')).toEqual([0x1d, 0x2d, 0xad, 0x9d]);
    expect(keyToScancodes('€')).toEqual([]);
    const ctl = spinController();
    const sent: number[][] = [];
    const orig = ctl.keyboardInput.bind(ctl);
    ctl.keyboardInput = (b) => {
      sent.push([...b]);
      orig(b);
    };
    const session = new UiSession(ctl, { columns: 120, rows: 40 });
    session.handleKeys(['8', 'a']);
    expect(sent).toEqual([]); // not typing yet: 'a' is no VGA command, nothing reaches the guest
    session.handleKeys(['i', 'a', '!', 'escape', 'a']);
    expect(sent).toEqual([[0x1e, 0x9e], [0x2a, 0x02, 0x82, 0xaa]]);
    expect(session.vgaTyping).toBe(false);
    session.dispose();
  });
});

describe('several CPUs (-smp)', () => {
  it('the status line names the selected CPU; N selects the next one, whose registers the panes show', async () => {
    const { guestMachine } = await import('../../tests/support/guest-machine.js');
    const g = guestMachine(['--kernel', 'tests/guests/build/smp.bin', '-smp', '2']);
    const ctl = new DebugController(g.pc);
    const session = new UiSession(ctl, { columns: 120, rows: 40 });
    let snap = session.publishNow();
    expect(statusText(snap.status).rest).toMatch(/^CPU 0\/2 │ 0 insns/);
    expect(snap.registers.cur.eip).toBe(0x100020);
    session.handleKeys(['N']);
    snap = session.publishNow();
    expect(statusText(snap.status).rest).toMatch(/^CPU 1\/2 │/);
    // The AP waits for its SIPI at the reset vector.
    expect(snap.registers.cur.eip).toBe(0xfff0);
    expect(snap.message).toBe('CPU 1 selected');
    session.handleKeys(['N']);
    expect(ctl.selectedCpu()).toBe(0);
    session.dispose();
  });

  it('after a stop on an AP the status line names that CPU and why, also once another is selected', async () => {
    const { guestMachine } = await import('../../tests/support/guest-machine.js');
    const { smpSymbol } = await import('../../tests/support/smp-guest.js');
    const g = guestMachine(['--kernel', 'tests/guests/build/smp.bin', '-smp', '2']);
    const ctl = new DebugController(g.pc);
    const session = new UiSession(ctl, { columns: 160, rows: 40 });
    session.attach();
    const hex = (a: number): string => `0x${a.toString(16).padStart(8, '0')}`;
    // isr_ping runs on the AP only (the BSP's pings).
    const isrPing = smpSymbol('isr_ping');
    ctl.addBreakpoint(isrPing);
    expect(await ctl.continue()).toMatchObject({ kind: 'breakpoint', pc: isrPing });
    let rest = statusText(session.publishNow().status).rest;
    expect(rest).toMatch(/^CPU 1\/2 │ /);
    expect(rest).toContain(`│ breakpoint 1 at ${hex(isrPing)} on CPU 1`);
    // N selects CPU 0: the selection moves, the stop still says where it happened.
    session.handleKeys(['N']);
    rest = statusText(session.publishNow().status).rest;
    expect(rest).toMatch(/^CPU 0\/2 │ /);
    expect(rest).toContain(`│ breakpoint 1 at ${hex(isrPing)} on CPU 1`);
    // A step of CPU 0, then a breakpoint only the BSP runs (putc): CPU 0 named.
    await ctl.stepInstruction(1);
    rest = statusText(session.publishNow().status).rest;
    expect(rest).toMatch(new RegExp(`│ stepped to 0x[0-9a-f]{8} on CPU 0`));
    ctl.removeBreakpoint(isrPing);
    const putc = smpSymbol('putc');
    ctl.addBreakpoint(putc);
    expect(await ctl.continue()).toMatchObject({ kind: 'breakpoint', pc: putc });
    rest = statusText(session.publishNow().status).rest;
    expect(rest).toMatch(/^CPU 0\/2 │ /);
    expect(rest).toContain(`│ breakpoint 2 at ${hex(putc)} on CPU 0`);
    session.dispose();
  });

  it('with one CPU the status line is as before', () => {
    const ctl = spinController();
    const session = new UiSession(ctl, { columns: 120, rows: 40 });
    expect(session.publishNow().status.cpu).toBeNull();
    expect(statusText(session.publishNow().status).rest).toMatch(/^0 insns/);
    session.dispose();
  });
});
