// A boot without firmware (no --bios): the firmware's hand-off state, then one loader.
// PcMachine runs it again after every reset (its bootLoader), from the original file
// bytes, so a reset reboots the same images into the same entry state, as QEMU's
// firmware does for -kernel.
import type { PcMachine } from '../machine/pc-machine.js';
import { UserError } from '../user-error.js';
import { applyFirmwareHandoff } from './firmware-handoff.js';
import { installFirmwareTables } from './firmware-tables.js';
import { loadMultiboot, enterFlatProtectedMode, DEFAULT_BOOT_GDT, type MultibootOptions, type LoadedKernel } from './multiboot.js';
import { loadLinux, type LinuxBootOptions, type LoadedLinux } from './linux.js';
import { loadBootSector } from './boot-sector.js';

export type DirectBoot =
  | { readonly kind: 'multiboot'; readonly kernel: Uint8Array; readonly options: MultibootOptions }
  | { readonly kind: 'linux'; readonly image: Uint8Array; readonly options: LinuxBootOptions }
  | { readonly kind: 'boot-sector'; readonly data: Uint8Array; readonly name: string }
  | { readonly kind: 'load'; readonly images: readonly { name: string; addr: number; data: Uint8Array }[]; readonly entry: number };

export type DirectBootResult = LoadedKernel | LoadedLinux | null;

/** Apply the hand-off state and load; user errors (bad images) surface as UserError. */
export function directBoot(m: PcMachine, boot: DirectBoot): DirectBootResult {
  applyFirmwareHandoff(m);
  // The ACPI and MP tables and the PCI set-up a BIOS would leave.
  installFirmwareTables(m);
  switch (boot.kind) {
    case 'multiboot':
      return loadMultiboot(m.phys, m.cpu, boot.kernel, boot.options);
    case 'linux':
      return loadLinux(m.phys, m.cpu, boot.image, boot.options);
    case 'boot-sector':
      loadBootSector(m.phys, m.cpu, boot.data, boot.name);
      return null;
    case 'load': {
      let top = 0;
      for (const img of boot.images) {
        if (img.addr + img.data.length > m.ramSize) throw new UserError(`${img.name}: does not fit in RAM at 0x${img.addr.toString(16)}`);
        m.phys.load(img.addr, img.data);
        top = Math.max(top, img.addr + img.data.length);
      }
      // The boot GDT where the multiboot loader puts it, or above the images when they are there.
      const overlaps = boot.images.some((i) => i.addr < DEFAULT_BOOT_GDT + 32 && DEFAULT_BOOT_GDT < i.addr + i.data.length);
      const gdt = overlaps ? Math.ceil(top / 16) * 16 : DEFAULT_BOOT_GDT;
      if (gdt + 32 > m.ramSize) throw new UserError('--load: no room for the boot GDT above the images');
      enterFlatProtectedMode(m.phys, m.cpu, boot.entry, gdt);
      return null;
    }
  }
}

/**
 * Boot directly now and after every reset of `m`. The first boot's UserErrors reach the
 * caller; the images are the caller's buffers, never guest memory, so later boots load
 * the same bytes.
 */
export function installDirectBoot(m: PcMachine, boot: DirectBoot): DirectBootResult {
  let result: DirectBootResult = null;
  m.setBootLoader(() => {
    result = directBoot(m, boot);
  });
  return result;
}
