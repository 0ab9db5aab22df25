// Firmware files Debian ships with QEMU and SeaBIOS (the option ROMs QEMU's loaders and
// its pc machine use, the VGA BIOS, SeaBIOS itself), found at run time: never part of
// this repository. BMBT_FIRMWARE_DIR is searched first.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../src/user-error.js';

export const FIRMWARE_DIRS = [process.env.BMBT_FIRMWARE_DIR, '/usr/share/qemu', '/usr/share/seabios'].filter((d): d is string => !!d);

export const KVMVAPIC_ROM = 'kvmvapic.bin';

export function findFirmwarePath(name: string, dirs: readonly string[] = FIRMWARE_DIRS): string | null {
  for (const dir of dirs) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

export function findFirmware(name: string, required: boolean, dirs: readonly string[] = FIRMWARE_DIRS): Uint8Array | null {
  const p = findFirmwarePath(name, dirs);
  if (p) return readFileSync(p);
  if (required) throw new UserError(`${name} not found in ${dirs.join(', ')} (install qemu-system-data, or set BMBT_FIRMWARE_DIR)`);
  return null;
}

/**
 * QEMU's kvmvapic option ROM, which its pc machine always offers the BIOS (SeaBIOS's boot
 * order depends on it: decisions.md). Without the file the board runs without it, and
 * `note` says so once.
 */
export function kvmvapicRom(dirs: readonly string[] = FIRMWARE_DIRS): { rom: Uint8Array | null; note: string | null } {
  const rom = findFirmware(KVMVAPIC_ROM, false, dirs);
  if (rom) return { rom, note: null };
  return {
    rom: null,
    note: `bmbt-dbg: note: ${KVMVAPIC_ROM} not found in ${dirs.join(', ')}: the BIOS gets no kvmvapic option ROM (install qemu-system-data)\n`,
  };
}
