// The floppy disk controller (82077AA-compatible, ISA, 0x3F0-0x3F5 and 0x3F7, IRQ 6, DMA
// channel 2) with up to two drives, as QEMU 7.2's isa-fdc behaves for a guest (measured
// with tests/guests/disk/fd-probe.asm through SeaBIOS's INT 13h and directly): the
// digital output register (reset, drive select, DMA enable), the main status register,
// the data FIFO with its command, execution and result phases, and the commands BIOSes
// and OSes use: SPECIFY, SENSE DRIVE STATUS, RECALIBRATE, SENSE INTERRUPT STATUS, SEEK,
// READ ID, READ DATA, WRITE DATA (by DMA, or by PIO when SPECIFY says non-DMA), VERSION,
// CONFIGURE, LOCK, DUMPREG, PERPENDICULAR MODE, PART ID, and READ TRACK, FORMAT TRACK
// and SCAN EQUAL / LOW OR EQUAL / HIGH OR EQUAL as QEMU runs them (decisions.md 78).
// Unknown commands are invalid (ST0 0x80). Media: 1.44 MB, 2.88 MB and 720 KB raw images.
import type { IoBus, PortHandler } from './io-bus.js';
import type { IrqLine } from './device.js';
import type { IsaDma } from './isa-dma.js';
import { Timer, type VirtualClock } from '../time/virtual-clock.js';
import type { TrackedImage } from '../block/block-image.js';
import { SECTOR_SIZE } from '../block/block-image.js';

export const FDC_BASE = 0x3f0;
export const FDC_DMA_CHANNEL = 2;

// DOR
const DOR_SELMASK = 0x01;
const DOR_NRESET = 0x04;
const DOR_DMAEN = 0x08;
// MSR
const MSR_CMDBUSY = 0x10;
const MSR_NONDMA = 0x20;
const MSR_DIO = 0x40;
const MSR_RQM = 0x80;
// DSR
const DSR_DRATEMASK = 0x03;
const DSR_PWRDOWN = 0x40;
const DSR_SWRST = 0x80;
// ST0
const SR0_ABNTERM = 0x40;
const SR0_INVCMD = 0x80;
const SR0_SEEK = 0x20;
const SR0_RDYCHG = 0xc0;
// ST1
const SR1_MA = 0x01;
const SR1_EC = 0x80;
const SR1_NW = 0x02;
// ST2
const SR2_SEH = 0x08;
// SRA
const SRA_NDRV2 = 0x40;
const SRA_INTPEND = 0x80;

const RESET_SENSEI_COUNT = 4;

/** A floppy medium geometry (QEMU's fd_formats, the ones we take). */
export interface FloppyFormat {
  bytes: number;
  tracks: number;
  heads: number;
  sectors: number;
  /** Data rate code (DSR/CCR bits 0-1): 0 500 kb/s, 2 250 kb/s, 3 1 Mb/s. */
  rate: number;
  /** CMOS 0x10 drive type: 4 1.44 MB, 5 2.88 MB. */
  cmosType: number;
}

export const FLOPPY_FORMATS: FloppyFormat[] = [
  { bytes: 1474560, tracks: 80, heads: 2, sectors: 18, rate: 0, cmosType: 4 },
  { bytes: 2949120, tracks: 80, heads: 2, sectors: 36, rate: 3, cmosType: 5 },
  { bytes: 737280, tracks: 80, heads: 2, sectors: 9, rate: 2, cmosType: 4 },
];

/**
 * What a drive of each CMOS type can do (its limits, independent of the medium), as
 * QEMU 7.2 reports them in the DSDT's _FDI (measured): the highest cylinder, sector and
 * head numbers. 4: 1.44 MB drive, 5: 2.88 MB drive.
 */
export const FLOPPY_DRIVE_LIMITS: Readonly<Record<number, { maxCylinder: number; maxSector: number; maxHead: number }>> = {
  4: { maxCylinder: 0x52, maxSector: 0x18, maxHead: 1 },
  5: { maxCylinder: 0x4f, maxSector: 0x30, maxHead: 1 },
};

/**
 * A drive that has had no medium yet: QEMU's isa-fdc makes it a 2.88 MB drive (its
 * `fallback` property, "288"), single-sided until a medium says otherwise, at 500 kb/s
 * (no medium rate picked yet).
 */
export const EMPTY_FLOPPY_DRIVE: FloppyFormat = { bytes: 0, tracks: 80, heads: 1, sectors: 36, rate: 0, cmosType: 5 };

export function floppyFormat(bytes: number): FloppyFormat | null {
  return FLOPPY_FORMATS.find((f) => f.bytes === bytes) ?? null;
}

export interface FloppyDriveConfig {
  /** The medium (null: none; the monitor's eject). */
  image: TrackedImage | null;
  /** The last medium's format: an empty drive keeps its data rate and sides (QEMU). */
  format: FloppyFormat;
}

/**
 * The last sector number of a track: 0 without a drive, 0xFF without a medium (QEMU's
 * fd_empty_seek_hack), else the medium's, or what FORMAT TRACK last said (QEMU keeps its
 * sectors-per-track count as the drive's until the medium changes).
 */
function lastSectOf(d: FloppyDriveConfig | null, st: DriveState | undefined): number {
  if (!d) return 0;
  if (typeof st?.formatSectors === 'number') return st.formatSectors;
  return d.image ? d.format.sectors : 0xff;
}

/** Parameter bytes after the command byte, by command (low 5 bits; QEMU's handlers table). */
function commandLength(cmd: number): number | null {
  switch (cmd & 0x1f) {
    case 0x06: case 0x05: case 0x0c: case 0x09: case 0x11: case 0x19: case 0x1d: return 8; // READ/WRITE (DELETED) DATA, SCAN
    case 0x02: return cmd & 0x80 ? null : 8; // READ TRACK (no multi-track: QEMU's mask 0xBF)
    case 0x0d: if (cmd === 0xcd) return 10; // FORMAT AND WRITE: its parameters, then invalid (QEMU)
      return cmd & 0x80 ? null : 5; // FORMAT TRACK
    case 0x0a: return 1; // READ ID
    case 0x03: return 2; // SPECIFY
    case 0x04: return 1; // SENSE DRIVE STATUS
    case 0x07: return 1; // RECALIBRATE
    case 0x08: return 0; // SENSE INTERRUPT STATUS
    case 0x0e: return 0; // DUMPREG
    case 0x0f: return 2; // SEEK
    case 0x10: return 0; // VERSION
    case 0x12: return 1; // PERPENDICULAR MODE
    case 0x13: return 3; // CONFIGURE
    case 0x14: return 0; // LOCK/UNLOCK
    case 0x18: return 0; // PART ID
    default: return null;
  }
}

interface DriveState {
  track: number;
  head: number;
  sect: number;
  mediaChanged: boolean;
  /** Sectors per track set by FORMAT TRACK (null: the medium's). */
  formatSectors: number | null;
}

/** The direction of a data command: SCAN EQUAL, LOW OR EQUAL, HIGH OR EQUAL compare memory with the disk. */
type DataDir = 'read' | 'write' | 'scan-eq' | 'scan-le' | 'scan-he';

interface FdcState {
  sra: number;
  srb: number;
  dor: number;
  tdr: number;
  msr: number;
  dsr: number;
  status0: number;
  resetSensei: number;
  cur: number;
  phase: 'command' | 'execution' | 'result';
  fifo: number[];
  dataPos: number;
  dataLen: number;
  dataDir: DataDir;
  multiTrack: boolean;
  eot: number;
  timer0: number;
  timer1: number;
  config: number;
  lock: number;
  precomp: number;
  perpendicular: number;
  irq: boolean;
  drives: DriveState[];
  /** The sector buffer of a transfer (base64). */
  buf: string;
  readIdDue: number | null;
}

export interface FdcOptions {
  irq: IrqLine;
  dma: IsaDma;
  clock: VirtualClock;
  drives: (FloppyDriveConfig | null)[];
}

export class Fdc {
  private s!: FdcState;
  private buf = new Uint8Array(SECTOR_SIZE);
  private readonly drives: (FloppyDriveConfig | null)[];
  private readonly irq: IrqLine;
  private readonly dma: IsaDma;
  private readonly clock: VirtualClock;
  private readonly readIdTimer: Timer;

  constructor(io: IoBus, opts: FdcOptions) {
    this.drives = [opts.drives[0] ?? null, opts.drives[1] ?? null];
    this.irq = opts.irq;
    this.dma = opts.dma;
    this.clock = opts.clock;
    this.readIdTimer = new Timer(opts.clock, 'fdc-readid', () => this.readIdDone());
    const h: PortHandler = { read: (port) => this.read(port - FDC_BASE), write: (port, v) => this.write(port - FDC_BASE, v & 0xff) };
    io.register(FDC_BASE, 6, h, 'fdc');
    io.register(FDC_BASE + 7, 1, h, 'fdc');
    this.dma.register(FDC_DMA_CHANNEL, (pos, size) => this.dmaTransfer(pos, size));
    this.s = this.fresh();
    this.reset();
  }

  private fresh(): FdcState {
    return {
      sra: 0, srb: 0xc0, dor: DOR_NRESET | DOR_DMAEN, tdr: 0, msr: MSR_RQM, dsr: 0, status0: 0, resetSensei: 0, cur: 0,
      phase: 'command', fifo: [], dataPos: 0, dataLen: 1, dataDir: 'write', multiTrack: false, eot: 0,
      timer0: 0, timer1: 0, config: 0x60, lock: 0, precomp: 0, perpendicular: 0, irq: false,
      drives: [0, 1].map(() => ({ track: 0, head: 0, sect: 1, mediaChanged: true, formatSectors: null })), buf: '', readIdDue: null,
    };
  }

  /** The machine's reset (QEMU: the device's reset, then the controller's without an interrupt). */
  reset(): void {
    const drives = this.s.drives;
    this.s = this.fresh();
    this.s.drives = drives;
    this.controllerReset(false);
  }

  // ---- interrupt ---------------------------------------------------------------------

  private raiseIrq(): void {
    if (!(this.s.sra & SRA_INTPEND)) {
      this.irq.set(true);
      this.s.sra |= SRA_INTPEND;
      this.s.irq = true;
    }
    this.s.resetSensei = 0;
  }

  private lowerIrq(): void {
    this.s.status0 = 0;
    if (!(this.s.sra & SRA_INTPEND)) return;
    this.irq.set(false);
    this.s.sra &= ~SRA_INTPEND;
    this.s.irq = false;
  }

  // ---- registers ---------------------------------------------------------------------

  private read(reg: number): number {
    const s = this.s;
    switch (reg) {
      case 0: return s.sra;
      case 1: return s.srb;
      case 2: return s.dor;
      case 3: return s.tdr;
      case 4: // MSR; reading it also ends a power-down and a reset (QEMU)
        s.dsr &= ~DSR_PWRDOWN;
        s.dor |= DOR_NRESET;
        return s.msr;
      case 5: return this.readData();
      case 7: { // DIR: the disk-change line of the selected drive
        const d = this.drives[s.dor & DOR_SELMASK];
        return d && s.drives[s.dor & DOR_SELMASK]!.mediaChanged ? 0x80 : 0;
      }
      default: return 0xff;
    }
  }

  private write(reg: number, v: number): void {
    const s = this.s;
    switch (reg) {
      case 2: { // DOR
        if (v & DOR_NRESET && !(s.dor & DOR_NRESET)) {
          this.controllerReset(true);
          s.dsr &= ~DSR_PWRDOWN;
        }
        s.cur = v & DOR_SELMASK;
        s.dor = v;
        return;
      }
      case 3: // TDR
        if (!(s.dor & DOR_NRESET)) return;
        s.tdr = v & 0x03;
        return;
      case 4: // DSR
        if (!(s.dor & DOR_NRESET)) return;
        if (v & DSR_SWRST) {
          s.dor &= ~DOR_NRESET;
          this.controllerReset(true);
          s.dor |= DOR_NRESET;
        }
        if (v & DSR_PWRDOWN) this.controllerReset(true);
        s.dsr = v;
        return;
      case 5:
        this.writeData(v);
        return;
      case 7: // CCR: the data rate
        if (!(s.dor & DOR_NRESET)) return;
        s.dsr = (s.dsr & ~DSR_DRATEMASK) | (v & DSR_DRATEMASK);
        return;
    }
  }

  private controllerReset(withIrq: boolean): void {
    const s = this.s;
    this.lowerIrq();
    s.sra = this.drives[1] ? 0 : SRA_NDRV2;
    s.srb = 0xc0;
    s.cur = 0;
    s.dor = DOR_NRESET | DOR_DMAEN;
    s.msr = MSR_RQM;
    s.resetSensei = 0;
    this.readIdTimer.cancel();
    s.readIdDue = null;
    s.dataPos = 0;
    s.dataLen = 0;
    s.dataDir = 'write';
    for (const d of s.drives) {
      d.track = 0;
      d.head = 0;
      d.sect = 1;
    }
    this.toCommandPhase();
    if (withIrq) {
      s.status0 |= SR0_RDYCHG;
      this.raiseIrq();
      s.resetSensei = RESET_SENSEI_COUNT;
    }
  }

  private toCommandPhase(): void {
    const s = this.s;
    s.phase = 'command';
    s.dataDir = 'write';
    s.dataPos = 0;
    s.dataLen = 1;
    s.msr &= ~(MSR_CMDBUSY | MSR_DIO);
    s.msr |= MSR_RQM;
  }

  private toResultPhase(bytes: number[]): void {
    const s = this.s;
    s.phase = 'result';
    s.fifo = bytes;
    s.msr |= MSR_RQM | MSR_DIO;
    s.msr &= ~MSR_NONDMA;
    s.dataDir = 'read';
    s.dataLen = bytes.length;
    s.dataPos = 0;
  }

  private readData(): number {
    const s = this.s;
    if (!(s.msr & MSR_RQM) || !(s.msr & MSR_DIO)) return 0;
    if (s.phase === 'execution') {
      // Non-DMA read: the sector bytes through the FIFO.
      const v = this.buf[s.dataPos % SECTOR_SIZE]!;
      this.pioAdvance();
      return v;
    }
    const v = s.fifo[s.dataPos] ?? 0;
    if (++s.dataPos >= s.dataLen) {
      this.toCommandPhase();
      this.lowerIrq();
    }
    return v;
  }

  private writeData(v: number): void {
    const s = this.s;
    if (!(s.dor & DOR_NRESET)) return;
    if (!(s.msr & MSR_RQM) || s.msr & MSR_DIO) return;
    if (s.phase === 'execution') {
      this.buf[s.dataPos % SECTOR_SIZE] = v;
      this.pioAdvance();
      return;
    }
    if (s.dataPos === 0) {
      // A command byte.
      const n = commandLength(v);
      if (n === null) {
        this.toResultPhase([SR0_INVCMD]);
        return;
      }
      s.fifo = [v];
      s.dataLen = n + 1;
      s.dataPos = 1;
      s.msr |= MSR_CMDBUSY;
      if (n === 0) this.execute();
      return;
    }
    s.fifo[s.dataPos++] = v;
    if (s.dataPos >= s.dataLen) this.execute();
  }

  // ---- commands ----------------------------------------------------------------------

  private drive(): DriveState {
    return this.s.drives[this.s.cur]!;
  }

  private selectFrom(b: number): void {
    this.s.cur = b & DOR_SELMASK;
    this.s.dor = (this.s.dor & ~DOR_SELMASK) | this.s.cur;
  }

  private execute(): void {
    const s = this.s;
    const f = s.fifo;
    const cmd = f[0]!;
    switch (cmd & 0x1f) {
      case 0x03: // SPECIFY
        s.timer0 = (f[1]! >> 4) & 0x0f;
        s.timer1 = f[2]! >> 1;
        if (f[2]! & 1) s.dor &= ~DOR_DMAEN;
        else s.dor |= DOR_DMAEN;
        this.toCommandPhase();
        return;
      case 0x04: { // SENSE DRIVE STATUS
        this.selectFrom(f[1]!);
        const d = this.drive();
        d.head = (f[1]! >> 2) & 1;
        this.toResultPhase([(d.track === 0 ? 0x10 : 0) | (d.head << 2) | s.cur | 0x28 | (this.readOnly() ? 0x40 : 0)]);
        return;
      }
      case 0x07: // RECALIBRATE
        this.selectFrom(f[1]!);
        this.seek(this.drive(), 0, 0, 1);
        this.toCommandPhase();
        s.status0 |= SR0_SEEK;
        this.raiseIrq();
        return;
      case 0x08: { // SENSE INTERRUPT STATUS
        const d = this.drive();
        let st0: number;
        if (s.resetSensei > 0) {
          st0 = SR0_RDYCHG + RESET_SENSEI_COUNT - s.resetSensei;
          s.resetSensei--;
        } else if (!(s.sra & SRA_INTPEND)) {
          this.toResultPhase([SR0_INVCMD]);
          return;
        } else {
          st0 = (s.status0 & ~0x07) | s.cur;
        }
        this.toResultPhase([st0, d.track]);
        this.lowerIrq();
        s.status0 = SR0_RDYCHG;
        return;
      }
      case 0x0f: { // SEEK
        this.selectFrom(f[1]!);
        const d = this.drive();
        this.toCommandPhase();
        this.seek(d, d.head, f[2]!, 1);
        s.status0 |= SR0_SEEK;
        this.raiseIrq();
        return;
      }
      case 0x0a: // READ ID: the result 20 ms later (QEMU's result timer)
        this.selectFrom(f[1]!);
        this.drive().head = (f[1]! >> 2) & 1;
        s.phase = 'execution';
        s.msr &= ~MSR_RQM;
        s.readIdDue = this.clock.now() + 20_000_000;
        this.readIdTimer.arm(s.readIdDue);
        return;
      case 0x06: case 0x0c: // READ (DELETED) DATA
      case 0x02: // READ TRACK: QEMU reads from the sector given, as READ DATA
        this.startTransfer('read');
        return;
      case 0x0d: // FORMAT TRACK (FORMAT AND WRITE is not implemented, as in QEMU)
        if (cmd === 0xcd) this.toResultPhase([SR0_INVCMD]);
        else this.formatTrack();
        return;
      case 0x11: // SCAN EQUAL
        this.startTransfer('scan-eq');
        return;
      case 0x19: // SCAN LOW OR EQUAL
        this.startTransfer('scan-le');
        return;
      case 0x1d: // SCAN HIGH OR EQUAL
        this.startTransfer('scan-he');
        return;
      case 0x05: case 0x09: // WRITE (DELETED) DATA
        this.startTransfer('write');
        return;
      case 0x10: // VERSION
        this.toResultPhase([0x90]);
        return;
      case 0x13: // CONFIGURE
        s.config = f[2]!;
        s.precomp = f[3]!;
        this.toCommandPhase();
        return;
      case 0x14: // LOCK / UNLOCK
        s.lock = cmd & 0x80 ? 1 : 0;
        this.toResultPhase([s.lock << 4]);
        return;
      case 0x0e: // DUMPREG
        this.toResultPhase([
          s.drives[0]!.track, s.drives[1]!.track, 0, 0, s.timer0, (s.timer1 << 1) | (s.dor & DOR_DMAEN ? 1 : 0),
          this.drive() ? this.lastSect() : 0, (s.lock << 7) | (s.perpendicular << 2), s.config, s.precomp,
        ]);
        return;
      case 0x12: // PERPENDICULAR MODE
        if (f[1]! & 0x80) s.perpendicular = f[1]! & 0x07;
        this.toCommandPhase();
        return;
      case 0x18: // PART ID
        this.toResultPhase([0x41]);
        return;
      default: // VERIFY and the other rare commands: not supported, invalid
        this.toResultPhase([SR0_INVCMD]);
    }
  }

  private readOnly(): boolean {
    const d = this.drives[this.s.cur];
    // An empty drive is write-protected (QEMU: the block device has no write permission).
    return d ? (d.image?.readOnly ?? true) : false;
  }

  private lastSect(): number {
    return lastSectOf(this.drives[this.s.cur] ?? null, this.s.drives[this.s.cur]);
  }

  // ---- removable media (QEMU's fd_change_cb, driven by src/machine/media-change.ts) ---

  /** A medium in (with its format) or out: the disk-change line goes up (DIR bit 7). */
  changeMedium(u: number, image: TrackedImage | null, format: FloppyFormat | null): void {
    const d = this.drives[u];
    if (!d) throw new Error(`no floppy drive ${u}`);
    d.image = image;
    if (format) d.format = format;
    this.s.drives[u]!.mediaChanged = true;
    this.s.drives[u]!.formatSectors = null;
  }

  /** QEMU's fd_seek: 0 same sector, 1 moved track, 2 bad track/head or no medium, 3 bad sector. */
  private seek(d: DriveState, head: number, track: number, sect: number): number {
    const cfg = this.drives[this.s.drives.indexOf(d)] ?? null;
    // Without a medium QEMU lets any seek move the head (fd_empty_seek_hack).
    const maxTrack = cfg ? (cfg.image ? cfg.format.tracks - 1 : 0xff) : 0;
    const last = lastSectOf(cfg, d);
    if (track > maxTrack || (head !== 0 && (cfg?.format.heads ?? 1) < 2)) return 2;
    if (sect > last) return 3;
    let ret = 0;
    if (d.track !== track || d.head !== head || d.sect !== sect) {
      if (d.track !== track) {
        if (cfg?.image) d.mediaChanged = false;
        ret = 1;
      }
      d.head = head;
      d.track = track;
      d.sect = sect;
    }
    return cfg?.image ? ret : 2;
  }

  private readIdDone(): void {
    const s = this.s;
    s.readIdDue = null;
    const d = this.drive();
    const last = this.lastSect();
    if (last !== 0) d.sect = (d.sect % last) + 1;
    const cfg = this.drives[s.cur];
    if (!cfg || (s.dsr & DSR_DRATEMASK) !== cfg.format.rate) this.stopTransfer(SR0_ABNTERM, SR1_MA, 0);
    else this.stopTransfer(0, 0, 0);
  }

  private stopTransfer(st0: number, st1: number, st2: number): void {
    const s = this.s;
    const d = this.drive();
    if (!(s.msr & MSR_NONDMA)) this.dma.releaseDreq(FDC_DMA_CHANNEL);
    s.msr |= MSR_RQM | MSR_DIO;
    s.msr &= ~MSR_NONDMA;
    // ST0 keeps what the command gathered (a seek on the way: QEMU's status0).
    s.status0 = (s.status0 & ~0x07) | s.cur | (d.head << 2) | st0;
    this.toResultPhase([s.status0, st1, st2, d.track, d.head, d.sect, 2]);
    this.raiseIrq();
  }

  private lba(): number {
    const d = this.drive();
    const f = this.drives[this.s.cur]!.format;
    return (d.track * f.heads + d.head) * this.lastSect() + d.sect - 1;
  }

  /**
   * FORMAT TRACK as QEMU 7.2 runs it: no execution phase (the sector IDs and the filler
   * byte are not asked for, the image is not written); the drive takes the command's
   * sectors-per-track count as its own, and the result comes at once.
   */
  private formatTrack(): void {
    const f = this.s.fifo;
    this.selectFrom(f[1]!);
    this.drive().formatSectors = f[3]!;
    this.stopTransfer(0, 0, 0);
  }

  private startTransfer(dir: DataDir): void {
    const s = this.s;
    const f = s.fifo;
    this.selectFrom(f[1]!);
    const d = this.drive();
    const kt = f[2]!;
    const kh = f[3]!;
    const ks = f[4]!;
    const fail = (st1: number): void => {
      this.stopTransfer(SR0_ABNTERM, st1, 0);
      s.fifo[3] = kt;
      s.fifo[4] = kh;
      s.fifo[5] = ks;
    };
    switch (this.seek(d, kh, kt, ks)) {
      case 2: fail(0); return;
      case 3: fail(SR1_EC); return;
      case 1: s.status0 |= SR0_SEEK; break;
    }
    const cfg = this.drives[s.cur]!;
    if ((s.dsr & DSR_DRATEMASK) !== cfg.format.rate) {
      fail(SR1_MA);
      return;
    }
    if (dir === 'write' && cfg.image!.readOnly) {
      fail(SR1_NW);
      return;
    }
    s.dataDir = dir;
    s.dataPos = 0;
    s.multiTrack = (f[0]! & 0x80) !== 0;
    if (f[5] === 0) s.dataLen = f[8]!;
    else {
      let n = f[6]! - ks + 1;
      if (s.multiTrack) n += f[6]!;
      s.dataLen = (128 << Math.min(f[5]!, 7)) * n;
    }
    s.eot = f[6]!;
    s.phase = 'execution';
    if (s.dor & DOR_DMAEN) {
      // By DMA whatever mode the channel is in (QEMU 7.2 does not check it: measured
      // with a SCAN while the channel was programmed to write memory).
      s.msr &= ~MSR_RQM;
      this.dma.holdDreq(FDC_DMA_CHANNEL);
      return;
    }
    // Programmed I/O: the FIFO moves the bytes, an interrupt for the first. A scan by
    // PIO reads the sectors out as READ DATA does (QEMU compares only in DMA mode).
    s.msr |= MSR_NONDMA | MSR_RQM;
    if (dir !== 'write') {
      s.dataDir = 'read';
      s.msr |= MSR_DIO;
      this.loadSector();
    }
    this.raiseIrq();
  }

  private loadSector(): void {
    this.drives[this.s.cur]!.image!.read(this.lba(), 1, this.buf);
  }

  /** QEMU's fdctrl_seek_to_next_sect: false when the transfer must end here. */
  private nextSector(): boolean {
    const s = this.s;
    const d = this.drive();
    const cfg = this.drives[s.cur]!;
    let { head, track, sect } = d;
    let go = true;
    if (sect >= this.lastSect() || sect === s.eot) {
      sect = 1;
      if (s.multiTrack) {
        if (head === 0 && cfg.format.heads > 1) head = 1;
        else {
          head = 0;
          track++;
          s.status0 |= SR0_SEEK;
          if (cfg.format.heads < 2) go = false;
        }
      } else {
        s.status0 |= SR0_SEEK;
        track++;
        go = false;
      }
    } else sect++;
    this.seek(d, head, track, sect);
    return go;
  }

  /**
   * The 8237 runs channel 2 (QEMU's fdctrl_transfer_handler): sectors between the image
   * and memory until the command's length or the DMA count ends, then the result phase.
   * Returns the bytes moved (the channel's new position).
   */
  private dmaTransfer(pos: number, size: number): number {
    const s = this.s;
    if (s.phase !== 'execution') return pos;
    const image = this.drives[s.cur]!.image!;
    const len = Math.min(size, s.dataLen);
    const start = s.dataPos;
    const dir = s.dataDir;
    scan: while (s.dataPos < len) {
      const rel = s.dataPos % SECTOR_SIZE;
      const n = Math.min(len - s.dataPos, SECTOR_SIZE - rel);
      if (dir !== 'write' || n < SECTOR_SIZE || rel !== 0) image.read(this.lba(), 1, this.buf);
      const chunk = this.buf.subarray(rel, rel + n);
      if (dir === 'read') this.dma.writeMemory(FDC_DMA_CHANNEL, chunk, s.dataPos);
      else if (dir === 'write') {
        this.dma.readMemory(FDC_DMA_CHANNEL, chunk, s.dataPos);
        image.write(this.lba(), 1, this.buf);
      } else if (dir === 'scan-he') {
        // A scan. QEMU 7.2 compares each sector with bytes that, in every case measured
        // (memory equal to the sector, lower, higher, one byte different), compare
        // higher than the sector: SCAN HIGH OR EQUAL stops at once, the other two run to
        // the end of the track (decisions.md 78).
        break scan;
      }
      s.dataPos += n;
      if (s.dataPos % SECTOR_SIZE === 0 && !this.nextSector()) break;
    }
    const moved = s.dataPos - start;
    s.dataLen -= moved;
    // QEMU ends every scan with "scan equal hit" in ST2, whatever the comparisons found.
    this.stopTransfer(0, 0, dir.startsWith('scan') ? SR2_SEH : 0);
    return moved;
  }

  /** Programmed I/O: one byte moved through the FIFO. */
  private pioAdvance(): void {
    const s = this.s;
    const image = this.drives[s.cur]!.image!;
    s.dataPos++;
    if (s.dataPos % SECTOR_SIZE === 0) {
      if (s.dataDir === 'write') image.write(this.lba(), 1, this.buf);
      if (s.dataPos >= s.dataLen || !this.nextSector()) {
        this.stopTransfer(0, 0, 0);
        return;
      }
      if (s.dataDir === 'read') this.loadSector();
    }
  }

  // ---- state -------------------------------------------------------------------------

  saveState(): FdcState {
    return { ...this.s, fifo: [...this.s.fifo], drives: this.s.drives.map((d) => ({ ...d })), buf: Buffer.from(this.buf).toString('base64') };
  }

  loadState(st: FdcState): void {
    // `buf` travels only in the saved record; the live sector buffer is this.buf.
    this.s = { ...st, fifo: [...st.fifo], drives: st.drives.map((d) => ({ ...d })), buf: '' };
    this.buf = new Uint8Array(Buffer.from(st.buf, 'base64'));
    if (this.buf.length !== SECTOR_SIZE) this.buf = new Uint8Array(SECTOR_SIZE);
    this.irq.set(st.irq);
    if (st.readIdDue !== null) this.readIdTimer.arm(st.readIdDue);
    else this.readIdTimer.cancel();
  }
}
