// The machine state firmware leaves behind for the kernel it boots. Under QEMU every
// -kernel boot goes through SeaBIOS and an option ROM (multiboot_dma.bin,
// linuxboot_dma.bin), so a kernel finds the devices as SeaBIOS programmed them, not in
// their RESET state. A direct boot (no --bios) applies the same state before the loader
// runs; each value below was measured under QEMU 7.2 with the entry-state guest
// (tests/guests/entry-state; docs/decisions.md lists what is left out and why).
import type { PcMachine } from '../machine/pc-machine.js';
import { MSR_MTRRCAP, MSR_MTRR_DEF_TYPE, readMsr, writeMsr } from '../cpu/cpuid-msr.js';

/** The 8259 masks SeaBIOS leaves: IRQ 0, 1, 2, 6 and 8, 12, 13, 14 unmasked. */
const PIC1_IMR = 0xb8;
const PIC2_IMR = 0x8e;
/** PCI interrupts 10 and 11 are level-triggered (SeaBIOS's PIIX PIRQ routing). */
const ELCR2 = 0x0c;
/** The 8042 command byte: keyboard IRQ on, mouse port off, set-1 translation, system flag. */
const KBC_COMMAND = 0x61;
/** The local APIC as SeaBIOS enables it: SVR enabled with vector 0xFF, LINT0 ExtINT, LINT1 NMI. */
const APIC_SVR = 0x1ff;
const APIC_LINT0 = 0x8700;
const APIC_LINT1 = 0x8400;
/** The extended BIOS data area's segment (1 KiB below 640 KiB) and base memory in KiB. */
const EBDA_SEGMENT = 0x9fc0;
const BASE_MEMORY_KIB = 639;

/**
 * Program the board as SeaBIOS leaves it at the moment it hands over to a kernel, in the
 * order firmware does it, through the devices' own ports (so every device sees the same
 * writes a BIOS makes). The CPU is left to the loader, except the x87 unit (FNINIT).
 */
export function applyFirmwareHandoff(m: PcMachine): void {
  const out = (port: number, value: number): void => m.io.write(port, value, 1);
  // x87: SeaBIOS and every option ROM run FNINIT (FCW 0x037F, all registers empty).
  m.cpu.fpu.init();
  // 8042: self test (sets the system flag; its 0x55 reply is read), the command byte, and
  // the keyboard interface enabled by a last command (status bit 3 set, as QEMU shows it).
  // First, so that the self test's IRQ 1 edge is forgotten by the 8259s' ICW1.
  out(0x64, 0xaa);
  m.io.read(0x60, 1);
  out(0x64, 0x60); out(0x60, KBC_COMMAND);
  out(0x64, 0xae);
  // 8259s: ICW1-4 with vector bases 0x08 and 0x70 (the BIOS's), cascade on IRQ 2, 8086 mode.
  out(0x20, 0x11); out(0x21, 0x08); out(0x21, 0x04); out(0x21, 0x01);
  out(0xa0, 0x11); out(0xa1, 0x70); out(0xa1, 0x02); out(0xa1, 0x01);
  out(0x21, PIC1_IMR);
  out(0xa1, PIC2_IMR);
  out(0x4d0, 0x00);
  out(0x4d1, ELCR2);
  // SeaBIOS detects COM1 by enabling its transmitter interrupt for a moment: the IRQ 4
  // edge stays latched in the (masked) 8259, and a kernel unmasking IRQ 4 takes it.
  out(0x3f9, 0x02); out(0x3f9, 0x00);
  // 8254 channel 0: mode 2, lobyte/hibyte, count 0 (65536: the 18.2 Hz BIOS tick).
  out(0x43, 0x34); out(0x40, 0); out(0x40, 0);
  // A20 through the fast gate, as SeaBIOS enables it.
  out(0x92, 0x02);
  // The local APIC: software-enabled, virtual wire through LINT0, NMI on LINT1.
  m.lapic.write(0xf0, APIC_SVR, 4);
  m.lapic.write(0x350, APIC_LINT0, 4);
  m.lapic.write(0x360, APIC_LINT1, 4);
  // The BIOS data area fields kernels read without a BIOS call: COM1's port, the EBDA
  // segment (where MP/ACPI table searches start), the equipment word, base memory, and
  // the 80x25 colour text mode with its CRT controller port.
  const bda16 = (off: number, v: number): void => m.phys.load(0x400 + off, Uint8Array.of(v & 0xff, v >> 8));
  bda16(0x00, 0x3f8);
  bda16(0x0e, EBDA_SEGMENT);
  bda16(0x10, equipmentWord(m));
  bda16(0x13, BASE_MEMORY_KIB);
  m.phys.load(0x449, Uint8Array.of(0x03));
  bda16(0x4a, 80);
  bda16(0x63, 0x3d4);
  // The EBDA's first byte is its size in KiB.
  m.phys.load(EBDA_SEGMENT << 4, Uint8Array.of(1));
  setupMtrrs(m);
}

/**
 * The BIOS equipment word (BDA 0x10) SeaBIOS leaves for this board, measured under QEMU
 * with the same devices (-nodefaults -vga std: 0x0226; -fda: 0x0227; -fda -fdb: 0x0267):
 * the x87 (bit 1), the PS/2 mouse (bit 2), one serial port (bits 9-11), 80x25 colour
 * video with a VGA (bits 4-5), and with floppy drives bit 0 and their count - 1 in bits
 * 6-7. No parallel port (bits 14-15; QEMU's default machine has one: 0x4227).
 */
function equipmentWord(m: PcMachine): number {
  const floppies = (m.config.drives ?? []).filter((d) => d.bus === 'floppy').length;
  let w = 0x0206;
  if (m.config.vga !== false) w |= 0x0020;
  if (floppies > 0) w |= 0x0001 | ((floppies - 1) << 6);
  return w;
}

/** MTRR memory types. */
const MT_UC = 0n;
const MT_WP = 5n;
const MT_WB = 6n;
const EACH_BYTE = 0x0101010101010101n;

/**
 * The MTRRs as SeaBIOS leaves them on a CPU model that has them (measured under QEMU 7.2
 * with the cpu-probe guest, -m 128/1024/2560/3000): fixed ranges write-back below
 * 0xA0000, uncached at 0xA0000-0xBFFFF, write-protected at 0xC0000-0xFFFFF; variable
 * pair 0 makes the PCI window (from 2 GiB, or RAM rounded up to 1 GiB above that) up to
 * 4 GiB uncached in 36-bit physical space; default type write-back with fixed and
 * variable ranges enabled. Linux reads them to set up PAT.
 */
function setupMtrrs(m: PcMachine): void {
  const cap = readMsr(m.cpu, MSR_MTRRCAP) ?? 0n;
  if ((cap & 0xffn) === 0n || (cap & 0x100n) === 0n) return;
  const wr = (msr: number, v: bigint): void => {
    writeMsr(m.cpu, msr, v);
  };
  // MTRRfix64K_00000, MTRRfix16K_80000/_A0000, MTRRfix4K_C0000.._F8000, PhysBase/Mask pairs.
  wr(MSR_MTRR_DEF_TYPE, 0n);
  wr(0x250, MT_WB * EACH_BYTE);
  wr(0x258, MT_WB * EACH_BYTE);
  wr(0x259, MT_UC);
  for (let j = 0; j < 8; j++) wr(0x268 + j, MT_WP * EACH_BYTE);
  const ram = BigInt(m.ramSize);
  const GIB = 1n << 30n;
  const pciStart = ram <= 2n * GIB ? 2n * GIB : ((ram + GIB - 1n) / GIB) * GIB;
  for (let i = 0; i < Number(cap & 0xffn); i++) {
    wr(0x200 + 2 * i, 0n);
    wr(0x201 + 2 * i, 0n);
  }
  if (pciStart < 4n * GIB) {
    wr(0x200, pciStart | MT_UC);
    wr(0x201, ((1n << 36n) - ((1n << 32n) - pciStart)) | 0x800n);
  }
  wr(MSR_MTRR_DEF_TYPE, 0xc00n | MT_WB);
}
