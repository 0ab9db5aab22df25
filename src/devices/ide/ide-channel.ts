// One IDE channel (ATA/ATAPI-6 task file; QEMU 7.2's hw/ide/core.c is the reference for
// what software sees, measured with tests/guests/disk/ata-probe.asm): a master and a
// slave, each with its own copy of the task-file registers (both receive every write),
// the device-control register (nIEN, SRST, HOB), and PIO data transfers through a
// sector buffer. ATA hard disks answer IDENTIFY, READ/WRITE SECTORS (MULTIPLE) (EXT),
// READ/WRITE DMA (EXT) through the bus master, SET MULTIPLE, SET FEATURES, FLUSH CACHE
// (EXT), READ VERIFY, READ NATIVE MAX, CHECK POWER MODE and the no-op commands; LBA28,
// LBA48 and CHS addressing.
//
// Every command completes at once (the image is read or written synchronously), so BSY
// is never seen; the interrupt is raised at the points QEMU raises it: when a read block
// is ready, after each written block, at the end of a non-data command, and on errors.
import type { IrqLine } from '../device.js';
import { SECTOR_SIZE, type TrackedImage } from '../../block/block-image.js';
import type { Geometry } from '../../block/geometry.js';
import { hardDiskIdentify, MAX_MULT_SECTORS } from './ata-identify.js';
import {
  ASC_MEDIUM_MAY_HAVE_CHANGED, ASC_MEDIUM_NOT_PRESENT, ATAPI_ALLOW_UA, ATAPI_CHECK_READY, atapiCommand, atapiIdentify, atapiMovesData,
  CD_SECTOR, SENSE_NOT_READY, SENSE_UNIT_ATTENTION,
} from './atapi.js';

// Status bits
export const ST_ERR = 0x01;
export const ST_DRQ = 0x08;
export const ST_DSC = 0x10;
export const ST_DRDY = 0x40;
export const ST_BSY = 0x80;
// Error bits
export const ERR_ABRT = 0x04;
// Device control
export const CTRL_NIEN = 0x02;
export const CTRL_SRST = 0x04;
export const CTRL_HOB = 0x80;
// Device/head
const DEV_LBA = 0x40;
const DEV_SLAVE = 0x10;
const DEV_ALWAYS_ON = 0xa0;

/** What happens when the PIO buffer has been fully read or written (QEMU's end_transfer_func). */
type TransferEnd = 'stop' | 'sector-read' | 'sector-write' | 'atapi-cmd' | 'atapi-reply';

/** A drive on a channel: a hard disk with its image and geometry, or a CD-ROM with its medium (null: none). */
export type IdeDriveConfig =
  | { kind: 'hd'; image: TrackedImage; geometry: Geometry }
  | { kind: 'cd'; image: TrackedImage | null };

const ATAPI_REASON_CD = 0x01;
const ATAPI_REASON_IO = 0x02;

/** The bus master's side of a DMA command (piix3-ide.ts). */
export interface IdeDmaHost {
  /** The channel has a DMA command ready: the bus master runs it when (or once) started. */
  dmaReady(): void;
}

interface DriveRegs {
  feature: number;
  nsector: number; // the full count while a command runs (LBA48: up to 65536)
  sector: number;
  lcyl: number;
  hcyl: number;
  hobFeature: number;
  hobNsector: number;
  hobSector: number;
  hobLcyl: number;
  hobHcyl: number;
  select: number;
  status: number;
  error: number;
}

interface DriveState extends DriveRegs {
  multSectors: number;
  /** The IDENTIFY block once built (QEMU builds it once; SET FEATURES edits it). */
  identify: number[] | null;
  writeCache: boolean;
  lba48: boolean;
  /** Sectors per PIO block of the running command (1, or the multiple count). */
  reqSectors: number;
  end: TransferEnd;
  /** PIO transfer window in the buffer (bytes). */
  pos: number;
  limit: number;
  /** A DMA command waiting for the bus master: 'read' to memory, 'write' to the disk, 'atapi' a packet's data to memory. */
  dma: 'read' | 'write' | 'atapi' | null;
  /** ATAPI: the sense of the last error, DMA asked for in the PACKET command, the data phase. */
  senseKey: number;
  asc: number;
  atapiDma: boolean;
  /** Bytes of the reply (or the read) still to go, of the current elementary transfer, and the next CD sector (-1: a reply). */
  left: number;
  elem: number;
  cdLba: number;
  ioIndex: number;
  /** ATAPI: the tray (QEMU's tray_open, tray_locked; both cleared by a reset). */
  trayOpen: boolean;
  trayLocked: boolean;
  /** A medium change still to report: 1 NOT READY next, 2 UNIT ATTENTION next (QEMU's cdrom_changed). */
  cdromChanged: number;
  /** Media events for GET EVENT STATUS NOTIFICATION (kept over a reset, as QEMU). */
  newMedia: boolean;
  ejectRequest: boolean;
  /** The medium's size in 512-byte sectors as the drive last saw it (QEMU's nb_sectors). */
  nbSectors: number;
}

export interface IdeChannelState {
  ctrl: number;
  unit: number;
  irq: boolean;
  drives: (DriveState & { buf: string })[];
  commands: IdeCommandRecord[];
}

export interface IdeCommandRecord {
  unit: number;
  command: number;
  /** The LBA and count it addressed (-1 for none). */
  lba: number;
  count: number;
  status: number;
  /** A PACKET command's SCSI operation code. */
  packet?: number;
  /** The instruction count at which the guest gave it (absent in old snapshots). */
  icount?: number;
}

export interface IdeDriveInfo {
  unit: number;
  kind: 'hd' | 'cd' | 'none';
  /** CD-ROM: the tray, and whether a medium is in. */
  trayOpen: boolean;
  trayLocked: boolean;
  inserted: boolean;
  sectors: number;
  readOnly: boolean;
  geometry: Geometry | null;
  status: number;
  error: number;
  multSectors: number;
  stats: { readSectors: number; writtenSectors: number; flushes: number } | null;
}

const COMMAND_HISTORY = 16;

function freshRegs(): DriveRegs {
  return {
    feature: 0, nsector: 0, sector: 0, lcyl: 0, hcyl: 0, hobFeature: 0, hobNsector: 0, hobSector: 0, hobLcyl: 0, hobHcyl: 0,
    select: DEV_ALWAYS_ON, status: ST_DRDY | ST_DSC, error: 0,
  };
}

function freshDrive(): DriveState {
  return {
    ...freshRegs(), multSectors: MAX_MULT_SECTORS, identify: null, writeCache: true, lba48: false, reqSectors: 0,
    end: 'stop', pos: 0, limit: 0, dma: null, senseKey: 0, asc: 0, atapiDma: false, left: 0, elem: 0, cdLba: -1, ioIndex: 0,
    trayOpen: false, trayLocked: false, cdromChanged: 0, newMedia: false, ejectRequest: false, nbSectors: 0,
  };
}

export class IdeChannel {
  private ctrl = 0;
  private unit = 0;
  private irqPending = false;
  private s: [DriveState, DriveState] = [freshDrive(), freshDrive()];
  /** One buffer per drive: the largest PIO block (16 sectors) or DMA request (256 sectors). */
  private readonly buf: [Uint8Array, Uint8Array] = [new Uint8Array(256 * SECTOR_SIZE), new Uint8Array(256 * SECTOR_SIZE)];
  private commands: IdeCommandRecord[] = [];
  /** Told when the interrupt line is raised (the bus master's interrupt status bit). */
  onIrqRaised: (() => void) | null = null;
  dmaHost: IdeDmaHost | null = null;
  /** The machine's instruction count, stamped on each command (the UI ties IRQs 14/15 to them). */
  icount: () => number = () => 0;

  constructor(
    private readonly irq: IrqLine,
    private readonly drives: [IdeDriveConfig | null, IdeDriveConfig | null],
    /** QEMU's serial numbers: the unit's number on the controller, from 1. */
    private readonly serialBase: number,
  ) {
    for (let u = 0; u < 2; u++) this.s[u]!.nbSectors = drives[u]?.image?.sectors ?? 0;
  }

  private get any(): boolean {
    return this.drives[0] !== null || this.drives[1] !== null;
  }

  /** The selected drive reads as absent (QEMU: no drives at all, or an absent slave). */
  private absent(): boolean {
    return !this.any || (this.unit === 1 && this.drives[1] === null);
  }

  // ---- interrupt -------------------------------------------------------------------

  private setIrq(): void {
    if (this.ctrl & CTRL_NIEN) return;
    this.onIrqRaised?.();
    if (!this.irqPending) {
      this.irqPending = true;
      this.irq.set(true);
    }
  }

  private lowerIrq(): void {
    if (this.irqPending) {
      this.irqPending = false;
      this.irq.set(false);
    }
  }

  get irqLevel(): boolean {
    return this.irqPending;
  }

  // ---- registers -------------------------------------------------------------------

  /** A byte register of the task file (offset 1-7), or the data port (offset 0). */
  read(reg: number, size: number): number {
    if (reg === 0) {
      if (size === 1) return 0xff;
      return this.dataRead(size);
    }
    const s = this.s[this.unit]!;
    const hob = (this.ctrl & CTRL_HOB) !== 0;
    const none = !this.any;
    switch (reg) {
      case 1: return this.absent() ? 0 : hob ? s.hobFeature : s.error;
      case 2: return none ? 0 : hob ? s.hobNsector : s.nsector & 0xff;
      case 3: return none ? 0 : hob ? s.hobSector : s.sector;
      case 4: return none ? 0 : hob ? s.hobLcyl : s.lcyl;
      case 5: return none ? 0 : hob ? s.hobHcyl : s.hcyl;
      case 6: return none ? 0 : s.select;
      default: {
        const v = this.absent() ? 0 : s.status;
        this.lowerIrq();
        return v;
      }
    }
  }

  /** The alternate status register (no interrupt acknowledge). */
  altStatus(): number {
    return this.absent() ? 0 : this.s[this.unit]!.status;
  }

  write(reg: number, value: number, size: number): void {
    if (reg === 0) {
      if (size !== 1) this.dataWrite(value, size);
      return;
    }
    const b = value & 0xff;
    // Writes to the command block are ignored while a command is busy or transferring.
    if (reg !== 7 && this.s[this.unit]!.status & (ST_BSY | ST_DRQ)) return;
    if (reg !== 7) this.ctrl &= ~CTRL_HOB;
    for (const s of this.s) {
      switch (reg) {
        case 1: s.hobFeature = s.feature; s.feature = b; break;
        case 2: s.hobNsector = s.nsector & 0xff; s.nsector = b; break;
        case 3: s.hobSector = s.sector; s.sector = b; break;
        case 4: s.hobLcyl = s.lcyl; s.lcyl = b; break;
        case 5: s.hobHcyl = s.hcyl; s.hcyl = b; break;
        case 6: s.select = b | DEV_ALWAYS_ON; break;
      }
    }
    if (reg === 6) this.unit = b & DEV_SLAVE ? 1 : 0;
    if (reg === 7) this.execCommand(b);
  }

  /**
   * The device-control register. Setting SRST makes both drives busy; they reset when
   * it is cleared (QEMU resets them in a bottom half shortly after the write, so what a
   * guest reads before clearing SRST depends on host timing there; drivers clear SRST
   * and then wait for BSY to clear, and see the same either way).
   */
  writeControl(value: number): void {
    const b = value & 0xff;
    if (!(this.ctrl & CTRL_SRST) && b & CTRL_SRST) {
      for (const s of this.s) s.status |= ST_BSY;
    } else if (this.ctrl & CTRL_SRST && !(b & CTRL_SRST)) {
      for (let u = 0; u < 2; u++) this.softReset(u);
    }
    this.ctrl = b;
  }

  // ---- reset -----------------------------------------------------------------------

  /** The machine's reset (QEMU's ide_bus_reset). */
  reset(): void {
    this.unit = 0;
    this.ctrl = 0;
    this.lowerIrq();
    // QEMU builds IDENTIFY once and keeps it (and the write cache setting) across resets.
    for (let u = 0; u < 2; u++) this.driveReset(u);
    this.commands = [];
  }

  private driveReset(u: number): void {
    const s = this.s[u]!;
    // QEMU's ide_reset closes and unlocks the tray and forgets a pending medium change,
    // but keeps the media events and the medium's size.
    const keep = { identify: s.identify, writeCache: s.writeCache, newMedia: s.newMedia, ejectRequest: s.ejectRequest, nbSectors: s.nbSectors };
    Object.assign(s, freshDrive(), keep);
    this.setSignature(u);
    this.transferStop(u);
  }

  private softReset(u: number): void {
    this.driveReset(u);
    // Then EXECUTE DEVICE DIAGNOSTIC's result, without its interrupt.
    const s = this.s[u]!;
    this.setSignature(u);
    // A packet device does not set DRDY after a reset (QEMU; ATAPI-6 9.10).
    s.status = this.drives[u]?.kind === 'cd' ? 0 : ST_DRDY | ST_DSC;
    s.error = 0x01;
  }

  private setSignature(u: number): void {
    const s = this.s[u]!;
    s.select &= 0xf0;
    s.nsector = 1;
    s.sector = 1;
    const d = this.drives[u] ?? null;
    s.lcyl = d === null ? 0xff : d.kind === 'cd' ? 0x14 : 0;
    s.hcyl = d === null ? 0xff : d.kind === 'cd' ? 0xeb : 0;
  }

  // ---- PIO data --------------------------------------------------------------------

  private pioOut(s: DriveState): boolean {
    return s.end !== 'sector-write' && s.end !== 'atapi-cmd';
  }

  private dataRead(size: number): number {
    const u = this.unit;
    const s = this.s[u]!;
    if (!(s.status & ST_DRQ) || !this.pioOut(s)) return 0;
    const b = this.buf[u]!;
    let v = 0;
    for (let i = 0; i < size; i++) v |= (s.pos + i < s.limit ? b[s.pos + i]! : 0) << (8 * i);
    s.pos += size;
    if (s.pos >= s.limit) {
      s.status &= ~ST_DRQ;
      this.transferEnd(u);
    }
    return v >>> 0;
  }

  private dataWrite(value: number, size: number): void {
    const u = this.unit;
    const s = this.s[u]!;
    if (!(s.status & ST_DRQ) || this.pioOut(s)) return;
    const b = this.buf[u]!;
    for (let i = 0; i < size; i++) if (s.pos + i < s.limit) b[s.pos + i] = (value >>> (8 * i)) & 0xff;
    s.pos += size;
    if (s.pos >= s.limit) {
      s.status &= ~ST_DRQ;
      this.transferEnd(u);
    }
  }

  private transferStart(u: number, bytes: number, end: TransferEnd, from = 0): void {
    const s = this.s[u]!;
    s.pos = from;
    s.limit = from + bytes;
    s.end = end;
    if (!(s.status & ST_ERR)) s.status |= ST_DRQ;
  }

  private transferStop(u: number): void {
    const s = this.s[u]!;
    s.end = 'stop';
    s.pos = 0;
    s.limit = 0;
    s.status &= ~ST_DRQ;
  }

  private transferEnd(u: number): void {
    switch (this.s[u]!.end) {
      case 'stop': this.transferStop(u); break;
      case 'sector-read': this.sectorRead(u); break;
      case 'sector-write': this.sectorWrite(u); break;
      case 'atapi-cmd': this.atapiPacket(u); break;
      case 'atapi-reply': this.atapiReplyEnd(u); break;
    }
  }

  // ---- addressing ------------------------------------------------------------------

  private getSector(u: number): number {
    const s = this.s[u]!;
    if (s.select & DEV_LBA) {
      if (s.lba48) {
        return s.hobHcyl * 2 ** 40 + s.hobLcyl * 2 ** 32 + s.hobSector * 2 ** 24 + (s.hcyl << 16) + (s.lcyl << 8) + s.sector;
      }
      return (s.select & 0x0f) * 2 ** 24 + (s.hcyl << 16) + (s.lcyl << 8) + s.sector;
    }
    const d = this.drives[u]!;
    if (d.kind !== 'hd') return -1;
    const g = d.geometry;
    const cyl = (s.hcyl << 8) | s.lcyl;
    return (cyl * g.heads + (s.select & 0x0f)) * g.sectors + (s.sector - 1);
  }

  private setSector(u: number, n: number): void {
    const s = this.s[u]!;
    if (s.select & DEV_LBA) {
      s.sector = n & 0xff;
      s.lcyl = Math.floor(n / 0x100) & 0xff;
      s.hcyl = Math.floor(n / 0x10000) & 0xff;
      if (s.lba48) {
        s.hobSector = Math.floor(n / 2 ** 24) & 0xff;
        s.hobLcyl = Math.floor(n / 2 ** 32) & 0xff;
        s.hobHcyl = Math.floor(n / 2 ** 40) & 0xff;
      } else {
        s.select = (s.select & 0xf0) | (Math.floor(n / 2 ** 24) & 0x0f);
      }
      return;
    }
    const d = this.drives[u]!;
    if (d.kind !== 'hd') return;
    const g = d.geometry;
    const cyl = Math.floor(n / (g.heads * g.sectors));
    const r = n % (g.heads * g.sectors);
    s.hcyl = (cyl >> 8) & 0xff;
    s.lcyl = cyl & 0xff;
    s.select = (s.select & 0xf0) | (Math.floor(r / g.sectors) & 0x0f);
    s.sector = (r % g.sectors) + 1;
  }

  /** QEMU's ide_cmd_lba48_transform: the whole count in nsector (0 means 256 or 65536). */
  private lba48Transform(u: number, lba48: boolean): void {
    const s = this.s[u]!;
    s.lba48 = lba48;
    if (!lba48) {
      if (s.nsector === 0) s.nsector = 256;
    } else if (s.nsector === 0 && s.hobNsector === 0) s.nsector = 65536;
    else s.nsector = (s.hobNsector << 8) | (s.nsector & 0xff);
  }

  private rangeOk(u: number, lba: number, n: number): boolean {
    return lba >= 0 && lba + n <= (this.drives[u]!.image?.sectors ?? 0);
  }

  /** A hard disk's image (only hard disks reach the ATA data commands). */
  private hdImage(u: number): TrackedImage {
    const d = this.drives[u]!;
    if (d.kind !== 'hd') throw new Error('ATA data command on a CD-ROM');
    return d.image;
  }

  // ---- removable media (QEMU's ide_cd_block_ops, driven by src/machine/media-change.ts) ---

  trayOpen(u: number): boolean {
    return this.s[u]!.trayOpen;
  }

  trayLocked(u: number): boolean {
    return this.s[u]!.trayLocked;
  }

  /** The monitor asks for the medium of a locked tray (QEMU's ide_cd_eject_request_cb). */
  ejectRequest(u: number, force: boolean): void {
    const s = this.s[u]!;
    s.ejectRequest = true;
    if (force) s.trayLocked = false;
    this.setIrq();
  }

  /** The tray opens (load false) or closes over the medium now in (QEMU's ide_cd_change_cb). */
  changeMedia(u: number, load: boolean): void {
    const s = this.s[u]!;
    s.trayOpen = !load;
    s.nbSectors = this.drives[u]?.image?.sectors ?? s.nbSectors;
    // The next command is told the medium is gone, the one after it that it changed.
    s.cdromChanged = 1;
    s.newMedia = true;
    s.ejectRequest = false;
    this.setIrq();
  }

  /** Put a medium in drive `u`, or take it out (the tray is the caller's business). */
  setMedium(u: number, image: TrackedImage | null): void {
    const d = this.drives[u];
    if (!d || d.kind !== 'cd') throw new Error(`IDE unit ${u} has no removable medium`);
    d.image = image;
  }

  // ---- commands --------------------------------------------------------------------

  private abort(u: number): void {
    const s = this.s[u]!;
    s.status = ST_DRDY | ST_ERR;
    s.error = ERR_ABRT;
  }

  private record(u: number, command: number, lba = -1, count = 0, packet?: number): void {
    this.commands.push({ unit: u, command, lba, count, status: this.s[u]!.status, ...(packet === undefined ? {} : { packet }), icount: this.icount() });
    if (this.commands.length > COMMAND_HISTORY) this.commands.shift();
  }

  private execCommand(cmd: number): void {
    const u = this.unit;
    // Commands to an absent slave are ignored; so is anything while busy or transferring.
    if (u === 1 && this.drives[1] === null) return;
    const s = this.s[u]!;
    if (s.status & (ST_BSY | ST_DRQ)) return;
    const d = this.drives[u] ?? null;
    s.status = ST_DRDY | ST_BSY;
    s.error = 0;
    let complete = true;
    let dsc = true;
    let at = -1;
    let count = 0;
    if (d === null) {
      this.abort(u);
    } else if (d.kind === 'cd') {
      complete = this.cdCommand(u, cmd);
    } else {
      switch (cmd) {
        case 0xec: // IDENTIFY DEVICE
          s.identify ??= hardDiskIdentify(d.geometry, d.image.sectors, this.serialBase + u, s.multSectors);
          this.putWords(u, s.identify);
          s.status = ST_DRDY | ST_DSC;
          this.transferStart(u, SECTOR_SIZE, 'stop');
          this.setIrq();
          complete = false;
          break;
        case 0x20: case 0x21: case 0x24: // READ SECTORS (EXT)
          this.lba48Transform(u, cmd === 0x24);
          s.reqSectors = 1;
          at = this.getSector(u);
          count = s.nsector;
          this.sectorRead(u);
          complete = false;
          break;
        case 0xc4: case 0x29: // READ MULTIPLE (EXT)
          if (!s.multSectors) {
            this.abort(u);
            break;
          }
          this.lba48Transform(u, cmd === 0x29);
          s.reqSectors = s.multSectors;
          at = this.getSector(u);
          count = s.nsector;
          this.sectorRead(u);
          complete = false;
          break;
        case 0x30: case 0x31: case 0x34: // WRITE SECTORS (EXT)
        case 0xc5: case 0x39: { // WRITE MULTIPLE (EXT)
          const multiple = cmd === 0xc5 || cmd === 0x39;
          if (d.image!.readOnly || (multiple && !s.multSectors)) {
            this.abort(u);
            break;
          }
          this.lba48Transform(u, cmd === 0x34 || cmd === 0x39);
          s.reqSectors = multiple ? s.multSectors : 1;
          at = this.getSector(u);
          count = s.nsector;
          s.status = ST_DRDY | ST_DSC;
          this.transferStart(u, Math.min(s.nsector, s.reqSectors) * SECTOR_SIZE, 'sector-write');
          complete = false;
          break;
        }
        case 0xc8: case 0xc9: case 0x25: // READ DMA (EXT)
        case 0xca: case 0xcb: case 0x35: { // WRITE DMA (EXT)
          const toDisk = cmd === 0xca || cmd === 0xcb || cmd === 0x35;
          if (toDisk && d.image!.readOnly) {
            this.abort(u);
            break;
          }
          this.lba48Transform(u, cmd === 0x25 || cmd === 0x35);
          at = this.getSector(u);
          count = s.nsector;
          s.status = ST_DRDY | ST_DSC | ST_DRQ;
          s.dma = toDisk ? 'write' : 'read';
          complete = false;
          this.dmaHost?.dmaReady();
          break;
        }
        case 0xc6: // SET MULTIPLE MODE
          if (s.nsector > MAX_MULT_SECTORS || (s.nsector & (s.nsector - 1)) !== 0) this.abort(u);
          else s.multSectors = s.nsector;
          break;
        case 0xef: // SET FEATURES
          if (!this.setFeatures(u)) this.abort(u);
          break;
        case 0xe7: case 0xea: // FLUSH CACHE (EXT)
          if (d.image!.dirty) d.image!.flush();
          else d.image!.stats.flushes++;
          break;
        case 0x40: case 0x41: case 0x42: // READ VERIFY SECTORS (EXT)
          this.lba48Transform(u, cmd === 0x42);
          break;
        case 0xf8: case 0x27: // READ NATIVE MAX ADDRESS (EXT)
          this.lba48Transform(u, cmd === 0x27);
          this.setSector(u, d.image!.sectors - 1);
          break;
        case 0xe5: // CHECK POWER MODE: active or idle
          s.nsector = 0xff;
          break;
        case 0x90: // EXECUTE DEVICE DIAGNOSTIC
          this.setSignature(u);
          s.status = ST_DRDY | ST_DSC;
          s.error = 0x01;
          this.setIrq();
          complete = false;
          break;
        case 0x10: case 0x70: case 0x91: // RECALIBRATE, SEEK, INITIALIZE DEVICE PARAMETERS
          break;
        case 0xe0: case 0xe1: case 0xe2: case 0xe3: // STANDBY/IDLE (IMMEDIATE)
          dsc = false;
          break;
        default:
          this.abort(u);
      }
    }
    this.record(u, cmd, at, count);
    if (complete) {
      s.status &= ~ST_BSY;
      if (dsc && !s.error) s.status |= ST_DSC;
      this.setIrq();
    }
  }

  /** An ATA command to the CD-ROM; true when it completed (status and interrupt follow). */
  private cdCommand(u: number, cmd: number): boolean {
    const s = this.s[u]!;
    switch (cmd) {
      case 0xa1: // IDENTIFY PACKET DEVICE
        s.identify ??= atapiIdentify(this.serialBase + u);
        this.putWords(u, s.identify);
        s.status = ST_DRDY | ST_DSC;
        this.transferStart(u, SECTOR_SIZE, 'stop');
        this.setIrq();
        return false;
      case 0xa0: // PACKET
        if (s.feature & 0x02) { // overlapped commands: not supported
          this.abort(u);
          return true;
        }
        s.status = ST_DRDY | ST_DSC;
        s.atapiDma = (s.feature & 1) !== 0;
        s.nsector = ATAPI_REASON_CD;
        this.transferStart(u, 12, 'atapi-cmd');
        return false;
      case 0x08: // DEVICE RESET
        this.driveReset(u);
        s.status = 0;
        s.error = 0x01;
        return false;
      case 0x90: // EXECUTE DEVICE DIAGNOSTIC: no interrupt from a packet device (QEMU)
        this.setSignature(u);
        s.status = 0;
        s.error = 0x01;
        return false;
      case 0xef: case 0xe5: case 0xe0: case 0xe1: case 0xe2: case 0xe3: // SET FEATURES, power
        if (cmd === 0xe5) s.nsector = 0xff;
        return true;
      default: // IDENTIFY DEVICE, READ SECTORS...: aborted, with the packet signature (ATA-4 8.27.5.2)
        this.setSignature(u);
        this.abort(u);
        return true;
    }
  }

  // ---- ATAPI packets (QEMU's ide_atapi_cmd and ide_atapi_cmd_reply_end) ---------------

  private atapiOk(u: number): void {
    const s = this.s[u]!;
    s.error = 0;
    s.status = ST_DRDY | ST_DSC;
    s.nsector = (s.nsector & ~7) | ATAPI_REASON_IO | ATAPI_REASON_CD;
    this.setIrq();
  }

  private atapiError(u: number, key: number, asc: number): void {
    const s = this.s[u]!;
    s.error = key << 4;
    s.status = ST_DRDY | ST_ERR;
    s.nsector = (s.nsector & ~7) | ATAPI_REASON_IO | ATAPI_REASON_CD;
    s.senseKey = key;
    s.asc = asc;
    this.setIrq();
  }

  private byteCountLimit(u: number): number {
    const s = this.s[u]!;
    const bcl = s.lcyl | (s.hcyl << 8);
    return bcl === 0xffff ? 0xfffe : bcl;
  }

  private cdSectors(u: number): number {
    return Math.floor(this.s[u]!.nbSectors / (CD_SECTOR / SECTOR_SIZE));
  }

  /** QEMU's ide_atapi_cmd_check_status: a unit attention is pending. */
  private atapiCheckStatus(u: number): void {
    const s = this.s[u]!;
    s.error = 0x20 | (SENSE_UNIT_ATTENTION << 4);
    s.status = ST_ERR;
    s.nsector = 0;
    this.setIrq();
  }

  private atapiPacket(u: number): void {
    const s = this.s[u]!;
    const p = this.buf[u]!.slice(0, 12);
    const op = p[0]!;
    this.record(u, 0xa0, -1, 0, op);
    const inserted = this.drives[u]!.image !== null;
    // QEMU's ide_atapi_cmd: a pending unit attention, then a medium change to report
    // (first as no medium, then as a unit attention, for guests that do not poll media
    // events), then a command that needs a medium without one.
    if (s.senseKey === SENSE_UNIT_ATTENTION && !ATAPI_ALLOW_UA.has(op)) {
      this.atapiCheckStatus(u);
      return;
    }
    if (!ATAPI_ALLOW_UA.has(op) && !s.trayOpen && inserted && s.cdromChanged) {
      if (s.cdromChanged === 1) {
        this.atapiError(u, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
        s.cdromChanged = 2;
      } else {
        this.atapiError(u, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED);
        s.cdromChanged = 0;
      }
      return;
    }
    if (ATAPI_CHECK_READY.has(op) && (s.trayOpen || s.nbSectors === 0 || !inserted)) {
      this.atapiError(u, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
      return;
    }
    if (atapiMovesData(op) && !s.atapiDma && this.byteCountLimit(u) === 0) {
      this.atapiError(u, 5, 0x24);
      return;
    }
    const act = atapiCommand(p, this.cdSectors(u), s, inserted);
    switch (act.kind) {
      case 'ok': this.atapiOk(u); return;
      case 'error': this.atapiError(u, act.key, act.asc); return;
      case 'reply': {
        const size = Math.min(act.data.length, act.max);
        this.buf[u]!.set(act.data.subarray(0, size));
        this.atapiStart(u, size, -1);
        return;
      }
      case 'read':
        this.atapiStart(u, act.count * CD_SECTOR, act.lba);
        return;
    }
  }

  /** The data phase of a packet: `bytes` of the reply in the buffer, or of CD sectors from `lba`. */
  private atapiStart(u: number, bytes: number, lba: number): void {
    const s = this.s[u]!;
    s.left = bytes;
    s.elem = 0;
    s.cdLba = lba;
    s.ioIndex = lba >= 0 ? CD_SECTOR : 0;
    if (s.atapiDma) {
      s.status = ST_DRDY | ST_DSC | ST_DRQ;
      s.dma = 'atapi';
      this.dmaHost?.dmaReady();
      return;
    }
    s.status = ST_DRDY | ST_DSC;
    this.atapiReplyEnd(u);
  }

  private loadCdSector(u: number): void {
    const s = this.s[u]!;
    const per = CD_SECTOR / SECTOR_SIZE;
    this.drives[u]!.image!.read(s.cdLba * per, per, this.buf[u]!);
    s.cdLba++;
    s.ioIndex = 0;
  }

  /** PIO: the next piece of the data phase, or its end. */
  private atapiReplyEnd(u: number): void {
    const s = this.s[u]!;
    if (s.left <= 0) {
      this.atapiOk(u);
      return;
    }
    if (s.cdLba >= 0 && s.ioIndex >= CD_SECTOR) this.loadCdSector(u);
    let size: number;
    if (s.elem > 0) {
      // The rest of an elementary transfer that spans sectors: no new interrupt.
      size = s.cdLba >= 0 ? Math.min(CD_SECTOR - s.ioIndex, s.elem) : s.elem;
    } else {
      s.nsector = (s.nsector & ~7) | ATAPI_REASON_IO;
      this.setIrq();
      let bcl = this.byteCountLimit(u);
      size = s.left;
      if (size > bcl) {
        if (bcl & 1) bcl--;
        size = bcl;
      }
      s.lcyl = size & 0xff;
      s.hcyl = (size >> 8) & 0xff;
      s.elem = size;
      if (s.cdLba >= 0) size = Math.min(size, CD_SECTOR - s.ioIndex);
    }
    this.transferStart(u, size, 'atapi-reply', s.ioIndex);
    s.left -= size;
    s.elem -= size;
    s.ioIndex += size;
  }

  private putWords(u: number, words: number[]): void {
    const b = this.buf[u]!;
    for (let i = 0; i < 256; i++) {
      b[2 * i] = words[i]! & 0xff;
      b[2 * i + 1] = words[i]! >> 8;
    }
  }

  private setFeatures(u: number): boolean {
    const s = this.s[u]!;
    const d = this.drives[u]!;
    switch (s.feature) {
      case 0x02: // write cache on
        s.writeCache = true;
        if (s.identify) s.identify[85]! |= 1 << 5;
        return true;
      case 0x82: // write cache off: every write is flushed
        s.writeCache = false;
        if (s.identify) s.identify[85]! &= ~(1 << 5);
        d.image?.flush();
        return true;
      case 0xcc: case 0x66: case 0xaa: case 0x55: case 0x05: case 0x85: case 0x69: case 0x67: case 0x96: case 0x9a:
      case 0x42: case 0xc2:
        return true;
      case 0x03: { // transfer mode
        const val = s.nsector & 7;
        const id = s.identify;
        const set = (w62: number, w63: number, w88: number): void => {
          if (id) {
            id[62] = w62;
            id[63] = w63;
            id[88] = w88;
          }
        };
        switch (s.nsector >> 3) {
          case 0x00: case 0x01: set(0x07, 0x07, 0x3f); return true;
          case 0x02: set(0x07 | (1 << (val + 8)), 0x07, 0x3f); return true;
          case 0x04: set(0x07, 0x07 | (1 << (val + 8)), 0x3f); return true;
          case 0x08: set(0x07, 0x07, 0x3f | (1 << (val + 8))); return true;
          default: return false;
        }
      }
      default:
        return false;
    }
  }

  /** QEMU's ide_sector_read: the next block into the buffer, DRQ and an interrupt; or the end. */
  private sectorRead(u: number): void {
    const s = this.s[u]!;
    const image = this.hdImage(u);
    s.status = ST_DRDY | ST_DSC;
    s.error = 0;
    if (s.nsector === 0) {
      this.transferStop(u);
      return;
    }
    const n = Math.min(s.nsector, s.reqSectors);
    const lba = this.getSector(u);
    if (!this.rangeOk(u, lba, n)) {
      this.abort(u);
      this.transferStop(u);
      this.setIrq();
      return;
    }
    image.read(lba, n, this.buf[u]!);
    s.nsector -= n;
    this.setSector(u, lba + n);
    this.transferStart(u, n * SECTOR_SIZE, 'sector-read');
    this.setIrq();
  }

  /** QEMU's ide_sector_write: the block just received goes to the image; the next one, or the end. */
  private sectorWrite(u: number): void {
    const s = this.s[u]!;
    const image = this.hdImage(u);
    s.status = ST_DRDY | ST_DSC;
    const n = Math.min(s.nsector, s.reqSectors);
    const lba = this.getSector(u);
    if (!this.rangeOk(u, lba, n)) {
      this.abort(u);
      this.transferStop(u);
      this.setIrq();
      return;
    }
    image.write(lba, n, this.buf[u]!);
    if (!s.writeCache) image.flush();
    s.nsector -= n;
    this.setSector(u, lba + n);
    if (s.nsector === 0) this.transferStop(u);
    else this.transferStart(u, Math.min(s.nsector, s.reqSectors) * SECTOR_SIZE, 'sector-write');
    this.setIrq();
  }

  // ---- DMA (the bus master moves the data; piix3-ide.ts) -----------------------------

  /** The DMA command waiting, if any: its direction and length in bytes. */
  pendingDma(): { unit: number; toMemory: boolean; bytes: number } | null {
    for (let u = 0; u < 2; u++) {
      const s = this.s[u]!;
      if (s.dma === 'atapi') return { unit: u, toMemory: true, bytes: s.left };
      if (s.dma !== null) return { unit: u, toMemory: s.dma === 'read', bytes: s.nsector * SECTOR_SIZE };
    }
    return null;
  }

  /** Whether the waiting command addresses sectors the disk has. */
  dmaCheck(u: number): boolean {
    const s = this.s[u]!;
    return s.dma === 'atapi' || this.rangeOk(u, this.getSector(u), s.nsector);
  }

  /** The bytes a command to memory moves (sectors of the disk or the CD, or a reply). */
  dmaFetch(u: number): Uint8Array {
    const s = this.s[u]!;
    if (s.dma === 'atapi') {
      if (s.cdLba < 0) return this.buf[u]!.slice(0, s.left);
      const per = CD_SECTOR / SECTOR_SIZE;
      const out = new Uint8Array(s.left);
      this.drives[u]!.image!.read(s.cdLba * per, s.left / SECTOR_SIZE, out);
      return out;
    }
    const out = new Uint8Array(s.nsector * SECTOR_SIZE);
    this.hdImage(u).read(this.getSector(u), s.nsector, out);
    return out;
  }

  /** A write command's bytes from memory go to the disk. */
  dmaStore(u: number, data: Uint8Array): void {
    const image = this.hdImage(u);
    image.write(this.getSector(u), data.length / SECTOR_SIZE, data);
    if (!this.s[u]!.writeCache) image.flush();
  }

  /** The PRDs could not hold the command: it ends with nothing moved and no interrupt. */
  dmaShort(u: number): void {
    const s = this.s[u]!;
    s.dma = null;
    s.status = ST_DRDY | ST_DSC;
  }

  /** The DMA command ended (ok: everything moved; else out of range): status and the interrupt. */
  dmaDone(u: number, ok: boolean): void {
    const s = this.s[u]!;
    const atapi = s.dma === 'atapi';
    s.dma = null;
    if (atapi) {
      s.left = 0;
      this.atapiOk(u);
      return;
    }
    if (ok) {
      this.setSector(u, this.getSector(u) + s.nsector);
      s.nsector = 0;
      s.status = ST_DRDY | ST_DSC;
    } else {
      this.abort(u);
    }
    this.setIrq();
  }

  // ---- state -----------------------------------------------------------------------

  saveState(): IdeChannelState {
    return {
      ctrl: this.ctrl, unit: this.unit, irq: this.irqPending,
      drives: this.s.map((s, u) => ({ ...s, identify: s.identify ? [...s.identify] : null, buf: Buffer.from(this.buf[u]!.subarray(0, s.limit)).toString('base64') })),
      commands: this.commands.map((c) => ({ ...c })),
    };
  }

  loadState(st: IdeChannelState): void {
    this.ctrl = st.ctrl;
    this.unit = st.unit;
    st.drives.forEach((d, u) => {
      const { buf, ...rest } = d;
      this.s[u]! = { ...freshDrive(), ...rest, identify: rest.identify ? [...rest.identify] : null };
      this.buf[u]!.fill(0);
      this.buf[u]!.set(Buffer.from(buf, 'base64'));
    });
    this.commands = st.commands.map((c) => ({ ...c }));
    if (st.irq !== this.irqPending) {
      this.irqPending = st.irq;
      this.irq.set(st.irq);
    }
  }

  info(): { ctrl: number; unit: number; irq: boolean; drives: IdeDriveInfo[]; commands: IdeCommandRecord[] } {
    return {
      ctrl: this.ctrl, unit: this.unit, irq: this.irqPending,
      drives: this.s.map((s, u) => {
        const d = this.drives[u] ?? null;
        const img = d?.image ?? null;
        return {
          unit: u, kind: d ? d.kind : 'none', trayOpen: s.trayOpen, trayLocked: s.trayLocked, inserted: img !== null,
          sectors: img ? img.sectors : 0, readOnly: img ? img.readOnly : false,
          geometry: d && d.kind === 'hd' ? d.geometry : null, status: s.status, error: s.error, multSectors: s.multSectors, stats: img ? { ...img.stats } : null,
        };
      }),
      commands: this.commands.map((c) => ({ ...c })),
    };
  }
}
