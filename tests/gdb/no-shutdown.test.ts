// -no-reboot -no-shutdown under gdb (what tests/support/qemu.ts relies on): a triple fault
// stops the machine with SIGQUIT instead of ending the session, the registers still show
// the faulting state, and the machine cannot be continued without a reset; as QEMU.
import { afterEach, describe, expect, it } from 'vitest';
import { RspClient } from '../support/rsp-client.js';
import { startQemu, skipWithoutQemu, type QemuInstance } from '../support/qemu.js';
import { skipWithoutNasm } from '../support/nasm.js';
import { multibootFlat } from '../support/same-command-line.js';
import { startEmu, type Emu } from './support.js';

const TRIPLE_FAULT = `
start:
  mov eax, 0x1234abcd
  lidt [null_idt]
fault:
  int3
null_idt:
  dw 0
  dd 0
`;

let emu: Emu | null = null;
let qemu: QemuInstance | null = null;
const clients: RspClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await emu?.close();
  await qemu?.close();
  emu = null;
  qemu = null;
});

describe.skipIf(skipWithoutQemu() || skipWithoutNasm())('-no-reboot -no-shutdown with gdb attached', () => {
  it('a triple fault is a SIGQUIT stop at the faulting instruction, on both emulators', async () => {
    const kernel = multibootFlat(TRIPLE_FAULT);
    qemu = await startQemu({ kernel });
    const q = await qemu.client.cont();
    emu = await startEmu(['-kernel', kernel, '-no-reboot', '-no-shutdown', '-nodefaults']);
    const c = await RspClient.connect(emu.port, '127.0.0.1');
    clients.push(c);
    await c.qSupported();
    const o = await c.cont();
    expect(q.kind).toBe('stop');
    expect(q.signal).toBe(3);
    expect(o.kind).toBe('stop');
    expect(o.signal).toBe(3);
    const qr = await qemu.client.readRegisters();
    const or = await c.readRegisters();
    expect(or.eax).toBe(0x1234abcd);
    expect(or.eip).toBe(qr.eip);
    // The machine stays where it stopped: continuing reports the same stop.
    const again = await c.cont();
    expect(again.signal).toBe(3);
    expect((await c.readRegisters()).eip).toBe(or.eip);
    expect(emu.stderr()).toMatch(/guest reset \(triple fault\) after \d+ instructions; paused \(-no-shutdown\)/);
  });
});
