// The 256-word IDENTIFY DEVICE block of a hard disk, as QEMU 7.2's ide-hd answers it
// (measured word for word by tests/guests/disk/ata-probe.asm on a 16 MiB image): the
// geometry, serial "QM0000n" (n counts the IDE units: primary master 1 ... secondary
// slave 4), firmware "2.5+", model "QEMU HARDDISK", 16 sectors per READ/WRITE MULTIPLE,
// LBA, DMA (multiword 0-2, UDMA 0-5 with UDMA 5 selected), LBA48, FLUSH CACHE (EXT) and
// the write cache, the capacity for LBA28 (capped) and LBA48.
import type { Geometry } from '../../block/geometry.js';

export const MAX_MULT_SECTORS = 16;

/** Put an ATA string (two characters a word, first in the high byte) at words [word, word+len/2). */
function putString(w: number[], word: number, len: number, text: string): void {
  const s = text.padEnd(len, ' ');
  for (let i = 0; i < len / 2; i++) w[word + i] = (s.charCodeAt(2 * i) << 8) | s.charCodeAt(2 * i + 1);
}

export function hardDiskIdentify(g: Geometry, totalSectors: number, serial: number, multSectors: number): number[] {
  const w = new Array<number>(256).fill(0);
  w[0] = 0x0040; // fixed device
  w[1] = g.cylinders;
  w[3] = g.heads;
  w[4] = 512 * g.sectors; // retired: bytes per track
  w[5] = 512;
  w[6] = g.sectors;
  putString(w, 10, 20, `QM${String(serial).padStart(5, '0')}`);
  w[20] = 3; // buffer type
  w[21] = 512; // buffer size in sectors
  w[22] = 4; // ECC bytes
  putString(w, 23, 8, '2.5+');
  putString(w, 27, 40, 'QEMU HARDDISK');
  w[47] = 0x8000 | MAX_MULT_SECTORS;
  w[48] = 1; // doubleword I/O
  w[49] = (1 << 11) | (1 << 9) | (1 << 8); // IORDY, LBA, DMA
  w[51] = 0x200; // PIO timing
  w[52] = 0x200; // DMA timing
  w[53] = 1 | 2 | 4; // words 54-58, 64-70 and 88 valid
  const chs = g.cylinders * g.heads * g.sectors;
  w[54] = g.cylinders;
  w[55] = g.heads;
  w[56] = g.sectors;
  w[57] = chs & 0xffff;
  w[58] = chs >>> 16;
  if (multSectors) w[59] = 0x100 | multSectors;
  const lba28 = Math.min(totalSectors, 0x0fffffff);
  w[60] = lba28 & 0xffff;
  w[61] = lba28 >>> 16;
  w[62] = 0x07; // single word DMA 0-2
  w[63] = 0x07; // multiword DMA 0-2
  w[64] = 0x03; // PIO 3-4
  w[65] = w[66] = w[67] = w[68] = 120; // cycle times (ns)
  w[69] = 1 << 14; // deterministic TRIM behaviour
  w[80] = 0xf0; // ATA-4 to ATA-7
  w[81] = 0x16;
  w[82] = (1 << 14) | (1 << 5) | 1; // write cache, SMART
  w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10); // FLUSH CACHE EXT, FLUSH CACHE, LBA48
  w[84] = 1 << 14;
  w[85] = (1 << 14) | (1 << 5) | 1; // write cache enabled
  w[86] = (1 << 13) | (1 << 12) | (1 << 10);
  w[87] = 1 << 14;
  w[88] = 0x3f | (1 << 13); // UDMA 0-5 supported, UDMA 5 selected
  w[93] = 1 | (1 << 14) | 0x2000; // hardware reset result
  w[100] = totalSectors & 0xffff;
  w[101] = Math.floor(totalSectors / 0x10000) & 0xffff;
  w[102] = Math.floor(totalSectors / 0x100000000) & 0xffff;
  w[103] = 0;
  w[106] = (1 << 14) | (1 << 13); // logical/physical sector size information valid
  w[169] = 1; // TRIM (DATA SET MANAGEMENT)
  return w;
}
