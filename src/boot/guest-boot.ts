// Boot policy, as QEMU's pc machine applies it to its command line: which firmware a run
// needs (the BIOS given, or SeaBIOS for a kernel whose real-mode setup code must run; the
// VGA BIOS and kvmvapic with any BIOS), and how the guest gets into memory: with a BIOS
// a kernel goes through fw_cfg and QEMU's option ROMs; without one a bzImage through the
// 32-bit Linux boot protocol, anything else as multiboot (modules from the initrds); a
// boot sector at 0000:7C00; raw images at their addresses. The front end reads the files;
// everything here works on their bytes.
import type { PcMachine } from '../machine/pc-machine.js';
import { UserError } from '../user-error.js';
import { isBzImage, linuxProtocol } from './linux.js';
import { installDirectBoot } from './direct-boot.js';
import { prepareBiosKernelBoot, kernelNeedsFirmware } from './fw-cfg-boot.js';
import { isElf, parseElf32, type ElfSymbol } from './elf.js';

export interface NamedBytes {
  /** The file's name (as given: for messages, the multiboot command line, symbols). */
  name: string;
  bytes: Uint8Array;
}

export interface GuestSpec {
  /** --kernel (the front end gives its default guest when nothing else is asked for). */
  kernel: NamedBytes | null;
  initrds: NamedBytes[];
  append: string;
  /** --bios. */
  bios: NamedBytes | null;
  bootSector: NamedBytes | null;
  loads: (NamedBytes & { addr: number })[];
  entry: number | null;
  /** Drives are attached: with nothing else to boot, the firmware boots from them. */
  drives?: boolean;
}

/** Where firmware files come from (Debian's QEMU and SeaBIOS packages, found by the front end). */
export interface FirmwareFiles {
  /** The file's bytes, or null when it is not installed. */
  find(name: string): NamedBytes | null;
  /** Where it was looked for (for messages). */
  where: string;
}

export interface FirmwarePlan {
  bios?: Uint8Array;
  vgaBios?: Uint8Array;
  kvmvapicRom?: Uint8Array;
  /** One-line notes for the user (SeaBIOS chosen for a setup-code kernel; kvmvapic missing, for the -d log when there is one). */
  notes: { text: string; log?: boolean }[];
}

export const KVMVAPIC_ROM = 'kvmvapic.bin';

/** The firmware of a run (the machine is built with it). */
export function planFirmware(spec: GuestSpec, fw: FirmwareFiles): FirmwarePlan {
  const notes: FirmwarePlan['notes'] = [];
  let bios = spec.bios?.bytes;
  const k = spec.kernel;
  if (!bios && k && !spec.bootSector && spec.loads.length === 0 && kernelNeedsFirmware(k.bytes)) {
    // A kernel whose real-mode setup code must run (docs/decisions.md): Debian's SeaBIOS,
    // as QEMU would use, with a note saying so.
    const v = linuxProtocol(k.bytes);
    const what = v ? `Linux boot protocol ${v >> 8}.${(v & 0xff).toString().padStart(2, '0')}` : 'a Linux zImage';
    const seabios = fw.find('bios.bin');
    const base = k.name.split('/').pop();
    if (!seabios) throw new UserError(`${base}: ${what} needs its real-mode setup code run by firmware, and bios.bin is not in ${fw.where} (install seabios, or give --bios)`);
    notes.push({ text: `${base}: ${what}: its setup code runs under SeaBIOS (${seabios.name}) and linuxboot_dma.bin` });
    bios = seabios.bytes;
  }
  if (!bios && !k && !spec.bootSector && spec.loads.length === 0 && spec.drives) {
    // Drives and nothing else: the firmware boots from them, as under QEMU (its SeaBIOS).
    const seabios = fw.find('bios.bin');
    if (!seabios) throw new UserError(`booting from a drive needs a BIOS, and bios.bin is not in ${fw.where} (install seabios, or give --bios)`);
    bios = seabios.bytes;
  }
  // The std VGA's option ROM, as QEMU's pc machine offers it to a BIOS; without one, the
  // direct boot shadows it at 0xC0000 as SeaBIOS would have (firmware-tables.ts).
  const vgaBios = fw.find('vgabios-stdvga.bin')?.bytes;
  if (!bios) return { ...(vgaBios ? { vgaBios } : {}), notes };
  // kvmvapic's option ROM, which only a BIOS runs.
  const vapic = fw.find(KVMVAPIC_ROM)?.bytes;
  if (!vapic) notes.push({ text: `note: ${KVMVAPIC_ROM} not found in ${fw.where}: the BIOS gets no kvmvapic option ROM (install qemu-system-data)`, log: true });
  return { bios, ...(vgaBios ? { vgaBios } : {}), ...(vapic ? { kvmvapicRom: vapic } : {}), notes };
}

export interface BootedGuest {
  /** What the UI calls the guest (the file's base name, or "bios"). */
  name: string;
  symbols: ElfSymbol[];
}

/** Put the guest into `machine` (built with planFirmware's firmware). */
export function installGuest(machine: PcMachine, spec: GuestSpec, fw: FirmwareFiles): BootedGuest {
  const base = (n: string): string => n.split('/').pop() ?? n;
  if (spec.bootSector) {
    installDirectBoot(machine, { kind: 'boot-sector', data: spec.bootSector.bytes, name: spec.bootSector.name });
    return { name: base(spec.bootSector.name), symbols: [] };
  }
  if (spec.loads.length > 0) {
    if (spec.entry === null) throw new UserError('--load needs --entry ADDR');
    installDirectBoot(machine, { kind: 'load', images: spec.loads.map((l) => ({ name: l.name, addr: l.addr, data: l.bytes })), entry: spec.entry });
    return { name: base(spec.loads[0]!.name), symbols: [] };
  }
  const k = spec.kernel;
  if (!k) return { name: 'bios', symbols: [] };
  if (machine.config.bios) {
    // With a BIOS, the kernel goes through fw_cfg and QEMU's option ROMs, as under QEMU.
    prepareBiosKernelBoot(machine.fwCfg, {
      kernelName: k.name, kernel: k.bytes, cmdline: spec.append, initrds: spec.initrds.map((i) => ({ name: i.name, data: i.bytes })), ramSize: machine.ramSize,
      optionRom: (n) => {
        const rom = fw.find(n);
        if (!rom) throw new UserError(`${n} not found in ${fw.where} (install qemu-system-data, or set BMBT_FIRMWARE_DIR)`);
        return rom.bytes;
      },
    });
    return { name: base(k.name), symbols: isElf(k.bytes) ? parseElf32(k.bytes, k.name).symbols : [] };
  }
  // No firmware: the loader runs now and again after every reset (direct-boot.ts).
  if (isBzImage(k.bytes)) {
    // A Linux bzImage without a BIOS: the 32-bit boot protocol, directly.
    if (spec.initrds.length > 1) throw new UserError('a Linux kernel takes one --initrd');
    const initrd = spec.initrds[0]?.bytes ?? null;
    installDirectBoot(machine, { kind: 'linux', image: k.bytes, options: { name: k.name, cmdline: spec.append, initrd, ramSize: machine.ramSize } });
    return { name: base(k.name), symbols: [] };
  }
  const modules = spec.initrds.map((i) => ({ name: i.name, data: i.bytes }));
  const cmdline = spec.append ? `${k.name} ${spec.append}` : k.name;
  const loaded = installDirectBoot(machine, { kind: 'multiboot', kernel: k.bytes, options: { kernelName: k.name, cmdline, modules, ramSize: machine.ramSize } });
  return { name: base(k.name), symbols: loaded && 'symbols' in loaded ? loaded.symbols : [] };
}
