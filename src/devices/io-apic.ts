// The I/O APIC of a PC (Intel 82093AA datasheet, 290566; SDM vol. 3A 10.1 for the
// messages), as QEMU 7.2's hw/intc/ioapic.c models it on the "pc" machine: version 0x20
// (with the EOI register at offset 0x40), 24 redirection entries, at 0xFEC00000.
// Device-level choices:
//
// - ISA IRQs reach pins 1:1 except IRQ 0 (the PIT), which reaches pin 2: the interrupt
//   source override every QEMU MP/ACPI table declares. Pin 0 is not connected (QEMU does
//   not wire the 8259's INTR to it; the PIC reaches the CPU through LINT0 instead).
// - An edge pin latches a rising edge only while unmasked (datasheet, QEMU) and delivers it
//   at once; a level pin requests while high, sets Remote IRR when delivered and asks
//   again after the EOI if still high. Writing an entry as edge clears its Remote IRR
//   (QEMU, for Linux's EOI emulation). QEMU's delay after 10,000 back-to-back level
//   re-deliveries (an interrupt-storm guard) is not modelled.
// - Polarity (bit 13) is stored and ignored: a line is "asserted" when driven high, as in
//   QEMU, whose tables declare every source active-high.
// - Reserved bits of redirection entries (17-55) read as 0 (QEMU keeps them for interrupt
//   remapping); IOWIN needs 32-bit accesses (QEMU); the register window repeats every
//   256 bytes within the page.
// - Delivery status (bit 12) reads 0: delivery is instantaneous.
import type { MmioHandler, PhysicalMemory } from '../memory/physical-memory.js';
import type { IrqLine, Resettable, SavesState } from './device.js';
import type { ApicBus } from './local-apic.js';

export const IOAPIC_DEFAULT_BASE = 0xfec00000;
export const IOAPIC_NUM_PINS = 24;
/** QEMU's default for the pc machine; 0x11 (no EOI register) is the other choice. */
export const IOAPIC_VERSION_DEFAULT = 0x20;

// Memory-mapped registers.
export const IOAPIC_IOREGSEL = 0x00;
export const IOAPIC_IOWIN = 0x10;
export const IOAPIC_EOI = 0x40;

// Indirect registers.
export const IOAPIC_REG_ID = 0x00;
export const IOAPIC_REG_VER = 0x01;
export const IOAPIC_REG_ARB = 0x02;
export const IOAPIC_REG_REDTBL = 0x10;

// Redirection entry, low dword.
export const RTE_VECTOR = 0xff;
export const RTE_DELIVERY_MODE_SHIFT = 8;
export const RTE_DEST_LOGICAL = 1 << 11;
export const RTE_DELIVERY_STATUS = 1 << 12;
export const RTE_POLARITY_LOW = 1 << 13;
export const RTE_REMOTE_IRR = 1 << 14;
export const RTE_LEVEL = 1 << 15;
export const RTE_MASKED = 1 << 16;
const RTE_LOW_WRITABLE = 0x1afff; // all of 0-16 but delivery status and Remote IRR
const RTE_HIGH_WRITABLE = 0xff000000;

/** The IOAPIC pin (GSI) an ISA IRQ reaches on QEMU's PC: IRQ 0 → 2, others 1:1. */
export function isaIrqToGsi(irq: number): number {
  return irq === 0 ? 2 : irq;
}

export interface IoApicOptions {
  /** Maps the registers at `base` (default 0xFEC00000). */
  phys?: PhysicalMemory;
  base?: number;
  /** 0x20 (default) or 0x11. */
  version?: number;
}

export interface IoApicState {
  id: number;
  ioregsel: number;
  /** Per pin: low and high dword of the redirection entry. */
  rteLow: number[];
  rteHigh: number[];
  /** Input levels (bit per pin) and pending requests. */
  lines: number;
  irr: number;
  deliveries: number[];
}

export interface IoApicPinInfo {
  pin: number;
  /** The redirection entry's two dwords. */
  low: number;
  high: number;
  vector: number;
  deliveryMode: number;
  logical: boolean;
  dest: number;
  trigger: 'edge' | 'level';
  activeLow: boolean;
  masked: boolean;
  remoteIrr: boolean;
  level: boolean;
  pending: boolean;
  deliveries: number;
}

export interface IoApicInfo {
  base: number;
  id: number;
  version: number;
  ioregsel: number;
  pins: IoApicPinInfo[];
}

export class IoApic implements MmioHandler, Resettable, SavesState<IoApicState> {
  readonly name = 'ioapic';
  readonly base: number;
  readonly version: number;
  private id = 0;
  private ioregsel = 0;
  private readonly rteLow = new Uint32Array(IOAPIC_NUM_PINS);
  private readonly rteHigh = new Uint32Array(IOAPIC_NUM_PINS);
  private lines = 0;
  private irr = 0;
  private deliveries = new Array<number>(IOAPIC_NUM_PINS).fill(0);
  private readonly lineObjects: IrqLine[] = [];

  constructor(private readonly bus: ApicBus, opts: IoApicOptions = {}) {
    this.base = (opts.base ?? IOAPIC_DEFAULT_BASE) >>> 0;
    this.version = opts.version ?? IOAPIC_VERSION_DEFAULT;
    if (this.version !== 0x11 && this.version !== 0x20) throw new RangeError(`I/O APIC version 0x${this.version.toString(16)} (0x11 or 0x20)`);
    for (let pin = 0; pin < IOAPIC_NUM_PINS; pin++) this.lineObjects.push({ set: (level) => this.setIrq(pin, level) });
    opts.phys?.mapMmio(this.base, 0x1000, this);
    this.reset();
  }

  /** The IrqLine of input pin `pin` (a GSI, 0-23). */
  irqLine(pin: number): IrqLine {
    checkPin(pin);
    return this.lineObjects[pin]!;
  }

  /** Drive input pin `pin`. */
  setIrq(pin: number, level: boolean): void {
    checkPin(pin);
    const m = 1 << pin;
    const was = (this.lines & m) !== 0;
    if (level) this.lines |= m;
    else this.lines &= ~m;
    const lo = this.rteLow[pin]!;
    if (lo & RTE_LEVEL) {
      if (level) {
        this.irr |= m;
        this.service();
      } else this.irr &= ~m;
    } else if (level && !was && !(lo & RTE_MASKED)) {
      this.irr |= m;
      this.service();
    }
  }

  /** Deliver every pending, unmasked request (a level one only while Remote IRR is clear). */
  private service(): void {
    for (let pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
      const m = 1 << pin;
      if (!(this.irr & m)) continue;
      const lo = this.rteLow[pin]!;
      if (lo & RTE_MASKED) continue;
      if (lo & RTE_LEVEL) {
        if (lo & RTE_REMOTE_IRR) continue;
        this.rteLow[pin] = lo | RTE_REMOTE_IRR;
      } else this.irr &= ~m;
      this.deliveries[pin]!++;
      this.bus.deliverMessage({
        dest: this.rteHigh[pin]! >>> 24,
        logical: (lo & RTE_DEST_LOGICAL) !== 0,
        deliveryMode: (lo >>> RTE_DELIVERY_MODE_SHIFT) & 7,
        vector: lo & RTE_VECTOR,
        level: (lo & RTE_LEVEL) !== 0,
      });
    }
  }

  /** A local APIC's EOI for a level-triggered vector: clear Remote IRR where it matches. */
  eoiBroadcast(vector: number): void {
    vector &= 0xff;
    let again = false;
    for (let pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
      const lo = this.rteLow[pin]!;
      if ((lo & RTE_VECTOR) !== vector || !(lo & RTE_LEVEL) || !(lo & RTE_REMOTE_IRR)) continue;
      this.rteLow[pin] = lo & ~RTE_REMOTE_IRR;
      if (this.irr & (1 << pin)) again = true;
    }
    if (again) this.service();
  }

  read(offset: number, size: number): number {
    switch (offset & 0xff) {
      case IOAPIC_IOREGSEL:
        return this.ioregsel;
      case IOAPIC_IOWIN:
        return size === 4 ? this.readRegister(this.ioregsel) : 0;
      default:
        return 0;
    }
  }

  write(offset: number, value: number, size: number): void {
    switch (offset & 0xff) {
      case IOAPIC_IOREGSEL:
        this.ioregsel = value & 0xff;
        return;
      case IOAPIC_IOWIN:
        if (size === 4) this.writeRegister(this.ioregsel, value >>> 0);
        return;
      case IOAPIC_EOI:
        if (size === 4 && this.version === 0x20) this.eoiBroadcast(value);
        return;
    }
  }

  private readRegister(reg: number): number {
    switch (reg) {
      case IOAPIC_REG_ID:
      case IOAPIC_REG_ARB: // the arbitration ID follows the ID (QEMU)
        return (this.id << 24) >>> 0;
      case IOAPIC_REG_VER:
        return (this.version | ((IOAPIC_NUM_PINS - 1) << 16)) >>> 0;
      default: {
        const pin = (reg - IOAPIC_REG_REDTBL) >> 1;
        if (reg < IOAPIC_REG_REDTBL || pin >= IOAPIC_NUM_PINS) return 0;
        return reg & 1 ? this.rteHigh[pin]! : this.rteLow[pin]!;
      }
    }
  }

  private writeRegister(reg: number, value: number): void {
    switch (reg) {
      case IOAPIC_REG_ID:
        this.id = (value >>> 24) & 0xf;
        return;
      case IOAPIC_REG_VER:
      case IOAPIC_REG_ARB:
        return;
      default: {
        const pin = (reg - IOAPIC_REG_REDTBL) >> 1;
        if (reg < IOAPIC_REG_REDTBL || pin >= IOAPIC_NUM_PINS) return;
        if (reg & 1) {
          this.rteHigh[pin] = (value & RTE_HIGH_WRITABLE) >>> 0;
          return;
        }
        const old = this.rteLow[pin]!;
        let lo = (value & RTE_LOW_WRITABLE) | (old & RTE_REMOTE_IRR);
        if (!(lo & RTE_LEVEL)) lo &= ~RTE_REMOTE_IRR;
        this.rteLow[pin] = lo;
        // A level pin follows its line; an edge pin only latches edges from now on.
        const m = 1 << pin;
        if (lo & RTE_LEVEL) this.irr = this.lines & m ? this.irr | m : this.irr & ~m;
        else if (old & RTE_LEVEL) this.irr &= ~m;
        this.service();
      }
    }
  }

  /** Reset: ID 0, every entry masked, edge, vector 0. Input levels are wires: they stay. */
  reset(): void {
    this.id = 0;
    this.ioregsel = 0;
    this.irr = 0;
    this.rteLow.fill(RTE_MASKED);
    this.rteHigh.fill(0);
  }

  saveState(): IoApicState {
    return {
      id: this.id, ioregsel: this.ioregsel, rteLow: [...this.rteLow], rteHigh: [...this.rteHigh],
      lines: this.lines, irr: this.irr, deliveries: [...this.deliveries],
    };
  }

  loadState(s: IoApicState): void {
    this.id = s.id & 0xf;
    this.ioregsel = s.ioregsel & 0xff;
    for (let i = 0; i < IOAPIC_NUM_PINS; i++) {
      this.rteLow[i] = s.rteLow[i] ?? RTE_MASKED;
      this.rteHigh[i] = s.rteHigh[i] ?? 0;
    }
    this.lines = s.lines >>> 0;
    this.irr = s.irr >>> 0;
    this.deliveries = Array.from({ length: IOAPIC_NUM_PINS }, (_, i) => s.deliveries[i] ?? 0);
  }

  info(): IoApicInfo {
    const pins: IoApicPinInfo[] = [];
    for (let pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
      const lo = this.rteLow[pin]!;
      const hi = this.rteHigh[pin]!;
      pins.push({
        pin, low: lo, high: hi, vector: lo & RTE_VECTOR,
        deliveryMode: (lo >>> RTE_DELIVERY_MODE_SHIFT) & 7, logical: (lo & RTE_DEST_LOGICAL) !== 0, dest: hi >>> 24,
        trigger: lo & RTE_LEVEL ? 'level' : 'edge', activeLow: (lo & RTE_POLARITY_LOW) !== 0,
        masked: (lo & RTE_MASKED) !== 0, remoteIrr: (lo & RTE_REMOTE_IRR) !== 0,
        level: (this.lines & (1 << pin)) !== 0, pending: (this.irr & (1 << pin)) !== 0, deliveries: this.deliveries[pin]!,
      });
    }
    return { base: this.base, id: this.id, version: this.version, ioregsel: this.ioregsel, pins };
  }
}

const DM_NAMES = ['fixed', 'lowest', 'SMI', '...', 'NMI', 'INIT', '...', 'extINT'];

/** `info ioapic` text, after QEMU's (`info pic` on a pc machine). */
export function describeIoApic(i: IoApicInfo): string {
  const h = (v: number, w: number) => (v >>> 0).toString(16).padStart(w, '0');
  const lines = [`ioapic0: ver=0x${h(i.version, 2)} id=0x${h(i.id, 2)} sel=0x${h(i.ioregsel, 2)}`];
  for (const p of i.pins) {
    lines.push(
      `  pin ${String(p.pin).padEnd(2)} 0x${h(p.high, 8)}${h(p.low, 8)} dest=${p.dest.toString(16)} vec=${String(p.vector).padEnd(3)} ` +
        `${p.activeLow ? 'active-lo' : 'active-hi'} ${p.trigger.padEnd(5)} ${(p.masked ? 'masked' : '').padEnd(6)} ` +
        `${DM_NAMES[p.deliveryMode]!.padEnd(6)} ${p.logical ? 'logical' : 'physical'}` +
        `${p.level ? ' line=1' : ''}${p.remoteIrr ? ' remote-irr' : ''} (${p.deliveries})`,
    );
  }
  const list = (f: (p: IoApicPinInfo) => boolean) => i.pins.filter(f).map((p) => p.pin).join(' ') || '(none)';
  lines.push(`  IRR        ${list((p) => p.pending)}`, `  Remote IRR ${list((p) => p.remoteIrr)}`);
  return lines.join('\n') + '\n';
}

/** What isaIrqLine needs from the 8259 pair (DualPic). */
export interface IsaPic {
  setIrq(line: number, level: boolean): void;
}

/**
 * ISA IRQ `irq` as a device sees it: one wire into both the 8259 pair and the I/O APIC
 * (QEMU's gsi_handler), IRQ 0 arriving at I/O APIC pin 2. IRQ 2 is the 8259 cascade.
 */
export function isaIrqLine(pic: IsaPic | null, ioapic: IoApic, irq: number): IrqLine {
  if (!Number.isInteger(irq) || irq < 0 || irq > 15 || irq === 2) throw new RangeError(`no ISA IRQ line ${irq}`);
  const pin = ioapic.irqLine(isaIrqToGsi(irq));
  return {
    set(level: boolean) {
      pic?.setIrq(irq, level);
      pin.set(level);
    },
  };
}

function checkPin(pin: number): void {
  if (!Number.isInteger(pin) || pin < 0 || pin >= IOAPIC_NUM_PINS) throw new RangeError(`no I/O APIC pin ${pin}`);
}
