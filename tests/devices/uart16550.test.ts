import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/devices/io-bus.js';
import { Uart16550 } from '../../src/devices/uart16550.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';

const B = 0x3f8;
const RBR = B, THR = B, DLL = B, IER = B + 1, DLM = B + 1, IIR = B + 2, FCR = B + 2;
const LCR = B + 3, MCR = B + 4, LSR = B + 5, MSR = B + 6, SCR = B + 7;

function setup() {
  const io = new IoBus();
  const m = { icount: 0 };
  const clock = new VirtualClock(() => m.icount, 1);
  const tx: number[] = [];
  const irq: boolean[] = [];
  const uart = new Uart16550(io, clock, {
    irq: { set: (l) => irq.push(l) },
    onTransmit: (b) => tx.push(b),
  });
  const rd = (p: number) => io.read(p, 1);
  const wr = (p: number, v: number) => io.write(p, v, 1);
  return { io, m, clock, uart, tx, irq, rd, wr };
}

describe('Uart16550', () => {
  it('comes out of reset with QEMU\'s register values', () => {
    const { rd } = setup();
    expect(rd(IER)).toBe(0x00);
    expect(rd(IIR)).toBe(0x01);
    expect(rd(LCR)).toBe(0x00);
    expect(rd(MCR)).toBe(0x08); // OUT2
    expect(rd(LSR)).toBe(0x60); // THRE | TEMT
    expect(rd(MSR)).toBe(0xb0); // DCD | DSR | CTS
  });

  it('DLAB switches offsets 0/1 to the divisor latch', () => {
    const { rd, wr, uart, tx } = setup();
    wr(LCR, 0x80);
    expect(rd(DLL)).toBe(12);
    expect(rd(DLM)).toBe(0);
    wr(DLL, 0x01);
    wr(DLM, 0x00);
    wr(LCR, 0x03);
    expect(uart.info().baud).toBe(115200);
    expect(uart.info().frame).toBe('8N1');
    wr(IER, 0x05);
    expect(rd(IER)).toBe(0x05);
    wr(LCR, 0x83);
    expect(rd(DLL)).toBe(0x01);
    expect(tx).toEqual([]); // the DLL write did not transmit
    wr(LCR, 0x03);
    expect(rd(IER)).toBe(0x05);
  });

  it('transmits immediately and keeps THRE/TEMT set', () => {
    const { rd, wr, tx, uart } = setup();
    for (const c of 'Hi\n') wr(THR, c.charCodeAt(0));
    expect(String.fromCharCode(...tx)).toBe('Hi\n');
    expect(rd(LSR) & 0x60).toBe(0x60);
    expect(uart.info().txBytes).toBe(3);
  });

  it('THRE interrupt: raised by enabling ETBEI, cleared by reading IIR, re-raised by a THR write', () => {
    const { rd, wr, irq } = setup();
    wr(IER, 0x02);
    expect(irq).toEqual([true]);
    expect(rd(IIR)).toBe(0x02);
    expect(irq).toEqual([true, false]);
    expect(rd(IIR)).toBe(0x01);
    wr(THR, 0x41);
    expect(irq).toEqual([true, false, true]);
    expect(rd(IIR)).toBe(0x02);
    // A THR write while the interrupt is still pending pulses the line (a new edge for the PIC).
    wr(THR, 0x42);
    expect(irq).toEqual([true, false, true, false, true]);
    wr(IER, 0x00);
    expect(irq.at(-1)).toBe(false);
  });

  it('raises the IRQ whether or not OUT2 is set (as QEMU)', () => {
    const { wr, irq, uart } = setup();
    wr(MCR, 0x00);
    wr(IER, 0x02);
    expect(irq).toEqual([true]);
    expect(uart.info().irq).toBe(true);
  });

  it('16450 mode: one holding register, fed from the host queue as it is read', () => {
    const { rd, wr, uart, irq } = setup();
    wr(IER, 0x01);
    uart.receive([0x61, 0x62, 0x63]);
    expect(irq).toEqual([true]);
    expect(rd(IIR)).toBe(0x04);
    expect(rd(LSR) & 0x01).toBe(1);
    expect(uart.hostPending()).toBe(2);
    expect(rd(RBR)).toBe(0x61);
    expect(rd(RBR)).toBe(0x62);
    expect(rd(RBR)).toBe(0x63);
    expect(rd(LSR) & 0x03).toBe(0); // no DR, no overrun: nothing was lost
    expect(irq.at(-1)).toBe(false);
  });

  it('FIFO mode: IIR shows the FIFO bits; receive data interrupt at the trigger level', () => {
    const { rd, wr, uart } = setup();
    wr(FCR, 0xc7); // enable, reset both, trigger 14
    wr(IER, 0x01);
    expect(rd(IIR)).toBe(0xc1);
    expect(uart.triggerLevel()).toBe(14);
    uart.receive(new Uint8Array(13).fill(0x30));
    expect(rd(LSR) & 1).toBe(1);
    expect(rd(IIR)).toBe(0xc1);
    uart.receive([0x31]);
    expect(rd(IIR)).toBe(0xc4);
    rd(RBR);
    expect(rd(IIR)).toBe(0xc1); // 13 left: below the trigger level again
    for (const [fcr, level] of [[0x01, 1], [0x41, 4], [0x81, 8]] as const) {
      wr(FCR, fcr);
      expect(uart.triggerLevel()).toBe(level);
    }
  });

  it('trigger level 4: interrupt on the fourth byte', () => {
    const { rd, wr, uart } = setup();
    wr(FCR, 0x47);
    wr(IER, 0x01);
    uart.receive([1, 2, 3]);
    expect(rd(IIR)).toBe(0xc1);
    uart.receive([4]);
    expect(rd(IIR)).toBe(0xc4);
  });

  it('character timeout after 4 character times below the trigger level', () => {
    const { rd, wr, uart, m, clock } = setup();
    wr(LCR, 0x80);
    wr(DLL, 1);
    wr(DLM, 0);
    wr(LCR, 0x03); // 115200 8N1: floor(1e9/115200) * 10 = 86800 ns per character
    wr(FCR, 0xc1);
    wr(IER, 0x01);
    m.icount = 1000;
    uart.receive([0x41, 0x42]);
    const due = 1000 + 4 * 86800;
    expect(clock.nextDeadlineIcount()).toBe(due);
    m.icount = due - 1;
    clock.runDue();
    expect(rd(IIR)).toBe(0xc1);
    m.icount = due;
    clock.runDue();
    expect(rd(IIR)).toBe(0xcc);
    expect(rd(RBR)).toBe(0x41); // reading clears the timeout and restarts the timer
    expect(rd(IIR)).toBe(0xc1);
    expect(clock.nextDeadlineIcount()).toBe(due + 4 * 86800);
    expect(rd(RBR)).toBe(0x42);
    expect(clock.nextDeadlineIcount()).toBe(Infinity);
  });

  it('keeps input beyond 16 bytes in the host queue instead of overrunning', () => {
    const { rd, wr, uart } = setup();
    wr(FCR, 0x07);
    const text = 'The quick brown fox jumps over the lazy dog';
    uart.receive([...text].map((c) => c.charCodeAt(0)));
    expect(uart.info().rxFifo).toBe(16);
    expect(uart.hostPending()).toBe(text.length - 16);
    let got = '';
    while (rd(LSR) & 1) got += String.fromCharCode(rd(RBR));
    expect(got).toBe(text);
    expect(uart.info().overruns).toBe(0);
  });

  it('FCR bit 1 clears the receive FIFO', () => {
    const { rd, wr, uart } = setup();
    wr(FCR, 0x01);
    uart.receive([1, 2, 3]);
    wr(FCR, 0x03);
    expect(rd(LSR) & 1).toBe(0);
    expect(uart.info().rxFifo).toBe(0);
  });

  it('loopback: the transmitter feeds the receiver, nothing goes out, input is cut off', () => {
    const { rd, wr, uart, tx } = setup();
    wr(MCR, 0x10);
    uart.receive([0x7a]);
    wr(THR, 0x55);
    expect(tx).toEqual([]);
    expect(rd(LSR) & 1).toBe(1);
    expect(rd(RBR)).toBe(0x55);
    expect(rd(LSR) & 1).toBe(0); // the host byte waits
    wr(MCR, 0x00);
    expect(rd(RBR)).toBe(0x7a);
  });

  it('loopback wires MCR outputs to MSR inputs without delta bits, as QEMU (decisions.md 16)', () => {
    const { rd, wr, uart } = setup();
    wr(MCR, 0x10 | 0x0a); // LOOP | OUT2 | RTS: the Linux 8250 probe expects 0x90
    expect(rd(MSR)).toBe(0x90);
    wr(MCR, 0x1f);
    expect(rd(MSR)).toBe(0xf0);
    wr(MCR, 0x10 | 0x0b); // OUT1 falls, DTR rose: the chip would set TERI and DDSR
    expect(rd(MSR)).toBe(0xb0);
    // A host-side change while looped back shows once loopback ends.
    uart.setModemLines(0x30); // DCD drops
    expect(rd(MSR) & 0x0f).toBe(0);
    wr(MCR, 0x08);
    expect(rd(MSR)).toBe(0x30 | 0x08);
    expect(rd(MSR)).toBe(0x30);
  });

  it('overrun in 16450 loopback sets OE; reading LSR clears it', () => {
    const { rd, wr, uart } = setup();
    wr(MCR, 0x10);
    wr(THR, 1);
    wr(THR, 2);
    expect(rd(LSR) & 0x03).toBe(0x03);
    expect(rd(LSR) & 0x02).toBe(0);
    expect(rd(RBR)).toBe(2);
    expect(uart.info().overruns).toBe(1);
  });

  it('IIR reports the highest-priority source: line status > data > THRE > modem status', () => {
    const { rd, wr, uart } = setup();
    wr(IER, 0x0f);
    wr(MCR, 0x10); // loopback, DTR/RTS/OUT off
    expect(rd(IIR)).toBe(0x02); // THRE, armed by enabling ETBEI
    uart.setModemLines(0x30); // the host drops DCD: modem status delta
    wr(THR, 1);
    wr(THR, 2); // overrun
    expect(rd(IIR)).toBe(0x06);
    rd(LSR);
    expect(rd(IIR)).toBe(0x04);
    rd(RBR);
    expect(rd(IIR)).toBe(0x02); // the THRE from the last THR write
    expect(rd(IIR)).toBe(0x00); // reading IIR cleared THRE; the modem delta remains
    wr(MCR, 0x00); // (loopback hides the deltas from MSR reads)
    rd(MSR);
    expect(rd(IIR)).toBe(0x01);
  });

  it('SCR is a plain scratch register', () => {
    const { rd, wr } = setup();
    wr(SCR, 0xa5);
    expect(rd(SCR)).toBe(0xa5);
  });

  it('claims exactly base..base+7 and honours another base', () => {
    const io = new IoBus();
    const clock = new VirtualClock(() => 0);
    new Uart16550(io, clock, { base: 0x2f8, name: 'com2' });
    expect(io.ownerOf(0x2f8)).toBe('com2');
    expect(io.ownerOf(0x2ff)).toBe('com2');
    expect(io.ownerOf(0x300)).toBeUndefined();
  });

  it('saves and restores registers, FIFO, host queue and timer', () => {
    const a = setup();
    a.wr(FCR, 0xc1);
    a.wr(IER, 0x03);
    a.wr(SCR, 0x42);
    a.m.icount = 500;
    a.uart.receive(new Uint8Array(20).fill(0x41));
    const state = JSON.parse(JSON.stringify(a.uart.saveState()));
    const b = setup();
    b.m.icount = 500;
    b.uart.loadState(state);
    expect(b.uart.info()).toEqual(a.uart.info());
    expect(b.clock.nextDeadlineIcount()).toBe(a.clock.nextDeadlineIcount());
    expect(b.irq.at(-1)).toBe(true);
    let n = 0;
    while (b.rd(LSR) & 1) { b.rd(RBR); n++; }
    expect(n).toBe(20);
  });
});
