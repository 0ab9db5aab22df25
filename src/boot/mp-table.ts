// The Intel MultiProcessor Specification 1.4 tables (chapter 4) that SeaBIOS builds on
// QEMU's `pc` machine, for a board booted without a BIOS: a floating pointer and a
// configuration table with one processor, the PCI (0) and ISA (1) buses, the I/O APIC
// (id 0, version 0x11 as SeaBIOS writes it), an interrupt entry for every PCI function
// with an interrupt pin (to the I/O APIC pin of its interrupt line), the ISA IRQs that
// PCI does not use (0 on pin 2, 2 is the cascade), ExtINT on LINT0 and NMI on LINT1.
// Measured: SeaBIOS's table under QEMU 7.2, read by tests/guests/board/acpi.c.

export interface MpPciInterrupt {
  slot: number;
  /** INTA# = 1 ... INTD# = 4 */
  pin: number;
  /** The ISA IRQ / I/O APIC pin it is routed to. */
  irq: number;
}

export interface MpTableConfig {
  /** CPUID.1 EAX (signature) and EDX (features) of the processor. */
  cpuSignature: number;
  cpuFeatures: number;
  pciInterrupts: readonly MpPciInterrupt[];
  /** ISA IRQs that PCI interrupts use (not listed as ISA entries). */
  pciIsaIrqs: readonly number[];
  localApicBase: number;
  ioApicBase: number;
}

const MP_PROCESSOR = 0;
const MP_BUS = 1;
const MP_IOAPIC = 2;
const MP_INTSRC = 3;
const MP_LINTSRC = 4;
const MP_INT = 0;
const MP_NMI = 1;
const MP_EXTINT = 3;
const BUS_PCI = 0;
const BUS_ISA = 1;
const IOAPIC_ID = 0;

function checksum(b: Uint8Array, start: number, len: number): number {
  let s = 0;
  for (let i = start; i < start + len; i++) s += b[i]!;
  return -s & 0xff;
}

/** The configuration table, to be placed at `tableAddr`. */
export function buildMpConfigTable(cfg: MpTableConfig): Uint8Array {
  const entries: number[] = [];
  let count = 0;
  const u16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
  const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
  const add = (bytes: number[]) => {
    entries.push(...bytes);
    count++;
  };
  // Processor: APIC id 0, APIC version 0x14, enabled and bootstrap.
  add([MP_PROCESSOR, 0, 0x14, 0x03, ...u32(cfg.cpuSignature), ...u32(cfg.cpuFeatures), 0, 0, 0, 0, 0, 0, 0, 0]);
  add([MP_BUS, BUS_PCI, ...ascii('PCI   ')]);
  add([MP_BUS, BUS_ISA, ...ascii('ISA   ')]);
  add([MP_IOAPIC, IOAPIC_ID, 0x11, 0x01, ...u32(cfg.ioApicBase)]);
  // PCI interrupts: flags 1 = active high, as SeaBIOS writes them; source = device << 2 | pin.
  for (const p of cfg.pciInterrupts) add([MP_INTSRC, MP_INT, ...u16(1), BUS_PCI, (p.slot << 2) | (p.pin - 1), IOAPIC_ID, p.irq]);
  for (let irq = 0; irq < 16; irq++) {
    if (irq === 2 || cfg.pciIsaIrqs.includes(irq)) continue;
    add([MP_INTSRC, MP_INT, ...u16(0), BUS_ISA, irq, IOAPIC_ID, irq === 0 ? 2 : irq]);
  }
  add([MP_LINTSRC, MP_EXTINT, ...u16(0), BUS_ISA, 0, 0, 0]);
  add([MP_LINTSRC, MP_NMI, ...u16(0), BUS_ISA, 0, 0xff, 1]);
  const header = [
    ...ascii('PCMP'), ...u16(44 + entries.length), 0x04, 0, ...ascii('BOCHSCPU'), ...ascii('0.1         '),
    ...u32(0), ...u16(0), ...u16(count), ...u32(cfg.localApicBase), ...u16(0), 0, 0,
  ];
  const table = Uint8Array.from([...header, ...entries]);
  table[7] = checksum(table, 0, table.length);
  return table;
}

/** The 16-byte floating pointer structure pointing at the configuration table. */
export function buildMpFloatingPointer(tableAddr: number): Uint8Array {
  const f = Uint8Array.from([
    ...[...'_MP_'].map((c) => c.charCodeAt(0)),
    tableAddr & 0xff, (tableAddr >>> 8) & 0xff, (tableAddr >>> 16) & 0xff, (tableAddr >>> 24) & 0xff,
    1, 0x04, 0, 0, 0, 0, 0, 0,
  ]);
  f[10] = checksum(f, 0, 16);
  return f;
}
