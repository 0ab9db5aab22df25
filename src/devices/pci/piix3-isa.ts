// Intel 82371SB (PIIX3) PCI-to-ISA bridge, function 00:01.0, 8086:7000 (datasheet
// 290550; QEMU hw/isa/piix3.c). It carries:
// - PIRQRC[A:D] (0x60-0x63): PCI interrupt routing. Bit 7 disables a route, bits 3:0
//   name the ISA IRQ. Every ISA IRQ is driven with the OR of the PIRQ lines routed to it.
// - ELCR1/ELCR2 (ports 0x4D0/0x4D1): edge/level per ISA IRQ; IRQ 0, 1, 2, 8, 13 cannot be
//   level (mask 0xDEF8). The 8259 pair applies it through `setLevelTriggered`.
// - RC, the reset control register (port 0xCF9): writing bit 2 (RST_CPU) resets the
//   system, bit 1 (SYS_RST) selects a hard reset and is the only bit kept, as in QEMU.
// Configuration defaults are what QEMU 7.2 shows after reset (checked against a dump).
import type { IoBus, PortHandler } from '../io-bus.js';
import type { IrqLine } from '../device.js';
import { PciDevice, PCI_COMMAND, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM } from './pci-device.js';
import type { PciBus } from './pci-bus.js';

export const PIIX3_VENDOR = 0x8086;
export const PIIX3_ISA_DEVICE = 0x7000;
export const PIIX_PIRQRC = 0x60;
export const PIIX_ELCR1 = 0x4d0;
export const PIIX_ELCR2 = 0x4d1;
export const PIIX_RCR = 0xcf9;
export const PIIX_ELCR_MASK = 0xdef8;
const PIRQ_DISABLE = 0x80;

export interface Piix3IsaOptions {
  /** An ISA IRQ line of the interrupt controller(s), for PIRQ routing. */
  isaIrq?: (irq: number) => IrqLine;
  /** Apply the ELCR (bit n: IRQ n level-triggered), e.g. `pic.setLevelTriggered`. */
  setLevelTriggered?: (mask16: number) => void;
  /** RC bit 2 written: the board resets the machine (`hard`: SYS_RST was set). */
  onReset?: (hard: boolean) => void;
  /** Where on bus 0 (default slot 1; function 0). */
  slot?: number;
}

export interface Piix3IsaInfo {
  pirq: { pirq: string; route: number | null; level: boolean }[];
  isaIrqLevels: number;
  elcr: number;
  rcr: number;
}

export interface Piix3IsaExtra {
  pirqLevels: boolean[];
  elcr: number;
  rcr: number;
}

export class Piix3Isa extends PciDevice implements PortHandler {
  private readonly isaIrq: ((irq: number) => IrqLine) | null;
  private readonly setLevel: (mask16: number) => void;
  onReset: (hard: boolean) => void;
  /** Called after a PIRQ route register changes (for `monitor info pic` / observers). */
  onRoutingChange: () => void = () => {};
  private readonly pirqLevels = [false, false, false, false];
  private isaLevels = 0;
  private elcr = 0;
  private rcr = 0;

  constructor(io: IoBus, bus: PciBus, opts: Piix3IsaOptions = {}) {
    super('piix3-isa', { vendor: PIIX3_VENDOR, device: PIIX3_ISA_DEVICE, classCode: 0x060100 });
    this.isaIrq = opts.isaIrq ?? null;
    this.setLevel = opts.setLevelTriggered ?? (() => {});
    this.onReset = opts.onReset ?? (() => {});
    io.register(PIIX_ELCR1, 2, this, 'piix3-elcr');
    io.register(PIIX_RCR, 1, this, 'piix3-reset-control');
    bus.onPirq = (pirq, level) => this.setPirq(pirq, level);
    bus.attach(this, opts.slot ?? 1, 0);
  }

  protected override resetDevice(): void {
    const c = this.config;
    // QEMU's piix3_reset writes command 0x0007, then the generic PCI reset clears every
    // writable command bit: the guest sees 0.
    this.set16(PCI_COMMAND, 0x0000);
    this.set16(PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM);
    c[0x4c] = 0x4d;
    c[0x4e] = 0x03;
    c[0x4f] = 0x00;
    c[0x60] = c[0x61] = c[0x62] = c[0x63] = PIRQ_DISABLE;
    c[0x69] = 0x02;
    c[0x70] = 0x80;
    c[0x76] = 0x0c;
    c[0x77] = 0x0c;
    c[0x78] = 0x02;
    c[0xa0] = 0x08;
    c[0xa8] = 0x0f;
    for (let i = 0; i < 4; i++) this.wmask[PIIX_PIRQRC + i] = 0x8f;
    this.elcr = 0;
    this.rcr = 0;
    this.updateIsaIrqs();
  }

  protected override configWritten(off: number, size: number): void {
    if (off < PIIX_PIRQRC + 4 && off + size > PIIX_PIRQRC) {
      this.updateIsaIrqs();
      this.onRoutingChange();
    }
  }

  /** The ISA IRQ PIRQ `pirq` (0-3 = A-D) is routed to, or null when disabled. */
  route(pirq: number): number | null {
    const v = this.get8(PIIX_PIRQRC + (pirq & 3));
    return v & PIRQ_DISABLE ? null : v & 0x0f;
  }

  /** A PCI interrupt line (PIRQA-D) changed level (PciBus.onPirq). */
  setPirq(pirq: number, level: boolean): void {
    this.pirqLevels[pirq & 3] = level;
    this.updateIsaIrqs();
  }

  private updateIsaIrqs(): void {
    let levels = 0;
    for (let p = 0; p < 4; p++) {
      const irq = this.route(p);
      if (irq !== null && this.pirqLevels[p]) levels |= 1 << irq;
    }
    const changed = levels ^ this.isaLevels;
    this.isaLevels = levels;
    if (!changed || !this.isaIrq) return;
    for (let irq = 0; irq < 16; irq++) if (changed & (1 << irq)) this.isaIrq(irq).set((levels & (1 << irq)) !== 0);
  }

  read(port: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const p = port + i;
      let b = 0xff;
      if (p === PIIX_ELCR1) b = this.elcr & 0xff;
      else if (p === PIIX_ELCR2) b = this.elcr >>> 8;
      else if (p === PIIX_RCR) b = this.rcr;
      v |= b << (8 * i);
    }
    return v >>> 0;
  }

  write(port: number, value: number, size: number): void {
    let elcr = this.elcr;
    for (let i = 0; i < size; i++) {
      const p = port + i;
      const b = (value >>> (8 * i)) & 0xff;
      if (p === PIIX_ELCR1) elcr = (elcr & 0xff00) | b;
      else if (p === PIIX_ELCR2) elcr = (elcr & 0x00ff) | (b << 8);
      else if (p === PIIX_RCR) this.writeRcr(b);
    }
    if (port === PIIX_RCR && size === 1) return;
    this.elcr = elcr & PIIX_ELCR_MASK;
    this.setLevel(this.elcr);
  }

  private writeRcr(b: number): void {
    if (b & 0x04) {
      this.onReset((b & 0x02) !== 0);
      return;
    }
    this.rcr = b & 0x02;
  }

  /** The ELCR value (bit n: IRQ n level-triggered). */
  get levelTriggered(): number {
    return this.elcr;
  }

  protected override saveExtra(): Piix3IsaExtra {
    return { pirqLevels: [...this.pirqLevels], elcr: this.elcr, rcr: this.rcr };
  }

  protected override loadExtra(s: unknown): void {
    const e = s as Piix3IsaExtra | undefined;
    if (!e) return;
    for (let i = 0; i < 4; i++) this.pirqLevels[i] = e.pirqLevels[i] ?? false;
    this.elcr = e.elcr & PIIX_ELCR_MASK;
    this.rcr = e.rcr & 0x02;
    this.setLevel(this.elcr);
    this.updateIsaIrqs();
  }

  deviceInfo(): Piix3IsaInfo {
    return {
      pirq: [0, 1, 2, 3].map((p) => ({ pirq: 'ABCD'[p]!, route: this.route(p), level: this.pirqLevels[p]! })),
      isaIrqLevels: this.isaLevels,
      elcr: this.elcr,
      rcr: this.rcr,
    };
  }
}
