// End to end in a real terminal (tmux): whatever the guest does, the UI keeps answering
// (issue 11, defect 8). This guest faults for ever without retiring an instruction (its
// #UD handler is the UD2 that faults), which used to hold the run loop in one slice:
// no frame, no key served.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TmuxTerm, skipWithoutTmux } from './support/tmux.js';

const terms: TmuxTerm[] = [];
afterAll(() => {
  for (const t of terms) t.kill();
});

// lidt [idtr]; spin: ud2; idtr: dw 63, dd idt; idt: 8 interrupt gates to spin (0x100007).
const FAULT_LOOP = [
  0x0f, 0x01, 0x1d, 0x09, 0x00, 0x10, 0x00, 0x0f, 0x0b, 0x3f, 0x00, 0x10, 0x00, 0x10, 0x00, 0x90,
  ...Array.from({ length: 8 }, () => [0x07, 0x00, 0x08, 0x00, 0x00, 0x8e, 0x10, 0x00]).flat(),
];

describe.skipIf(skipWithoutTmux())('terminal UI in tmux: a guest in a fault loop', () => {
  it('still draws and answers keys: p pauses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-fault-'));
    const image = join(dir, 'fault.bin');
    writeFileSync(image, Uint8Array.from(FAULT_LOOP));
    const t = new TmuxTerm('faultloop');
    terms.push(t);
    t.start(['--ui', 'tui', '--load', `${image}@0x100000`, '--entry', '0x100000']);
    await t.firstFrame('running');
    t.keys('p');
    const s = await t.waitFor('paused by ui', 'the pause');
    expect(s).toMatch(/eip 00100007/);
    // the storm is charged to the clock (decisions.md, "An exception storm is charged to the clock"): the count moves, EIP does not
    t.keys('q');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
    expect(t.deadStatus()).toBe('exit 0');
  });
});
