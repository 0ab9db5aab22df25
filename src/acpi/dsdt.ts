// The board's DSDT, hand-written with the AML encoder. It declares what QEMU 7.2's `pc`
// machine declares for the devices this board has (measured: QEMU's etc/acpi/tables read
// by a guest and disassembled), so an OS finds the same namespace:
//
//   \_SB.PCI0 (PNP0A03) with _CRS (bus 0-FF, I/O and memory windows), _PRT (every slot's
//     INTA-D rotated over LNKA-D as the PIIX swizzle, 00:01 INTA on LNKS = SCI), the
//     interrupt links LNKA-LNKD (PNP0C0F on PIIX3 PIRQRC 0x60-0x63, IRQ 5/10/11) and LNKS
//     (IRQ 9); \_SB.PCI0.S00 (host bridge), S08 (PIIX3 ISA: KBD, MOU, FDC0 with a FLPx per
//     drive, COM1, RTC), S10 (VGA,
//     D0 only in S1-S3), GPE0 (the GPE block's ports), FWCF (QEMU0002, fw_cfg's ports);
//   \_SB.HPET (PNP0103, _STA from the HPET's own registers, as QEMU);
//   \_SB.CPUS (ACPI0010) with Processor C000;
//   \_GPE with _HID ACPI0006; \_S3, \_S4, \_S5 with QEMU's SLP_TYP values 1, 2, 0.
//
// Left out because this board has no such hardware: QEMU's PCI and CPU hot-plug
// registers (0xAE00, 0xAF00) and the objects that use them (slot devices S18-SF8, _EJ0,
// _DSM, PCNT, CSCN, _GPE._E01/_E02), the parallel port device, and the 0x402 debug method.
import {
  aml, and, arg, buffer, call, createDWordField, device, dmaCompat8, dword, eisaId, extIrq, field, FIELD_BYTE_ACC,
  FIELD_DWORD_ACC, FIELD_LOCK, ifThen, int, ioPort, irqNoFlags, lequal, lgreater, lor, local, memory32Fixed, method,
  name, opRegion, or, pkg, processor, qwordMemory, REGION_PCI_CONFIG, REGION_SYSTEM_MEMORY, resourceTemplate, ret,
  scope, shiftRight, store, str, dwordMemory, wordBusNumber, wordIo, lless, type Aml,
} from './aml.js';
import { HPET_BASE, HPET_LEN } from '../devices/hpet.js';
import { FLOPPY_DRIVE_LIMITS } from '../devices/fdc.js';

export interface DsdtConfig {
  /** RAM below 4 GiB: the 32-bit PCI window starts here. */
  belowFourG: number;
  /** PIIX4 GPE0 block (QEMU 0xAFE0, 4 bytes). */
  gpe0Base: number;
  /** fw_cfg's I/O ports (0x510, 12 bytes with DMA). */
  fwCfgPort: number;
  /** PCI INTx links may use these ISA IRQs (QEMU: 5, 10, 11). */
  linkIrqs: readonly number[];
  /** The SCI's ISA IRQ (9). */
  sciIrq: number;
  /** CMOS drive type of floppy drives A: and B: (0: no drive). */
  floppyDrives: readonly [number, number];
}

export const DEFAULT_DSDT: Omit<DsdtConfig, 'belowFourG'> = {
  gpe0Base: 0xafe0, fwCfgPort: 0x510, linkIrqs: [5, 10, 11], sciIrq: 9, floppyDrives: [0, 0],
};

/** QEMU's 64-bit PCI window for a board without RAM above 4 GiB: 2 GiB at 4 GiB. */
const PCI_HOLE64_START = 0x1_0000_0000n;
const PCI_HOLE64_SIZE = 0x8000_0000n;
/** The 32-bit PCI window ends below the I/O APIC. */
const PCI_HOLE32_END = 0xfebfffff;

const LINKS = ['LNKA', 'LNKB', 'LNKC', 'LNKD'];

function pciRoot(cfg: DsdtConfig): Aml {
  return aml(
    scope('\\_SB', device('PCI0', name('_HID', eisaId('PNP0A03')), name('_ADR', int(0)), name('_UID', int(0)))),
    scope('\\_SB.PCI0',
      name('_CRS', resourceTemplate(
        wordBusNumber(0x00, 0xff),
        ioPort(0x0cf8, 0x0cf8, 0x01, 0x08),
        wordIo(0x0000, 0x0cf7),
        wordIo(0x0d00, 0xffff),
        dwordMemory(true, 0x000a0000, 0x000bffff),
        dwordMemory(false, cfg.belowFourG, PCI_HOLE32_END),
        qwordMemory(true, PCI_HOLE64_START, PCI_HOLE64_START + PCI_HOLE64_SIZE - 1n),
      )),
      prt(),
      device('GPE0',
        name('_HID', str('PNP0A06')), name('_UID', str('GPE0 resources')), name('_STA', int(0x0b)),
        name('_CRS', resourceTemplate(ioPort(cfg.gpe0Base, cfg.gpe0Base, 0x01, 0x04)))),
      device('FWCF',
        name('_HID', str('QEMU0002')), name('_STA', int(0x0b)),
        name('_CRS', resourceTemplate(ioPort(cfg.fwCfgPort, cfg.fwCfgPort, 0x01, 0x0c)))),
      device('S00', name('_ADR', int(0))),
      isaBridge(cfg),
      device('S10', name('_ADR', int(0x00020000)),
        method('_S1D', 0, {}, ret(int(0))), method('_S2D', 0, {}, ret(int(0))), method('_S3D', 0, {}, ret(int(0)))),
    ),
  );
}

/**
 * _PRT: slot s, pin p (INTA=0) reaches PIRQ (s + p) & 3, which QEMU names LNKD, LNKA,
 * LNKB, LNKC for 0..3 (its link for PIRQ n is LNK[(n + 3) & 3] in this rotation), except
 * the PIIX4 function's INTA at slot 1, which is the SCI (LNKS).
 */
function prt(): Aml {
  const entries: Aml[] = [];
  for (let i = 0; i < 128; i++) {
    const slot = i >> 2;
    const pin = i & 3;
    const r = (slot + pin) & 3;
    const link = i === 4 ? 'LNKS' : r === 0 ? 'LNKD' : LINKS[r - 1]!;
    entries.push(pkg(dword(((slot << 16) | 0xffff) >>> 0), int(pin), aml(link), int(0)));
  }
  // A Package holds at most 255 elements; 128 entries fit.
  return name('_PRT', pkg(...entries));
}

/**
 * FDC0 (PNP0700): the controller is always there, as on QEMU's pc machine, with a FLPx
 * device per drive (_FDI: the drive's limits and the usual diskette parameter bytes) and
 * _FDE (ACPI 6.4 §9.9.1: drives A-D present or not, then the tape: 2, not present).
 */
function floppyController(drives: readonly [number, number]): Aml {
  const flp = drives.flatMap((type, unit): Aml[] => {
    const lim = FLOPPY_DRIVE_LIMITS[type];
    if (!lim) return [];
    // Drive number, type, limits, then the diskette parameter table (SRT/HUT, HLT/DMA,
    // motor-off delay, 512-byte sectors, EOT 18, gap, data length, format gap, fill byte,
    // head settle, motor start), the same for every drive on QEMU.
    const fdi = [unit, type, lim.maxCylinder, lim.maxSector, lim.maxHead, 0xaf, 0x02, 0x25, 0x02, 0x12, 0x1b, 0xff, 0x6c, 0xf6, 0x0f, 0x08];
    return [device(`FLP${'AB'[unit]}`, name('_ADR', int(unit)), name('_FDI', pkg(...fdi.map((v) => int(v)))))];
  });
  const fde = [drives[0] ? 1 : 0, drives[1] ? 1 : 0, 0, 0, 2].flatMap((v) => [v, 0, 0, 0]);
  return device('FDC0', name('_HID', eisaId('PNP0700')),
    name('_CRS', resourceTemplate(ioPort(0x3f2, 0x3f2, 0x00, 0x04), ioPort(0x3f7, 0x3f7, 0x00, 0x01), irqNoFlags(6), dmaCompat8(2))),
    ...flp,
    name('_FDE', buffer(fde)));
}

function isaBridge(cfg: DsdtConfig): Aml {
  return device('S08',
    name('_ADR', int(0x00010000)),
    // PIIX3 PIRQRC[A:D] (config 0x60-0x63): bit 7 disables the route, bits 3:0 the IRQ.
    opRegion('P40C', REGION_PCI_CONFIG, 0x60, 0x04),
    scope('\\_SB', field('PCI0.S08.P40C', FIELD_BYTE_ACC, [['PRQ0', 8], ['PRQ1', 8], ['PRQ2', 8], ['PRQ3', 8]])),
    device('KBD', name('_HID', eisaId('PNP0303')), name('_STA', int(0x0f)),
      name('_CRS', resourceTemplate(ioPort(0x60, 0x60, 0x01, 0x01), ioPort(0x64, 0x64, 0x01, 0x01), irqNoFlags(1)))),
    device('MOU', name('_HID', eisaId('PNP0F13')), name('_STA', int(0x0f)),
      name('_CRS', resourceTemplate(irqNoFlags(12)))),
    floppyController(cfg.floppyDrives),
    device('COM1', name('_HID', eisaId('PNP0501')), name('_UID', int(1)), name('_STA', int(0x0f)),
      name('_CRS', resourceTemplate(ioPort(0x3f8, 0x3f8, 0x00, 0x08), irqNoFlags(4)))),
    device('RTC', name('_HID', eisaId('PNP0B00')),
      name('_CRS', resourceTemplate(ioPort(0x70, 0x70, 0x01, 0x08), irqNoFlags(8)))),
  );
}

/** The PCI interrupt links over PIRQRC, and LNKS for the SCI. */
function links(cfg: DsdtConfig): Aml {
  const levelShared = { consumer: true, edge: false, activeLow: false, shared: true };
  const iqst = method('IQST', 1, {},
    // Routing disabled (bit 7): present but off; else present, enabled, functioning.
    ifThen(and(int(0x80), arg(0)), ret(int(0x09))),
    ret(int(0x0b)));
  const iqcr = method('IQCR', 1, { serialized: true },
    name('PRR0', resourceTemplate(extIrq(levelShared, 0))),
    // The interrupt number is the descriptor's dword at byte 5.
    createDWordField(aml('PRR0'), int(5), 'PRRI'),
    ifThen(lless(arg(0), int(0x80)), store(arg(0), aml('PRRI'))),
    ret(aml('PRR0')));
  const link = (n: string, uid: number, prq: string): Aml => device(n,
    name('_HID', eisaId('PNP0C0F')), name('_UID', int(uid)),
    name('_PRS', resourceTemplate(extIrq(levelShared, ...cfg.linkIrqs))),
    method('_STA', 0, {}, ret(call('IQST', aml(prq)))),
    method('_DIS', 0, {}, or(aml(prq), int(0x80), aml(prq))),
    method('_CRS', 0, {}, ret(call('IQCR', aml(prq)))),
    method('_SRS', 1, {}, createDWordField(arg(0), int(5), 'PRRI'), store(aml('PRRI'), aml(prq))));
  const lnks = device('LNKS',
    name('_HID', eisaId('PNP0C0F')), name('_UID', int(4)),
    name('_PRS', resourceTemplate(extIrq(levelShared, cfg.sciIrq))),
    method('_STA', 0, {}, ret(int(0x0b))),
    method('_DIS', 0, {}),
    method('_CRS', 0, {}, ret(aml('_PRS'))),
    method('_SRS', 1, {}));
  return scope('\\_SB', iqst, iqcr, ...LINKS.map((n, i) => link(n, i, `PRQ${i}`)), lnks);
}

function hpet(): Aml {
  return scope('\\_SB', device('HPET',
    name('_HID', eisaId('PNP0103')), name('_UID', int(0)),
    opRegion('HPTM', REGION_SYSTEM_MEMORY, HPET_BASE, HPET_LEN),
    field('HPTM', FIELD_DWORD_ACC | FIELD_LOCK, [['VEND', 32], ['PRD', 32]]),
    // Present only if the vendor ID and the period look like an HPET's.
    method('_STA', 0, {},
      store(aml('VEND'), local(0)),
      store(aml('PRD'), local(1)),
      shiftRight(local(0), int(0x10), local(0)),
      ifThen(lor(lequal(local(0), int(0)), lequal(local(0), int(0xffff))), ret(int(0))),
      ifThen(lor(lequal(local(1), int(0)), lgreater(local(1), int(100_000_000))), ret(int(0))),
      ret(int(0x0f))),
    name('_CRS', resourceTemplate(memory32Fixed(false, HPET_BASE, HPET_LEN)))));
}

function cpus(): Aml {
  // The local APIC entry of the MADT for processor 0 (type 0, length 8, enabled).
  const mat = buffer([0x00, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]);
  return scope('\\_SB', device('\\_SB.CPUS',
    name('_HID', str('ACPI0010')), name('_CID', eisaId('PNP0A05')),
    processor('C000', 0, 0, 0, method('_STA', 0, { serialized: true }, ret(int(0x0f))), name('_MAT', mat))));
}

function sleepStates(): Aml {
  return scope('\\',
    name('_S3', pkg(int(1), int(1), int(0), int(0))),
    name('_S4', pkg(int(2), int(2), int(0), int(0))),
    name('_S5', pkg(int(0), int(0), int(0), int(0))));
}

/** The DSDT's AML body (the table header is added by the table builder). */
export function buildDsdtAml(cfg: DsdtConfig): Uint8Array {
  const body = aml(
    pciRoot(cfg),
    links(cfg),
    hpet(),
    scope('\\_GPE', name('_HID', str('ACPI0006'))),
    cpus(),
    sleepStates(),
  );
  return Uint8Array.from(body);
}
