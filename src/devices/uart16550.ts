// NS16550A UART (datasheet: National Semiconductor PC16550D) at base..base+7, COM1 by
// default. Transmission is immediate (as QEMU without pacing): a THR write reaches
// `onTransmit` at once and THRE/TEMT read back set. Reception goes through an unbounded
// host-side queue that feeds the 16-byte RX FIFO (or the single RBR in 16450 mode) as the
// guest drains it, so typed or pasted input is never lost to overrun; only loopback can
// overrun the receiver, as on the chip. Where the datasheet and QEMU's hw/char/serial.c
// differ, QEMU wins: reset MCR has OUT2 set, the IRQ is not gated by OUT2, and loopback
// sets no MSR delta bits (decisions.md 16).
import type { IoBus, PortHandler } from './io-bus.js';
import { NO_IRQ, type IrqLine, type Resettable, type SavesState } from './device.js';
import { Timer, type VirtualClock } from '../time/virtual-clock.js';

export const COM1_BASE = 0x3f8;
export const COM2_BASE = 0x2f8;
export const UART_FIFO_SIZE = 16;
/** The 1.8432 MHz crystal / 16. */
export const UART_BAUD_BASE = 115200;

// Register offsets
export const UART_RBR = 0; // read, DLAB=0
export const UART_THR = 0; // write, DLAB=0
export const UART_DLL = 0; // DLAB=1
export const UART_IER = 1; // DLAB=0
export const UART_DLM = 1; // DLAB=1
export const UART_IIR = 2; // read
export const UART_FCR = 2; // write
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

export const UART_IER_ERBFI = 0x01;
export const UART_IER_ETBEI = 0x02;
export const UART_IER_ELSI = 0x04;
export const UART_IER_EDSSI = 0x08;

export const UART_IIR_NO_INT = 0x01;
export const UART_IIR_MSI = 0x00;
export const UART_IIR_THRI = 0x02;
export const UART_IIR_RDI = 0x04;
export const UART_IIR_RLSI = 0x06;
export const UART_IIR_CTI = 0x0c;
export const UART_IIR_FIFO_ENABLED = 0xc0;

export const UART_FCR_FE = 0x01;
export const UART_FCR_RFR = 0x02;
export const UART_FCR_XFR = 0x04;
export const UART_FCR_DMA = 0x08;

export const UART_LCR_DLAB = 0x80;

export const UART_MCR_DTR = 0x01;
export const UART_MCR_RTS = 0x02;
export const UART_MCR_OUT1 = 0x04;
export const UART_MCR_OUT2 = 0x08;
export const UART_MCR_LOOP = 0x10;

export const UART_LSR_DR = 0x01;
export const UART_LSR_OE = 0x02;
export const UART_LSR_PE = 0x04;
export const UART_LSR_FE = 0x08;
export const UART_LSR_BI = 0x10;
export const UART_LSR_THRE = 0x20;
export const UART_LSR_TEMT = 0x40;
export const UART_LSR_FIFO_ERR = 0x80;
const UART_LSR_ERRORS = UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI;

export const UART_MSR_DCTS = 0x01;
export const UART_MSR_DDSR = 0x02;
export const UART_MSR_TERI = 0x04;
export const UART_MSR_DDCD = 0x08;
export const UART_MSR_CTS = 0x10;
export const UART_MSR_DSR = 0x20;
export const UART_MSR_RI = 0x40;
export const UART_MSR_DCD = 0x80;

/** RX trigger levels selected by FCR bits 7-6. */
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;

export interface Uart16550State {
  ier: number;
  fcr: number;
  lcr: number;
  mcr: number;
  lsr: number;
  msrDelta: number;
  hostModemLines: number;
  scr: number;
  divisor: number;
  rbr: number;
  rxFifo: number[];
  hostQueue: number[];
  thrIpending: boolean;
  timeoutIpending: boolean;
  /** Character-timeout timer deadline (virtual ns), null when not armed. */
  timeoutDeadline: number | null;
  charNs: number;
  irqLevel: boolean;
  txBytes: number;
  rxBytes: number;
  irqRaises: number;
  overruns: number;
}

export interface Uart16550Info {
  base: number;
  ier: number;
  iir: number;
  fcr: number;
  lcr: number;
  mcr: number;
  lsr: number;
  msr: number;
  scr: number;
  divisor: number;
  baud: number;
  frame: string;
  fifoEnabled: boolean;
  triggerLevel: number;
  rxFifo: number;
  hostQueue: number;
  loopback: boolean;
  irq: boolean;
  txBytes: number;
  rxBytes: number;
  irqRaises: number;
  overruns: number;
}

export interface Uart16550Options {
  /** First port (0x3F8 for COM1). */
  base?: number;
  /** IRQ 4 for COM1. */
  irq?: IrqLine;
  /** Every byte the guest transmits (not called in loopback mode). */
  onTransmit?: (byte: number) => void;
  /** Port-claim name on the IoBus. */
  name?: string;
}

export class Uart16550 implements PortHandler, Resettable, SavesState<Uart16550State> {
  readonly base: number;
  onTransmit: (byte: number) => void;
  private readonly irq: IrqLine;
  private readonly timeoutTimer: Timer;

  private ier = 0;
  private fcr = 0;
  private lcr = 0;
  private mcr = 0;
  private lsr = 0;
  private msrDelta = 0;
  /** CTS/DSR/RI/DCD as the host side drives them (QEMU without a real tty: CTS, DSR, DCD). */
  private hostModemLines = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
  private scr = 0;
  private divisor = 12;
  private rbr = 0;
  private rxFifo: number[] = [];
  private hostQueue: number[] = [];
  private hostHead = 0;
  private thrIpending = false;
  private timeoutIpending = false;
  private charNs = 0;
  private irqLevel = false;
  private txBytes = 0;
  private rxBytes = 0;
  private irqRaises = 0;
  private overruns = 0;

  constructor(io: IoBus, private readonly clock: VirtualClock, opts: Uart16550Options = {}) {
    this.base = opts.base ?? COM1_BASE;
    this.irq = opts.irq ?? NO_IRQ;
    this.onTransmit = opts.onTransmit ?? (() => {});
    this.timeoutTimer = new Timer(clock, `${opts.name ?? 'uart'}-timeout`, () => this.charTimeout());
    io.register(this.base, 8, this, opts.name ?? 'uart16550');
    this.reset();
  }

  // ---- host side ----

  /** Bytes from the outside world (keyboard, pipe). Queued without limit; fed as room appears. */
  receive(bytes: Uint8Array | readonly number[]): void {
    for (const b of bytes) this.hostQueue.push(b & 0xff);
    this.pump();
  }

  /** Bytes received from the host that the guest has not taken into the FIFO yet. */
  hostPending(): number {
    return this.hostQueue.length - this.hostHead;
  }

  /** Drive the modem status inputs (MSR bits 4-7) from the host side. */
  setModemLines(msrBits: number): void {
    const before = this.hostModemLines;
    this.hostModemLines = msrBits & 0xf0;
    this.modemInputsChanged(before, this.hostModemLines);
    this.updateIrq();
  }

  // ---- ports ----

  read(port: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const off = port + i - this.base;
      v |= (off >= 0 && off < 8 ? this.readReg(off) : 0xff) << (8 * i);
    }
    return v >>> 0;
  }

  write(port: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) {
      const off = port + i - this.base;
      if (off >= 0 && off < 8) this.writeReg(off, (value >>> (8 * i)) & 0xff);
    }
  }

  private readReg(off: number): number {
    switch (off) {
      case 0:
        return this.lcr & UART_LCR_DLAB ? this.divisor & 0xff : this.readRbr();
      case 1:
        return this.lcr & UART_LCR_DLAB ? (this.divisor >> 8) & 0xff : this.ier;
      case 2: {
        const iir = this.interruptId() | this.fifoBits();
        // Reading IIR while it reports THR empty clears that interrupt (datasheet table 4).
        if ((iir & 0x0f) === UART_IIR_THRI) {
          this.thrIpending = false;
          this.updateIrq();
        }
        return iir;
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const v = this.lsr;
        if (v & UART_LSR_ERRORS) {
          this.lsr &= ~UART_LSR_ERRORS;
          this.updateIrq();
        }
        return v;
      }
      case 6: {
        // In loopback QEMU shows the looped outputs only; host deltas wait for its end.
        if (this.mcr & UART_MCR_LOOP) return this.modemInputs();
        const v = this.modemInputs() | this.msrDelta;
        if (this.msrDelta) {
          this.msrDelta = 0;
          this.updateIrq();
        }
        return v;
      }
      default:
        return this.scr;
    }
  }

  private writeReg(off: number, val: number): void {
    switch (off) {
      case 0:
        if (this.lcr & UART_LCR_DLAB) {
          this.divisor = (this.divisor & 0xff00) | val;
          this.updateCharTime();
        } else {
          this.writeThr(val);
        }
        break;
      case 1:
        if (this.lcr & UART_LCR_DLAB) {
          this.divisor = (this.divisor & 0x00ff) | (val << 8);
          this.updateCharTime();
        } else {
          const changed = (this.ier ^ val) & UART_IER_ETBEI;
          this.ier = val & 0x0f;
          // Enabling ETBEI while THR is empty raises the THRE interrupt at once.
          if (changed) this.thrIpending = (this.ier & UART_IER_ETBEI) !== 0 && (this.lsr & UART_LSR_THRE) !== 0;
          this.updateIrq();
        }
        break;
      case 2:
        this.writeFcr(val);
        break;
      case 3:
        this.lcr = val;
        this.updateCharTime();
        break;
      case 4: {
        // MCR changes set no delta bits, looped back or not (QEMU: the loopback wiring is
        // applied when MSR is read; the chip would report the looped edges).
        const wasLoop = (this.mcr & UART_MCR_LOOP) !== 0;
        this.mcr = val & 0x1f;
        // Leaving loopback reconnects the serial input.
        if (wasLoop && !(this.mcr & UART_MCR_LOOP)) this.pump();
        this.updateIrq();
        break;
      }
      case 7:
        this.scr = val;
        break;
      default: // LSR and MSR are read-only (factory test writes ignored)
        break;
    }
  }

  private writeThr(val: number): void {
    this.thrIpending = false;
    this.lsr &= ~(UART_LSR_THRE | UART_LSR_TEMT);
    this.updateIrq();
    if (this.mcr & UART_MCR_LOOP) {
      this.loopbackReceive(val);
    } else {
      this.txBytes++;
      this.onTransmit(val);
    }
    this.lsr |= UART_LSR_THRE | UART_LSR_TEMT;
    this.thrIpending = true;
    this.updateIrq();
  }

  private writeFcr(val: number): void {
    // Changing the FIFO enable bit clears both FIFOs.
    if ((val ^ this.fcr) & UART_FCR_FE) val |= UART_FCR_RFR | UART_FCR_XFR;
    if (val & UART_FCR_RFR) {
      this.rxFifo = [];
      this.lsr &= ~(UART_LSR_DR | UART_LSR_BI);
      this.timeoutIpending = false;
      this.timeoutTimer.cancel();
    }
    if (val & UART_FCR_XFR) {
      this.lsr |= UART_LSR_THRE | UART_LSR_TEMT;
      this.thrIpending = true;
    }
    this.fcr = val & (UART_FCR_FE | UART_FCR_DMA | 0xc0);
    this.pump();
    this.updateIrq();
  }

  private readRbr(): number {
    let v: number;
    if (this.fcr & UART_FCR_FE) {
      v = this.rxFifo.shift() ?? 0;
      this.timeoutIpending = false;
      if (this.rxFifo.length === 0) {
        this.lsr &= ~(UART_LSR_DR | UART_LSR_BI);
        this.timeoutTimer.cancel();
      } else {
        this.armTimeout();
      }
    } else {
      v = this.rbr;
      this.lsr &= ~(UART_LSR_DR | UART_LSR_BI);
    }
    this.pump();
    this.updateIrq();
    return v;
  }

  // ---- receiver ----

  private fifoMode(): boolean {
    return (this.fcr & UART_FCR_FE) !== 0;
  }

  triggerLevel(): number {
    return TRIGGER_LEVELS[(this.fcr >> 6) & 3]!;
  }

  /** Move host bytes into the receiver while it has room (not in loopback: input is cut off). */
  private pump(): void {
    if (this.mcr & UART_MCR_LOOP) return;
    let moved = 0;
    if (this.fifoMode()) {
      while (this.rxFifo.length < UART_FIFO_SIZE && this.hostHead < this.hostQueue.length) {
        this.rxFifo.push(this.hostQueue[this.hostHead++]!);
        moved++;
      }
    } else if (!(this.lsr & UART_LSR_DR) && this.hostHead < this.hostQueue.length) {
      this.rbr = this.hostQueue[this.hostHead++]!;
      moved++;
    }
    if (this.hostHead === this.hostQueue.length) {
      this.hostQueue = [];
      this.hostHead = 0;
    } else if (this.hostHead > 4096) {
      this.hostQueue = this.hostQueue.slice(this.hostHead);
      this.hostHead = 0;
    }
    if (!moved) return;
    this.rxBytes += moved;
    this.lsr |= UART_LSR_DR;
    if (this.fifoMode()) this.armTimeout();
    this.updateIrq();
  }

  /** The transmitter looped back into the receiver: a full receiver overruns. */
  private loopbackReceive(b: number): void {
    if (this.fifoMode()) {
      if (this.rxFifo.length >= UART_FIFO_SIZE) {
        this.lsr |= UART_LSR_OE;
        this.overruns++;
      } else {
        this.rxFifo.push(b);
      }
      this.armTimeout();
    } else {
      if (this.lsr & UART_LSR_DR) {
        this.lsr |= UART_LSR_OE;
        this.overruns++;
      }
      this.rbr = b;
    }
    this.rxBytes++;
    this.lsr |= UART_LSR_DR;
    this.updateIrq();
  }

  /** Character timeout: 4 character times without a byte received or read (datasheet 8.6.3). */
  private armTimeout(): void {
    this.timeoutTimer.arm(this.clock.now() + 4 * this.charNs);
  }

  private charTimeout(): void {
    if (this.fifoMode() && this.rxFifo.length > 0) {
      this.timeoutIpending = true;
      this.updateIrq();
    }
  }

  /** QEMU's character time: 1e9 / floor(115200 / divisor) ns per bit times the frame bits. */
  private updateCharTime(): void {
    if (this.divisor === 0 || this.divisor > UART_BAUD_BASE) return; // QEMU keeps the old speed
    const speed = Math.floor(UART_BAUD_BASE / this.divisor);
    this.charNs = Math.floor(1e9 / speed) * this.frameBits();
  }

  private frameBits(): number {
    const data = (this.lcr & 3) + 5;
    const parity = this.lcr & 0x08 ? 1 : 0;
    const stop = this.lcr & 0x04 ? 2 : 1;
    return 1 + data + parity + stop;
  }

  // ---- modem status ----

  private modemInputs(): number {
    if (this.mcr & UART_MCR_LOOP) {
      // Loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD (datasheet 8.6.5).
      return ((this.mcr & UART_MCR_RTS) << 3) | ((this.mcr & UART_MCR_DTR) << 5) | ((this.mcr & (UART_MCR_OUT1 | UART_MCR_OUT2)) << 4);
    }
    return this.hostModemLines;
  }

  private modemInputsChanged(before: number, now: number): void {
    const diff = before ^ now;
    if (diff & UART_MSR_CTS) this.msrDelta |= UART_MSR_DCTS;
    if (diff & UART_MSR_DSR) this.msrDelta |= UART_MSR_DDSR;
    if (before & UART_MSR_RI && !(now & UART_MSR_RI)) this.msrDelta |= UART_MSR_TERI;
    if (diff & UART_MSR_DCD) this.msrDelta |= UART_MSR_DDCD;
  }

  // ---- interrupts ----

  private fifoBits(): number {
    return this.fifoMode() ? UART_IIR_FIFO_ENABLED : 0;
  }

  /** IIR bits 3-0 by the datasheet's priorities (table 4). */
  private interruptId(): number {
    const ier = this.ier;
    if (ier & UART_IER_ELSI && this.lsr & UART_LSR_ERRORS) return UART_IIR_RLSI;
    if (ier & UART_IER_ERBFI) {
      if (this.timeoutIpending) return UART_IIR_CTI;
      if (this.lsr & UART_LSR_DR && (!this.fifoMode() || this.rxFifo.length >= this.triggerLevel())) return UART_IIR_RDI;
    }
    if (ier & UART_IER_ETBEI && this.thrIpending) return UART_IIR_THRI;
    if (ier & UART_IER_EDSSI && this.msrDelta) return UART_IIR_MSI;
    return UART_IIR_NO_INT;
  }

  /** The IRQ follows "an enabled interrupt is pending" (QEMU: no OUT2 gating). */
  private updateIrq(): void {
    const level = this.interruptId() !== UART_IIR_NO_INT;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    if (level) this.irqRaises++;
    this.irq.set(level);
  }

  // ---- lifecycle ----

  /** QEMU's serial_reset values. The host queue survives: it is not guest state. */
  reset(): void {
    this.ier = 0;
    this.fcr = 0;
    this.lcr = 0;
    this.mcr = UART_MCR_OUT2;
    this.lsr = UART_LSR_TEMT | UART_LSR_THRE;
    this.msrDelta = 0;
    this.scr = 0;
    this.divisor = 12;
    this.rbr = 0;
    this.rxFifo = [];
    this.thrIpending = false;
    this.timeoutIpending = false;
    this.timeoutTimer.cancel();
    // QEMU starts from 9600 baud, 10 bits per character, whatever LCR says.
    this.charNs = Math.floor(1e9 / 9600) * 10;
    this.updateIrq();
    this.pump();
  }

  saveState(): Uart16550State {
    return {
      ier: this.ier, fcr: this.fcr, lcr: this.lcr, mcr: this.mcr, lsr: this.lsr, msrDelta: this.msrDelta,
      hostModemLines: this.hostModemLines, scr: this.scr, divisor: this.divisor, rbr: this.rbr,
      rxFifo: [...this.rxFifo], hostQueue: this.hostQueue.slice(this.hostHead),
      thrIpending: this.thrIpending, timeoutIpending: this.timeoutIpending,
      timeoutDeadline: this.timeoutTimer.armed ? this.timeoutTimer.deadline : null,
      charNs: this.charNs, irqLevel: this.irqLevel, txBytes: this.txBytes, rxBytes: this.rxBytes,
      irqRaises: this.irqRaises, overruns: this.overruns,
    };
  }

  loadState(s: Uart16550State): void {
    this.ier = s.ier;
    this.fcr = s.fcr;
    this.lcr = s.lcr;
    this.mcr = s.mcr;
    this.lsr = s.lsr;
    this.msrDelta = s.msrDelta;
    this.hostModemLines = s.hostModemLines;
    this.scr = s.scr;
    this.divisor = s.divisor;
    this.rbr = s.rbr;
    this.rxFifo = [...s.rxFifo];
    this.hostQueue = [...s.hostQueue];
    this.hostHead = 0;
    this.thrIpending = s.thrIpending;
    this.timeoutIpending = s.timeoutIpending;
    if (s.timeoutDeadline === null) this.timeoutTimer.cancel();
    else this.timeoutTimer.arm(s.timeoutDeadline);
    this.charNs = s.charNs;
    this.txBytes = s.txBytes;
    this.rxBytes = s.rxBytes;
    this.irqRaises = s.irqRaises;
    this.overruns = s.overruns;
    this.irqLevel = s.irqLevel;
    this.irq.set(s.irqLevel);
  }

  info(): Uart16550Info {
    const parity = this.lcr & 0x08 ? (this.lcr & 0x10 ? 'E' : 'O') : 'N';
    return {
      base: this.base,
      ier: this.ier,
      iir: this.interruptId() | this.fifoBits(),
      fcr: this.fcr,
      lcr: this.lcr,
      mcr: this.mcr,
      lsr: this.lsr,
      msr: this.modemInputs() | this.msrDelta,
      scr: this.scr,
      divisor: this.divisor,
      baud: this.divisor ? UART_BAUD_BASE / this.divisor : 0,
      frame: `${(this.lcr & 3) + 5}${parity}${this.lcr & 0x04 ? 2 : 1}`,
      fifoEnabled: this.fifoMode(),
      triggerLevel: this.triggerLevel(),
      rxFifo: this.fifoMode() ? this.rxFifo.length : this.lsr & UART_LSR_DR ? 1 : 0,
      hostQueue: this.hostPending(),
      loopback: (this.mcr & UART_MCR_LOOP) !== 0,
      irq: this.irqLevel,
      txBytes: this.txBytes,
      rxBytes: this.rxBytes,
      irqRaises: this.irqRaises,
      overruns: this.overruns,
    };
  }
}
