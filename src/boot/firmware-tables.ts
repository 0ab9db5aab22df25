// What a BIOS leaves for a kernel, for boots without one (--kernel without --bios): the
// same PC as under SeaBIOS on QEMU 7.2. `installFirmwareTables` is the one call the
// direct-boot loaders need: it
//
// - sets up PCI the way SeaBIOS does where an OS relies on it: the PIIX4 PM block at
//   0x600 (PMBA, PMREGMISC, SCI on IRQ 9; SMBus at 0x700), PIRQ A-D routed to IRQ 10,
//   10, 11, 11 with IRQ 10 and 11 level-triggered, every function's interrupt line, and
//   every BAR assigned with decoding on (`assignPciBars`);
// - shadows the std VGA's option ROM (the vgabios file the BIOS boot uses) at 0xC0000;
// - links QEMU's ACPI tables (the same fw_cfg blobs SeaBIOS gets, through the same loader
//   script) into the reserved block at the top of RAM, the RSDP into the F segment;
// - places QEMU's SMBIOS tables (the fw_cfg files SeaBIOS gets) with SeaBIOS's type 0 in
//   front, the entry point and the tables in the F segment, as SeaBIOS does with tables
//   of up to 600 bytes (this board's are 388 bytes, whatever its RAM size);
// - writes an MP floating pointer and configuration table like SeaBIOS's;
//   the F-segment objects in SeaBIOS's order (RSDP, SMBIOS entry point and tables, MP
//   floating pointer and table), each 16-byte aligned after the one before, from where
//   QEMU's SeaBIOS puts the first (measured, tests/guests/board/firmware.c);
// - fills the 128 KiB at the top of RAM that the loaders' memory map reserves
//   (`directBootMemoryMap`, SeaBIOS's e820);
// - makes a wake-up from ACPI S3 do what SeaBIOS's resume path does: the PCI set-up again
//   (the reset cleared the PM block and the PIRQ routing), then a real-mode jump to the
//   FACS firmware waking vector (segment vector >> 4, offset vector & 0xF, registers 0).
//
// Call it on every direct boot, after the machine's reset and the firmware hand-off state
// (`applyFirmwareHandoff`, which leaves the 8042 as SeaBIOS does) and before loading.
import type { PcMachine } from '../machine/pc-machine.js';
import { TOP_RESERVED } from './memory-map.js';
import {
  ACPI_PM_BASE, ACPI_RSDP_FILE, ACPI_SCI_IRQ, ACPI_TABLES_FILE, IO_APIC_BASE, LOCAL_APIC_BASE, acpiTablesLength,
  linkAcpiTables,
} from '../acpi/tables.js';
import { PIIX4_PMBA, PIIX4_PMREGMISC, PIIX4_SMBBA, PIIX4_SMBHSTCFG } from '../devices/pci/piix4-pm.js';
import { PIIX_ELCR2, PIIX_PIRQRC } from '../devices/pci/piix3-isa.js';
import { PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN } from '../devices/pci/pci-device.js';
import { pciSlotPirq } from '../devices/pci/pci-bus.js';
import { cpuidLeaf } from '../cpu/cpuid-msr.js';
import { buildMpConfigTable, buildMpFloatingPointer, type MpPciInterrupt } from './mp-table.js';
import { placeSmbiosAsSeabios } from '../smbios/seabios.js';
import { SEG_CS } from '../cpu/instr.js';
import { assignPciBars } from './pci-bars.js';

/** The ACPI 1.0 RSDP, the SMBIOS 2.8 32-bit entry point and the MP floating pointer. */
const ACPI_RSDP_LENGTH = 20;
const SMBIOS_ENTRY_LENGTH = 0x1f;
const MP_FLOATING_LENGTH = 16;
/** PCI base class 03h, subclass 00h: a VGA-compatible controller. */
const PCI_CLASS_DISPLAY_VGA = 0x0300;

/** SeaBIOS's high zone at the top of RAM: the ACPI tables live in it (reserved). */
export const FIRMWARE_HIGH_SIZE = TOP_RESERVED;
/**
 * Where the RSDP goes, the first of the F-segment objects: what QEMU 7.2's firmware
 * (Debian's SeaBIOS 1.16.2, bios-256k.bin) leaves free there after its own code and data,
 * an accident of that build's allocator (measured: "ACPI: RSDP 0x00000000000F59D0").
 */
export const RSDP_ADDR = 0xf59d0;
/** The std VGA's option ROM is shadowed here, as SeaBIOS copies the first one. */
export const VGA_ROM_ADDR = 0xc0000;
/** SeaBIOS's PCI interrupt routing on the i440FX: PIRQA-D to these ISA IRQs. */
export const PIRQ_IRQS = [10, 10, 11, 11] as const;

export interface FirmwareTables {
  rsdp: number;
  acpiTables: number;
  mpTable: number;
  smbiosEntry: number;
}

function setupPci(m: PcMachine): MpPciInterrupt[] {
  const pci = m.pci;
  // PIIX4 PM (00:01.3): piix4_pm_setup
  pci.configWrite(1, 3, PCI_INTERRUPT_LINE, ACPI_SCI_IRQ, 1);
  pci.configWrite(1, 3, PIIX4_PMBA, ACPI_PM_BASE | 1, 4);
  pci.configWrite(1, 3, PIIX4_PMREGMISC, 0x01, 1);
  pci.configWrite(1, 3, PIIX4_SMBBA, (ACPI_PM_BASE + 0x100) | 1, 4);
  pci.configWrite(1, 3, PIIX4_SMBHSTCFG, 0x09, 1);
  // PIIX3 (00:01.0): PIRQ routing and the ELCR for the PCI IRQs.
  PIRQ_IRQS.forEach((irq, i) => pci.configWrite(1, 0, PIIX_PIRQRC + i, irq, 1));
  let elcr = 0;
  for (const irq of PIRQ_IRQS) elcr |= 1 << irq;
  m.io.write(PIIX_ELCR2, elcr >>> 8, 1);
  // Every function's interrupt line from its pin (the PM function keeps the SCI).
  const ints: MpPciInterrupt[] = [];
  for (const dev of pci.devices()) {
    const pin = dev.readConfig(PCI_INTERRUPT_PIN, 1);
    if (pin < 1 || pin > 4) continue;
    const slot = dev.devfn >> 3;
    const irq = dev.devfn === ((1 << 3) | 3) ? ACPI_SCI_IRQ : PIRQ_IRQS[pciSlotPirq(slot, pin)]!;
    dev.writeConfig(PCI_INTERRUPT_LINE, irq, 1);
    // SeaBIOS lists one entry per slot and pin.
    if (!ints.some((e) => e.slot === slot && e.pin === pin)) ints.push({ slot, pin, irq });
  }
  return ints;
}

export function installFirmwareTables(m: PcMachine): FirmwareTables {
  const pciInterrupts = setupPci(m);
  assignPciBars(m.pci);
  // The VGA BIOS image as the BIOS boot offers it; SeaBIOS copies it to 0xC0000 and runs
  // its initialisation, which only changes variables inside it (not modelled: the bytes
  // are the file's, checksum included).
  const vgaRom = m.config.vgaBios;
  if (vgaRom && m.pci.devices().some((d) => d.info().classCode >> 8 === PCI_CLASS_DISPLAY_VGA)) {
    const size = Math.min(vgaRom.length, vgaRom[2]! * 512 || vgaRom.length);
    m.writePhysical(VGA_ROM_ADDR, vgaRom.subarray(0, size));
  }

  const acpiTables = m.ramSize - FIRMWARE_HIGH_SIZE;
  const linked = linkAcpiTables(m.acpi, new Map([[ACPI_TABLES_FILE, acpiTables], [ACPI_RSDP_FILE, RSDP_ADDR]]));
  m.writePhysical(acpiTables, linked.get(ACPI_TABLES_FILE)!.subarray(0, acpiTablesLength(m.acpi)));
  m.writePhysical(RSDP_ADDR, linked.get(ACPI_RSDP_FILE)!);

  // The F segment after the RSDP, in SeaBIOS's order: the SMBIOS entry point and its
  // tables, then the MP floating pointer and the MP configuration table.
  const smbiosEntry = align16(RSDP_ADDR + ACPI_RSDP_LENGTH);
  const smbiosTables = align16(smbiosEntry + SMBIOS_ENTRY_LENGTH);
  const smbios = placeSmbiosAsSeabios(m.smbios, smbiosTables);
  m.writePhysical(smbiosEntry, smbios.entryPoint);
  m.writePhysical(smbiosTables, smbios.tables);
  const mpFloating = align16(smbiosTables + smbios.tables.length);
  const mpTable = mpFloating + MP_FLOATING_LENGTH;
  const [signature, , , features] = cpuidLeaf(m.cpu, 1, 0);
  const mp = buildMpConfigTable({
    cpuSignature: signature, cpuFeatures: features, pciInterrupts, pciIsaIrqs: [5, 9, 10, 11],
    localApicBase: LOCAL_APIC_BASE, ioApicBase: IO_APIC_BASE,
  });
  m.writePhysical(mpTable, mp);
  m.writePhysical(mpFloating, buildMpFloatingPointer(mpTable));
  const facs = acpiTables + m.acpi.offsets.FACS;
  m.onDirectWake = () => enterWakingVector(m, facs);
  return { rsdp: RSDP_ADDR, acpiTables, mpTable, smbiosEntry };
}

function align16(a: number): number {
  return (a + 15) & ~15;
}

/** SeaBIOS's s3_resume for a board without a BIOS (called right after the wake-up reset). */
function enterWakingVector(m: PcMachine, facs: number): boolean {
  setupPci(m);
  // handle_resume reads the shutdown status (0xFE: S3) and clears it.
  m.rtc.setCmos(0x0f, 0);
  const vector = m.phys.read32(facs + 12) >>> 0;
  // No vector: SeaBIOS boots normally (the caller runs the direct boot again).
  if (vector === 0 || vector >= 0x100000) return false;
  const cpu = m.cpu;
  cpu.regs.fill(0);
  for (let s = 0; s < 6; s++) cpu.loadSegmentReal(s, 0);
  cpu.loadSegmentReal(SEG_CS, vector >>> 4);
  cpu.eip = vector & 0xf;
  cpu.updateHflags();
  return true;
}
