// QEMU's ACPI hot-plug register blocks, which its PIIX4 PM function adds to the `pc`
// machine and its DSDT drives (the _EJ0, _DSM, _E01/_E02 and CPU methods): measured on
// QEMU 7.2 with tests/guests/board/hotplug.c, every register at every width, before and
// after the writes the DSDT's methods make. This board never hot-plugs anything, so no
// event is ever pending; what a guest can observe is the registers' answers.
//
// PCI hot-plug (0xAE00, 24 bytes, dword accesses only: narrower reads give 0, narrower
// writes are dropped):
//   0x00 PCIU  slots with a device-up event (bus BNUM)      read-only, always 0 here
//   0x04 PCID  slots with a device-down event                read-only, always 0 here
//   0x08 B0EJ  write: eject the slots whose bits are set     reads 0; nothing to eject
//   0x0C RMV   slots whose device may be removed: every slot but those holding the
//              board's fixed devices (0xFFFFFFF8 on bus 0: host bridge, PIIX, VGA);
//              all ones on another bus number
//   0x10 BNUM  bus selector, read back; at 256 and above every register reads 0
//   0x14 PIDX  write a slot bit, read that slot's ACPI index: 0 (none is assigned)
// CPU hot-plug (0xAF00): QEMU starts in its legacy layout, a 32-byte bitmap of present
// CPUs (byte 0 = 1: CPU 0), and switches for good to its current one when a guest writes
// 0 at offset 0 (the DSDT's _INI does: CSEL = 0). The current layout is 12 bytes (the
// rest reads all ones, as unclaimed ports):
//   0x00 CSEL  selector (write-only, reads 0)
//   0x04 flags bit 0 CPEN: the selected CPU is enabled; bits 1-3 (insert, remove, eject)
//              written as 1 acknowledge events; there are none, and CPU 0 cannot be ejected
//   0x05 CCMD  command (write-only): 0 next CPU with an event, 1 _OST event, 2 _OST status,
//              3 CPU id
//   0x08 CDAT  data of the command: 0 for every command with one CPU (no events, APIC
//              ID 0); written _OST codes are accepted and dropped
// With a selector past the last CPU every register reads 0.
import type { IoBus, PortHandler } from './io-bus.js';

export const PCI_HOTPLUG_BASE = 0xae00;
export const PCI_HOTPLUG_LEN = 0x18;
export const CPU_HOTPLUG_BASE = 0xaf00;
/** The legacy layout's size (a bitmap of 256 CPUs); the current one uses 12 bytes of it. */
export const CPU_HOTPLUG_LEGACY_LEN = 0x20;
export const CPU_HOTPLUG_LEN = 0x0c;

/** Bus numbers the PCI hot-plug block answers for (QEMU's ACPI_PCIHP_MAX_HOTPLUG_BUS). */
const PCIHP_MAX_BUS = 256;
const PCIHP_RMV = 0x0c;
const PCIHP_BNUM = 0x10;
const CPUHP_FLAGS = 0x04;
const CPUHP_CPEN = 0x01;

export interface AcpiHotplugState {
  bsel: number;
  cpuLegacy: boolean;
  cpuSelector: number;
}

export class AcpiHotplug {
  private bsel = 0;
  private cpuLegacy = true;
  private cpuSelector = 0;

  /**
   * `fixedSlots`: the bus-0 slots holding devices that cannot be removed (QEMU leaves
   * them out of RMV and gives them no _EJ0). `cpus`: the number of CPUs.
   */
  constructor(io: IoBus, private readonly fixedSlots: readonly number[], private readonly cpus = 1) {
    const pci: PortHandler = {
      read: (port, size) => (size === 4 ? this.pciRead(port - PCI_HOTPLUG_BASE) : 0),
      write: (port, value, size) => {
        if (size === 4) this.pciWrite(port - PCI_HOTPLUG_BASE, value >>> 0);
      },
    };
    io.register(PCI_HOTPLUG_BASE, PCI_HOTPLUG_LEN, pci, 'acpi-pci-hotplug');
    const cpu: PortHandler = {
      read: (port, size) => this.cpuRead(port - CPU_HOTPLUG_BASE, size),
      write: (port, value) => this.cpuWrite(port - CPU_HOTPLUG_BASE, value >>> 0),
    };
    io.register(CPU_HOTPLUG_BASE, CPU_HOTPLUG_LEGACY_LEN, cpu, 'acpi-cpu-hotplug');
  }

  private pciRead(off: number): number {
    if (this.bsel >= PCIHP_MAX_BUS) return 0;
    if (off === PCIHP_BNUM) return this.bsel;
    if (off === PCIHP_RMV) {
      if (this.bsel !== 0) return 0xffffffff;
      let fixed = 0;
      for (const s of this.fixedSlots) fixed |= 1 << s;
      return ~fixed >>> 0;
    }
    return 0;
  }

  private pciWrite(off: number, value: number): void {
    // B0EJ and PIDX have nothing to act on (no removable device, no ACPI index).
    if (off === PCIHP_BNUM) this.bsel = value;
  }

  private cpuRead(off: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.cpuReadByte(off + i) << (8 * i);
    return v >>> 0;
  }

  private cpuReadByte(off: number): number {
    if (this.cpuLegacy) {
      // Bit n of the bitmap: CPU n is present.
      let b = 0;
      for (let k = 0; k < 8; k++) if (off * 8 + k < this.cpus) b |= 1 << k;
      return b;
    }
    if (off >= CPU_HOTPLUG_LEN) return 0xff;
    if (this.cpuSelector >= this.cpus) return 0;
    return off === CPUHP_FLAGS ? CPUHP_CPEN : 0;
  }

  private cpuWrite(off: number, value: number): void {
    if (this.cpuLegacy) {
      if (off === 0 && value === 0) {
        this.cpuLegacy = false;
        this.cpuSelector = 0;
      }
      return;
    }
    // The selector is at 0; command, flags and data writes change nothing
    // a guest can see on a board without hot-plug events.
    if (off === 0) this.cpuSelector = value;
  }

  /**
   * A reset keeps the CPU block's layout: QEMU's switch sets a device property that its
   * PM reset leaves alone. The PCI bus selector returns to 0.
   */
  reset(): void {
    this.bsel = 0;
    this.cpuSelector = 0;
  }

  saveState(): AcpiHotplugState {
    return { bsel: this.bsel, cpuLegacy: this.cpuLegacy, cpuSelector: this.cpuSelector };
  }

  loadState(s: AcpiHotplugState): void {
    this.bsel = s.bsel;
    this.cpuLegacy = s.cpuLegacy;
    this.cpuSelector = s.cpuSelector;
  }
}
