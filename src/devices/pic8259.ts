// Two cascaded Intel 8259A programmable interrupt controllers as on a PC/AT: the master
// at 0x20/0x21 drives the CPU's INTR, the slave at 0xA0/0xA1 drives the master's IR2.
// Register semantics follow the 8259A datasheet (Intel 231468); where it leaves a choice
// (edge latching, spurious vectors, ELCR) QEMU's hw/intc/i8259.c is the reference.
import type { IoBus, PortHandler } from './io-bus.js';
import type { IrqLine, Resettable, SavesState } from './device.js';
import type { EventLog } from '../events/machine-events.js';
import type { InterruptController } from '../cpu/cpu.js';

export const PIC_MASTER_CMD = 0x20;
export const PIC_MASTER_DATA = 0x21;
export const PIC_SLAVE_CMD = 0xa0;
export const PIC_SLAVE_DATA = 0xa1;
/** PIIX edge/level control registers (optional, see `DualPicOptions.elcrPorts`). */
export const PIC_ELCR1 = 0x4d0;
export const PIC_ELCR2 = 0x4d1;
/** ELCR bits that exist on a PIIX: IRQ 0, 1, 2, 8 and 13 are always edge-triggered. */
export const ELCR_MASK = 0xdef8;

/** The master input the slave's INT output is wired to. */
export const CASCADE_IRQ = 2;

// ICW1 (datasheet: "Initialization Command Words")
const ICW1_IC4 = 0x01;
const ICW1_SNGL = 0x02;
const ICW1_LTIM = 0x08;
const ICW1_INIT = 0x10;
// ICW4
const ICW4_UPM = 0x01;
const ICW4_AEOI = 0x02;
const ICW4_SFNM = 0x10;
// OCW3
const OCW3_RIS = 0x01;
const OCW3_RR = 0x02;
const OCW3_P = 0x04;
const OCW3_SELECT = 0x08;
const OCW3_SMM = 0x20;
const OCW3_ESMM = 0x40;

/** Plain-JSON state of one 8259A. */
export interface Pic8259ChipState {
  irr: number;
  isr: number;
  imr: number;
  /** Input levels as last driven (for the master, bit 2 is the slave's INT output). */
  lines: number;
  elcr: number;
  ltim: boolean;
  /** Rotation: the IR with the highest priority is `priorityAdd` (0 after init). */
  priorityAdd: number;
  vectorBase: number;
  icw3: number;
  icw4: number;
  /** 0: operational, 1: expecting ICW2, 2: ICW3, 3: ICW4. */
  initState: number;
  icw4Needed: boolean;
  single: boolean;
  autoEoi: boolean;
  rotateOnAutoEoi: boolean;
  specialFullyNested: boolean;
  readIsr: boolean;
  poll: boolean;
  specialMask: boolean;
}

export interface DualPicState {
  master: Pic8259ChipState;
  slave: Pic8259ChipState;
  raised: number[];
  delivered: number[];
  spuriousMaster: number;
  spuriousSlave: number;
}

export interface PicChipInfo {
  irr: number;
  isr: number;
  imr: number;
  vectorBase: number;
  initialized: boolean;
  levelMask: number;
  autoEoi: boolean;
  rotateOnAutoEoi: boolean;
  specialFullyNested: boolean;
  specialMask: boolean;
  /** The IR that currently has the lowest priority (7 unless rotated). */
  lowestPriority: number;
  readRegister: 'irr' | 'isr';
  pollPending: boolean;
  /** ICW4 µPM bit: true for 8086 mode (the only mode the vector path implements). */
  mode8086: boolean;
}

export interface PicLineInfo {
  line: number;
  level: boolean;
  trigger: 'edge' | 'level';
  masked: boolean;
  requested: boolean;
  inService: boolean;
  raised: number;
  delivered: number;
}

export interface DualPicInfo {
  intr: boolean;
  master: PicChipInfo;
  slave: PicChipInfo;
  lines: PicLineInfo[];
  spurious: { master: number; slave: number };
}

export interface DualPicOptions {
  /** Called whenever the master's INT output (the CPU's INTR pin) changes. */
  onIntr?: (level: boolean) => void;
  /** Receives 'irq-raise'/'irq-lower' on every edge of an input line. */
  log?: EventLog;
  /** Also claim the PIIX ELCR ports 0x4D0/0x4D1 (QEMU puts them in its i8259 model). */
  elcrPorts?: boolean;
}

/** One 8259A. Knows nothing about the cascade; DualPic wires two of them. */
class Pic8259Chip {
  irr = 0;
  isr = 0;
  imr = 0;
  lines = 0;
  elcr = 0;
  ltim = false;
  priorityAdd = 0;
  vectorBase = 0;
  icw3 = 0;
  icw4 = 0;
  initState = 0;
  icw4Needed = false;
  single = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  readIsr = false;
  poll = false;
  specialMask = false;

  constructor(readonly isMaster: boolean) {}

  /** Lines that are level-sensitive: ICW1.LTIM makes all eight so, else the ELCR decides. */
  levelMask(): number {
    return this.ltim ? 0xff : this.elcr;
  }

  /** Drive input `irq` (0-7). Edge lines latch into IRR on a rising edge; level lines follow. */
  setInput(irq: number, level: boolean): void {
    const m = 1 << irq;
    if (this.levelMask() & m) {
      if (level) this.irr |= m;
      else this.irr &= ~m;
    } else if (level && !(this.lines & m)) {
      this.irr |= m;
    }
    if (level) this.lines |= m;
    else this.lines &= ~m;
  }

  /** Priority (0 = highest) of the best bit in `mask` under the current rotation, 8 if none. */
  priorityOf(mask: number): number {
    if (!mask) return 8;
    for (let p = 0; p < 8; p++) if (mask & (1 << ((p + this.priorityAdd) & 7))) return p;
    return 8;
  }

  /** The IR this chip would present on INTA now, or -1 (datasheet: "Priority Resolver"). */
  pendingIrq(): number {
    const req = this.priorityOf(this.irr & ~this.imr);
    if (req === 8) return -1;
    let inService = this.isr;
    // Special mask mode: a masked in-service level no longer blocks lower priorities.
    if (this.specialMask) inService &= ~this.imr;
    // Special fully nested mode: the slave may interrupt its own in-service cascade level
    // (the slave's own priority logic only raises INT for higher requests).
    if (this.specialFullyNested && this.isMaster) inService &= ~(1 << CASCADE_IRQ);
    const cur = this.priorityOf(inService);
    return req < cur ? (req + this.priorityAdd) & 7 : -1;
  }

  /** INTA cycle for `irq`: set ISR (unless AEOI), clear an edge-latched IRR bit. */
  intack(irq: number): void {
    const m = 1 << irq;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (irq + 1) & 7;
    } else {
      this.isr |= m;
    }
    // A level-sensitive request stays in IRR as long as its line is high (as QEMU).
    if (!(this.levelMask() & m)) this.irr &= ~m;
  }

  /** Poll command read: 0x80 | level, acknowledging it, or 0 (datasheet: "The Poll Command"). */
  pollRead(): number {
    this.poll = false;
    const irq = this.pendingIrq();
    if (irq < 0) return 0;
    this.intack(irq);
    return 0x80 | irq;
  }

  /** Power-on and device reset (QEMU clears the ELCR on reset, not on ICW1). */
  reset(): void {
    this.elcr = 0;
    this.ltim = false;
    this.initReset();
  }

  /** What ICW1 resets (datasheet, ICW1 a-f). */
  private initReset(): void {
    // Edge-sense reset as QEMU (last_irr = 0): the recorded levels of edge-triggered
    // inputs are forgotten, so a device that drives its line high again (without a low
    // in between) latches a new request; level-sensitive inputs keep requesting.
    // (The datasheet's edge sense would want a fresh low-to-high transition; decisions.md 18.)
    this.irr = this.lines & this.levelMask();
    this.lines &= this.levelMask();
    this.isr = 0;
    this.imr = 0;
    this.priorityAdd = 0;
    this.vectorBase = 0;
    this.icw3 = 0;
    this.icw4 = 0;
    this.initState = 0;
    this.icw4Needed = false;
    this.single = false;
    this.autoEoi = false;
    this.rotateOnAutoEoi = false;
    this.specialFullyNested = false;
    this.readIsr = false;
    this.poll = false;
    this.specialMask = false;
  }

  /** Re-derive IRR for lines that are level-sensitive now (after ELCR/LTIM changes). */
  syncLevelLines(): void {
    const lm = this.levelMask();
    this.irr = (this.irr & ~lm) | (this.lines & lm);
  }

  writeCommand(val: number): void {
    if (val & ICW1_INIT) {
      this.ltim = (val & ICW1_LTIM) !== 0;
      this.initReset();
      this.initState = 1;
      this.icw4Needed = (val & ICW1_IC4) !== 0;
      this.single = (val & ICW1_SNGL) !== 0;
    } else if (val & OCW3_SELECT) {
      if (val & OCW3_P) this.poll = true;
      if (val & OCW3_RR) this.readIsr = (val & OCW3_RIS) !== 0;
      if (val & OCW3_ESMM) this.specialMask = (val & OCW3_SMM) !== 0;
    } else {
      this.writeOcw2(val);
    }
  }

  /** OCW2: R SL EOI in bits 7-5, level in bits 2-0. */
  private writeOcw2(val: number): void {
    const level = val & 7;
    switch (val >> 5) {
      case 0: // rotate in automatic EOI mode (clear)
        this.rotateOnAutoEoi = false;
        break;
      case 4: // rotate in automatic EOI mode (set)
        this.rotateOnAutoEoi = true;
        break;
      case 1: // non-specific EOI
      case 5: { // rotate on non-specific EOI
        const p = this.priorityOf(this.isr);
        if (p === 8) break;
        const irq = (p + this.priorityAdd) & 7;
        this.isr &= ~(1 << irq);
        if (val >> 5 === 5) this.priorityAdd = (irq + 1) & 7;
        break;
      }
      case 3: // specific EOI
        this.isr &= ~(1 << level);
        break;
      case 7: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.priorityAdd = (level + 1) & 7;
        break;
      case 6: // set priority: `level` becomes the lowest
        this.priorityAdd = (level + 1) & 7;
        break;
      default: // 2: no operation
        break;
    }
  }

  writeData(val: number): void {
    switch (this.initState) {
      case 1: // ICW2: T7-T3 of the vector (8086 mode)
        this.vectorBase = val & 0xf8;
        this.initState = this.single ? (this.icw4Needed ? 3 : 0) : 2;
        break;
      case 2: // ICW3: slave mask (master) or slave id (slave); the wiring is fixed here
        this.icw3 = val;
        this.initState = this.icw4Needed ? 3 : 0;
        break;
      case 3: // ICW4
        this.icw4 = val;
        this.autoEoi = (val & ICW4_AEOI) !== 0;
        this.specialFullyNested = (val & ICW4_SFNM) !== 0;
        this.initState = 0;
        break;
      default: // OCW1
        this.imr = val;
        break;
    }
  }

  readCommand(): number {
    if (this.poll) return this.pollRead();
    return this.readIsr ? this.isr : this.irr;
  }

  readData(): number {
    if (this.poll) return this.pollRead();
    return this.imr;
  }

  save(): Pic8259ChipState {
    return {
      irr: this.irr, isr: this.isr, imr: this.imr, lines: this.lines, elcr: this.elcr, ltim: this.ltim,
      priorityAdd: this.priorityAdd, vectorBase: this.vectorBase, icw3: this.icw3, icw4: this.icw4,
      initState: this.initState, icw4Needed: this.icw4Needed, single: this.single, autoEoi: this.autoEoi,
      rotateOnAutoEoi: this.rotateOnAutoEoi, specialFullyNested: this.specialFullyNested,
      readIsr: this.readIsr, poll: this.poll, specialMask: this.specialMask,
    };
  }

  load(s: Pic8259ChipState): void {
    this.irr = s.irr & 0xff;
    this.isr = s.isr & 0xff;
    this.imr = s.imr & 0xff;
    this.lines = s.lines & 0xff;
    this.elcr = s.elcr & 0xff;
    this.ltim = s.ltim;
    this.priorityAdd = s.priorityAdd & 7;
    this.vectorBase = s.vectorBase & 0xf8;
    this.icw3 = s.icw3 & 0xff;
    this.icw4 = s.icw4 & 0xff;
    this.initState = s.initState;
    this.icw4Needed = s.icw4Needed;
    this.single = s.single;
    this.autoEoi = s.autoEoi;
    this.rotateOnAutoEoi = s.rotateOnAutoEoi;
    this.specialFullyNested = s.specialFullyNested;
    this.readIsr = s.readIsr;
    this.poll = s.poll;
    this.specialMask = s.specialMask;
  }

  info(): PicChipInfo {
    return {
      irr: this.irr, isr: this.isr, imr: this.imr, vectorBase: this.vectorBase,
      initialized: this.initState === 0, levelMask: this.levelMask(), autoEoi: this.autoEoi,
      rotateOnAutoEoi: this.rotateOnAutoEoi, specialFullyNested: this.specialFullyNested,
      specialMask: this.specialMask, lowestPriority: (this.priorityAdd + 7) & 7,
      readRegister: this.readIsr ? 'isr' : 'irr', pollPending: this.poll,
      mode8086: (this.icw4 & ICW4_UPM) !== 0,
    };
  }
}

/**
 * The PC's master/slave 8259A pair. The CPU side: `onIntr(level)` reports the INTR pin;
 * when the CPU takes the interrupt (IF=1, at an instruction boundary) it calls
 * `acknowledge()`, which performs the two INTA cycles and returns the vector.
 */
export class DualPic implements PortHandler, InterruptController, Resettable, SavesState<DualPicState> {
  private readonly master = new Pic8259Chip(true);
  private readonly slave = new Pic8259Chip(false);
  private readonly onIntr: (level: boolean) => void;
  private readonly log: EventLog | undefined;
  private readonly lineObjects: IrqLine[] = [];
  private intr = false;
  private raised: number[] = new Array<number>(16).fill(0);
  private delivered: number[] = new Array<number>(16).fill(0);
  private spuriousMaster = 0;
  private spuriousSlave = 0;

  constructor(io: IoBus, opts: DualPicOptions = {}) {
    this.onIntr = opts.onIntr ?? (() => {});
    this.log = opts.log;
    io.register(PIC_MASTER_CMD, 2, this, 'pic-master');
    io.register(PIC_SLAVE_CMD, 2, this, 'pic-slave');
    if (opts.elcrPorts) {
      const elcr: PortHandler = {
        read: (port, size) => this.readElcr(port, size),
        write: (port, value, size) => this.writeElcr(port, value, size),
      };
      io.register(PIC_ELCR1, 2, elcr, 'pic-elcr');
    }
    for (let i = 0; i < 16; i++) {
      const line = i;
      this.lineObjects.push({ set: (level: boolean) => this.setIrq(line, level) });
    }
    this.reset();
  }

  /** The combined INTR output (what `onIntr` last reported). */
  get intrLevel(): boolean {
    return this.intr;
  }

  /** An IrqLine for ISA IRQ `line` (0-15 except 2, the cascade). */
  irqLine(line: number): IrqLine {
    checkLine(line);
    return this.lineObjects[line]!;
  }

  /** Drive ISA IRQ `line` (0-15 except 2, which on the ISA bus is wired to IRQ 9). */
  setIrq(line: number, level: boolean): void {
    checkLine(line);
    const chip = line < 8 ? this.master : this.slave;
    const m = 1 << (line & 7);
    if (((chip.lines & m) !== 0) === level) return;
    chip.setInput(line & 7, level);
    if (level) this.raised[line]!++;
    this.log?.emit({ kind: level ? 'irq-raise' : 'irq-lower', icount: this.log.icount(), line });
    this.update();
  }

  /** ELCR-style per-line trigger mode: bit n set makes IRQ n level-sensitive. */
  setLevelTriggered(mask16: number): void {
    this.master.elcr = mask16 & 0xff;
    this.slave.elcr = (mask16 >>> 8) & 0xff;
    this.master.syncLevelLines();
    this.slave.syncLevelLines();
    this.update();
  }

  levelTriggered(): number {
    return this.master.elcr | (this.slave.elcr << 8);
  }

  /** INTA: the vector of the highest-priority request, with ISR/IRR updated. */
  acknowledge(): number {
    let vector: number;
    const irq = this.master.pendingIrq();
    if (irq < 0) {
      // Nothing left to deliver: the 8259A answers with IR7 and sets no ISR bit.
      vector = this.master.vectorBase + 7;
      this.spuriousMaster++;
    } else {
      this.master.intack(irq);
      if (irq === CASCADE_IRQ && !this.master.single) {
        const irq2 = this.slave.pendingIrq();
        if (irq2 < 0) {
          // Spurious on the slave: IR15, while the master's IR2 is in service.
          vector = this.slave.vectorBase + 7;
          this.spuriousSlave++;
        } else {
          this.slave.intack(irq2);
          vector = this.slave.vectorBase + irq2;
          this.delivered[8 + irq2]!++;
        }
      } else {
        vector = this.master.vectorBase + irq;
        this.delivered[irq]!++;
      }
    }
    this.update();
    return vector;
  }

  /** The vector `acknowledge()` would return now, without side effects (for a debugger). */
  peekVector(): number | null {
    const irq = this.master.pendingIrq();
    if (irq < 0) return null;
    if (irq === CASCADE_IRQ && !this.master.single) {
      const irq2 = this.slave.pendingIrq();
      return this.slave.vectorBase + (irq2 < 0 ? 7 : irq2);
    }
    return this.master.vectorBase + irq;
  }

  read(port: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte((port + i) & 0xffff) << (8 * i);
    return v >>> 0;
  }

  write(port: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) this.writeByte((port + i) & 0xffff, (value >>> (8 * i)) & 0xff);
  }

  private readByte(port: number): number {
    let v: number;
    switch (port) {
      case PIC_MASTER_CMD: v = this.master.readCommand(); break;
      case PIC_MASTER_DATA: v = this.master.readData(); break;
      case PIC_SLAVE_CMD: v = this.slave.readCommand(); break;
      case PIC_SLAVE_DATA: v = this.slave.readData(); break;
      default: return 0xff; // the byte of a wide access that falls outside our ports
    }
    // A poll read acknowledges; the outputs may change.
    this.update();
    return v;
  }

  private writeByte(port: number, val: number): void {
    switch (port) {
      case PIC_MASTER_CMD: this.master.writeCommand(val); break;
      case PIC_MASTER_DATA: this.master.writeData(val); break;
      case PIC_SLAVE_CMD: this.slave.writeCommand(val); break;
      case PIC_SLAVE_DATA: this.slave.writeData(val); break;
      default: return;
    }
    this.update();
  }

  private readElcr(port: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const p = port + i;
      const b = p === PIC_ELCR1 ? this.master.elcr : p === PIC_ELCR2 ? this.slave.elcr : 0xff;
      v |= b << (8 * i);
    }
    return v >>> 0;
  }

  private writeElcr(port: number, value: number, size: number): void {
    let mask = this.levelTriggered();
    for (let i = 0; i < size; i++) {
      const p = port + i;
      const b = (value >>> (8 * i)) & 0xff;
      if (p === PIC_ELCR1) mask = (mask & 0xff00) | b;
      else if (p === PIC_ELCR2) mask = (mask & 0x00ff) | (b << 8);
    }
    this.setLevelTriggered(mask & ELCR_MASK);
  }

  /** Propagate the slave's INT to master IR2 and the master's INT to the CPU. */
  private update(): void {
    this.master.setInput(CASCADE_IRQ, this.slave.pendingIrq() >= 0);
    const out = this.master.pendingIrq() >= 0;
    if (out !== this.intr) {
      this.intr = out;
      this.onIntr(out);
    }
  }

  reset(): void {
    this.master.reset();
    this.slave.reset();
    this.update();
  }

  saveState(): DualPicState {
    return {
      master: this.master.save(),
      slave: this.slave.save(),
      raised: [...this.raised],
      delivered: [...this.delivered],
      spuriousMaster: this.spuriousMaster,
      spuriousSlave: this.spuriousSlave,
    };
  }

  /** Restores the registers and reports the resulting INTR level to `onIntr` (always). */
  loadState(s: DualPicState): void {
    this.master.load(s.master);
    this.slave.load(s.slave);
    this.raised = Array.from({ length: 16 }, (_, i) => s.raised[i] ?? 0);
    this.delivered = Array.from({ length: 16 }, (_, i) => s.delivered[i] ?? 0);
    this.spuriousMaster = s.spuriousMaster;
    this.spuriousSlave = s.spuriousSlave;
    this.intr = this.master.pendingIrq() >= 0;
    this.onIntr(this.intr);
  }

  info(): DualPicInfo {
    const lines: PicLineInfo[] = [];
    for (let line = 0; line < 16; line++) {
      const chip = line < 8 ? this.master : this.slave;
      const m = 1 << (line & 7);
      lines.push({
        line,
        level: (chip.lines & m) !== 0,
        trigger: chip.levelMask() & m ? 'level' : 'edge',
        masked: (chip.imr & m) !== 0,
        requested: (chip.irr & m) !== 0,
        inService: (chip.isr & m) !== 0,
        raised: this.raised[line]!,
        delivered: this.delivered[line]!,
      });
    }
    return {
      intr: this.intr,
      master: this.master.info(),
      slave: this.slave.info(),
      lines,
      spurious: { master: this.spuriousMaster, slave: this.spuriousSlave },
    };
  }
}

function checkLine(line: number): void {
  if (!Number.isInteger(line) || line < 0 || line > 15) throw new RangeError(`no IRQ line ${line}`);
  if (line === CASCADE_IRQ) throw new RangeError('IRQ 2 is the cascade input; the ISA bus wires IRQ2 to IRQ 9');
}
