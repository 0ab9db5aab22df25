// The CHS geometry a hard disk reports, guessed as QEMU 7.2 guesses it when none is given
// (hw/block/hd-geometry.c's rules, measured through IDENTIFY and SeaBIOS's log): from an
// MBR partition table when one describes the disk with at most 16 heads, else 16 heads
// and 63 sectors with as many cylinders as fit (2..16383); plus the BIOS translation the
// CMOS announces for it.
import { SECTOR_SIZE } from './block-image.js';

export type ChsTranslation = 'none' | 'lba' | 'large';

export interface Geometry {
  cylinders: number;
  heads: number;
  sectors: number;
  translation: ChsTranslation;
}

/** The logical geometry an MBR's partition entries imply (QEMU's guess_disk_lchs), or null. */
function mbrGeometry(mbr: Uint8Array, totalSectors: number): { cylinders: number; heads: number; sectors: number } | null {
  if (mbr.length < SECTOR_SIZE || mbr[510] !== 0x55 || mbr[511] !== 0xaa) return null;
  for (let i = 0; i < 4; i++) {
    const e = 0x1be + 16 * i;
    const count = (mbr[e + 12]! | (mbr[e + 13]! << 8) | (mbr[e + 14]! << 16) | (mbr[e + 15]! << 24)) >>> 0;
    const endHead = mbr[e + 5]!;
    const endSector = mbr[e + 6]! & 63;
    if (count === 0 || endHead === 0 && endSector === 0) continue;
    const heads = endHead + 1;
    const sectors = endSector;
    if (sectors === 0) continue;
    const cylinders = Math.floor(totalSectors / (heads * sectors));
    if (cylinders < 1 || cylinders > 16383) continue;
    return { cylinders, heads, sectors };
  }
  return null;
}

function standardGeometry(totalSectors: number): { cylinders: number; heads: number; sectors: number } {
  const cylinders = Math.min(16383, Math.max(2, Math.floor(totalSectors / (16 * 63))));
  return { cylinders, heads: 16, sectors: 63 };
}

/** QEMU's hd_geometry_guess for an IDE hard disk, given its first sector. */
export function guessGeometry(mbr: Uint8Array, totalSectors: number): Geometry {
  const l = mbrGeometry(mbr, totalSectors);
  if (l === null) {
    const g = standardGeometry(totalSectors);
    const translation: ChsTranslation = g.cylinders <= 1024 && g.heads <= 16 && g.sectors <= 63 ? 'none'
      : g.cylinders * g.heads <= 131072 ? 'large' : 'lba';
    return { ...g, translation };
  }
  if (l.heads > 16) {
    // The partition table was written under a BIOS translation: a standard physical geometry.
    const g = standardGeometry(totalSectors);
    return { ...g, translation: g.cylinders * g.heads <= 131072 ? 'large' : 'lba' };
  }
  return { ...l, translation: 'none' };
}
