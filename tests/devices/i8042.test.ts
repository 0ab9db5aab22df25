import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/devices/io-bus.js';
import { I8042 } from '../../src/devices/i8042.js';

function setup() {
  const io = new IoBus();
  const irq1: boolean[] = [];
  const irq12: boolean[] = [];
  const a20: boolean[] = [];
  const resets: number[] = [];
  const kbc = new I8042(io, {
    irqKbd: { set: (l) => irq1.push(l) }, irqMouse: { set: (l) => irq12.push(l) },
    setA20: (e) => a20.push(e), onReset: () => resets.push(1),
  });
  const status = () => io.read(0x64, 1);
  const cmd = (c: number) => io.write(0x64, c, 1);
  const data = () => io.read(0x60, 1);
  const send = (v: number) => io.write(0x60, v, 1);
  /** Everything waiting in the output buffer, with the status seen before each byte. */
  const drain = () => {
    const out: [number, number][] = [];
    while (status() & 1) {
      const st = status();
      out.push([data(), st & 0x20]);
    }
    return out;
  };
  return { io, kbc, irq1, irq12, a20, resets, status, cmd, data, send, drain };
}

describe('8042 keyboard controller', () => {
  it('reset state: status 0x18, command byte 0x03, output port 0xCF', () => {
    const { status, cmd, data } = setup();
    expect(status()).toBe(0x18);
    cmd(0x20);
    expect(status() & 1).toBe(1);
    expect(data()).toBe(0x03);
    cmd(0xd0);
    expect(data()).toBe(0xcf);
  });

  it('self test answers 0x55 and sets the system flag; interface tests answer 0', () => {
    const { status, cmd, data, irq1 } = setup();
    cmd(0xaa);
    expect(status() & 0x05).toBe(0x05);
    expect(irq1).toEqual([true]);
    expect(data()).toBe(0x55);
    expect(irq1).toEqual([true, false]);
    cmd(0xab);
    expect(data()).toBe(0x00);
    cmd(0xa9);
    expect(data()).toBe(0x00);
    expect(status() & 0x04).toBe(0x04);
  });

  it('runs SeaBIOS\'s keyboard init sequence', () => {
    const { cmd, send, drain, data, status } = setup();
    cmd(0xaa); expect(data()).toBe(0x55);
    cmd(0xab); expect(data()).toBe(0x00);
    cmd(0x60); send(0x30); // both ports disabled, no interrupts
    cmd(0x60); send(0x20); // keyboard port on
    send(0xff); // reset
    expect(drain()).toEqual([[0xfa, 0], [0xaa, 0]]);
    send(0xf5); expect(drain()).toEqual([[0xfa, 0]]);
    send(0xf0); expect(drain()).toEqual([[0xfa, 0]]);
    send(0x02); expect(drain()).toEqual([[0xfa, 0]]);
    send(0xf4); expect(drain()).toEqual([[0xfa, 0]]);
    cmd(0x60); send(0x61); // XLATE | KBDINT | AUXDIS
    cmd(0x20); expect(data()).toBe(0x61);
    send(0xf2); // identify: translated MF2 id
    expect(drain()).toEqual([[0xfa, 0], [0xab, 0], [0x41, 0]]);
    send(0xed); send(0x07); // LEDs
    expect(drain()).toEqual([[0xfa, 0], [0xfa, 0]]);
    expect(status() & 1).toBe(0);
  });

  it('keyboard bytes wait while the keyboard port is disabled', () => {
    const { kbc, cmd, status, drain, irq1 } = setup();
    cmd(0xad);
    kbc.injectScancodes([0x1e, 0x9e]);
    expect(status() & 1).toBe(0);
    cmd(0xae);
    expect(irq1).toEqual([true]);
    expect(drain()).toEqual([[0x1e, 0], [0x9e, 0]]);
    expect(irq1).toEqual([true, false, true, false]); // one edge per byte
  });

  it('the mouse answers through 0xD4 with status bit 5 and IRQ 12', () => {
    const { cmd, send, drain, irq12, kbc } = setup();
    cmd(0xa8);
    cmd(0xd4); send(0xff);
    expect(drain()).toEqual([[0xfa, 0x20], [0xaa, 0x20], [0x00, 0x20]]);
    expect(irq12[0]).toBe(true);
    cmd(0xd4); send(0xf2);
    expect(drain()).toEqual([[0xfa, 0x20], [0x00, 0x20]]);
    cmd(0xd4); send(0xf4);
    drain();
    kbc.injectMouse(5, -3, 1);
    expect(drain()).toEqual([[0x29, 0x20], [0x05, 0x20], [0xfd, 0x20]]);
  });

  it('A20 through the output port and 0xDD/0xDF', () => {
    const { cmd, send, a20, kbc } = setup();
    cmd(0xd1); send(0xdd); // A20 off, reset line high
    expect(a20).toEqual([false]);
    expect(kbc.a20).toBe(false);
    cmd(0xd1); send(0xdf);
    expect(a20).toEqual([false, true]);
    cmd(0xdd);
    expect(a20.at(-1)).toBe(false);
    cmd(0xdf);
    expect(a20.at(-1)).toBe(true);
  });

  it('0xFE (and a write of the output port with bit 0 clear) reset the machine', () => {
    const { cmd, send, resets } = setup();
    cmd(0xff); // pulse with bit 0 set: nothing
    expect(resets).toEqual([]);
    cmd(0xfe);
    expect(resets).toEqual([1]);
    cmd(0xd1); send(0x02);
    expect(resets).toEqual([1, 1]);
  });

  it('0xD2 puts a byte in the output buffer as if from the keyboard', () => {
    const { cmd, send, data, status } = setup();
    cmd(0xd2); send(0x42);
    expect(status() & 0x21).toBe(0x01);
    expect(data()).toBe(0x42);
    expect(data()).toBe(0x42); // an empty buffer reads the last byte again
  });

  it('state round-trips', () => {
    const a = setup();
    a.kbc.injectScancodes([1, 2, 3]);
    const s = JSON.parse(JSON.stringify(a.kbc.saveState()));
    const b = setup();
    b.kbc.loadState(s);
    expect(b.drain()).toEqual([[1, 0], [2, 0], [3, 0]]);
  });
});
