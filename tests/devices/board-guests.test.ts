// The board test guests (tests/guests/board) on bmbt-dbg and on QEMU 7.2: each prints
// what it measures on COM1, and the text must be QEMU's (committed in
// tests/guests/board/expected, and checked against a live QEMU when one is installed),
// booted directly and through SeaBIOS.
import { describe, expect, it } from 'vitest';
import { haveQemu } from '../support/qemu.js';
import { expectedOutput, guestPart, haveSeabios, runOursGuest, runQemuGuest } from '../support/board-guest.js';

function firstLine(s: string): string {
  return s.slice(0, s.indexOf('\n'));
}

/** The guest's output on both boots of bmbt-dbg is QEMU's, and so is the exit status. */
function compareGuest(name: string, timeoutMs = 120_000): void {
  const want = expectedOutput(name);
  it.skipIf(!haveQemu())(`${name}: QEMU 7.2 still prints the committed output`, async () => {
    const q = await runQemuGuest(name);
    expect(q.out).toBe(want);
    expect(q.code).toBe(1);
  }, timeoutMs);
  it(`${name}: booted directly, prints what QEMU prints`, async () => {
    const r = await runOursGuest(name);
    expect(r.out).toBe(want);
    expect(r.code).toBe(1);
  }, timeoutMs);
  it.skipIf(!haveSeabios)(`${name}: through SeaBIOS, prints what QEMU prints`, async () => {
    const r = await runOursGuest(name, { bios: true });
    expect(guestPart(r.out, firstLine(want))).toBe(want);
    expect(r.code).toBe(1);
  }, timeoutMs);
}

describe('PCI configuration mechanism #1 with CONFIG_ADDRESS bits 0-1 set (board-pci.elf)', () => {
  compareGuest('pci');
});
