// The ATAPI CD-ROM's SCSI/MMC command set, as QEMU 7.2's ide-cd answers it (measured with
// tests/guests/disk/cd-probe.asm: IDENTIFY PACKET DEVICE word for word, and the data of
// TEST UNIT READY, REQUEST SENSE, INQUIRY, READ CAPACITY, READ(10/12), MODE SENSE(10),
// GET CONFIGURATION, READ TOC, GET EVENT STATUS NOTIFICATION and the errors), and the
// tray as QEMU's ide-cd keeps it (tests/devices/cd-media.test.ts: NOT READY without a
// medium, the two-step report of a new one, media events, START STOP UNIT and PREVENT
// ALLOW MEDIUM REMOVAL). The channel (ide-channel.ts) runs the packet and data phases;
// this file decides what a packet does.

export const CD_SECTOR = 2048;

// Sense keys and additional sense codes
export const SENSE_NONE = 0;
export const SENSE_NOT_READY = 2;
export const SENSE_ILLEGAL_REQUEST = 5;
export const SENSE_UNIT_ATTENTION = 6;
export const ASC_MEDIUM_MAY_HAVE_CHANGED = 0x28;
export const ASC_MEDIUM_NOT_PRESENT = 0x3a;
const ASC_MEDIA_REMOVAL_PREVENTED = 0x53;
const ASC_ILLEGAL_OPCODE = 0x20;
const ASC_LOGICAL_BLOCK_OOR = 0x21;
const ASC_INV_FIELD_IN_CMD_PACKET = 0x24;
const ASC_SAVING_PARAMETERS_NOT_SUPPORTED = 0x39;

/** What a packet asks the channel to do. */
export type AtapiAction =
  | { kind: 'ok' }
  | { kind: 'error'; key: number; asc: number }
  | { kind: 'reply'; data: Uint8Array; max: number }
  | { kind: 'read'; lba: number; count: number };

/** Commands that move no data (a zero byte count limit is fine for them). */
const NONDATA = new Set([0x00, 0x1b, 0x1e, 0x2b, 0xbb]);
/** Commands that need a medium (QEMU's CHECK_READY). */
export const ATAPI_CHECK_READY = new Set([0x00, 0x25, 0x28, 0x2b, 0x43, 0x51, 0xa8, 0xad, 0xbe]);
/** Commands that run while a unit attention is pending (QEMU's ALLOW_UA). */
export const ATAPI_ALLOW_UA = new Set([0x03, 0x12, 0x46, 0x4a]);

/**
 * The tray and the media events of a drive (QEMU's IDEState tray_open, tray_locked and
 * events), and its sense, which REQUEST SENSE reports.
 */
export interface AtapiMediaState {
  senseKey: number;
  asc: number;
  trayOpen: boolean;
  trayLocked: boolean;
  /** A medium came (or went): GET EVENT STATUS NOTIFICATION reports NewMedia once. */
  newMedia: boolean;
  /** The monitor asked to eject a locked medium: reported once as EjectRequest. */
  ejectRequest: boolean;
}

function putString(w: number[], word: number, len: number, text: string): void {
  const s = text.padEnd(len, ' ');
  for (let i = 0; i < len / 2; i++) w[word + i] = (s.charCodeAt(2 * i) << 8) | s.charCodeAt(2 * i + 1);
}

/** IDENTIFY PACKET DEVICE, as measured on QEMU's "QEMU DVD-ROM". */
export function atapiIdentify(serial: number): number[] {
  const w = new Array<number>(256).fill(0);
  w[0] = 0x85c0; // ATAPI, CD-ROM, removable, 50 us DRQ, 12-byte packets
  putString(w, 10, 20, `QM${String(serial).padStart(5, '0')}`);
  w[20] = 3;
  w[21] = 512;
  w[22] = 4;
  putString(w, 23, 8, '2.5+');
  putString(w, 27, 40, 'QEMU DVD-ROM');
  w[48] = 1;
  w[49] = 0x0300; // LBA, DMA
  w[53] = 7;
  w[62] = 7;
  w[63] = 7;
  w[64] = 3;
  w[65] = 0xb4;
  w[66] = 0xb4;
  w[67] = 0x12c;
  w[68] = 0xb4;
  w[71] = 30;
  w[72] = 30;
  w[80] = 0x1e; // ATAPI-1 to ATAPI-4
  w[88] = 0x3f | (1 << 13);
  return w;
}

const be16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const be32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
function putBe16(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >> 8) & 0xff;
  b[i + 1] = v & 0xff;
}
function putBe32(b: Uint8Array, i: number, v: number): void {
  putBe16(b, i, (v >>> 16) & 0xffff);
  putBe16(b, i + 2, v & 0xffff);
}

/** Above 80 minutes of CD the medium is a DVD (QEMU's media_is_dvd). */
const CD_MAX_BYTES = 80 * 60 * 75 * 2048;

function lbaToMsf(b: Uint8Array, i: number, lba: number): void {
  const l = lba + 150;
  b[i] = Math.floor(l / (75 * 60));
  b[i + 1] = Math.floor(l / 75) % 60;
  b[i + 2] = l % 75;
}

/**
 * Decide what packet `p` (12 bytes) does on a medium of `sectors` 2048-byte sectors
 * (`inserted`: a medium is in the drive). The tray commands and REQUEST SENSE change `m`.
 */
export function atapiCommand(p: Uint8Array, sectors: number, m: AtapiMediaState, inserted: boolean): AtapiAction {
  const err = (asc: number, key = SENSE_ILLEGAL_REQUEST): AtapiAction => ({ kind: 'error', key, asc });
  const reply = (data: Uint8Array, max: number): AtapiAction => ({ kind: 'reply', data, max });
  switch (p[0]) {
    case 0x00: // TEST UNIT READY
    case 0xbb: // SET CD SPEED
      return { kind: 'ok' };
    case 0x1b: { // START STOP UNIT: with LoEj the tray opens (Start clear) or closes
      const start = (p[4]! & 1) !== 0;
      if (p[4]! & 0xf0 || !(p[4]! & 2)) return { kind: 'ok' }; // a power condition: no tray move
      if (!start && !m.trayOpen && m.trayLocked) return err(ASC_MEDIA_REMOVAL_PREVENTED, inserted ? SENSE_NOT_READY : SENSE_ILLEGAL_REQUEST);
      m.trayOpen = !start;
      return { kind: 'ok' };
    }
    case 0x1e: // PREVENT ALLOW MEDIUM REMOVAL
      m.trayLocked = (p[4]! & 1) !== 0;
      return { kind: 'ok' };
    case 0x03: { // REQUEST SENSE (a unit attention is reported once)
      const b = new Uint8Array(18);
      b[0] = 0x70 | 0x80;
      b[2] = m.senseKey;
      b[7] = 10;
      b[12] = m.asc;
      if (m.senseKey === SENSE_UNIT_ATTENTION) m.senseKey = SENSE_NONE;
      return reply(b, p[4]!);
    }
    case 0x12: { // INQUIRY
      if (p[1]! & 1) return err(ASC_INV_FIELD_IN_CMD_PACKET);
      const b = new Uint8Array(36);
      b[0] = 0x05; // CD/DVD
      b[1] = 0x80; // removable
      b[2] = 0x00;
      b[3] = 0x21; // ATAPI, response format 1
      b[4] = 36 - 5;
      const text = 'QEMU    QEMU DVD-ROM    2.5+';
      for (let i = 0; i < text.length; i++) b[8 + i] = text.charCodeAt(i);
      return reply(b, p[4]!);
    }
    case 0x25: { // READ CAPACITY
      const b = new Uint8Array(8);
      putBe32(b, 0, sectors - 1);
      putBe32(b, 4, CD_SECTOR);
      return reply(b, 8);
    }
    case 0x28: case 0xa8: { // READ(10), READ(12)
      const lba = be32(p, 2);
      const count = p[0] === 0x28 ? be16(p, 7) : be32(p, 6);
      if (count === 0) return { kind: 'ok' };
      if (lba + count > sectors) return err(ASC_LOGICAL_BLOCK_OOR);
      return { kind: 'read', lba, count };
    }
    case 0xbe: { // READ CD: user data only
      const lba = be32(p, 2);
      const count = (p[6]! << 16) | (p[7]! << 8) | p[8]!;
      if (count === 0) return { kind: 'ok' };
      if (lba + count > sectors) return err(ASC_LOGICAL_BLOCK_OOR);
      const what = p[9]! & 0xf8;
      if (what === 0) return { kind: 'ok' };
      if (what === 0x10) return { kind: 'read', lba, count };
      return err(ASC_INV_FIELD_IN_CMD_PACKET);
    }
    case 0x2b: { // SEEK(10)
      if (be32(p, 2) >= sectors) return err(ASC_LOGICAL_BLOCK_OOR);
      return { kind: 'ok' };
    }
    case 0x43: { // READ TOC
      const max = be16(p, 7);
      const format = p[9]! >> 6 || p[2]! & 0x0f;
      const msf = (p[1]! >> 1) & 1;
      const start = p[6]!;
      const b = new Uint8Array(32);
      if (format === 0) {
        if (start > 1 && start !== 0xaa) return err(ASC_INV_FIELD_IN_CMD_PACKET);
        let q = 2;
        b[q++] = 1;
        b[q++] = 1;
        if (start <= 1) {
          b[q++] = 0;
          b[q++] = 0x14;
          b[q++] = 1;
          b[q++] = 0;
          if (msf) {
            b[q++] = 0;
            lbaToMsf(b, q, 0);
            q += 3;
          } else {
            putBe32(b, q, 0);
            q += 4;
          }
        }
        b[q++] = 0;
        b[q++] = 0x16;
        b[q++] = 0xaa;
        b[q++] = 0;
        if (msf) {
          b[q++] = 0;
          lbaToMsf(b, q, sectors);
          q += 3;
        } else {
          putBe32(b, q, sectors);
          q += 4;
        }
        putBe16(b, 0, q - 2);
        return reply(b.subarray(0, q), max);
      }
      if (format === 1) { // multi-session: one session
        b.set([0x00, 0x0a, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0]);
        return reply(b.subarray(0, 12), max);
      }
      return err(ASC_INV_FIELD_IN_CMD_PACKET);
    }
    case 0x46: { // GET CONFIGURATION: feature 0 (the profile list)
      if (p[2] !== 0 || p[3] !== 0) return err(ASC_INV_FIELD_IN_CMD_PACKET);
      const b = new Uint8Array(20);
      const current = sectors * CD_SECTOR > CD_MAX_BYTES ? 0x0010 : 0x0008;
      putBe16(b, 6, current);
      b[10] = 0x03; // persistent, current
      b[11] = 8;
      putBe16(b, 12, 0x0010);
      b[14] = current === 0x0010 ? 1 : 0;
      putBe16(b, 16, 0x0008);
      b[18] = current === 0x0008 ? 1 : 0;
      putBe32(b, 0, 20 - 4);
      return reply(b, be16(p, 7));
    }
    case 0x4a: { // GET EVENT STATUS NOTIFICATION (polled only)
      if (!(p[1]! & 1)) return err(ASC_INV_FIELD_IN_CMD_PACKET);
      const max = be16(p, 7);
      const b = new Uint8Array(8);
      b[3] = 1 << 4; // supported: media
      if (p[4]! & (1 << 4)) {
        b[2] = 4; // media class
        // Media status: 1 tray open, 2 medium present. An event (2 NewMedia, 1
        // EjectRequest) is reported once, and only with the tray closed (QEMU).
        const status = m.trayOpen ? 1 : inserted ? 2 : 0;
        let event = 0;
        if (!m.trayOpen) {
          if (m.newMedia) {
            event = 2;
            m.newMedia = false;
          } else if (m.ejectRequest) {
            event = 1;
            m.ejectRequest = false;
          }
        }
        b[4] = event;
        b[5] = status;
        putBe16(b, 0, 4);
        return reply(b, max);
      }
      b[2] = 0x80; // no event available
      putBe16(b, 0, 0);
      return reply(b.subarray(0, 4), max);
    }
    case 0x51: { // READ DISC INFORMATION
      if (p[1]! & 7) return err(ASC_INV_FIELD_IN_CMD_PACKET);
      const b = new Uint8Array(34);
      b[1] = 32;
      b[2] = 0x0e;
      b[3] = 1;
      b[4] = 1;
      b[5] = 1;
      b[6] = 1;
      b[7] = 0x20;
      return reply(b, be16(p, 7));
    }
    case 0x5a: { // MODE SENSE(10)
      const max = be16(p, 7);
      const pc = p[2]! >> 6;
      const page = p[2]! & 0x3f;
      if (pc === 3) return err(ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
      if (page === 0x2a) {
        const b = new Uint8Array(30);
        b[1] = 28;
        b[2] = 0x70;
        b[8] = 0x2a;
        b[9] = 20;
        b[10] = 0x3b;
        b[12] = 0x71;
        b[13] = 3 << 5;
        b[14] = (1 << 0) | (1 << 3) | (1 << 5);
        putBe16(b, 16, 704);
        b[19] = 2;
        putBe16(b, 20, 512);
        putBe16(b, 22, 704);
        return reply(b, max);
      }
      if (page === 0x01) {
        const b = new Uint8Array(16);
        b[1] = 14;
        b[2] = 0x70;
        b[8] = 0x01;
        b[9] = 6;
        b[11] = 0x05;
        return reply(b, max);
      }
      return err(ASC_INV_FIELD_IN_CMD_PACKET);
    }
    case 0xbd: { // MECHANISM STATUS
      const b = new Uint8Array(8);
      b[5] = 1;
      return reply(b, be16(p, 8));
    }
    default:
      return err(ASC_ILLEGAL_OPCODE);
  }
}

/** Whether the command moves data (a zero byte count limit is an error for those). */
export function atapiMovesData(op: number): boolean {
  return !NONDATA.has(op);
}
